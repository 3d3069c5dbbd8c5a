"""``krita-realesrgan -i in -o out``: upscale image files, with the reference script's options and habits.

* ``-i`` a file or a folder (every image in it; other files and subfolders are skipped);
  ``-o`` a folder (outputs named ``<stem>_<suffix>.<ext>``) or, for one input file, an output file name.
* A bad file in a folder does not stop the run: the failures are listed at the end and the exit code is 1.
  Problems that would fail every file (missing weights, unknown model, unusable device) stop at once.
* Output files appear complete or not at all (``imagefile.write_image`` writes atomically).
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

from . import catalog
from .errors import INSTALL_HINT, EngineError, Kind
from .formats import AUTO_TILE, NO_TILING, PixelFormat, UpscaleOptions

EXTENSIONS = ("auto", "png", "jpg", "webp")
DEFAULT_SUFFIX = "out"
DEFAULT_OUTPUT = "results"
# Errors that would repeat for every file: stop instead of failing each one.
FATAL_KINDS = (Kind.WEIGHTS_MISSING, Kind.UNKNOWN_MODEL, Kind.BAD_WEIGHTS, Kind.UNSAFE_FILE, Kind.DEVICE,
               Kind.ENGINE_MISSING)
EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-i", "--input", type=Path, help="input image or folder of images")
    parser.add_argument("-o", "--output", type=Path, default=Path(DEFAULT_OUTPUT),
                        help=f"output folder, or an output file for one input image (default: {DEFAULT_OUTPUT})")
    parser.add_argument("-n", "--model-name", default=catalog.DEFAULT_MODEL,
                        help=f"catalog model name or path to a weights file (default: {catalog.DEFAULT_MODEL}; "
                        "see --list-models)")
    parser.add_argument("-s", "--outscale", type=float, default=None,
                        help="final scale, e.g. 2 or 3.5 (default: the model's native scale)")
    parser.add_argument("-t", "--tile", type=int, default=AUTO_TILE,
                        help=f"tile edge in input pixels; {AUTO_TILE} = automatic from free memory, "
                        f"{NO_TILING} = never tile (default: {AUTO_TILE})")
    precision = parser.add_mutually_exclusive_group()
    precision.add_argument("--fp32", dest="precision", action="store_const", const="fp32",
                           help="full precision (default on CPU)")
    precision.add_argument("--fp16", dest="precision", action="store_const", const="fp16",
                           help="half precision (default on GPUs; refused on the CPU)")
    precision.add_argument("--bf16", dest="precision", action="store_const", const="bf16",
                           help="bfloat16 (CPUs with native bf16, and GPUs)")
    parser.set_defaults(precision="auto")
    parser.add_argument("--denoise-strength", type=float, default=None,
                        help="0..1, for realesr-general-x4v3 only: 0 = weak denoise, 1 = strong (default 1; "
                        "needs realesr-general-wdn-x4v3 installed below 1)")
    parser.add_argument("--alpha-upsampler", choices=("network", "resize"), default="network",
                        help="how the alpha channel is enlarged (default: network, like the reference)")
    parser.add_argument("--ext", choices=EXTENSIONS, default="auto",
                        help="output format; auto = the input's (png for images with alpha)")
    parser.add_argument("--suffix", default=DEFAULT_SUFFIX,
                        help=f"added to output names: <name>_<suffix>.<ext> (default: {DEFAULT_SUFFIX}; '' for none)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default: auto)")
    parser.add_argument("--weights-dir", type=Path, default=None,
                        help="folder with the weight files (default: the installer's weights folder)")
    parser.add_argument("--list-models", action="store_true", help="list the models and whether they are installed")


@dataclass(frozen=True)
class Task:
    source: Path
    target: Path


# --- planning: which files go where ---------------------------------------------------------------------------

def list_images(folder: Path) -> List[Path]:
    """The image files directly in ``folder`` (no subfolders), sorted by name."""
    from .imagefile import is_image_path
    return sorted(p for p in folder.iterdir() if is_image_path(p))


def output_extension(source: Path, fmt: PixelFormat, ext: str) -> str:
    """The output file extension (with dot): --ext, or the input's own (png when the image has alpha)."""
    from .imagefile import WRITE_EXTENSIONS
    if ext != "auto":
        return WRITE_EXTENSIONS[ext]
    if fmt.has_alpha:
        return ".png"
    return WRITE_EXTENSIONS.get(source.suffix.lower().lstrip("."), ".png")


def output_name(source: Path, suffix: str, extension: str) -> str:
    return f"{source.stem}_{suffix}{extension}" if suffix else f"{source.stem}{extension}"


def is_output_file(output: Path) -> bool:
    """Whether ``-o`` names a file (an image extension and not an existing folder) rather than a folder."""
    from .imagefile import WRITE_EXTENSIONS
    return not output.is_dir() and output.suffix.lower().lstrip(".") in WRITE_EXTENSIONS


