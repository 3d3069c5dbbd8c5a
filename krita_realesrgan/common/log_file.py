"""Appending to a log file (the plugins' and the client's): the detail behind a message the user saw. Pure Python."""
from __future__ import annotations

import datetime
from pathlib import Path
from typing import Optional


def stamp() -> str:
    """Now, to the second (2025-01-31T12:00:00)."""
    return datetime.datetime.now().isoformat(timespec="seconds")


def append(path: Optional[Path], text: str) -> None:
    """Add ``text`` to the file at ``path`` (its folder made when missing). Never raises: a log that cannot be
    written must not hide the error it was to record."""
    if path is None:
        return
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError:
        pass
