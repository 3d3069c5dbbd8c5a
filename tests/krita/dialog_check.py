"""Run with a Python that has PyQt5 (Krita's own: the system python3), QT_QPA_PLATFORM=offscreen, and the
installed plugin's pykrita folder as argv[1]: builds the real UpscaleDialog and prints its state as JSON."""
import json
import sys

from PyQt5.QtWidgets import QApplication, QDialogButtonBox

sys.path.insert(0, sys.argv[1])
from realesrgan_upscale.dialog import MODE_ENHANCE, MODE_IMAGE, UpscaleDialog  # noqa: E402
from realesrgan_upscale.krita_realesrgan.common.device_offers import DeviceReport, Offer  # noqa: E402
from realesrgan_upscale.krita_realesrgan.common.geometry import Extent  # noqa: E402
from realesrgan_upscale.model_list import ModelEntry  # noqa: E402
from realesrgan_upscale.settings import Choices  # noqa: E402

app = QApplication([])
entries = [ModelEntry("realesr-animevideov3", "realesr-animevideov3", True, "small"),
           ModelEntry("RealESRGAN_x4plus", "RealESRGAN_x4plus", False, "Not installed. Get it with: ..."),
           ModelEntry("realesr-general-x4v3", "realesr-general-x4v3", True, "general")]
report = {}

remembered = Choices(model="RealESRGAN_x4plus", scale=2.5, denoise=0.3, tile=256, device="cpu-openvino", fast=True)
# as a worker reports a CPU with AVX512-BF16 but no AMX and an Intel GPU
devices = DeviceReport((Offer("auto"), Offer("cpu-openvino", "no_amx"), Offer("cpu-torch", "no_amx"),
                        Offer("gpu-openvino"), Offer("cuda")), "Test Xeon")
dialog = UpscaleDialog(MODE_IMAGE, remembered, entries, Extent(566, 350), devices=devices)
ok = dialog.buttons.button(QDialogButtonBox.Ok)
report["start"] = {"model": dialog.model.currentData(), "size": dialog.size_label.text(), "ok": ok.isEnabled(),
                   "denoise_visible": not dialog.denoise_box.isHidden(),
                   "missing_enabled": dialog.model.model().item(1).isEnabled(),
                   "missing_text": dialog.model.itemText(1), "merged_shown": dialog.use_merged.parent() is not None}
dialog.model.setCurrentIndex(2)
dialog.scale.setValue(3)
chosen = dialog.choices()
report["general"] = {"denoise_visible": not dialog.denoise_box.isHidden(), "size": dialog.size_label.text(),
                     "model": chosen.model, "scale": chosen.scale, "denoise": chosen.denoise, "tile": chosen.tile,
                     "device": chosen.device}
dialog.model.setCurrentIndex(1)
report["missing_selected"] = {"ok": ok.isEnabled(), "hint": dialog.model_hint.text()}

row = dialog.device
report["devices"] = {"labels": [row.combo.itemText(i) for i in range(row.combo.count())], "key": row.key,
                     "fast_enabled": row.fast.isEnabled(), "fast_tip": row.fast.toolTip(),
                     "hint": row.hint.text(), "hint_shown": not row.hint.isHidden(),
                     "chosen": [dialog.choices().device, dialog.choices().fast]}
row.combo.setCurrentIndex(row.combo.findData("gpu-openvino"))
report["intel_gpu"] = {"fast_enabled": row.fast.isEnabled(), "hint_shown": not row.hint.isHidden(),
                       "fast_tip": row.fast.toolTip(), "options": [getattr(dialog.choices().options(), name) for name in ("backend", "device", "fast")]}
unknown = UpscaleDialog(MODE_IMAGE, Choices(device="gpu-openvino"), entries, Extent(8, 8))   # no report yet
report["no_report"] = {"labels": [unknown.device.combo.itemText(i) for i in range(unknown.device.combo.count())],
                       "key": unknown.device.key, "fast_enabled": unknown.device.fast.isEnabled()}

enhance = UpscaleDialog(MODE_ENHANCE, remembered, entries, Extent(236, 236))
report["enhance"] = {"scale_enabled": enhance.scale.isEnabled(), "scale_shown": enhance.scale.value(),
                     "size": enhance.size_label.text(), "kept_scale": enhance.choices().scale,
                     "merged_visible": enhance.use_merged.isVisible()}
print(json.dumps(report))
