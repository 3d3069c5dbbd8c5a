"""The two callbacks every long operation takes: how far it is, and whether to stop.

    Progress(done, total)   called as work advances (tiles, frames, faces: the caller's unit), done <= total
    Cancel() -> bool        polled between units of work; True makes the operation raise ``errors.Cancelled``
"""
from __future__ import annotations

from typing import Callable

Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]
