"""Run with a Python that has PyQt5 (Krita's own: the system python3), QT_QPA_PLATFORM=offscreen, the installed
plugin's pykrita folder as argv[1] and a PNG path as argv[2]: builds the real CoverDialog in the language that
KRITA_REALESRGAN_LANG names, screenshots it and prints its state as JSON."""
import json
import sys

from PyQt5.QtWidgets import QApplication, QDialogButtonBox

sys.path.insert(0, sys.argv[1])
from realesrgan_upscale.cover_dialog import CoverDialog  # noqa: E402
from realesrgan_upscale.cover_settings import CoverChoices  # noqa: E402
from realesrgan_upscale.krita_realesrgan.common.geometry import Extent  # noqa: E402
from realesrgan_upscale.model_list import ModelEntry  # noqa: E402

app = QApplication([])
entries = [ModelEntry("realesr-animevideov3", "realesr-animevideov3", True, "small"),
           ModelEntry("RealESRGAN_x4plus", "RealESRGAN_x4plus", False, "Not installed. Get it with: ...")]


def state(dialog):
    return {"title": dialog.windowTitle(),
            "presets": [dialog.preset.itemText(i) for i in range(dialog.preset.count())],
            "preset": dialog.preset.currentData(), "custom_enabled": dialog.size_box.isEnabled(),
            "size": [dialog.custom_width.value(), dialog.custom_height.value()],
            "fit": dialog.fit.currentText(), "background_enabled": dialog.background_box.isEnabled(),
            "colour_shown": not dialog.colour_button.isHidden(), "colour": dialog.colour_button.text(),
            "model": dialog.model.currentData(),
            "models": [dialog.model.itemText(i) for i in range(dialog.model.count())],
            "missing_enabled": dialog.model.model().item(2).isEnabled(), "summary": dialog.summary.text(),
            "ok": dialog.buttons.button(QDialogButtonBox.Ok).isEnabled(), "choices": repr(dialog.choices())}


report = {}
remembered = CoverChoices(preset="custom", width=800, height=600, fit="pad", background="solid",
                          colour="#3366CC", model="RealESRGAN_x4plus", use_merged=True)
dialog = CoverDialog(remembered, entries, Extent(566, 350))
dialog.show()
app.processEvents()
dialog.grab().save(sys.argv[2])
report["remembered"] = state(dialog)
dialog.preset.setCurrentIndex(0)
dialog.fit.setCurrentIndex(0)
report["preset_crop"] = state(dialog)
dialog.fit.setCurrentIndex(1)
dialog.background.setCurrentIndex(0)
report["pad_blur"] = state(dialog)
print(json.dumps(report, ensure_ascii=False))
