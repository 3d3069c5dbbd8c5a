"""The frame loop: decoded frames -> engine -> even crop -> segment encoder (+ preview PNGs).

Memory stays flat: the current and the previous frame are held (a frame equal to the one before, as ffmpeg's fps
filter repeats them, reuses its upscaled picture).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import numpy as np

from ..common.errors import Cancelled
from ..common.formats import AUTO_TILE, NO_TILING, PixelFormat, UpscaleOptions
from ..common.geometry import Extent
from ..common.progress import Cancel, Progress
from .decode import raw_pix_fmt
from .encode import SegmentWriter, even_extent
from .options import VideoOptions
from .work_folder import WorkFolder, preview_folder


class FrameLoop:
    """Decoded frames -> engine -> even crop -> segment encoder (+ preview PNGs), counting frames."""

    def __init__(self, upscaler, fmt: PixelFormat, upscale: UpscaleOptions, options: VideoOptions,
                 writer: SegmentWriter, work: WorkFolder, wanted: dict, target: Path, notes: List[str]):
        self.upscaler, self.fmt, self.upscale, self.options = upscaler, fmt, upscale, options
        self.writer, self.work, self.wanted, self.target, self.notes = writer, work, wanted, target, notes
        self.extent: Optional[Extent] = None
        self.seconds = 0.0
        self.previous: Optional[Tuple[np.ndarray, np.ndarray]] = None   # (decoded frame, its upscaled picture)

    def run(self, frames: Iterator[np.ndarray], index: int, total: int, progress: Optional[Progress],
            cancel: Optional[Cancel]) -> int:
        """Process ``frames`` (the first is number ``index``); returns the number after the last."""
        first = index
        for frame in frames:
            if cancel is not None and cancel():
                raise Cancelled()
            if self.previous is not None and np.array_equal(frame, self.previous[0]):
                image = self.previous[1]   # a repeated frame (ffmpeg's fps filter): the same picture again
            else:
                image = self._upscale(frame, cancel, note=index == first)
                self.previous = (frame, image)
            if not self.writer.is_open:
                self.writer.open(index // self.options.segment_frames, self.extent, raw_pix_fmt(self.fmt))
            self.writer.write(image)
            if self.options.extract_every and index % self.options.extract_every == 0:
                from ..imagefile import write_image
                write_image(preview_folder(self.target) / f"frame_{index:06d}.png", image)
            index += 1
            if self.writer.frames_in_segment == self.options.segment_frames:
                self.writer.close()
            if progress:
                progress(index, max(total, index))
        if self.writer.is_open:
            self.writer.close()
        return index

    def _upscale(self, frame: np.ndarray, cancel: Optional[Cancel], note: bool) -> np.ndarray:
        started = time.perf_counter()
        result = self.upscaler.upscale(frame, self.fmt, self.upscale, cancel=cancel)
        self.seconds += time.perf_counter() - started
        if self.upscale.tile == AUTO_TILE:   # fix the tile plan for the whole job: identical frames on resume
            self.upscale = self.upscale.with_(tile=result.tile or NO_TILING)
            self.work.record_tile(self.wanted, self.upscale.tile)
        image = result.image
        full = Extent(image.shape[1], image.shape[0])
        self.extent = even_extent(full, self.options.pix_fmt)
        if note and self.extent != full:
            self.notes.append(f"{self.options.pix_fmt} needs even sizes: frames are cropped from {full} to "
                              f"{self.extent}.")
        return image[:self.extent.height, :self.extent.width]
