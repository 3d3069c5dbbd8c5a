"""Encoding: upscaled RGB frames piped into one ffmpeg encoder per segment, converted to YUV with the input's
colour matrix and tagged with its colour description; a segment appears under its name only when finished."""
from __future__ import annotations

import os
import re
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import List, Optional

import numpy as np

from ..common.geometry import Extent
from .ffmpeg import Processes, command
from .options import VideoOptions
from .probe import MATRICES, VideoInfo
from .work_folder import WorkFolder


def even_extent(extent: Extent, pix_fmt: str) -> Extent:
    """The largest size that ``pix_fmt``'s chroma subsampling can hold: 4:2:0 needs even width and height,
    4:2:2 an even width. Frames are cropped to it (at most the last column/row goes), never stretched."""
    width, height = extent
    if re.match(r"(yuvj?4[12][02]|nv1[26]|nv21|p0[12]\d)", pix_fmt):
        width -= width % 2
        if re.match(r"(yuvj?420|yuvj?411|nv12|nv21|p0[12]\d)", pix_fmt):
            height -= height % 2
    return Extent(width, height)


class SegmentWriter:
    """Feeds upscaled frames to one ffmpeg encoder per segment; a segment appears under its name only when done."""

    def __init__(self, processes: Processes, work: WorkFolder, options: VideoOptions, rate: Fraction,
                 info: VideoInfo):
        self.processes, self.work, self.options, self.rate = processes, work, options, rate
        self.sar, self.colour_args, self.to_yuv = info.sar, _colour_args(info), _to_yuv_filter(info)
        self.encoder: Optional[subprocess.Popen] = None
        self.number = 0
        self.frames_in_segment = 0
        self.part: Optional[Path] = None

    def open(self, number: int, extent: Extent, raw_pix_fmt: str) -> None:
        self.number, self.frames_in_segment = number, 0
        self.part = self.work.segment(number).with_suffix(".part")
        filters = self.to_yuv + [f"format={self.options.pix_fmt}",
                                 f"setsar={self.sar.numerator}/{self.sar.denominator}"]
        self.encoder = self.processes.start(
            command("-loglevel", "error", "-f", "rawvideo", "-pix_fmt", raw_pix_fmt, "-s", f"{extent.width}x"
                    f"{extent.height}", "-framerate", str(self.rate), "-i", "pipe:0", "-vf", ",".join(filters),
                    *self.colour_args, *self.options.encoder_args(), "-f", "mp4", str(self.part)),
            stdin=subprocess.PIPE)

    def write(self, frame: np.ndarray) -> None:
        try:
            self.encoder.stdin.write(memoryview(np.ascontiguousarray(frame)).cast("B"))
        except BrokenPipeError:
            self.processes.finish(self.encoder, "encode")
            raise
        self.frames_in_segment += 1

    @property
    def is_open(self) -> bool:
        return self.encoder is not None

    def close(self) -> None:
        encoder, self.encoder = self.encoder, None
        self.processes.finish(encoder, "encode")
        os.replace(self.part, self.work.segment(self.number))

    def abandon(self) -> None:
        self.encoder = None
        if self.part is not None:
            try:
                self.part.unlink()
            except OSError:
                pass


_SCALE_MATRIX = {"bt709": "bt709", "bt470bg": "bt470", "smpte170m": "smpte170m", "bt2020nc": "bt2020",
                 "bt2020c": "bt2020", "fcc": "fcc", "smpte240m": "smpte240m"}


def _to_yuv_filter(info: VideoInfo) -> List[str]:
    """Convert RGB to YUV with the input's matrix explicitly (older ffmpeg ignores the output tags here)."""
    if info.matrix is None:
        return []   # untagged: ffmpeg's default matrix both ways (decoding honours a tagged matrix everywhere)
    ranges = [tag for tag in info.colour if tag in ("tv", "pc")]
    return [f"scale=out_color_matrix={_SCALE_MATRIX[info.matrix]}:out_range={ranges[0] if ranges else 'tv'}"]


def _colour_args(info: VideoInfo) -> List[str]:
    """Tag the output with the input's colour range and description (ffmpeg prints "bt709" when matrix, primaries
    and transfer agree, else "matrix/primaries/transfer"): the RGB round trip then uses one matrix both ways."""
    args = []
    for tag in info.colour:
        if tag in ("tv", "pc"):
            args += ["-color_range", tag]
            continue
        parts = tag.split("/")
        if parts[0] not in MATRICES:
            continue
        matrix, primaries, transfer = parts if len(parts) == 3 else (parts[0],) * 3
        for option, value in (("-colorspace", matrix), ("-color_primaries", primaries), ("-color_trc", transfer)):
            if value != "unknown":
                args += [option, value]
    return args