def plan_sources(args: argparse.Namespace) -> List[Path]:
    source: Optional[Path] = args.input
    if source is None:
        raise EngineError(Kind.BAD_INPUT, "No input: give an image or a folder with -i (or use --list-models).")
    if source.is_dir():
        if is_output_file(args.output):
            raise EngineError(Kind.BAD_INPUT, f"The input {source} is a folder, so -o must be a folder too, "
                              f"not {args.output}.")
        return list_images(source)
    if not source.exists():
        raise EngineError(Kind.BAD_INPUT, f"{source} does not exist.")
    return [source]


def target_for(source: Path, fmt: PixelFormat, args: argparse.Namespace) -> Path:
    if args.input.is_file() and is_output_file(args.output):
        return args.output
    return args.output / output_name(source, args.suffix, output_extension(source, fmt, args.ext))


def options_from(args: argparse.Namespace) -> UpscaleOptions:
    return UpscaleOptions(model=args.model_name, scale=args.outscale, tile=args.tile, device=args.device,
                          precision=args.precision, denoise=args.denoise_strength, alpha=args.alpha_upsampler)


# --- running --------------------------------------------------------------------------------------------------

class TileBar:
    """A tqdm bar over the tiles of one image (hidden when stderr is not a terminal)."""

    def __init__(self, name: str, position: int):
        from tqdm import tqdm
        self.bar = tqdm(total=0, desc=name, unit="tile", leave=False, position=position, disable=None,
                        dynamic_ncols=True)

    def __call__(self, done: int, total: int) -> None:
        if self.bar.total != total:
            self.bar.total = total
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


def upscale_file(upscaler, source: Path, args: argparse.Namespace, options: UpscaleOptions, position: int) -> str:
    """Read, upscale, write one file; returns a one-line report. Raises EngineError."""
    from .imagefile import read_image, write_image
    image, fmt = read_image(source)
    target = target_for(source, fmt, args)
    bar = TileBar(source.name, position)
    try:
        result = upscaler.upscale(image, fmt, options, progress=bar)
    finally:
        bar.close()
    write_image(target, result.image)
    height, width = result.image.shape[:2]
    return (f"{source} -> {target} ({width}x{height}, {result.device} {result.precision}, "
            f"{result.seconds:.1f} s)")


def run_all(upscaler, sources: List[Path], args: argparse.Namespace, options: UpscaleOptions,
            say) -> List[Tuple[Path, str]]:
    """Upscale every source; returns the failures (path, message). Fatal errors, and the error of a lone
    input file, propagate."""
    from tqdm import tqdm
    failures: List[Tuple[Path, str]] = []
    several = len(sources) > 1
    images = tqdm(sources, desc="images", unit="image", disable=None if several else True, position=0)
    for source in images:
        try:
            say(upscale_file(upscaler, source, args, options, position=1 if several else 0))
        except EngineError as error:
            if error.kind in FATAL_KINDS or not several:
                raise
            failures.append((source, error.message))
            say(f"{source}: FAILED: {error.message}")
    images.close()
    return failures


def list_models(args: argparse.Namespace) -> int:
    from .engine import Upscaler
    rows = Upscaler(args.weights_dir).model_status()
    header = ("name", "scale", "installed", "purpose")
    table = [header] + [(row["name"], f"x{row['scale']}" if row.get("scale") else "?",
                         "yes" if row["available"] else "no", row.get("purpose") or "") for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(3)]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)) + "  " + line[3])
    missing = [row["name"] for row in rows if not row["available"]]
    if missing:
        print(f"\nInstall a missing model with: {INSTALL_HINT.format(models=missing[0])} "
              "(several: comma-separated, or 'all')")
    return EXIT_OK


def fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_FAILED


def run(args: argparse.Namespace) -> int:
    # a corrupt file gets our one-line message; OpenCV's own decoder warnings would only add noise
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    if args.list_models:
        return list_models(args)
    try:
        options = options_from(args)
        sources = plan_sources(args)
        if not sources:
            return fail(f"{args.input} holds no images.")
        if not is_output_file(args.output) or args.input.is_dir():
            args.output.mkdir(parents=True, exist_ok=True)
        from tqdm import tqdm
        from .engine import Upscaler
        failures = run_all(Upscaler(args.weights_dir), sources, args, options, say=tqdm.write)
    except EngineError as error:
        return fail(error.message)
    except OSError as error:
        return fail(f"{error.filename or ''}: {error.strerror or error}".lstrip(": "))
    except KeyboardInterrupt:
        print("\ninterrupted (no partial files were written)", file=sys.stderr)
        return EXIT_INTERRUPTED
    if failures:
        print(f"\n{len(failures)} of {len(sources)} image(s) failed:", file=sys.stderr)
        for source, message in failures:
            print(f"  {source}: {message}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
