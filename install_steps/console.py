"""Output a person can follow: steps, ok/warning/failure lines, and download progress."""
from __future__ import annotations

import sys
import time
from typing import List, Optional


class Console:
    def __init__(self, stream=sys.stdout):
        self.stream = stream
        self.warnings: List[str] = []
        self.failures: List[str] = []

    def step(self, text: str) -> None:
        self._print(f"\n== {text}")

    def info(self, text: str) -> None:
        self._print(f"   {text}")

    def ok(self, text: str) -> None:
        self._print(f"   ok    {text}")

    def warn(self, text: str) -> None:
        self.warnings.append(text)
        self._print(f"   WARNING  {text}")

    def fail(self, text: str) -> None:
        self.failures.append(text)
        self._print(f"   FAILED   {text}")

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)


def human_size(n: Optional[int]) -> str:
    if n is None:
        return "? MB"
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} kB"


class ProgressBar:
    """A one-line bar on a terminal; a single closing line otherwise (logs stay readable)."""

    def __init__(self, label: str, total: Optional[int], start: int = 0, stream=sys.stderr):
        self.label, self.total, self.done, self.stream = label, total, start, stream
        self.started = time.monotonic()
        self.first = start
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.last_draw = 0.0

    def update(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.tty and now - self.last_draw > 0.1:
            self.last_draw = now
            self._draw(end="")

    def close(self) -> None:
        self._draw(end="\n")

    def _draw(self, end: str) -> None:
        speed = (self.done - self.first) / max(time.monotonic() - self.started, 1e-6)
        if self.total:
            frac = min(self.done / self.total, 1.0)
            bar = "#" * int(frac * 30)
            text = (f"   [{bar:<30}] {frac * 100:5.1f}% {human_size(self.done)} / {human_size(self.total)}"
                    f"  {speed / 1e6:.1f} MB/s  {self.label}")
        else:
            text = f"   {human_size(self.done)}  {speed / 1e6:.1f} MB/s  {self.label}"
        print(("\r" if self.tty else "") + text, end=end, file=self.stream, flush=True)
