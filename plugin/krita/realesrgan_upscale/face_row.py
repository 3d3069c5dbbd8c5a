"""The dialogs' "Restore faces" row: checkbox, strength slider, and the reason it is greyed (face_choice)."""
from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QCheckBox, QFormLayout, QLabel, QSlider

from . import face_choice
from .i18n import tr
from .form_rows import text_row, widget_row


class FacesRow:
    """Adds its two rows to ``form``; ``installed``: whether a face model is in the weights folder."""

    def __init__(self, form: QFormLayout, installed: bool):
        self.installed = installed
        self.check = QCheckBox(tr("Restore faces"))
        self.check.setToolTip(tr("GFPGAN restores each face of a photo while the rest is upscaled."))
        self.strength = QSlider(Qt.Horizontal)
        self.strength.setRange(0, 100)
        self.strength.setToolTip(tr("How much of the restored face replaces the plain upscale."))
        self.value = QLabel()
        self.box = widget_row(self.check, self.strength, self.value)
        form.addRow(tr("Faces:"), self.box)
        self.hint = text_row(form)

    def connect(self, slot) -> None:
        self.check.toggled.connect(slot)
        self.strength.valueChanged.connect(slot)

    def show(self, faces: bool, strength: float) -> None:
        self.check.setChecked(faces)
        self.strength.setValue(int(round(strength * 100)))

    def update(self, model: str) -> None:
        """Grey the row, with the reason, when ``model`` cannot have its faces restored."""
        why_not = face_choice.unavailable(model, self.installed)
        self.box.setEnabled(why_not is None)
        self.strength.setEnabled(self.check.isChecked())
        self.value.setText(f"{self.strength.value() / 100:.2f}")
        self.hint.setText(why_not or "")
        self.hint.setVisible(why_not is not None)

    @property
    def faces(self) -> bool:
        return self.check.isChecked() and self.box.isEnabled()

    @property
    def face_strength(self) -> float:
        return self.strength.value() / 100.0
