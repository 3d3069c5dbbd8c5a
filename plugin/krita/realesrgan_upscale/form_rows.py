"""Two kinds of row the dialogs' forms repeat: several widgets side by side ("Width: [ ] Height: [ ]"), and a
word-wrapped line of text below a field (a hint, a summary)."""
from __future__ import annotations

from typing import Optional

from PyQt5.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QWidget


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


def text_row(form: QFormLayout) -> QLabel:
    """An empty word-wrapped label added as the next row of ``form``, under the fields (no label of its own)."""
    label = QLabel()
    label.setWordWrap(True)
    form.addRow("", label)
    return label
