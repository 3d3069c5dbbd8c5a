"""Run with a Python that has PyQt5 (Krita's own: the system python3), QT_QPA_PLATFORM=offscreen, the installed
plugin's pykrita folder as argv[1] and a token file as argv[2]: the upscale dialog's engine rows as JSON."""
import json
import sys

from PyQt5.QtWidgets import QApplication, QDialogButtonBox

sys.path.insert(0, sys.argv[1])
from realesrgan_upscale.dialog import MODE_IMAGE, UpscaleDialog  # noqa: E402
from realesrgan_upscale.krita_realesrgan.common.engine_setting import EngineSetting  # noqa: E402
from realesrgan_upscale.krita_realesrgan.common.geometry import Extent  # noqa: E402
from realesrgan_upscale.model_list import ModelEntry  # noqa: E402
from realesrgan_upscale.settings import Choices  # noqa: E402

app = QApplication([])
entries = [ModelEntry("realesr-animevideov3", "realesr-animevideov3", True, "small")]
token_file = sys.argv[2]


def state(dialog):
    row = dialog.engine
    return {"labels": [row.combo.itemText(i) for i in range(row.combo.count())], "place": row.setting.place,
            "address_shown": not row.address.isHidden(), "token_shown": not row.token_box.isHidden(),
            "hint": row.hint.text(), "hint_shown": not row.hint.isHidden(), "label": row.address_label.text(),
            "ok": dialog.buttons.button(QDialogButtonBox.Ok).isEnabled(), "setting": list(row.setting.__dict__.values())}


report = {}
local = UpscaleDialog(MODE_IMAGE, Choices(), entries, Extent(8, 8))
report["this"] = state(local)
remote = UpscaleDialog(MODE_IMAGE, Choices(), entries, Extent(8, 8),
                       engine=EngineSetting("other", "gpu-box", ""))      # as a hand-edited config might hold
report["bad_address"] = state(remote)
remote.engine.address.setText("gpu-box:7860")
report["no_token"] = state(remote)
remote.engine.token_file.setText(token_file + ".missing")
report["unreadable_token"] = state(remote)
remote.engine.token_file.setText(token_file)
report["ready"] = state(remote)
remote.engine.combo.setCurrentIndex(0)
report["back_to_this"] = state(remote)
print(json.dumps(report, ensure_ascii=False))
