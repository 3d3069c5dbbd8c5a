"""What the progress dialog says: tiles done and a time-left estimate. Pure Python."""
from __future__ import annotations

from typing import Optional

from .i18n import tr


def seconds_left(done: int, total: int, elapsed: float) -> Optional[float]:
    """Remaining seconds at the pace so far; None before the first tile is done."""
    if done <= 0 or total <= 0 or elapsed <= 0:
        return None
    return max(0.0, elapsed / done * (total - done))


def duration_text(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return tr("{n} s").format(n=seconds)
    return tr("{m} min {s} s").format(m=seconds // 60, s=seconds % 60)


def progress_label(action: str, done: int, total: int, elapsed: float) -> str:
    if total <= 0:
        return tr("{action}: starting…").format(action=action)
    text = tr("{action}: tile {done} of {total}").format(action=action, done=done, total=total)
    left = seconds_left(done, total, elapsed)
    if left is not None:
        text += "\n" + tr("About {time} left").format(time=duration_text(left))
    return text
