"""Cover targets: the platform presets (data in ``data/cover_presets.json``) and custom sizes.

Standard library only: the editor plugins vendor this module and the JSON file to fill their preset lists.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

from .errors import EngineError, Kind
from .geometry import Extent
from .translate import is_chinese

PRESETS_FILE = Path(__file__).resolve().parent / "data" / "cover_presets.json"
CUSTOM_ID = "custom"
EXPORT_FORMATS = ("jpg", "png", "webp")  # what covers are saved as (first = default)
EXPORT_FORMAT_NAMES = {"jpg": "JPEG", "png": "PNG", "webp": "WebP"}
EXPORT_EXTENSIONS = {"jpg": ("jpg", "jpeg"), "png": ("png",), "webp": ("webp",)}   # first = the one written
AUTO_MODEL = "auto"                   # the cover's model is chosen by the engine from the picture's content
FIT_COVER, FIT_PAD = "cover", "pad"   # crop to fill the size / fit inside it on a background
FITS = (FIT_COVER, FIT_PAD)
BLUR = "blur"                         # the pad fit's background: a blurred copy of the picture (else #rrggbb)
MAX_EDGE = 16384  # larger covers are surely a typo (and would need gigabytes)


@dataclass(frozen=True)
class CoverTarget:
    """What a cover must be: its exact size, the largest file allowed (None = no limit) and the formats taken."""

    id: str
    name_en: str
    name_zh: str
    size: Extent
    max_bytes: Optional[int]
    formats: Tuple[str, ...]

    @property
    def aspect(self) -> float:
        return self.size.width / self.size.height

    def name(self, language: str = "en") -> str:
        """The preset's name in ``language`` (a locale like ``zh_CN``: Simplified Chinese; anything else: English)."""
        return self.name_zh if is_chinese(language) else self.name_en

    def describe(self) -> str:
        limit = f"under {self.max_bytes / 1e6:g} MB" if self.max_bytes else "no size limit"
        return f"{self.id}: {self.name_en} / {self.name_zh}, {self.size}, {limit}, {'/'.join(self.formats)}"


def _from_json(entry: dict) -> CoverTarget:
    return CoverTarget(id=entry["id"], name_en=entry["name_en"], name_zh=entry["name_zh"],
                       size=Extent(int(entry["width"]), int(entry["height"])),
                       max_bytes=int(entry["max_bytes"]) if entry.get("max_bytes") else None,
                       formats=tuple(entry["formats"]))


def presets() -> Tuple[CoverTarget, ...]:
    data = json.loads(PRESETS_FILE.read_text(encoding="utf-8"))
    return tuple(_from_json(entry) for entry in data["presets"])


def preset(preset_id: str) -> CoverTarget:
    for target in presets():
        if target.id.lower() == preset_id.strip().lower():
            return target
    raise EngineError(Kind.BAD_INPUT, f"Unknown cover preset {preset_id!r}; choose one of "
                      f"{', '.join(t.id for t in presets())} (see --list-presets), or give --size WxH.")


def parse_size(text: str) -> Extent:
    """``"1280x720"`` (also ``1280X720``, ``1280*720``, ``1280×720``) -> Extent."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX*×]\s*(\d+)\s*", text or "")
    if not match:
        raise EngineError(Kind.BAD_INPUT, f"Size {text!r} is not WIDTHxHEIGHT (e.g. 1280x720).")
    size = Extent(int(match.group(1)), int(match.group(2)))
    if size.is_empty or max(size) > MAX_EDGE:
        raise EngineError(Kind.BAD_INPUT, f"Size {size} is out of range (1 to {MAX_EDGE} pixels a side).")
    return size


def export_format_of(file_name: str) -> Optional[str]:
    """The export format a file name's extension names (``.jpeg`` and ``.JPG`` are jpg), None for any other."""
    extension = Path(str(file_name)).suffix.lstrip(".").lower()
    return next((fmt for fmt, extensions in EXPORT_EXTENSIONS.items() if extension in extensions), None)


def preset_of_size(size: Extent) -> Optional[CoverTarget]:
    """The first preset whose exact size is ``size`` (None when none is)."""
    return next((target for target in presets() if target.size == Extent(*size)), None)


def custom(size: Extent, max_bytes: Optional[int] = None) -> CoverTarget:
    return CoverTarget(CUSTOM_ID, f"Custom {size}", f"自定义 {size}", Extent(*size), max_bytes, EXPORT_FORMATS)


def upscaled_size(source: Extent, target: Extent, fit: str) -> Extent:
    """The size the picture is scaled to: just covering the target ("cover") or just fitting in it ("pad").

    The side that decides the factor matches the target exactly, the other is rounded (never short of the
    target in "cover", never over it in "pad").
    """
    fx, fy = target.width / source.width, target.height / source.height
    if fit == "cover":
        if fx >= fy:
            return Extent(target.width, max(target.height, round(source.height * fx)))
        return Extent(max(target.width, round(source.width * fy)), target.height)
    if fx <= fy:
        return Extent(target.width, min(target.height, max(1, round(source.height * fx))))
    return Extent(min(target.width, max(1, round(source.width * fy))), target.height)
