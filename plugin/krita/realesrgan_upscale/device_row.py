"""The upscale dialog's device row: backend and device together as the engine reported them (``device_offers``:
"Automatic", "CPU — OpenVINO", "Intel GPU — OpenVINO" where there is one...), and a "Fast" checkbox, greyed
with the reason where the engine would refuse fast mode."""
from __future__ import annotations

from PyQt5.QtWidgets import QCheckBox, QComboBox, QFormLayout

from .i18n import current_language, tr
from .krita_realesrgan.common import device_offers
from .form_rows import text_row, widget_row


class DeviceRow:
    """Adds its two rows to ``form``; ``report``: what the engine's worker last reported."""

    def __init__(self, form: QFormLayout, report: device_offers.DeviceReport):
        self.report, self.language = report, current_language()
        self.combo = QComboBox()
        for offer in report.offers:
            self.combo.addItem(device_offers.label(offer.key, self.language), offer.key)
        self.fast = QCheckBox(device_offers.fast_label(self.language))
        form.addRow(tr("Device:"), widget_row(self.combo, self.fast, stretch=self.combo))
        self.hint = text_row(form)

    def connect(self, slot) -> None:
        self.combo.currentIndexChanged.connect(slot)
        self.fast.toggled.connect(slot)

    def show(self, key: str, fast: bool) -> None:
        """Select ``key`` (automatic when this computer does not offer it) and the fast checkbox."""
        self.combo.setCurrentIndex(max(0, self.combo.findData(key)))
        self.fast.setChecked(fast)

    def update(self) -> None:
        """Grey "Fast", with the reason as its tooltip and below the row, where the chosen device refuses it."""
        refused = self.report.fast_refused(self.key, self.language)
        self.fast.setEnabled(not refused)
        self.fast.setToolTip(refused or device_offers.fast_help(self.language))
        self.hint.setText(refused)
        self.hint.setVisible(bool(refused))

    @property
    def key(self) -> str:
        return self.combo.currentData() or device_offers.AUTO

    @property
    def fast_chosen(self) -> bool:
        return self.fast.isChecked() and self.fast.isEnabled()
