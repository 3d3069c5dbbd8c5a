"""The words for choices both plugins offer, in English (translated where they are shown, see ``translate``).
Pure Python."""
from __future__ import annotations

from ..engine_setting import OTHER_COMPUTER, THIS_COMPUTER

PLACE_LABELS = {THIS_COMPUTER: "On this computer", OTHER_COMPUTER: "On another computer"}   # where the engine runs
