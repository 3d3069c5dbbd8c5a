"""Run one upscale, cover or export through the engine worker while reporting progress. No GIMP import: the caller
hands in a progress sink (GIMP's progress bar in the plug-in, a list in the unit tests).

Cancel: GIMP's progress bar stops a plug-in by ending its process; the worker then sees its stdin close and
stops too, and since the image is only changed after the result arrived, it stays as it was.

Before an upscale or a cover that would take more than about a minute or pass the pixel limit (the procedures'
``max-pixels`` argument), an interactive run asks (``ask``, a message dialog in the plug-in); No cancels before the
engine starts. A script is never asked: above the limit it fails with a message that names ``max-pixels``. The rule
and the question are the engine's shared ``run_question`` (the Krita plugin uses it too).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Optional, Protocol, Tuple, Union

from krita_realesrgan.common import run_question
from krita_realesrgan.common.job_outcomes import CoverOutcome, ExportOutcome
from krita_realesrgan.common import log_file
from krita_realesrgan.common.translate import translate
from krita_realesrgan.common.formats import DEFAULT_MAX_PIXELS, PixelFormat, UpscaleOptions
from krita_realesrgan.common.geometry import Extent
from krita_realesrgan.common.run_estimate import SpeedRecord

LIMIT_ARGUMENT = "max-pixels"
HOW_TO_RAISE = f"pass a larger {LIMIT_ARGUMENT} argument (0 = no limit)"


class ProgressSink(Protocol):
    def started(self, text: str) -> None: ...
    def advanced(self, done: int, total: int) -> None: ...


class EngineRunner:
    """``upscale(pixels, fmt, extent, options, label) -> (bytes, Extent)`` on a started-on-demand client.

    ``ask(text) -> bool`` asks before a long or very large run (None: a script, never asked); ``max_pixels`` is
    the pixel limit of every upscale and cover (0 = none); ``language`` the question's (see
    ``editor.language.gettext_language``); ``speeds`` the measured speeds (None: the engine's record)."""

    def __init__(self, client, progress: ProgressSink, ask: Optional[Callable[[str], bool]] = None,
                 max_pixels: int = DEFAULT_MAX_PIXELS, language: str = "", speeds: Optional[SpeedRecord] = None):
        self.client, self.progress = client, progress
        self.ask, self.max_pixels, self.language, self.speeds = ask, max_pixels, language, speeds
        self.notes: Tuple[str, ...] = ()   # what the engine said about the last job (e.g. it ran with PyTorch)

    def upscale(self, pixels: bytes, fmt: PixelFormat, extent: Extent, options: UpscaleOptions,
                label: str) -> Tuple[bytes, Extent]:
        def submit(chosen: UpscaleOptions) -> Tuple[bytes, Extent]:
            job = self._started(f"{label} ({extent} → {chosen.target}, {chosen.model})…", label,
                                lambda: self.client.submit(pixels, fmt, extent, chosen))
            return self._noted(job, job.wait(on_progress=self.progress.advanced))

        options = options.with_(max_pixels=self.max_pixels)
        plan = run_question.plan_upscale(extent, fmt, options, self.speeds)
        return run_question.run_with_consent(plan, options, submit, self._asker(label), HOW_TO_RAISE)

    def cover(self, pixels: bytes, fmt: PixelFormat, extent: Extent, target: Union[str, Extent],
              options: UpscaleOptions, fit: str, background: str) -> CoverOutcome:
        """A ``cover`` job (see ``EngineClient.submit_cover``), waited for with progress."""
        label = "Make cover"

        def submit(chosen: UpscaleOptions) -> CoverOutcome:
            job = self._started(f"{label} ({extent} → {target}, {fit}, {chosen.model})…", label,
                                lambda: self.client.submit_cover(pixels, fmt, extent, target, chosen, fit, background))
            job.wait(on_progress=self.progress.advanced)
            return self._noted(job, CoverOutcome.of(job))

        options = options.with_(max_pixels=self.max_pixels)
        plan = run_question.plan_cover(extent, fmt, target, fit, options, self.speeds)
        return run_question.run_with_consent(plan, options, submit, self._asker(label), HOW_TO_RAISE)

    def _asker(self, label: str) -> Optional[run_question.Ask]:
        if self.ask is None:
            return None
        action = translate(label, self.language)   # the operation's name, in the Krita plugin's words
        return lambda plan: self.ask(plan.question(action, self.language))

    def export(self, pixels: bytes, fmt: PixelFormat, extent: Extent, path: os.PathLike,
               max_bytes: Optional[int], export_format: Optional[str]) -> ExportOutcome:
        """An ``export`` job (see ``EngineClient.submit_export``), waited for with progress."""
        label = "Export cover"
        job = self._started(f"{label} ({extent} → {Path(path).name})…", label,
                            lambda: self.client.submit_export(pixels, fmt, extent, path, max_bytes, export_format))
        job.wait(on_progress=self.progress.advanced)
        return ExportOutcome.of(job)

    def _noted(self, job, outcome):
        """``outcome``, after keeping the finished ``job``'s notes."""
        self.notes = tuple(str(note) for note in (job.info or {}).get("notes") or ())
        return outcome

    def _started(self, text: str, label: str, submit):
        """Start the engine (saying so: the first start takes seconds), then submit the job with ``text``."""
        self.progress.started(f"{label}: starting the engine…")
        self.client.start()
        self.progress.started(text)
        return submit()


def append_log(path: Optional[Path], text: str) -> None:
    """Add ``text`` to the log file as one stamped entry of this plug-in process (never raises)."""
    log_file.append(path, f"{log_file.stamp()} [gimp pid {os.getpid()}] {text.rstrip()}\n")
