"""Test-only Krita plugin: once the main window is up, opens an image, triggers the Real-ESRGAN plugin's action
through Krita's own action (as the menu does), screenshots and accepts its dialog, lets Krita settle, reports
the documents and floating messages, screenshots the window and the screen, saves the source document, quits.

Reads ``KRITA_MENU_SPEC`` (JSON: image, out, action, language); writes ``out/menu.json`` and ``out/*.png``.
"""
import json
import os
import time
import traceback
from pathlib import Path

from krita import Extension, Krita
from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QApplication, QDialog, QDialogButtonBox

SPEC = json.loads(Path(os.environ["KRITA_MENU_SPEC"]).read_text()) if os.environ.get("KRITA_MENU_SPEC") else None


PLUGIN_DIALOGS = ("UpscaleDialog", "CoverDialog")
SETTLE_MS = 2500  # after the action, for Krita to show what it shows (new view, floating message)


def floating_messages():
    """Geometry of Krita's floating canvas messages (``View.showFloatingMessage``) now on screen."""
    return [list(w.geometry().getRect()) for w in QApplication.allWidgets()
            if w.metaObject().className() == "KisFloatingMessage" and w.isVisible()]


def menu_entries(window):
    """Texts of the entries under Tools ▸ Scripts."""
    found = []
    for top in window.qwindow().menuBar().actions():
        if top.menu() is None:
            continue
        for action in top.menu().actions():
            if action.menu() is not None and "script" in action.text().lower().replace("&", ""):
                found += [a.text() for a in action.menu().actions()]
    return found


class Driver(Extension):
    def __init__(self, parent):
        super().__init__(parent)
        self.report = {"started_at": time.time()}

    def setup(self):
        pass

    def createActions(self, window):
        if SPEC is not None:
            QTimer.singleShot(500, self.when_window_is_up)

    def when_window_is_up(self):
        window = Krita.instance().activeWindow()
        if window is None or not window.qwindow().isVisible():
            QTimer.singleShot(250, self.when_window_is_up)
            return
        self.run(window)

    def write(self):
        out = Path(SPEC["out"])
        (out / "menu.json").write_text(json.dumps(self.report, indent=1))

    def accept_dialog(self, state):
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QDialog) and widget.isVisible() and type(widget).__name__ in PLUGIN_DIALOGS:
                if "dialog" in state:
                    return
                state["dialog"] = widget.windowTitle()
                QApplication.processEvents()
                widget.grab().save(str(Path(SPEC["out"]) / "dialog.png"))
                self.report["dialog_title"] = widget.windowTitle()
                self.report["dialog_model"] = widget.model.currentText()
                widget.buttons.button(QDialogButtonBox.Ok).click()

    def run(self, window):
        krita = Krita.instance()
        try:
            self.report["window_at"] = time.time()
            self.report["menu"] = menu_entries(window)
            doc = krita.openDocument(SPEC["image"])
            window.addView(doc)
            doc.setActiveNode(doc.rootNode().childNodes()[0])
            QApplication.processEvents()
            state = {}
            timer = QTimer()
            timer.setInterval(100)
            timer.timeout.connect(lambda: self.accept_dialog(state))
            timer.start()
            started = time.time()
            krita.action(SPEC["action"]).trigger()
            timer.stop()
            self.report["action_seconds"] = time.time() - started
            self.report["layers"] = [n.name() for n in doc.rootNode().childNodes()]
            active = krita.activeDocument()
            self.report["documents"] = len(krita.documents())
            self.report["active_document"] = {"name": active.name(), "size": [active.width(), active.height()],
                                              "layers": [n.name() for n in active.rootNode().childNodes()]}
        except Exception:
            self.report["error"] = traceback.format_exc()
            self.finish(window, None)
            return
        # back to Krita's own event loop: views become current, floating messages appear
        QTimer.singleShot(SETTLE_MS, lambda: self.finish(window, doc))

    def finish(self, window, doc):
        try:
            if doc is not None:
                self.report["floating_messages"] = floating_messages()
                window.qwindow().grab().save(str(Path(SPEC["out"]) / "window.png"))
                # the whole screen: floating messages are windows of their own
                QApplication.primaryScreen().grabWindow(0).save(str(Path(SPEC["out"]) / "screen.png"))
                doc.setBatchmode(True)
                self.report["saved"] = doc.saveAs(str(Path(SPEC["out"]) / "result.kra"))
        except Exception:
            self.report["error"] = traceback.format_exc()
        self.write()
        os._exit(0)  # no "save changes?" prompt, no leftover process


Krita.instance().addExtension(Driver(Krita.instance()))
