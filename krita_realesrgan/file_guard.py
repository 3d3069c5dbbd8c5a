"""Never write over the user's pictures, and find an unwritable output folder before the work, not after it.

Files are compared as files (device and inode, after following symlinks), not as path strings: ``./x.jpg``,
``/home/me/x.jpg``, a symlink to it and a hard link to it are all the input. Standard library only.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Dict, Iterable, Optional, Tuple

from .common.errors import EngineError, Kind

FileId = Tuple[int, int]


def file_id(path: Path) -> Optional[FileId]:
    """(device, inode) of the file ``path`` names, following symlinks; None when nothing is there."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def same_file(a: Path, b: Path) -> bool:
    first = file_id(a)
    return first is not None and first == file_id(b)


class InputGuard:
    """The run's input files; answers which of them a planned output would replace."""

    def __init__(self, inputs: Iterable[Path]):
        self._inputs: Dict[FileId, Path] = {}
        for path in inputs:
            identity = file_id(path)
            if identity is not None:
                self._inputs.setdefault(identity, Path(path))

    def overwritten_by(self, target: Path) -> Optional[Path]:
        """The input file that writing ``target`` would replace, or None."""
        identity = file_id(target)
        return self._inputs.get(identity) if identity is not None else None

    def check(self, target: Path, hint: str) -> None:
        """Raise EngineError(BAD_INPUT) when ``target`` is one of the inputs; ``hint`` says what to change."""
        victim = self.overwritten_by(target)
        if victim is not None:
            same = "" if Path(target) == victim else f" ({victim})"
            raise EngineError(Kind.BAD_INPUT, f"The output {target} is the input file{same}: writing it would "
                              f"replace your picture. {hint}")


def ensure_writable_folder(folder: Path) -> None:
    """Create ``folder`` if needed and prove that a file can be written in it (the permission bits alone do not
    tell: a read-only mount, an ACL, a full quota). Raises EngineError(BAD_INPUT) that names ``folder``."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".krita-realesrgan-probe-", dir=str(folder))
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        reason = error.strerror or str(error)
        raise EngineError(Kind.BAD_INPUT, f"Cannot write to the output folder {folder}: {reason}. "
                          "Choose another folder with -o.") from error
