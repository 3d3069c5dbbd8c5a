"""The Krita Extension: three actions (Tools ▸ Scripts; shortcuts assignable in Krita's settings)."""
from __future__ import annotations

from typing import Callable, Optional

from krita import Extension, Krita
from PyQt5.QtWidgets import QMessageBox

from . import actions, model_list, reporting, settings
from .dialog import MODE_ENHANCE, MODE_IMAGE, MODE_NEW_DOCUMENT, TITLES, UpscaleDialog
from .engine_session import EngineSession
from .i18n import tr
from .krita_realesrgan import paths
from .krita_realesrgan.errors import Cancelled, EngineError
from .krita_realesrgan.geometry import Extent
from .pixels_krita import UnsupportedColourModel

MENU = "tools/scripts"
ACTION_IDS = {MODE_IMAGE: "realesrgan_upscale_image", MODE_ENHANCE: "realesrgan_enhance_layer",
              MODE_NEW_DOCUMENT: "realesrgan_selection_to_document"}


class RealEsrganExtension(Extension):
    def __init__(self, parent):
        super().__init__(parent)
        self.session = EngineSession()

    def setup(self):
        # the worker ends with Krita (it would also notice its stdin closing)
        Krita.instance().notifier().applicationClosing.connect(self.session.close)

    def createActions(self, window):
        for mode, action_id in ACTION_IDS.items():
            action = window.createAction(action_id, tr(TITLES[mode]) + "…", MENU)
            action.triggered.connect(lambda _checked=False, m=mode: self.trigger(m))

    # ---- one action, start to end ----

    def trigger(self, mode: str) -> None:
        krita = Krita.instance()
        window = krita.activeWindow()
        self.session.parent = window.qwindow() if window else None
        doc = krita.activeDocument()
        if doc is None:
            self._inform(tr("Open an image first."))
            return
        node = doc.activeNode()
        if node is None:
            self._inform(tr("Select a layer first."))
            return
        choices = self.ask(mode, doc, node)
        if choices is None:
            return
        self.run(mode, doc, node, choices)

    def ask(self, mode: str, doc, node) -> Optional[settings.Choices]:
        krita = Krita.instance()
        remembered = settings.load(krita.readSetting)
        entries = model_list.model_entries(paths.read_config().weights, self.session.models())
        source = Extent(doc.width(), doc.height())
        selection = actions.selection_bounds(doc)
        if mode == MODE_NEW_DOCUMENT and selection is not None:
            source = selection.extent
        dialog = UpscaleDialog(mode, remembered, entries, source, self.session.parent)
        if not dialog.exec_():
            return None
        choices = dialog.choices()
        settings.save(choices, krita.writeSetting)
        return choices

    def run(self, mode: str, doc, node, choices: settings.Choices) -> None:
        try:
            self._perform(mode, doc, node, choices)
        except UnsupportedColourModel as error:
            if error.convertible and self._confirm(error.message + "\n\n" + tr(
                    "Work on a converted RGBA copy of the image instead? The original stays unchanged.")):
                self._run_on_copy(mode, doc, node, choices)
            elif not error.convertible:
                self._report(error, choices)
        except Cancelled:
            pass
        except EngineError as error:
            self._report(error, choices)
        except Exception as error:  # a bug: still a message box and the traceback in the log, never a crash
            self._report(error, choices)

    def _perform(self, mode: str, doc, node, choices: settings.Choices) -> None:
        if mode == MODE_IMAGE:
            actions.upscale_image(doc, node, choices, self.session)
        elif mode == MODE_ENHANCE:
            actions.enhance_layer(doc, node, choices, self.session)
        else:
            new_doc = actions.selection_to_document(Krita.instance(), doc, node, choices, self.session)
            self._show(new_doc)

    def _run_on_copy(self, mode: str, doc, node, choices: settings.Choices) -> None:
        copy, copied_node = actions.converted_copy(doc, node)
        self._show(copy)
        self.run(mode, copy, copied_node, choices)

    # ---- small UI helpers ----

    def _show(self, doc) -> None:
        window = Krita.instance().activeWindow()
        if window is not None:
            window.addView(doc)

    def _inform(self, text: str) -> None:
        QMessageBox.information(self.session.parent, tr("Real-ESRGAN"), text)

    def _confirm(self, text: str) -> bool:
        answer = QMessageBox.question(self.session.parent, tr("Real-ESRGAN"), text,
                                      QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
        return answer == QMessageBox.Yes

    def _report(self, error: BaseException, choices: settings.Choices) -> None:
        log = reporting.write_log(error, "action")
        QMessageBox.warning(self.session.parent, tr("Real-ESRGAN"),
                            reporting.user_text(error, log, choices.model))
