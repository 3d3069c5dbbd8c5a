"""What the benchmarks share: the real test pictures (with crops), best-of-N timing, child processes with their own
peak RSS, the machine header and level errors. One place each; the bench scripts import them.
"""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence, Tuple

import numpy as np

from bench_data import IMAGES, REPO
from measure_peak import vm_hwm_mb as peak_rss_mb  # noqa: F401  (this process's own peak, for in-process benches)

sys.path.insert(0, str(REPO))
MEASURE_PEAK = Path(__file__).with_name("measure_peak.py")


@dataclass(frozen=True)
class Picture:
    """A real test picture, or a crop of one (x, y, width, height in pixels)."""
    label: str
    file: str
    crop: Optional[Tuple[int, int, int, int]] = None
    folder: Path = IMAGES

    def load(self):
        """(pixels, PixelFormat) as the engine reads them, cropped."""
        from krita_realesrgan.imagefile import read_image
        image, fmt = read_image(self.folder / self.file)
        if self.crop:
            x, y, w, h = self.crop
            image = np.ascontiguousarray(image[y:y + h, x:x + w])
        return image, fmt

    def write_png(self, target: Path) -> Path:
        """The (cropped) picture as a PNG file, for programs that take a path."""
        import cv2
        image, _ = self.load()
        bgr = image[..., ::-1] if image.ndim == 3 else image   # read_image gives RGB(A) order for colour
        if image.ndim == 3 and image.shape[2] == 4:
            bgr = image[..., [2, 1, 0, 3]]
        if not cv2.imwrite(str(target), np.ascontiguousarray(bgr)):
            raise OSError(f"cannot write {target}")
        return target


@dataclass(frozen=True)
class ProcessRun:
    """A finished child process: its wall time, its own peak resident memory and its standard output."""
    seconds: float
    peak_rss_mb: float
    stdout: str


def run_measured(python_args: Sequence[str], env: Optional[dict] = None) -> ProcessRun:
    """Run ``python python_args...`` (a script or ``-m module``) in a fresh process to the end (raise with its last
    error line when it fails); the peak RSS is the child's own (bench/measure_peak.py)."""
    with tempfile.TemporaryDirectory(prefix="bench_peak_") as folder:
        peak_file = Path(folder) / "peak"
        started = time.perf_counter()
        child = subprocess.run([sys.executable, str(MEASURE_PEAK), *python_args], capture_output=True,
                               env={**os.environ, **(env or {}), "BENCH_PEAK_FILE": str(peak_file)})
        seconds = time.perf_counter() - started
        if child.returncode != 0:
            lines = child.stderr.decode(errors="replace").strip().splitlines()
            raise RuntimeError(f"{' '.join(map(str, python_args[:2]))} failed ({child.returncode}): "
                               f"{lines[-1] if lines else 'no message'}")
        return ProcessRun(seconds, float(peak_file.read_text()), child.stdout.decode(errors="replace"))


def timed(run: Callable[[], object]) -> Tuple[float, object]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def best_of(run: Callable[[], object], repeat: int) -> float:
    """The shortest of ``repeat`` timed calls (the least disturbed by other work on a shared machine)."""
    return min(timed(run)[0] for _ in range(max(1, repeat)))


@dataclass(frozen=True)
class LevelError:
    """How far an 8-bit picture is from another, in levels."""
    mean: float
    p999: float
    max: int

    def __str__(self) -> str:
        return f"{self.mean:.3f} / {self.p999:.0f} / {self.max}"


def level_error(image: np.ndarray, exact: np.ndarray) -> LevelError:
    if image.shape != exact.shape:
        raise ValueError(f"shapes differ: {image.shape} vs {exact.shape}")
    difference = np.abs(image.astype(np.int16) - exact.astype(np.int16))
    return LevelError(float(difference.mean()), float(np.percentile(difference, 99.9)), int(difference.max()))


def machine_header() -> str:
    """The CPU's model and speed-relevant flags, core count and load: the first lines of every bench table."""
    from krita_realesrgan.backends.cpu import this_cpu
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    busy = f"; load average {load[0]:.1f} on {os.cpu_count()} CPUs" if load else ""
    return (f"CPU: {this_cpu().describe()}\n{os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}{busy}")
