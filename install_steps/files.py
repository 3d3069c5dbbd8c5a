"""Hashing files, and writing them atomically without touching one that already holds the right bytes."""
from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Optional

from krita_realesrgan.common import paths


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def rewrite_keeping_mode(path: Path, data: bytes) -> None:
    """Atomically replace a file of the user's (kritarc) with ``data``, keeping its permissions."""
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644
    paths.atomic_write_bytes(path, data)
    os.chmod(path, mode)


def write_if_changed(path: Path, data: bytes, mode: Optional[int] = None) -> bool:
    """Atomically write ``data`` unless ``path`` already holds exactly it (and has ``mode``). True if written."""
    try:
        same = path.read_bytes() == data
        if same and (mode is None or stat.S_IMODE(path.stat().st_mode) == mode):
            return False
        if same:
            os.chmod(path, mode)
            return True
    except OSError:
        pass
    paths.atomic_write_bytes(path, data)
    if mode is not None:
        os.chmod(path, mode)
    return True
