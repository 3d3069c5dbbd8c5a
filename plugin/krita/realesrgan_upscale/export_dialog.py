"""The "Export cover" dialog: preset (the one matching the image's size), file-size limit, format."""
from __future__ import annotations

from typing import Optional

from PyQt5.QtWidgets import QComboBox, QDialog, QDoubleSpinBox, QFormLayout, QWidget

from .cover_action import preset_label
from .dialog import MODE_EXPORT, TITLES, ok_cancel_layout
from .export_action import FORMAT_LABELS
from .export_settings import KB, MB, NO_PRESET, ExportChoices, ExportMemory, default_format, limit_bytes, limit_shown
from .i18n import current_language, tr
from .krita_realesrgan.common import cover_presets
from .krita_realesrgan.common.geometry import Extent
from .form_rows import text_row, widget_row

MAX_LIMIT = 999999.0   # in the spin box's unit


class ExportDialog(QDialog):
    def __init__(self, memory: ExportMemory, size: Extent, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.size = size
        self.setWindowTitle(tr(TITLES[MODE_EXPORT]))
        self.targets = {target.id: target for target in cover_presets.presets()}
        form = QFormLayout()

        self.preset = QComboBox()
        language = current_language()
        for target in self.targets.values():
            self.preset.addItem(preset_label(target, language), target.id)
        self.preset.addItem(tr("No preset (custom)"), NO_PRESET)
        form.addRow(tr("Preset:"), self.preset)

        self.limit = QDoubleSpinBox()
        self.limit.setRange(0.0, MAX_LIMIT)
        self.limit.setDecimals(2)
        self.limit.setSpecialValueText(tr("No limit"))
        self.limit.setToolTip(tr("The largest file the platform takes; 0 means no limit."))
        self.unit = QComboBox()
        for unit in (KB, MB):
            self.unit.addItem(unit, unit)
        form.addRow(tr("File size limit:"), widget_row(self.limit, self.unit, stretch=self.limit))

        self.format = QComboBox()
        for fmt in cover_presets.EXPORT_FORMATS:
            self.format.addItem(FORMAT_LABELS[fmt], fmt)
        form.addRow(tr("Format:"), self.format)

        self.summary = text_row(form)
        self.buttons = ok_cancel_layout(self, form)

        target = cover_presets.preset_of_size(size)
        self._select(self.preset, target.id if target else NO_PRESET)
        self._preset_changed(memory.format)
        self.preset.currentIndexChanged.connect(lambda *_: self._preset_changed(self.format.currentData()))

    @staticmethod
    def _select(combo: QComboBox, value) -> None:
        combo.setCurrentIndex(max(0, combo.findData(value)))

    def target(self) -> Optional[cover_presets.CoverTarget]:
        return self.targets.get(self.preset.currentData())

    def _preset_changed(self, wanted_format: str) -> None:
        """The preset's limit and (unless it takes the format chosen) its first format."""
        target = self.target()
        value, unit = limit_shown(target.max_bytes if target else None)
        self._select(self.unit, unit)
        self.limit.setValue(value)
        self._select(self.format, default_format(target, wanted_format))
        if target is None or target.size == self.size:
            self.summary.setText("")
        else:
            self.summary.setText(tr("This image is {w} × {h} px; the preset asks for {pw} × {ph} px.").format(
                w=self.size.width, h=self.size.height, pw=target.size.width, ph=target.size.height))

    def choices(self, path: str = "") -> ExportChoices:
        return ExportChoices(path=path, format=self.format.currentData(),
                             max_bytes=limit_bytes(self.limit.value(), self.unit.currentData()),
                             preset=self.preset.currentData())
