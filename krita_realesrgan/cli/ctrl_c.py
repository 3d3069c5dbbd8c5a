"""Ctrl-C as a cancel request, for every command-line job.

A KeyboardInterrupt can land anywhere: between starting an ffmpeg child and recording it (the child then outlives
the job and leaves its half-written file behind), or inside a Python callback of native code (OpenVINO's and
PyTorch's pybind11 layers), where it cannot unwind and the process aborts. Here the first Ctrl-C only asks the job
to stop (its ``cancel`` callback turns true, and the engine stops at its next check between tiles, cleaning up in
order); a second one interrupts at once, as usual.
"""
from __future__ import annotations

import signal
import sys
import threading


NOTICE = "stopping… (press Ctrl-C again to stop at once)"


class CtrlC:
    """``with CtrlC() as stop: job(cancel=stop)``: ``stop()`` is true once Ctrl-C was pressed."""

    def __init__(self, notice: str = NOTICE):
        self.notice = notice
        self.pressed = False
        self._previous = None

    def __call__(self) -> bool:
        return self.pressed

    def _on_signal(self, signum, frame) -> None:
        if self.pressed:
            raise KeyboardInterrupt
        self.pressed = True
        print(f"\n{self.notice}", file=sys.stderr, flush=True)

    def __enter__(self) -> "CtrlC":
        if threading.current_thread() is threading.main_thread():   # signal handlers live in the main thread
            self._previous = signal.signal(signal.SIGINT, self._on_signal)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
