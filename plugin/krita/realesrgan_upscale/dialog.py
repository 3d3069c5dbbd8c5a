"""The options dialog: model, scale (with the resulting pixel size), denoise strength, tile size, device (backend
and device together, with fast mode: device_row), faces, and where the engine runs (engine_row: the config
file's setting, shared with GIMP)."""
from __future__ import annotations

from typing import List, Optional

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel,
                             QSlider, QSpinBox, QVBoxLayout, QWidget)

from .device_row import DeviceRow
from .engine_row import EngineRow
from .face_row import FacesRow
from .i18n import tr
from .krita_realesrgan.common import device_offers
from .krita_realesrgan.common.engine_setting import EngineSetting
from .krita_realesrgan.common.geometry import Extent
from .model_list import ModelEntry
from .settings import MAX_SCALE, MIN_SCALE, Choices, result_extent
from .form_rows import text_row, widget_row

MODE_IMAGE, MODE_ENHANCE, MODE_NEW_DOCUMENT, MODE_COVER, MODE_EXPORT = \
    "image", "enhance", "new_document", "cover", "export"
TITLES = {MODE_IMAGE: "Upscale image with AI", MODE_ENHANCE: "Enhance layer / selection with AI",
          MODE_NEW_DOCUMENT: "Upscale selection to new document", MODE_COVER: "Make cover from image",
          MODE_EXPORT: "Export cover"}


def add_model_items(combo: QComboBox, entries: List[ModelEntry]) -> None:
    """One item per model (data: its ``value``), missing ones greyed with how to install them as tooltip."""
    for entry in entries:
        combo.addItem(entry.label if entry.available else tr("{name} (not installed)").format(name=entry.label),
                      entry.value)
        index = combo.count() - 1
        combo.setItemData(index, entry.description, Qt.ToolTipRole)
        if not entry.available:
            combo.model().item(index).setEnabled(False)


def merged_checkbox() -> QCheckBox:
    return QCheckBox(tr("Use the merged visible image instead of the active layer"))


def ok_cancel_layout(dialog: QDialog, form: QFormLayout) -> QDialogButtonBox:
    """Lay out ``form`` above OK/Cancel buttons wired to accept/reject; returns the buttons."""
    buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addLayout(form)
    layout.addWidget(buttons)
    return buttons


class UpscaleDialog(QDialog):
    def __init__(self, mode: str, choices: Choices, entries: List[ModelEntry], source: Extent,
                 parent: Optional[QWidget] = None, faces_installed: bool = False,
                 devices: Optional[device_offers.DeviceReport] = None, engine: EngineSetting = EngineSetting()):
        super().__init__(parent)
        self.mode, self.entries, self.source = mode, entries, source
        self._remembered_scale = choices.scale  # Enhance shows 1x but must not forget the last scale
        self.setWindowTitle(tr(TITLES[mode]))
        form = QFormLayout()

        self.model = QComboBox()
        add_model_items(self.model, entries)
        form.addRow(tr("Model:"), self.model)
        self.model_hint = text_row(form)

        self.scale = QDoubleSpinBox()
        self.scale.setRange(MIN_SCALE, MAX_SCALE)
        self.scale.setDecimals(2)
        self.scale.setSingleStep(0.5)
        self.scale.setSuffix(" ×")
        self.size_label = QLabel()
        if mode == MODE_ENHANCE:
            self.scale.setValue(1.0)
            self.scale.setEnabled(False)
            self.scale.setToolTip(tr("Enhance keeps the size: the image is upscaled, then resampled back."))
        form.addRow(tr("Scale:"), self.scale)
        form.addRow(tr("Result size:"), self.size_label)

        self.denoise = QSlider(Qt.Horizontal)
        self.denoise.setRange(0, 100)
        self.denoise_value = QLabel()
        self.denoise_box = widget_row(self.denoise, self.denoise_value)
        self.denoise_label = QLabel(tr("Denoise strength:"))
        form.addRow(self.denoise_label, self.denoise_box)

        self.tile = QSpinBox()
        self.tile.setRange(0, 4096)
        self.tile.setSingleStep(64)
        self.tile.setSpecialValueText(tr("Automatic"))
        self.tile.setSuffix(" px")
        self.tile.setToolTip(tr("Smaller tiles need less memory; automatic picks the largest that fits."))
        form.addRow(tr("Tile size:"), self.tile)

        self.device = DeviceRow(form, devices or device_offers.default_report())

        self.faces = FacesRow(form, faces_installed)

        self.engine = EngineRow(form, self)

        self.use_merged = merged_checkbox()
        if mode == MODE_IMAGE:
            form.addRow("", self.use_merged)

        self.buttons = ok_cancel_layout(self, form)

        self._show(choices)
        self.engine.show(engine)
        self.model.currentIndexChanged.connect(self._update)
        self.scale.valueChanged.connect(self._update)
        self.denoise.valueChanged.connect(self._update)
        self.faces.connect(self._update)
        self.device.connect(self._update)
        self.engine.connect(self._update)
        self._update()

    def _show(self, choices: Choices) -> None:
        values = [entry.value for entry in self.entries]
        available = [entry.value for entry in self.entries if entry.available]
        wanted = choices.model if choices.model in available else (available[0] if available else choices.model)
        if wanted in values:
            self.model.setCurrentIndex(values.index(wanted))
        if self.mode != MODE_ENHANCE:
            self.scale.setValue(choices.scale)
        self.denoise.setValue(int(round(choices.denoise * 100)))
        self.tile.setValue(choices.tile)
        self.device.show(choices.device, choices.fast)
        self.use_merged.setChecked(choices.use_merged)
        self.faces.show(choices.faces, choices.face_strength)

    def _entry(self) -> Optional[ModelEntry]:
        index = self.model.currentIndex()
        return self.entries[index] if 0 <= index < len(self.entries) else None

    def _update(self, *_):
        entry = self._entry()
        self.model_hint.setText(entry.description if entry else tr("No models found. Run the installer."))
        denoise = bool(entry and entry.uses_denoise)
        self.denoise_label.setVisible(denoise)
        self.denoise_box.setVisible(denoise)
        self.denoise_value.setText(f"{self.denoise.value() / 100:.2f}")
        size = self.source if self.mode == MODE_ENHANCE else result_extent(self.source, self.scale.value())
        self.size_label.setText(tr("{w} × {h} px (from {sw} × {sh} px)").format(
            w=size.width, h=size.height, sw=self.source.width, sh=self.source.height))
        self.faces.update(entry.value if entry else "")
        self.device.update()
        engine_problem = self.engine.update()
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(bool(entry and entry.available) and not engine_problem)

    def choices(self) -> Choices:
        entry = self._entry()
        return Choices(model=entry.value if entry else "",
                       scale=self._remembered_scale if self.mode == MODE_ENHANCE else self.scale.value(),
                       denoise=self.denoise.value() / 100.0, tile=self.tile.value(),
                       device=self.device.key, fast=self.device.fast_chosen, use_merged=self.use_merged.isChecked(),
                       faces=self.faces.faces, face_strength=self.faces.face_strength).normalised()
