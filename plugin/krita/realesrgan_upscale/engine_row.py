"""The upscale dialog's engine rows: "On this computer" (Krita's worker for the session, or the local engine
service the config file names) or "On another computer" with its address (HOST:PORT of its ``krita-realesrgan
serve --listen``) and the file holding its token. The setting is the config file's (``engine_setting``), shared
with GIMP; a setting that cannot be used is said below the rows and keeps OK greyed."""
from __future__ import annotations

from typing import Optional

from PyQt5.QtWidgets import QComboBox, QFileDialog, QFormLayout, QLabel, QLineEdit, QPushButton, QWidget

from .i18n import tr
from .krita_realesrgan.common import engine_setting
from .krita_realesrgan.common.editor.choice_labels import PLACE_LABELS
from .krita_realesrgan.common.engine_setting import OTHER_COMPUTER, THIS_COMPUTER, EngineSetting
from .form_rows import text_row, widget_row


class EngineRow:
    """Adds its rows to ``form``."""

    def __init__(self, form: QFormLayout, parent: Optional[QWidget] = None):
        self.parent = parent
        self.combo = QComboBox()
        for place in engine_setting.PLACES:
            self.combo.addItem(tr(PLACE_LABELS[place]), place)
        self.address = QLineEdit()
        self.address.setPlaceholderText(tr("HOST:PORT, e.g. 192.168.1.20:7860"))
        self.token_file = QLineEdit()
        self.token_file.setPlaceholderText(tr("The file holding the service's token"))
        self.choose = QPushButton(tr("Choose…"))
        self.choose.clicked.connect(self._choose_token_file)
        self.token_box = widget_row(self.token_file, self.choose, stretch=self.token_file)
        self.address_label, self.token_label = QLabel(tr("Address:")), QLabel(tr("Token file:"))
        form.addRow(tr("Engine:"), self.combo)
        form.addRow(self.address_label, self.address)
        form.addRow(self.token_label, self.token_box)
        self.hint = text_row(form)

    def connect(self, slot) -> None:
        self.combo.currentIndexChanged.connect(slot)
        self.address.textChanged.connect(slot)
        self.token_file.textChanged.connect(slot)

    def show(self, setting: EngineSetting) -> None:
        self.combo.setCurrentIndex(max(0, self.combo.findData(setting.place)))
        self.address.setText(setting.address)
        self.token_file.setText(setting.token_file)

    def update(self) -> str:
        """The address and token rows only for another computer; what is wrong with them below, which it returns
        ("" when nothing). The setting is read, and its token file checked, once per update."""
        setting = self.setting
        for widget in (self.address_label, self.address, self.token_label, self.token_box):
            widget.setVisible(setting.place == OTHER_COMPUTER)
        template = setting.problem()
        problem = tr(template).format(path=setting.token_file) if template else ""
        self.hint.setText(problem)
        self.hint.setVisible(bool(problem))
        return problem

    @property
    def setting(self) -> EngineSetting:
        return EngineSetting(self.combo.currentData() or THIS_COMPUTER, self.address.text().strip(),
                             self.token_file.text().strip())

    def _choose_token_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.parent, tr("Token file:").rstrip(":："), self.token_file.text())
        if path:
            self.token_file.setText(path)
