"""``krita-realesrgan cover``: a platform cover of an exact size from a small picture.

    krita-realesrgan cover -i pic.jpg --preset video-16x9 -o cover.jpg
    krita-realesrgan cover -i pic.png --size 800x800 --fit pad --background "#202020" -o cover.png
    krita-realesrgan cover --list-presets
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

from ..common import catalog, cover_presets
from ..cover import make as cover, export as cover_export
from . import backend_args, exit_codes, face_args, limit_args
from ..common.errors import EngineError, Kind
from .ctrl_c import CtrlC
from ..file_guard import InputGuard, ensure_writable_folder
from ..image_header import read_header
from ..common.run_estimate import check_limit
from ..common.formats import ALPHA_MODES, AUTO_TILE, UpscaleOptions
from ..imagefile import read_image

DEFAULT_PRESET = "video-16x9"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-i", "--input", type=Path, help="the picture (png, jpg, webp, bmp, tif)")
    parser.add_argument("-o", "--output", type=Path,
                        help="the cover file (.jpg, .png or .webp); default: <input>_<preset>.jpg next to the input")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--preset", default=None,
                        help=f"cover preset id (default {DEFAULT_PRESET}); see --list-presets")
    target.add_argument("--size", default=None, metavar="WxH", help="custom cover size, e.g. 1200x628")
    parser.add_argument("--max-bytes", type=int, default=None,
                        help="largest file allowed in bytes (default: the preset's limit; none for --size)")
    parser.add_argument("--fit", choices=cover_presets.FITS, default="cover",
                        help="cover: fill the size and crop (around faces, else the most salient area); "
                             "pad: show the whole picture on a background (default cover)")
    parser.add_argument("--background", default=cover_presets.BLUR, metavar="blur|#rrggbb",
                        help="background for --fit pad: a blurred copy of the picture or a colour (default blur)")
    parser.add_argument("--format", choices=cover_export.EXPORT_FORMATS, default=None,
                        help="file format (default: from the output's extension)")
    parser.add_argument("-n", "--model-name", "--model", dest="model", default=cover_presets.AUTO_MODEL,
                        help="model name or weights file; 'auto' (default) picks a photo or an illustration model "
                             "from the picture's content")
    parser.add_argument("--denoise-strength", "--denoise", dest="denoise", type=float, default=None,
                        help="denoise strength 0..1 (general-x4v3 only)")
    parser.add_argument("--alpha-upsampler", "--alpha", dest="alpha", choices=ALPHA_MODES, default="resize",
                        help="how transparency is enlarged: resize (default; half the time, covers are mostly "
                             "flattened anyway) or network (like the reference)")
    parser.add_argument("-t", "--tile", type=int, default=AUTO_TILE, help="tile size, 0 = automatic (default)")
    backend_args.add_arguments(parser)
    parser.add_argument("--weights-dir", "--weights", dest="weights", type=Path, default=None,
                        help="folder with the model weights (default: the installer's weights folder)")
    limit_args.add_argument(parser)
    face_args.add_arguments(parser)
    parser.add_argument("--list-presets", action="store_true", help="list the cover presets and exit")


def list_presets() -> str:
    rows = []
    for target in cover_presets.presets():
        limit = f"{target.max_bytes / 1e6:g} MB" if target.max_bytes else "-"
        rows.append(f"{target.id:<16} {str(target.size):>9}  max {limit:<6} {'/'.join(target.formats):<13} "
                    f"{target.name_en} / {target.name_zh}")
    rows.append(f"{'--size WxH':<16} {'any':>9}  max {'-':<6} {'/'.join(cover_export.EXPORT_FORMATS):<13} "
                "custom size / 自定义尺寸")
    return "\n".join(rows)


def choose_target(args: argparse.Namespace) -> cover_presets.CoverTarget:
    if args.size:
        return cover_presets.custom(cover_presets.parse_size(args.size), args.max_bytes)
    target = cover_presets.preset(args.preset or DEFAULT_PRESET)
    if args.max_bytes is not None:
        target = cover_presets.CoverTarget(target.id, target.name_en, target.name_zh, target.size,
                                           args.max_bytes, target.formats)
    return target


def default_output(source: Path, target: cover_presets.CoverTarget, export_format: Optional[str]) -> Path:
    return source.with_name(f"{source.stem}_{target.id}.{export_format or target.formats[0]}")


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"\rupscaling: tile {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def make(args: argparse.Namespace) -> int:
    if args.input is None:
        raise EngineError(Kind.BAD_INPUT, "Give the picture with -i/--input (or use --list-presets).")
    target = choose_target(args)
    output = args.output or default_output(args.input, target, args.format)
    export_format = cover_export.format_for(output, args.format)
    if export_format not in target.formats:
        raise EngineError(Kind.BAD_INPUT, f"The {target.id} preset takes {', '.join(target.formats)}, "
                          f"not {export_format}.")
    background = cover.Background.parse(args.background)
    if args.model != cover_presets.AUTO_MODEL:
        catalog.check_denoise(args.model, args.denoise)
    elif args.denoise is not None:
        raise EngineError(Kind.BAD_INPUT, "A denoise strength needs a model chosen with -n (e.g. -n "
                          "realesr-general-x4v3), not the automatic choice.")
    face_args.check(args, None if args.model == cover_presets.AUTO_MODEL else args.model, args.weights)
    header = read_header(args.input)
    InputGuard([args.input]).check(output, "Choose another output file with -o.")
    ensure_writable_folder(output.parent)
    if header is not None:   # a declared size far beyond the limit is refused before decoding
        check_limit(header.extent, args.max_pixels, limit_args.HINT, "The picture has")
    image, fmt = read_image(args.input)
    source = cover.extent_of(image)
    if header is None:       # a format whose size only the decoder knew
        check_limit(source, args.max_pixels, limit_args.HINT, "The picture has")
    check_limit(cover_presets.upscaled_size(source, target.size, args.fit), args.max_pixels, limit_args.HINT)
    options = UpscaleOptions(model=args.model, tile=args.tile, **backend_args.options(args), denoise=args.denoise,
                             alpha=args.alpha, max_pixels=args.max_pixels, **face_args.options(args))
    from ..engine import Upscaler  # torch: imported only when there is work to do
    with CtrlC() as stop:   # Ctrl-C stops between tiles: it must not land inside the backends' native code
        result = cover.make_cover(Upscaler(args.weights), image, fmt, target, args.fit, background, options,
                                  progress=_progress, cancel=stop, whole_picture=False)   # only the cover is saved
        encoded = cover_export.export(result.compose(), fmt, output, export_format, target.max_bytes, cancel=stop)
    scaled = cover_presets.upscaled_size(source, target.size, result.fit)
    for reason in result.reasons:
        print(f"- {reason}")
    if result.fit == "cover":
        print(f"- cover = {result.whole_canvas} of the upscaled {scaled} picture")
    limit = f" (limit {target.max_bytes:,})" if target.max_bytes else ""
    print(f"wrote {output}: {target.size}, {encoded.describe()}{limit}, {result.seconds:.1f} s")
    return exit_codes.OK


def run(args: argparse.Namespace) -> int:
    if args.list_presets:
        print(list_presets())
        return exit_codes.OK
    try:
        return make(args)
    except exit_codes.ENDINGS as error:
        return exit_codes.ended(error, "interrupted (nothing was written)")
