"""Enabling the Krita plugin in kritarc (an INI file of the user's), and undoing exactly that edit."""
from __future__ import annotations

from typing import List, Optional, Tuple

from .targets import KRITA_PLUGIN

KRITARC_SECTION = "[python]"
KRITARC_KEY = f"enable_{KRITA_PLUGIN}"


def kritarc_newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _section_span(lines: List[str], header: str) -> Optional[Tuple[int, int]]:
    """(index of the header line, index after the section's last line), or None."""
    start = next((i for i, line in enumerate(lines) if line.strip() == header), None)
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].strip().startswith("[")), len(lines))
    return start, end


def _key_index(lines: List[str], span: Tuple[int, int], key: str) -> Optional[int]:
    return next((i for i in range(span[0] + 1, span[1]) if lines[i].split("=", 1)[0].strip() == key), None)


def _is_true(line: str) -> bool:
    return line.split("=", 1)[1].strip().lower() == "true"


def kritarc_enabled(text: str) -> bool:
    """Whether ``text`` (a kritarc) enables the plugin."""
    lines = text.splitlines(keepends=True)
    span = _section_span(lines, KRITARC_SECTION)
    index = _key_index(lines, span, KRITARC_KEY) if span else None
    return index is not None and _is_true(lines[index])


def kritarc_enable(text: str) -> Tuple[str, dict]:
    """``text`` with the plugin enabled, and a record of the edit (for ``kritarc_restore``)."""
    newline = kritarc_newline(text)
    line = f"{KRITARC_KEY}=true{newline}"
    lines = text.splitlines(keepends=True)
    span = _section_span(lines, KRITARC_SECTION)
    if span is None:
        prefix = "" if not text else (newline if text.endswith(("\n", "\r")) else newline * 2)
        appended = prefix + KRITARC_SECTION + newline + line
        return text + appended, {"appended": appended, "previous": None}
    index = _key_index(lines, span, KRITARC_KEY)
    if index is None:
        lines.insert(span[0] + 1, line)
        return "".join(lines), {"appended": None, "previous": None}
    previous = lines[index]
    if _is_true(previous):
        return text, {"appended": None, "previous": previous}
    lines[index] = line if previous.endswith(("\n", "\r")) else line.rstrip("\r\n")
    return "".join(lines), {"appended": None, "previous": previous}


def kritarc_restore(text: str, record: dict) -> str:
    """Undo ``kritarc_enable``: remove (or restore) exactly the line it added, and a section it appended."""
    appended = record.get("appended")
    if appended and text.endswith(appended):
        return text[: -len(appended)]
    lines = text.splitlines(keepends=True)
    span = _section_span(lines, KRITARC_SECTION)
    if span is None:
        return text
    index = _key_index(lines, span, KRITARC_KEY)
    if index is None:
        return text
    previous = record.get("previous")
    if previous is not None:
        lines[index] = previous
        return "".join(lines)
    del lines[index]
    span = (span[0], span[1] - 1)
    if appended and all(not lines[i].strip() for i in range(span[0] + 1, span[1])):
        del lines[span[0]:span[1]]  # the section we added is empty again
    return "".join(lines)
