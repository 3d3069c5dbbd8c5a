"""One row of a dialog's form holding several widgets side by side (the "Width: [ ] Height: [ ]" kind)."""
from __future__ import annotations

from typing import Optional

from PyQt5.QtWidgets import QHBoxLayout, QWidget


def widget_row(*widgets: QWidget, stretch: Optional[QWidget] = None) -> QWidget:
    """A widget holding ``widgets`` left to right without margins, so the row lines up with the form's other
    fields; ``stretch`` (one of them) takes the spare width."""
    layout = QHBoxLayout()
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget, 1 if widget is stretch else 0)
    box = QWidget()
    box.setLayout(layout)
    return box
