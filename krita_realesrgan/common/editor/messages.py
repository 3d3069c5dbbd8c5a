"""What the user is told after a run, in their language (see ``translate``). Pure Python."""
from __future__ import annotations

from typing import Iterable

from ..translate import translate


def notes_text(notes: Iterable[str], language: str) -> str:
    """What the engine said about a finished run (its English sentences, e.g. a model that did not convert to
    OpenVINO ran with PyTorch), one "Note: …" a line; "" when it said nothing."""
    return "\n".join(translate("Note: {note}", language).format(note=note) for note in notes)
