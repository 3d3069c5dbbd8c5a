"""``krita-realesrgan video -i clip.mp4 -o out.mp4 -n realesr-animevideov3 -s 2``: upscale a clip, keep its sound.

Ctrl-C stops cleanly at the next tile (no output file; the finished segments stay for ``--resume``);
a second Ctrl-C stops at once. See ``video/pipeline.py``.
"""
from __future__ import annotations

import argparse
import sys
from fractions import Fraction
from functools import partial
from pathlib import Path

from ..common import catalog
from . import backend_args, exit_codes, limit_args
from ..cluster import args as cluster_args
from .ctrl_c import CtrlC
from ..common.formats import AUTO_TILE, NO_TILING, UpscaleOptions
from ..video.options import (DEFAULT_CODEC, DEFAULT_CRF, DEFAULT_PIX_FMT, DEFAULT_PRESET, DEFAULT_SEGMENT_FRAMES,
                             VideoOptions)
from ..video.pipeline import upscale_video
from ..video.work_folder import preview_folder


def _rate(text: str) -> Fraction:
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a frame rate (e.g. 24, 29.97 or 30000/1001)") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("the frame rate must be positive")
    return Fraction(30000, 1001) if text == "29.97" else Fraction(24000, 1001) if text == "23.976" else value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-i", "--input", type=Path, required=True, help="input video")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output video (.mp4, .m4v, .mov, .mkv, .webm)")
    parser.add_argument("-n", "--model-name", default=catalog.DEFAULT_MODEL,
                        help=f"catalog model name or weights file (default: {catalog.DEFAULT_MODEL})")
    parser.add_argument("-s", "--outscale", type=float, default=None,
                        help="final scale, e.g. 2 (default: the model's native scale)")
    parser.add_argument("-t", "--tile", type=int, default=AUTO_TILE,
                        help=f"tile edge in input pixels; {AUTO_TILE} = automatic, {NO_TILING} = never tile")
    backend_args.add_arguments(parser)
    parser.add_argument("--precision", choices=("auto", "fp32", "fp16", "bf16"), default="auto")
    parser.add_argument("--weights-dir", type=Path, default=None, help="folder with the weight files")
    parser.add_argument("--codec", default=DEFAULT_CODEC, help=f"ffmpeg video encoder (default: {DEFAULT_CODEC})")
    parser.add_argument("--crf", type=int, default=DEFAULT_CRF,
                        help=f"constant quality for x264/x265/VP9/AV1, lower is better (default: {DEFAULT_CRF})")
    parser.add_argument("--preset", default=DEFAULT_PRESET,
                        help=f"encoder speed preset for x264/x265 (default: {DEFAULT_PRESET})")
    parser.add_argument("--pix-fmt", default=DEFAULT_PIX_FMT,
                        help=f"output pixel format (default: {DEFAULT_PIX_FMT}, which plays everywhere)")
    parser.add_argument("--fps", type=_rate, default=None,
                        help="convert to this frame rate (frames dropped or repeated, duration kept); "
                        "default: the input's")
    parser.add_argument("--resume", action="store_true",
                        help="continue an interrupted job from the segments it finished")
    parser.add_argument("--segment-frames", type=int, default=DEFAULT_SEGMENT_FRAMES,
                        help=f"frames per resumable segment (default: {DEFAULT_SEGMENT_FRAMES})")
    parser.add_argument("--extract-frame-every", type=int, default=None, metavar="N",
                        help="also save every Nth upscaled frame as PNG (<output name>_frames/) for previews")
    limit_args.add_argument(parser)
    cluster_args.add_arguments(parser)


class FrameBar:
    """tqdm over frames: frames/s and time left."""

    def __init__(self, name: str):
        from tqdm import tqdm
        self.bar = tqdm(total=0, desc=name, unit="frame", disable=None, dynamic_ncols=True, smoothing=0.1)
        self.started = False

    def __call__(self, done: int, total: int) -> None:
        if not self.started:   # frames from an earlier run do not count towards the speed
            self.bar.reset(total=total)
            self.bar.update(done)
            self.bar.unpause()
            self.started = True
            return
        self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        self.bar.close()


def run(args: argparse.Namespace) -> int:
    bar = FrameBar(args.input.name)
    try:
        options = VideoOptions(
            upscale=UpscaleOptions(model=args.model_name, scale=args.outscale, tile=args.tile,
                                   precision=args.precision, max_pixels=args.max_pixels,
                                   **backend_args.options(args)),
            codec=args.codec, crf=args.crf, preset=args.preset, pix_fmt=args.pix_fmt, fps=args.fps,
            segment_frames=args.segment_frames, extract_every=args.extract_frame_every)
        upscale, spec = upscale_video, cluster_args.RaySpec.from_args(args)
        if spec is not None:
            cluster_args.require_ray(spec)
            from ..cluster import video_run
            upscale = partial(video_run.upscale_video, ray=spec)
        with CtrlC() as stop:
            report = upscale(args.input, args.output, options, weights_dir=args.weights_dir,
                             resume=args.resume, progress=bar, cancel=stop, log=bar.bar.write,
                             how_to_raise=limit_args.HINT)
    except exit_codes.ENDINGS as error:
        bar.close()
        return exit_codes.ended(error, "interrupted: no output written; run again with --resume to continue")
    finally:
        bar.close()
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    extent = report.extent
    print(f"{args.input} -> {report.output} ({report.frames} frames, {extent.width}x{extent.height}, "
          f"{float(report.frame_rate):.3f} fps"
          + (f", {report.resumed_frames} frames from the earlier run" if report.resumed_frames else "") + ")")
    if args.extract_frame_every:
        print(f"preview frames in {preview_folder(report.output)}")
    return exit_codes.OK
