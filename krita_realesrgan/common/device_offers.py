"""What the editors' device lists offer: a backend and a device together ("CPU — OpenVINO", "NVIDIA GPU — CUDA"),
and where fast mode would be refused, as the engine's worker reports them. Standard library only (vendored into
the plugins).

The worker computes the report from ``backends.choice.probe()`` (``choice.device_report``), sends it in its
``ready`` event and keeps the last one in the engine's cache (``devices.json``), so that a dialog opened before
the worker runs (GIMP starts one per call) still offers what this computer has. Before any worker ever ran,
``DEFAULT_REPORT`` offers the usual entries with fast mode left to the engine to judge.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from . import paths
from .translate import translate

AUTO = "auto"
# key -> (UpscaleOptions.backend, UpscaleOptions.device), in the order the lists show them
PLACES: Dict[str, Tuple[str, str]] = {
    AUTO: ("auto", "auto"),
    "cpu-openvino": ("openvino", "cpu"),
    "cpu-torch": ("torch", "cpu"),
    "gpu-openvino": ("openvino", "gpu"),   # an Intel GPU
    "cuda": ("torch", "cuda"),
    "mps": ("torch", "mps"),
}
KEYS = tuple(PLACES)
LEGACY_KEYS = {"cpu": "cpu-torch"}   # a device remembered before backends were offered (it meant torch's CPU)

# Why fast mode is refused on an entry (Offer.fast_refused; "" = offered): the CPU computes bfloat16 only by
# emulation, or natively but without AMX (slower than exact float32 there: backends/cpu.py).
NO_BF16, NO_AMX = "no_bf16", "no_amx"
REPORT_FILE = "devices.json"

# What the lists say (both editors' plugins), in English: shown in the reader's language through ``translate``
LABELS = {
    AUTO: "Automatic",
    "cpu-openvino": "CPU — OpenVINO",
    "cpu-torch": "CPU — PyTorch",
    "gpu-openvino": "Intel GPU — OpenVINO",
    "cuda": "NVIDIA GPU — CUDA",
    "mps": "Apple GPU",
}
FAST_REFUSED = {   # Offer.fast_refused -> why, in English ({cpu}: the CPU's name)
    NO_BF16: "{cpu} has no native bfloat16, so fast mode would be slower than exact here.",
    NO_AMX: "{cpu} computes bfloat16 without AMX, which is slower than exact here, so exact is already the fastest.",
}


def label(key: str, language: str = "") -> str:
    """What the list shows for ``key`` in ``language`` (a locale: ``zh_CN`` gets Simplified Chinese)."""
    return translate(LABELS[key], language)


def fast_label(language: str = "") -> str:
    return translate("Fast", language)


def fast_help(language: str = "") -> str:
    return translate("Faster, in the reduced precision the device computes natively (bf16 on CPUs with AMX, fp16 on "
                     "GPUs); the result differs from exact by a few levels.", language)


@dataclass(frozen=True)
class Offer:
    key: str                 # one of KEYS
    fast_refused: str = ""   # "" (fast offered), NO_BF16 or NO_AMX

    @property
    def backend(self) -> str:
        return PLACES[self.key][0]

    @property
    def device(self) -> str:
        return PLACES[self.key][1]


@dataclass(frozen=True)
class DeviceReport:
    offers: Tuple[Offer, ...]
    cpu: str = "this CPU"    # the CPU's name, for the reason fast mode is refused

    def offer(self, key: str) -> Optional[Offer]:
        return next((offer for offer in self.offers if offer.key == key), None)

    def fast_refused(self, key: str, language: str = "") -> str:
        """Why fast mode is refused on ``key`` in ``language`` ("" when it is offered)."""
        offer = self.offer(key)
        if offer is None or not offer.fast_refused:
            return ""
        return translate(FAST_REFUSED[offer.fast_refused], language).format(cpu=self.cpu)

    def to_json(self) -> Dict[str, Any]:
        """The ``ready`` event's fields: ``offers`` and ``cpu``."""
        return {"offers": [{"key": o.key, "fast_refused": o.fast_refused} for o in self.offers], "cpu": self.cpu}

    @staticmethod
    def from_json(data: Any) -> Optional["DeviceReport"]:
        """A report from a ``ready`` event or the stored file; None when it holds none (an older engine, junk)."""
        if not isinstance(data, dict) or not isinstance(data.get("offers"), list):
            return None
        offers = []
        for item in data["offers"]:
            if isinstance(item, dict) and item.get("key") in PLACES:
                refused = item.get("fast_refused")
                offers.append(Offer(item["key"], refused if refused in (NO_BF16, NO_AMX) else ""))
        if not any(offer.key == AUTO for offer in offers):
            return None
        cpu = data.get("cpu")
        return DeviceReport(tuple(offers), cpu if isinstance(cpu, str) and cpu else "this CPU")


def default_report(platform: str = sys.platform) -> DeviceReport:
    """What the lists offer before any worker has reported (fast mode: the engine judges it)."""
    keys = (AUTO, "cpu-openvino", "cpu-torch", "cuda") + (("mps",) if platform == "darwin" else ())
    return DeviceReport(tuple(Offer(key) for key in keys))


def known_key(key: str) -> str:
    """A remembered device key as one of KEYS (an old value mapped, an unknown one: automatic)."""
    key = LEGACY_KEYS.get(key, key)
    return key if key in PLACES else AUTO


def option_fields(key: str, fast: bool) -> Dict[str, Any]:
    """The UpscaleOptions fields for the list's ``key`` and the fast checkbox: backend, device, fast."""
    backend, device = PLACES[known_key(key)]
    return {"backend": backend, "device": device, "fast": bool(fast)}


def save(report: DeviceReport, folder: Path) -> None:
    """Keep ``report`` in ``folder`` (the engine's cache) for the next dialog; never raises."""
    try:
        paths.atomic_write_bytes(Path(folder) / REPORT_FILE, json.dumps(report.to_json()).encode("utf-8"))
    except OSError:
        pass


def load(folder: Path, platform: str = sys.platform) -> DeviceReport:
    """The last report kept in ``folder``, else ``default_report()``."""
    return DeviceReport.from_json(paths.read_json_object(Path(folder) / REPORT_FILE)) or default_report(platform)
