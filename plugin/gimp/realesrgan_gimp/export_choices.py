"""The "Export cover…" procedure's arguments (file, preset, file-size limit, format), their image-dependent
defaults and the message after saving. Pure Python.

Defaults that depend on the image are arguments with an ``auto`` value, so a script that leaves them out gets the
same as the dialog shows: the preset whose size is the image's (else custom), that preset's file-size limit, the
format the file name's extension names (else the preset's first format).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

from krita_realesrgan.common import cover_presets
from krita_realesrgan.common.cover_reasons import encoding
from krita_realesrgan.common.translate import translate
from krita_realesrgan.common.errors import EngineError, Kind
from krita_realesrgan.common.geometry import Extent

from .cover_choices import CUSTOM, preset_entries

FORMAT_NAMES = cover_presets.EXPORT_FORMAT_NAMES

AUTO = "auto"
KB = 1000                    # the presets' limits are decimal (2 MB = 2,000,000 bytes)
PRESET_LIMIT = -1            # the limit argument's "auto": the preset's own limit
MAX_KB = 1_000_000           # 1 GB: anything larger is a typo

PRESET_AUTO_LABEL = "The preset of the image's size (else custom)"
CUSTOM_LABEL = "Custom (no preset: the limit and format below)"
FORMAT_AUTO_LABEL = "From the file name (else the preset's first format)"


def preset_for_size(size: Extent) -> str:
    """The id of the first preset whose exact size is ``size``, else ``custom``."""
    target = cover_presets.preset_of_size(size)
    return target.id if target else CUSTOM


def preset_limit_kb(preset_id: str) -> int:
    """The preset's file-size limit in KB (rounded down, so a file within it is within the preset's); 0 = none."""
    if preset_id == CUSTOM:
        return 0
    limit = cover_presets.preset(preset_id).max_bytes
    return limit // KB if limit else 0


def preset_choices(language: str) -> Tuple[Tuple[str, str], ...]:
    """(nick, label) of the preset argument: auto, every preset, custom."""
    presets = tuple(entry for entry in preset_entries(language) if entry[0] != CUSTOM)
    return ((AUTO, translate(PRESET_AUTO_LABEL, language)),) + presets + ((CUSTOM, translate(CUSTOM_LABEL, language)),)


def format_choices(language: str) -> Tuple[Tuple[str, str], ...]:
    return ((AUTO, translate(FORMAT_AUTO_LABEL, language)),) + tuple(
        (name, FORMAT_NAMES[name]) for name in cover_presets.EXPORT_FORMATS)


@dataclass(frozen=True)
class ExportRequest:
    """What the engine is asked for, every default resolved."""

    path: Path
    preset: str                  # a preset id or custom
    max_bytes: Optional[int]     # None = no limit
    format: str                  # jpg | png | webp


@dataclass(frozen=True)
class ExportChoices:
    path: Optional[Path]
    preset: str = AUTO
    max_kb: int = PRESET_LIMIT
    format: str = AUTO

    def resolved(self, size: Extent) -> ExportRequest:
        """The request for an image of ``size``; EngineError(BAD_INPUT) for a missing file, an unknown preset or
        format, a limit out of range, or a file name whose extension names another format. A name without an
        export extension gets the format's."""
        if self.path is None or not str(self.path) or self.path.name in ("", ".", ".."):
            raise EngineError(Kind.BAD_INPUT, "Choose the file to save the cover as (e.g. cover.jpg).")
        preset = preset_for_size(size) if self.preset == AUTO else self.preset
        if preset != CUSTOM:
            preset = cover_presets.preset(preset).id
        if not PRESET_LIMIT <= self.max_kb <= MAX_KB:
            raise EngineError(Kind.BAD_INPUT, f"The file-size limit must be 0 (none) to {MAX_KB:,} KB, "
                              f"not {self.max_kb}.")
        max_kb = preset_limit_kb(preset) if self.max_kb == PRESET_LIMIT else self.max_kb
        named = cover_presets.export_format_of(self.path.name)
        chosen = self.format if self.format != AUTO else (named or _first_format(preset))
        if chosen not in cover_presets.EXPORT_FORMATS:
            raise EngineError(Kind.BAD_INPUT, f"Covers are saved as {', '.join(cover_presets.EXPORT_FORMATS)}, "
                              f"not {chosen!r}.")
        if named is not None and named != chosen:
            raise EngineError(Kind.BAD_INPUT, f"The file name {self.path.name!r} says {FORMAT_NAMES[named]} but "
                              f"the format is {FORMAT_NAMES[chosen]}: change one of them.")
        path = self.path if named else self.path.with_name(f"{self.path.name}.{chosen}")
        return ExportRequest(path, preset, max_kb * KB if max_kb else None, chosen)


def _first_format(preset: str) -> str:
    return cover_presets.EXPORT_FORMATS[0] if preset == CUSTOM else cover_presets.preset(preset).formats[0]


def saved_message(path: Path, format: str, quality: Optional[int], bits: int, size: int,
                  max_bytes: Optional[int], language: str = "") -> str:
    """What the user is told after the export (an ExportOutcome's fields), in ``language`` (see
    ``editor.language.gettext_language``)."""
    how = encoding(format, quality, bits, size).text(language)
    limit = translate("limit {limit:,}", language).format(limit=max_bytes) if max_bytes else translate(
        "no size limit", language)
    return translate("Saved {path}: {how} ({limit})", language).format(path=path, how=how, limit=limit)
