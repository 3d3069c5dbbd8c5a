"""The "Make cover from image" dialog: preset (or custom size), fit, background, model, source."""
from __future__ import annotations

from typing import List, Optional

from PyQt5.QtGui import QColor
from PyQt5.QtWidgets import QColorDialog, QComboBox, QDialog, QFormLayout, QLabel, QPushButton, QSpinBox, QWidget

from .cover_action import preset_label
from .cover_settings import SOLID, CoverChoices
from .dialog import MODE_COVER, TITLES, add_model_items, merged_checkbox, ok_cancel_layout
from .face_row import FacesRow
from .i18n import current_language, tr
from .krita_realesrgan.common import cover_presets
from .krita_realesrgan.common.editor.cover_defaults import AUTO_MODEL, BLUR, FIT_COVER, FIT_PAD
from .krita_realesrgan.common.geometry import Extent
from .model_list import ModelEntry
from .form_rows import text_row, widget_row

FIT_LABELS = {FIT_COVER: "Crop to fill (the crop follows faces)", FIT_PAD: "Fit with padding (nothing cropped)"}
BACKGROUND_LABELS = {BLUR: "Blurred copy of the picture", SOLID: "Solid colour"}


def _combo(labels: dict) -> QComboBox:
    combo = QComboBox()
    for value, label in labels.items():
        combo.addItem(tr(label), value)
    return combo


def _select(combo: QComboBox, value) -> None:
    combo.setCurrentIndex(max(0, combo.findData(value)))


class CoverDialog(QDialog):
    def __init__(self, choices: CoverChoices, entries: List[ModelEntry], source: Extent,
                 parent: Optional[QWidget] = None, faces_installed: bool = False):
        super().__init__(parent)
        self.entries, self.source = entries, source
        self.setWindowTitle(tr(TITLES[MODE_COVER]))
        form = QFormLayout()

        self.preset = QComboBox()
        language = current_language()
        for target in cover_presets.presets():
            self.preset.addItem(preset_label(target, language), target.id)
        self.preset.addItem(tr("Custom size"), cover_presets.CUSTOM_ID)
        form.addRow(tr("Cover size:"), self.preset)

        self.custom_width, self.custom_height = QSpinBox(), QSpinBox()
        for spin in (self.custom_width, self.custom_height):
            spin.setRange(1, cover_presets.MAX_EDGE)
            spin.setSuffix(" px")
        self.size_box = widget_row(QLabel(tr("Width:")), self.custom_width, QLabel(tr("Height:")), self.custom_height)
        form.addRow("", self.size_box)

        self.fit = _combo(FIT_LABELS)
        form.addRow(tr("Fit:"), self.fit)
        self.background = _combo(BACKGROUND_LABELS)
        self.colour_button = QPushButton()
        self.colour_button.clicked.connect(self._pick_colour)
        self.background_box = widget_row(self.background, self.colour_button)
        form.addRow(tr("Background:"), self.background_box)

        self.model = QComboBox()
        self.model.addItem(tr("Automatic (chosen by the picture's content)"), AUTO_MODEL)
        add_model_items(self.model, entries)
        form.addRow(tr("Model:"), self.model)
        self.faces = FacesRow(form, faces_installed)

        self.use_merged = merged_checkbox()
        form.addRow("", self.use_merged)
        self.summary = text_row(form)

        self.buttons = ok_cancel_layout(self, form)

        self._show(choices)
        for signal in (self.preset.currentIndexChanged, self.fit.currentIndexChanged,
                       self.background.currentIndexChanged, self.custom_width.valueChanged,
                       self.custom_height.valueChanged, self.model.currentIndexChanged):
            signal.connect(self._update)
        self.faces.connect(self._update)
        self._update()

    def _show(self, choices: CoverChoices) -> None:
        _select(self.preset, choices.preset)
        self.custom_width.setValue(choices.width)
        self.custom_height.setValue(choices.height)
        _select(self.fit, choices.fit)
        _select(self.background, choices.background)
        self._colour = choices.colour
        available = {entry.value for entry in self.entries if entry.available}
        _select(self.model, choices.model if choices.model in available else AUTO_MODEL)
        self.use_merged.setChecked(choices.use_merged)
        self.faces.show(choices.faces, choices.face_strength)

    def _pick_colour(self) -> None:
        colour = QColorDialog.getColor(QColor(self._colour), self, tr("Background colour"))
        if colour.isValid():
            self._colour = colour.name()
            self._update()

    def _update(self, *_) -> None:
        choices = self.choices()
        self.size_box.setEnabled(choices.preset == cover_presets.CUSTOM_ID)
        pad = choices.fit == FIT_PAD
        self.background_box.setEnabled(pad)
        self.colour_button.setVisible(pad and choices.background == SOLID)
        self.colour_button.setText(choices.colour)
        self.colour_button.setStyleSheet(f"background-color: {choices.colour}")
        self.faces.update(choices.model)
        size = choices.target_info().size
        self.summary.setText(tr("A new {w} × {h} px document from this {sw} × {sh} px picture; the whole upscaled "
                                "picture stays a layer you can move.").format(
            w=size.width, h=size.height, sw=self.source.width, sh=self.source.height))

    def choices(self) -> CoverChoices:
        return CoverChoices(preset=self.preset.currentData(), width=self.custom_width.value(),
                            height=self.custom_height.value(),
                            fit=self.fit.currentData(), background=self.background.currentData(),
                            colour=self._colour, model=self.model.currentData() or AUTO_MODEL,
                            use_merged=self.use_merged.isChecked(), faces=self.faces.faces,
                            face_strength=self.faces.face_strength).normalised()
