"""Decoding: the ffmpeg command that turns a clip into raw RGB frames on a pipe (every frame, or resampled to a
constant rate), and the frames read back from that pipe one at a time."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Iterator, List, Optional

import numpy as np

from ..common.formats import PixelFormat
from ..common.geometry import Extent
from .ffmpeg import command
from .probe import VideoInfo


def decode_command(source: Path, info: VideoInfo, fps: Optional[Fraction], total: int, skip: int,
                   pix_fmt: str) -> List[str]:
    """Decode to raw frames: every frame, or (``fps``) at that even rate on a grid from the file's start (frame n
    is shown at n/fps, as the sound expects), ending after ``total`` frames (the fps filter holds the last frame for
    its packet duration, which a joined Matroska file can overstate)."""
    filters = ([f"fps={fps}:start_time=0", f"trim=end_frame={total}"] if fps else []) + (
        [f"select=gte(n\\,{skip})"] if skip else [])
    return command("-loglevel", "error", "-i", str(source), "-map", f"0:{info.stream}",
                   *(["-vf", ",".join(filters)] if filters else []), "-fps_mode", "passthrough",
                   "-f", "rawvideo", "-pix_fmt", pix_fmt, "pipe:1")


def read_frames(pipe, extent: Extent, fmt: PixelFormat) -> Iterator[np.ndarray]:
    size = fmt.byte_count(extent)
    shape = (extent.height, extent.width, fmt.channels)
    while True:
        buffer = bytearray(size)
        view, filled = memoryview(buffer), 0
        while filled < size:
            got = pipe.readinto(view[filled:])
            if not got:
                break
            filled += got
        if filled < size:
            return
        yield np.frombuffer(buffer, dtype=fmt.dtype).reshape(shape)


def raw_pix_fmt(fmt: PixelFormat) -> str:
    """ffmpeg's name for the RGB frames on the pipes."""
    return "rgb48le" if fmt.dtype == "uint16" else "rgb24"
