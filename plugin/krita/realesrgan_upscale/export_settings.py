"""The "Export cover" choices, and what is remembered between exports (last folder and format). Pure Python.

Sizes are decimal, like the platforms' own limits and ``cover_presets`` (2 MB = 2,000,000 bytes).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from .krita_realesrgan.common.cover_presets import EXPORT_FORMATS, CoverTarget
from .settings import Reader, Writer, load_fields, save_fields

GROUP = "realesrgan_export"
NO_PRESET = "none"             # the document matches no preset: no limit or format from one
KB, MB = "KB", "MB"
UNIT_BYTES = {KB: 1000, MB: 1000 * 1000}


@dataclass(frozen=True)
class ExportChoices:
    """One export: the file, its format, the largest file allowed (None = no limit) and the preset it is for."""

    path: str
    format: str = EXPORT_FORMATS[0]
    max_bytes: Optional[int] = None
    preset: str = NO_PRESET


@dataclass(frozen=True)
class ExportMemory:
    """What the next export starts from: the folder and format used last."""

    folder: str = ""
    format: str = EXPORT_FORMATS[0]

    def normalised(self) -> "ExportMemory":
        fmt = self.format.lower()
        return ExportMemory(self.folder, fmt if fmt in EXPORT_FORMATS else EXPORT_FORMATS[0])


def load(read: Reader) -> ExportMemory:
    return load_fields(read, GROUP, ExportMemory(), {"folder": str, "format": str})


def save(memory: ExportMemory, write: Writer) -> None:
    save_fields(memory, write, GROUP)


def limit_bytes(value: float, unit: str) -> Optional[int]:
    """The spin box's value in bytes; 0 (or less) means no limit."""
    if not value or value <= 0:
        return None
    return int(round(value * UNIT_BYTES[unit]))


def limit_shown(max_bytes: Optional[int]) -> Tuple[float, str]:
    """How a limit in bytes is shown: whole megabytes in MB, anything else in KB; no limit is 0 MB."""
    if not max_bytes:
        return 0.0, MB
    if max_bytes % UNIT_BYTES[MB] == 0:
        return max_bytes / UNIT_BYTES[MB], MB
    return max_bytes / UNIT_BYTES[KB], KB


def default_format(target: Optional[CoverTarget], remembered: str) -> str:
    """The remembered format when the preset takes it, else the preset's first (the remembered one without one)."""
    if target is None:
        return remembered if remembered in EXPORT_FORMATS else EXPORT_FORMATS[0]
    return remembered if remembered in target.formats else target.formats[0]
