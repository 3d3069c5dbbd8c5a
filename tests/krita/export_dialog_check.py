"""Run with a Python that has PyQt5 (Krita's own: the system python3), QT_QPA_PLATFORM=offscreen and the installed
plugin's pykrita folder as argv[1]: builds the real ExportDialog for a few image sizes and remembered formats in
the language that KRITA_REALESRGAN_LANG names, changes its controls as a user would and prints its state as JSON."""
import json
import sys

from PyQt5.QtWidgets import QApplication

sys.path.insert(0, sys.argv[1])
from realesrgan_upscale.export_dialog import ExportDialog  # noqa: E402
from realesrgan_upscale.export_settings import ExportMemory  # noqa: E402
from realesrgan_upscale.krita_realesrgan.common.geometry import Extent  # noqa: E402

app = QApplication([])


def state(dialog):
    choices = dialog.choices("/tmp/x")
    return {"title": dialog.windowTitle(), "preset": dialog.preset.currentData(),
            "preset_text": dialog.preset.currentText(), "limit": dialog.limit.value(), "limit_text": dialog.limit.text(),
            "unit": dialog.unit.currentData(), "format": dialog.format.currentData(), "summary": dialog.summary.text(),
            "choices": [choices.preset, choices.format, choices.max_bytes]}


report = {}
dialog = ExportDialog(ExportMemory("/somewhere", "webp"), Extent(1280, 720))
report["video"] = state(dialog)
dialog.preset.setCurrentIndex(dialog.preset.findData("article-2.35x1"))   # takes jpg/png: webp -> jpg
report["article"] = state(dialog)
dialog.unit.setCurrentIndex(dialog.unit.findData("KB"))
dialog.limit.setValue(350)
report["edited"] = state(dialog)
dialog.limit.setValue(0)
report["no_limit"] = state(dialog)
report["odd_size"] = state(ExportDialog(ExportMemory("", "png"), Extent(1000, 700)))
print(json.dumps(report, ensure_ascii=False))
