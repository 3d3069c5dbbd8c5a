"""Before a run: what it will produce (size, memory, rough time), and the pixel limit that stops runaway requests.

A 388 KB PNG can declare 20000×20000 pixels, and ×4 that is 6.4 gigapixels: many minutes and gigabytes before
anything fails. Every front end checks the planned result against a limit (``DEFAULT_MAX_PIXELS``, raised with an
option) before it decodes or starts, and can show the estimate. The time comes from the speed measured by earlier
runs on this computer for the same model, device and precision (``SpeedRecord``); there is none before the first.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Tuple

from .errors import EngineError, Kind
from .formats import CPU_TILE_BUDGET, DEFAULT_MAX_PIXELS
from .geometry import Extent
from .paths import cache_dir, read_json_object

if TYPE_CHECKING:   # typing.TypeGuard is 3.10+; only the checker needs it
    from typing import TypeGuard

__all__ = ["DEFAULT_MAX_PIXELS", "RunEstimate", "SpeedRecord", "check_limit", "estimate", "memory_text",
           "network_passes", "network_pixels"]
TILE_WORKSPACE_BYTES = CPU_TILE_BUDGET  # the network's activations (the CPU tile budget) on top of the pictures


def network_passes(source: Extent, target: Extent, scale: int) -> int:
    """How often to run a network of ``scale`` so its output is at least as large as ``target``."""
    factor = max(target.width / source.width, target.height / source.height)
    passes = 1
    while scale ** passes < factor - 1e-9:
        passes += 1
    return passes


def network_pixels(source: Extent, scale: int, passes: int) -> int:
    """How many input pixels the network sees over all its passes (each pass runs on the previous output)."""
    return sum(source.pixel_count * scale ** (2 * index) for index in range(passes))


@dataclass(frozen=True)
class RunEstimate:
    source: Extent
    result: Extent
    memory_bytes: int
    seconds: Optional[float]   # None until this computer has run the model once

    def describe(self) -> str:
        parts = [f"{self.source} -> {self.result}", f"about {memory_text(self.memory_bytes)} of memory"]
        if self.seconds is not None:
            parts.append(f"about {_duration(self.seconds)}")
        return ", ".join(parts)


def estimate(source: Extent, result: Extent, channels: int, bytes_per_sample: int,
             seconds_per_megapixel: Optional[float], scale: int = 4, passes: int = 1,
             network_bytes_per_pixel: Optional[float] = 0.0) -> RunEstimate:
    """Memory: the decoded input, its float planes, the float output planes and the output in its own format, plus
    the network's working space (its activations, up to the tile budget; ``network_bytes_per_pixel`` None: not
    known, as in an editor before the engine has loaded the model, so the whole budget). Time: the measured speed
    times the pixels the network sees."""
    floats = 4 * channels
    workspace = TILE_WORKSPACE_BYTES if network_bytes_per_pixel is None else min(
        TILE_WORKSPACE_BYTES, network_bytes_per_pixel * source.pixel_count)
    memory = int(source.pixel_count * (channels * bytes_per_sample + floats)
                 + result.pixel_count * (floats + channels * bytes_per_sample) + workspace)
    seconds = None
    if seconds_per_megapixel is not None:
        seconds = seconds_per_megapixel * network_pixels(source, scale, passes) / 1e6
    return RunEstimate(source, result, memory, seconds)


HOW_TO_RAISE = "raise the pixel limit"   # a refusal's way on, in the engine's words (the CLI says --max-pixels)


def check_limit(extent: Extent, max_pixels: int, how_to_raise: str, what: str = "The result would be") -> None:
    """Refuse ``extent`` above ``max_pixels`` (0 = no limit). ``how_to_raise`` names the option or setting."""
    if max_pixels and extent.pixel_count > max_pixels:
        raise EngineError(Kind.TOO_LARGE, f"{what} {extent} pixels ({_pixels(extent.pixel_count)}), above the limit "
                          f"of {_pixels(max_pixels)}. Choose a smaller scale or a smaller picture, or {how_to_raise}.")


class SpeedRecord:
    """Seconds per megapixel of network input, per model, device and precision, measured by real runs on this
    computer (a JSON file in the engine's cache folder).

    Each set-up keeps its runs' seconds and megapixels, the older ones weighing half at each new run, and its speed
    is the one over the other: so a tiny run, whose time is mostly fixed costs (a first tile shape compiled), moves
    it by its few pixels' worth, not as much as a large one. (A plain number is an older file's speed.)"""

    def __init__(self, path: Optional[Path] = None):
        if path is None:
            path = cache_dir() / "speed.json"
        self.path = Path(path)

    @staticmethod
    def key(model: str, device: str, precision: str) -> str:
        return f"{Path(model).name}|{device}|{precision}"

    def _load(self) -> dict:
        return read_json_object(self.path) or {}

    @staticmethod
    def _totals(value) -> Optional[Tuple[float, float]]:
        """(seconds, megapixels) of a stored entry; None for one that is not usable."""
        seconds, megapixels = (value.get("seconds"), value.get("megapixels")) if isinstance(value, dict) else (
            value, 1.0)
        if _positive(seconds) and _positive(megapixels):
            return float(seconds), float(megapixels)
        return None

    def _speed(self, value) -> Optional[float]:
        totals = self._totals(value)
        return totals[0] / totals[1] if totals else None

    def seconds_per_megapixel(self, model: str, device: str, precision: str) -> Optional[float]:
        return self._speed(self._load().get(self.key(model, device, precision)))

    def slowest(self, model: Optional[str] = None, device: str = "") -> Optional[float]:
        """For a front end that does not know the backend, device and precision the engine will choose (an
        editor): the slowest set-up recorded for ``model`` (None: for any model, e.g. one the engine picks by
        content). ``device`` ("cpu", "cuda"...; "" or "auto": any) keeps the set-ups on that device when there
        are some. None before the first run."""
        found = []
        for key, value in self._load().items():
            parts = key.split("|")
            if len(parts) != 3 or (model is not None and parts[0] != Path(model).name):
                continue
            speed = self._speed(value)
            if speed is not None:
                found.append((parts[1].lower(), speed))
        wanted = device.lower() if device not in ("", "auto") else ""
        on_device = [value for place, value in found if wanted and wanted in place.split()[-1]]
        values = on_device or [value for _, value in found]
        return max(values) if values else None

    def add(self, model: str, device: str, precision: str, seconds: float, megapixels: float) -> None:
        """Fold in one run; a file that cannot be written only costs the next estimate."""
        if megapixels <= 0 or seconds <= 0:
            return
        from .paths import atomic_write_bytes
        data = self._load()
        key = self.key(model, device, precision)
        seconds_before, megapixels_before = self._totals(data.get(key)) or (0.0, 0.0)
        data[key] = {"seconds": seconds_before / 2 + seconds, "megapixels": megapixels_before / 2 + megapixels}
        try:
            atomic_write_bytes(self.path, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"))
        except OSError:
            pass


def _pixels(count: int) -> str:
    if count >= 1e9:
        return f"{count / 1e9:.1f} gigapixels"
    return f"{count / 1e6:,.0f} megapixels" if count >= 1e7 else f"{count:,} pixels"


def memory_text(count: int) -> str:
    for unit, size in (("GB", 1024 ** 3), ("MB", 1024 ** 2)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{max(1, count // 1024)} KB"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def _positive(value: object) -> "TypeGuard[float]":
    """A finite number above zero (a stored speed that can be used)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and value > 0)
