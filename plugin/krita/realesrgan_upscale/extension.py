"""The Krita Extension: five actions (Tools ▸ Scripts; shortcuts assignable in Krita's settings)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Optional, Union

from krita import Extension, Krita
from PyQt5.QtCore import QTimer
from PyQt5.QtGui import QIcon
from PyQt5.QtWidgets import QFileDialog, QMessageBox

from . import actions, cover_action, cover_settings, export_action, export_settings, model_list, reporting, settings
from .cover_dialog import CoverDialog
from .document import KritaDocument, converted_copy
from .dialog import MODE_COVER, MODE_ENHANCE, MODE_EXPORT, MODE_IMAGE, MODE_NEW_DOCUMENT, TITLES, UpscaleDialog
from .export_dialog import ExportDialog
from .engine_session import EngineSession
from .jobs import ask_yes_no
from .i18n import current_language, tr
from .krita_realesrgan.common import engine_setting, paths
from .krita_realesrgan.common.editor.cover_defaults import AUTO_MODEL
from .krita_realesrgan.common.editor.messages import notes_text
from .krita_realesrgan.common.editor.models import faces_installed
from .krita_realesrgan.common.errors import Cancelled, EngineError
from .pixels_krita import UnsupportedColourModel

MENU = "tools/scripts"
ACTION_IDS = {MODE_IMAGE: "realesrgan_upscale_image", MODE_ENHANCE: "realesrgan_enhance_layer",
              MODE_NEW_DOCUMENT: "realesrgan_selection_to_document", MODE_COVER: "realesrgan_make_cover",
              MODE_EXPORT: "realesrgan_export_cover"}
FLOATING_MESSAGE_MS = 12000
FLOATING_DELAY_MS = 1000
FLOATING_PRIORITY_MEDIUM = 1   # KisFloatingMessage::Medium: shown, but not over Krita's own urgent messages

AnyChoices = Union[settings.Choices, cover_settings.CoverChoices, export_settings.ExportChoices]


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
        if node is None and mode != MODE_EXPORT:   # the export reads the merged image, not a layer
            self._inform(tr("Select a layer first."))
            return
        choices = self.ask(mode, doc, node)
        if choices is None:
            return
        self.run(mode, doc, node, choices)

    def ask(self, mode: str, doc, node) -> Optional[AnyChoices]:
        krita = Krita.instance()
        if mode == MODE_EXPORT:
            return self.ask_export(doc)
        entries = model_list.model_entries(paths.read_config().weights, self.session.models())
        document = KritaDocument(doc)
        source = document.canvas
        if mode == MODE_COVER:
            dialog = CoverDialog(cover_settings.load(krita.readSetting), entries, source, self.session.parent,
                                 faces_installed(paths.read_config().weights))
            store = cover_settings.save
        else:
            selection = document.selection()
            if mode == MODE_NEW_DOCUMENT and selection is not None:
                source = selection.extent
            engine = engine_setting.read()
            dialog = UpscaleDialog(mode, settings.load(krita.readSetting), entries, source, self.session.parent,
                                   faces_installed(paths.read_config().weights), self.session.devices(),
                                   engine)
            store = settings.save
        if not dialog.exec_():
            return None
        choices = dialog.choices()
        store(choices, krita.writeSetting)
        if mode != MODE_COVER and dialog.engine.setting != engine:
            try:
                engine_setting.write(dialog.engine.setting)   # the config file, shared with GIMP
            except (OSError, EngineError) as error:
                self._inform(tr("Could not save the engine setting: {error}").format(
                    error=getattr(error, "message", None) or error))
                return None
            self.session.close()                              # the next run uses the new engine
        return choices

    def ask_export(self, doc) -> Optional[export_settings.ExportChoices]:
        """The export dialog, then the save dialog (starting at the document's folder with a default name)."""
        krita = Krita.instance()
        memory = export_settings.load(krita.readSetting)
        document = KritaDocument(doc)
        dialog = ExportDialog(memory, document.canvas, self.session.parent)
        if not dialog.exec_():
            return None
        choices = dialog.choices()
        start = export_action.default_path(document.file_name, document.title, memory.folder, choices.preset,
                                           choices.format, str(Path.home()))
        path, _ = QFileDialog.getSaveFileName(self.session.parent, tr(TITLES[MODE_EXPORT]), start,
                                              export_action.file_filter(choices.format))
        if not path:
            return None
        path = export_action.with_extension(path, choices.format)
        export_settings.save(export_settings.ExportMemory(str(Path(path).parent), choices.format), krita.writeSetting)
        return replace(choices, path=path)

    def run(self, mode: str, doc, node, choices: AnyChoices) -> None:
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

    def _perform(self, mode: str, doc, node, choices: AnyChoices) -> None:
        if mode == MODE_COVER:
            krita = Krita.instance()
            new_doc, outcome = cover_action.make_cover(krita, doc, node, choices, settings.load(krita.readSetting),
                                                       self.session)
            view = self._show(new_doc)
            self._tell(view, self._with_notes(cover_action.cover_summary(outcome, choices.target_info(),
                                                                         current_language())))
        elif mode == MODE_EXPORT:
            outcome = export_action.export_cover(doc, choices, self.session)
            self._tell(self._current_view(), export_action.export_summary(outcome, choices.max_bytes))
        elif mode == MODE_IMAGE:
            actions.upscale_image(doc, node, choices, self.session)
            self._tell(self._current_view(), self._with_notes())
        elif mode == MODE_ENHANCE:
            actions.enhance_layer(doc, node, choices, self.session)
            self._tell(self._current_view(), self._with_notes())
        else:
            new_doc = actions.selection_to_document(Krita.instance(), doc, node, choices, self.session)
            self._tell(self._show(new_doc), self._with_notes())

    def _run_on_copy(self, mode: str, doc, node, choices: AnyChoices) -> None:
        copy, copied_node = converted_copy(doc, node)
        if mode != MODE_COVER:   # the result goes into the copy: show it
            self._show(copy)
            self.run(mode, copy, copied_node, choices)
            return
        try:                     # the cover is a new document: the copy is only read
            self.run(mode, copy, copied_node, choices)
        finally:
            KritaDocument(copy).discard()

    # ---- small UI helpers ----

    def _show(self, doc):
        """A new view of ``doc`` in the active window (None without a window)."""
        window = Krita.instance().activeWindow()
        return window.addView(doc) if window is not None else None

    def _current_view(self):
        """The view the user is working in (None without a window)."""
        window = Krita.instance().activeWindow()
        return window.activeView() if window is not None else None

    def _tell(self, view, text: str) -> None:
        """An unobtrusive message over the canvas of ``view`` that fades by itself. Krita shows it only on the
        current view, and a new view becomes current once the event loop has run: hence the short delay."""
        if view is not None and text:
            QTimer.singleShot(FLOATING_DELAY_MS, lambda: view.showFloatingMessage(
                text, QIcon(), FLOATING_MESSAGE_MS, FLOATING_PRIORITY_MEDIUM))

    def _with_notes(self, text: str = "") -> str:
        """``text``, the faces restored, and what the engine said about the run (e.g. a model that ran with
        PyTorch instead)."""
        parts = (text, reporting.faces_text(self.session.faces), notes_text(self.session.notes, current_language()))
        return "\n".join(part for part in parts if part)

    def _inform(self, text: str) -> None:
        QMessageBox.information(self.session.parent, tr("Real-ESRGAN"), text)

    def _confirm(self, text: str) -> bool:
        return ask_yes_no(self.session.parent, text)

    def _report(self, error: BaseException, choices: AnyChoices) -> None:
        log = reporting.write_log(error, "action")
        model = getattr(choices, "model", "")    # an export has no model
        model = "" if model == AUTO_MODEL else model
        QMessageBox.warning(self.session.parent, tr("Real-ESRGAN"), reporting.user_text(error, log, model))
