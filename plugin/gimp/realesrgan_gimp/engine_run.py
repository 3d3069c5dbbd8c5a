"""Run one upscale, cover or export through the engine worker while reporting progress. No GIMP import: the caller
hands in a progress sink (GIMP's progress bar in the plug-in, a list in the unit tests).

Cancel: GIMP's progress bar stops a plug-in by ending its process; the worker then sees its stdin close and
stops too, and since the image is only changed after the result arrived, it stays as it was.
"""
from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Optional, Protocol, Tuple, Union

from krita_realesrgan.client import CoverOutcome, ExportOutcome
from krita_realesrgan.formats import PixelFormat, UpscaleOptions
from krita_realesrgan.geometry import Extent


class ProgressSink(Protocol):
    def started(self, text: str) -> None: ...
    def advanced(self, done: int, total: int) -> None: ...


class EngineRunner:
    """``upscale(pixels, fmt, extent, options, label) -> (bytes, Extent)`` on a started-on-demand client."""

    def __init__(self, client, progress: ProgressSink):
        self.client, self.progress = client, progress

    def upscale(self, pixels: bytes, fmt: PixelFormat, extent: Extent, options: UpscaleOptions,
                label: str) -> Tuple[bytes, Extent]:
        job = self._started(f"{label} ({extent} → {options.target}, {options.model})…", label,
                            lambda: self.client.submit(pixels, fmt, extent, options))
        return job.wait(on_progress=self.progress.advanced)

    def cover(self, pixels: bytes, fmt: PixelFormat, extent: Extent, target: Union[str, Extent],
              options: UpscaleOptions, fit: str, background: str) -> CoverOutcome:
        """A ``cover`` job (see ``EngineClient.submit_cover``), waited for with progress."""
        label = "Make cover"
        job = self._started(f"{label} ({extent} → {target}, {fit}, {options.model})…", label,
                            lambda: self.client.submit_cover(pixels, fmt, extent, target, options, fit, background))
        job.wait(on_progress=self.progress.advanced)
        return CoverOutcome.of(job)

    def export(self, pixels: bytes, fmt: PixelFormat, extent: Extent, path: os.PathLike,
               max_bytes: Optional[int], export_format: Optional[str]) -> ExportOutcome:
        """An ``export`` job (see ``EngineClient.submit_export``), waited for with progress."""
        label = "Export cover"
        job = self._started(f"{label} ({extent} → {Path(path).name})…", label,
                            lambda: self.client.submit_export(pixels, fmt, extent, path, max_bytes, export_format))
        job.wait(on_progress=self.progress.advanced)
        return ExportOutcome.of(job)

    def _started(self, text: str, label: str, submit):
        """Start the engine (saying so: the first start takes seconds), then submit the job with ``text``."""
        self.progress.started(f"{label}: starting the engine…")
        self.client.start()
        self.progress.started(text)
        return submit()


def append_log(path: Optional[Path], text: str) -> None:
    """Add ``text`` to the log file (never raises: a log that cannot be written must not hide the real error)."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        stamp = datetime.datetime.now().isoformat(timespec="seconds")
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"{stamp} [gimp pid {os.getpid()}] {text.rstrip()}\n")
    except OSError:
        pass
