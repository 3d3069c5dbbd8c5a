"""``krita-realesrgan -i in -o out``: upscale image files, with the reference script's options and habits.

* ``-i`` a file or a folder (every image in it; other files and subfolders are skipped);
  ``-o`` a folder (outputs named ``<stem>_<suffix>.<ext>``) or, for one input file, an output file name.
* A bad file in a folder does not stop the run: the failures are listed at the end and the exit code is 1.
  Problems that would fail every file (missing weights, unknown model, unusable device) stop at once.
* Output files appear complete or not at all (``imagefile.write_image`` writes atomically).
* Before the first upscale: every header is read (a damaged one fails that file only), every output name is planned
  (``batch_plan``: no two outputs alike, none over an input) and the output folder is proven writable. Before each
  file: its result size is checked against ``--max-pixels`` and announced with memory and a rough time.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from ..common import catalog
from . import backend_args, engine_args, exit_codes, face_args, limit_args
from ..batch_plan import OUTPUT_FORMATS, Naming, Task, plan_folder, refuse_overwriting_inputs
from ..cluster import args as cluster_args
from ..common.errors import INSTALL_HINT, Cancelled, EngineError, Kind
from ..common.progress import Cancel
from .ctrl_c import CtrlC
from ..file_guard import ensure_writable_folder
from ..common.formats import AUTO_TILE, NO_TILING, UpscaleOptions
from ..common.geometry import Extent
from ..image_header import WRITE_EXTENSIONS, ImageHeader, read_header
from ..upscalers import PlanningUpscaler

EXTENSIONS = OUTPUT_FORMATS
DEFAULT_SUFFIX = "out"
DEFAULT_OUTPUT = "results"
# Errors that would repeat for every file: stop instead of failing each one.
FATAL_KINDS = (Kind.WEIGHTS_MISSING, Kind.UNKNOWN_MODEL, Kind.BAD_WEIGHTS, Kind.UNSAFE_FILE, Kind.DEVICE,
               Kind.ENGINE_MISSING)


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
    backend_args.add_arguments(parser)
    parser.add_argument("--weights-dir", type=Path, default=None,
                        help="folder with the weight files (default: the installer's weights folder)")
    limit_args.add_argument(parser)
    face_args.add_arguments(parser)
    parser.add_argument("--list-models", action="store_true", help="list the models and whether they are installed")
    cluster_args.add_arguments(parser)
    engine_args.add_arguments(parser)


# --- planning: which files go where ---------------------------------------------------------------------------

def list_images(folder: Path) -> List[Path]:
    """The image files directly in ``folder`` (no subfolders), sorted by name."""
    from ..imagefile import is_image_path
    return sorted(p for p in folder.iterdir() if is_image_path(p))


def is_output_file(output: Path) -> bool:
    """Whether ``-o`` names a file (an image extension and not an existing folder) rather than a folder."""
    return not output.is_dir() and output.suffix.lower().lstrip(".") in WRITE_EXTENSIONS


def naming_from(args: argparse.Namespace) -> Naming:
    return Naming(suffix=args.suffix, ext=args.ext)


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


@dataclass
class Plan:
    tasks: List[Task]
    headers: Dict[Path, Optional[ImageHeader]]
    failures: List[Tuple[Path, str]]    # files refused while planning (damaged header): the rest still runs


def plan_run(sources: List[Path], args: argparse.Namespace) -> Plan:
    """Read every header and decide every output name before the first upscale; refuse outputs that are inputs."""
    headers: Dict[Path, Optional[ImageHeader]] = {}
    failures: List[Tuple[Path, str]] = []
    for source in sources:
        try:
            headers[source] = read_header(source)
        except EngineError as error:
            if len(sources) == 1:
                raise
            failures.append((source, error.message))
    readable = [source for source in sources if source in headers]
    naming = naming_from(args)
    if args.input.is_file() and is_output_file(args.output):
        tasks = [Task(args.input, args.output)]
    else:
        alpha = {source: header.has_alpha if header else None for source, header in headers.items()}
        tasks = plan_folder(readable, args.output, naming, alpha)
    hint = ("Choose another output folder with -o, or keep a --suffix." if args.input.is_dir() or not
            is_output_file(args.output) else "Choose another output file with -o.")
    refuse_overwriting_inputs(tasks, sources, hint)
    return Plan(tasks, headers, failures)


def options_from(args: argparse.Namespace) -> UpscaleOptions:
    catalog.check_denoise(args.model_name, args.denoise_strength)
    return UpscaleOptions(model=args.model_name, scale=args.outscale, tile=args.tile, **backend_args.options(args),
                          precision=args.precision, denoise=args.denoise_strength, alpha=args.alpha_upsampler,
                          max_pixels=args.max_pixels, **face_args.options(args))


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


def upscale_file(upscaler: PlanningUpscaler, task: Task, header: Optional[ImageHeader], options: UpscaleOptions,
                 position: int, say, cancel: Optional[Cancel] = None) -> str:
    """Check the size, read, upscale, write one file; returns a one-line report. Raises EngineError."""
    from ..imagefile import read_image, write_image
    from ..preflight import announce, notes_after_decode
    if header is not None:   # the size is known before decoding: refuse a huge picture before it fills the memory
        say(announce(upscaler, task.source, header.extent, options, limit_args.HINT))
    image, fmt = read_image(task.source)
    if header is None:
        say(announce(upscaler, task.source, Extent(image.shape[1], image.shape[0]), options, limit_args.HINT, fmt))
    for note in notes_after_decode(task.source, header, image, fmt, task.target):
        say(f"{task.source.name}: note: {note}")
    bar = TileBar(task.source.name, position)
    try:
        result = upscaler.upscale(image, fmt, options, progress=bar, cancel=cancel)
    finally:
        bar.close()
    write_image(task.target, result.image)
    for note in result.notes:
        say(f"note: {note}")
    height, width = result.image.shape[:2]
    faces = f", {result.faces.summary()}" if result.faces is not None else ""
    return (f"{task.source} -> {task.target} ({width}x{height}, {result.backend} {result.device} {result.precision}, "
            f"{result.seconds:.1f} s{faces})")


def run_all(upscaler: PlanningUpscaler, plan: Plan, options: UpscaleOptions, say,
            cancel: Optional[Cancel] = None) -> List[Tuple[Path, str]]:
    """Upscale every planned task; returns the failures (path, message), those of planning first. Fatal errors,
    the error of a lone input file and a cancel (``Cancelled``, polled between tiles) propagate."""
    from tqdm import tqdm
    failures: List[Tuple[Path, str]] = list(plan.failures)
    for source, message in plan.failures:
        say(f"{source}: FAILED: {message}")
    several = len(plan.tasks) + len(plan.failures) > 1
    images = tqdm(plan.tasks, desc="images", unit="image", disable=None if several else True, position=0)
    for task in images:
        if cancel is not None and cancel():
            raise Cancelled()
        try:
            say(upscale_file(upscaler, task, plan.headers.get(task.source), options,
                             position=1 if several else 0, say=say, cancel=cancel))
        except Cancelled:
            raise
        except EngineError as error:
            if error.kind in FATAL_KINDS or not several:
                raise
            failures.append((task.source, error.message))
            say(f"{task.source}: FAILED: {error.message}")
    images.close()
    return failures


def list_models(args: argparse.Namespace) -> int:
    from ..engine import Upscaler
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
    return exit_codes.OK


def run(args: argparse.Namespace) -> int:
    # a corrupt file gets our one-line message; OpenCV's own decoder warnings would only add noise
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    if args.list_models:
        return list_models(args)
    try:
        options = options_from(args)
        face_args.check(args, args.model_name, args.weights_dir)
        cluster_args.require_ray(cluster_args.RaySpec.from_args(args))
        sources = plan_sources(args)
        if not sources:
            return exit_codes.fail(f"{args.input} holds no images.")
        plan = plan_run(sources, args)
        folder = args.output if (args.input.is_dir() or not is_output_file(args.output)) else args.output.parent
        ensure_writable_folder(folder)
        from tqdm import tqdm
        for task in plan.tasks:
            if task.usual:
                tqdm.write(f"renamed: {task.describe_rename()}")
        if args.ray:
            from ..cluster import folder_run
            failures = folder_run.run_all(args, plan, options, say=tqdm.write)
        else:
            # Ctrl-C stops between tiles: it must not land inside the backends' native code
            with CtrlC() as stop, engine_args.upscaler(args) as upscaler:   # this process's engine, or the service's
                failures = run_all(upscaler, plan, options, say=tqdm.write, cancel=stop)
    except exit_codes.ENDINGS as error:
        return exit_codes.ended(error, "interrupted (no partial files were written)")
    if failures:
        print(f"\n{len(failures)} of {len(sources)} image(s) failed:", file=sys.stderr)
        for source, message in failures:
            print(f"  {source}: {message}", file=sys.stderr)
        return exit_codes.FAILED
    return exit_codes.OK
