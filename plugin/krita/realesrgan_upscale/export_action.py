"""Export cover: save the document's merged image as JPEG/PNG/WebP within a platform's file-size limit.

The engine (``export`` op) lowers the quality step by step until the file fits and writes it atomically; here
the document's projection is read and handed over. The document is only read: a document the engine cannot
take as it is (CMYK, Lab, linear light, another RGB profile) is exported from a converted sRGB 8-bit copy that
is closed again. ``runner`` is anything with ``export(pixels, fmt, extent, path, max_bytes, export_format,
action)`` returning an ``ExportOutcome``: the ``EngineSession`` in Krita and in the integration tests.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from .document import KritaDocument, converted_copy
from .export_settings import NO_PRESET, ExportChoices
from .i18n import current_language, tr
from .krita_realesrgan.common import cover_presets
from .krita_realesrgan.common.cover_reasons import encoding
from .krita_realesrgan.common.geometry import Bounds
from .pixels_krita import DEPTH_DTYPES, MODEL_CHANNELS

EXPORT_DEPTH = "U8"   # what a converted copy gets (the file is 8-bit sRGB either way)
_EXTENSIONS = cover_presets.EXPORT_EXTENSIONS
FORMAT_LABELS = cover_presets.EXPORT_FORMAT_NAMES
_NOT_IN_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


# ---- pure: presets, names, colour spaces, what the user is told ---------------------------------------------

def with_extension(path: str, fmt: str) -> str:
    """``path`` ending in ``fmt``'s extension: a cover extension of another format is replaced, others kept."""
    p = Path(path)
    if p.suffix.lower().lstrip(".") in _EXTENSIONS[fmt]:
        return path
    known = cover_presets.export_format_of(p.name) is not None
    return str(p.with_suffix("") if known else p) + "." + fmt


def file_filter(fmt: str) -> str:
    """The save dialog's filter for ``fmt``, e.g. "JPEG (*.jpg *.jpeg)"."""
    return f"{FORMAT_LABELS[fmt]} ({' '.join('*.' + ext for ext in _EXTENSIONS[fmt])})"


def file_stem(doc_file: str, doc_name: str) -> str:
    """A file name stem for the document: its file's stem, else its title, without characters file names
    cannot hold; "cover" when nothing is left."""
    stem = Path(doc_file).stem if doc_file else doc_name
    stem = " ".join(_NOT_IN_NAMES.sub("_", stem or "").split()).strip(" ._")
    return stem or "cover"


def default_path(doc_file: str, doc_name: str, last_folder: str, preset_id: str, fmt: str, home: str) -> str:
    """Where the save dialog starts: the document's folder (else the last one used, else ``home``) and
    ``<document>_<preset>.<format>`` (``<document>_cover`` without a preset: never the source file's own name)."""
    folder = str(Path(doc_file).parent) if doc_file else (last_folder or home)
    suffix = preset_id if preset_id and preset_id != NO_PRESET else "cover"
    return str(Path(folder) / f"{file_stem(doc_file, doc_name)}_{suffix}.{fmt}")


def is_srgb_profile(profile: str) -> bool:
    """Whether a Krita profile name is sRGB-like with the sRGB tone curve (e.g. ``sRGB-elle-V2-srgbtrc.icc``,
    ``sRGB built-in``, ``Gray-D50-elle-V2-srgbtrc.icc``); linear ones (``…-g10.icc``, "linear") are not."""
    name = (profile or "").lower()
    return "srgb" in name and not any(mark in name for mark in ("g10", "linear"))


def needs_srgb_copy(color_model: str, color_depth: str, profile: str) -> bool:
    """Whether the document must be converted to RGBA 8-bit sRGB first: the engine writes the samples as they
    are, so anything but RGBA/grey with the sRGB tone curve (CMYK, Lab, linear float, Adobe RGB, …) is converted."""
    return not (color_model in MODEL_CHANNELS and color_depth in DEPTH_DTYPES and is_srgb_profile(profile))


def outcome_text(outcome) -> str:
    """E.g. "JPEG quality 85, 1,912,334 bytes"; "PNG (lossless), …"; "PNG posterised to 6 bits a channel, …"."""
    return encoding(outcome.format, outcome.quality, outcome.bits, outcome.bytes).text(current_language())


def export_summary(outcome, max_bytes: Optional[int]) -> str:
    """What the user is told after an export: where, how, and the limit it kept to."""
    how = outcome_text(outcome)
    if max_bytes:
        return tr("Saved {path}: {how} (limit {limit})").format(path=outcome.path, how=how, limit=f"{max_bytes:,}")
    return tr("Saved {path}: {how}").format(path=outcome.path, how=how)


# ---- Krita ------------------------------------------------------------------------------------------------

def export_cover(doc, choices: ExportChoices, runner):
    """Save ``doc``'s merged image as ``choices`` say; returns the engine's ``ExportOutcome``. ``doc`` is only
    read (a converted copy, when one is needed, is closed again)."""
    document = KritaDocument.settled(doc)
    if not needs_srgb_copy(*document.colour_space()):
        return _export_projection(document, choices, runner)
    copy = KritaDocument(converted_copy(doc, None, EXPORT_DEPTH)[0])
    try:
        return _export_projection(copy, choices, runner)
    finally:
        copy.discard()


def _export_projection(document: KritaDocument, choices: ExportChoices, runner):
    document.refresh()
    document.settle()
    canvas = document.canvas
    source = document.merged()
    pixels = source.read(Bounds.of(canvas))
    return runner.export(pixels, source.layout.fmt, canvas, choices.path, choices.max_bytes, choices.format,
                         tr("Export cover"))
