"""Run with a Python that has PyQt5 (Krita's own: the system python3), QT_QPA_PLATFORM=offscreen, and the
installed plugin's pykrita folder as argv[1]: the real EngineSession with a fake engine client; prints, as JSON,
the device lists it offers (from the engine's cache before the worker runs, from the worker's ready event after)
and the notes of a finished upscale."""
import json
import os
import sys
from pathlib import Path

from PyQt5.QtWidgets import QApplication

sys.path.insert(0, sys.argv[1])
from realesrgan_upscale.engine_session import EngineSession  # noqa: E402
from realesrgan_upscale.krita_realesrgan.common import device_offers  # noqa: E402
from realesrgan_upscale.krita_realesrgan.common.formats import PixelFormat, UpscaleOptions  # noqa: E402
from realesrgan_upscale.krita_realesrgan.common.geometry import Extent  # noqa: E402
from realesrgan_upscale.krita_realesrgan.common.run_estimate import SpeedRecord  # noqa: E402

NOTE = "mine.pth does not convert to OpenVINO (unsupported op); it runs with PyTorch on the CPU instead."


class FakeJob:
    done, progress = True, (1, 1)

    def __init__(self, notes):
        self.info = {"event": "result", "notes": notes}

    def poll(self, timeout=0.0):
        return []

    def cancel(self):
        pass

    def result(self, timeout=None):
        return b"\0\0\0", Extent(1, 1)


class FakeClient:
    running = False

    def start(self):
        self.running = True
        return {"event": "ready", "offers": [{"key": "auto", "fast_refused": ""}, {"key": "cpu-torch"},
                                             {"key": "mps"}], "cpu": "Apple M9"}

    def submit(self, pixels, fmt, extent, options):
        return FakeJob([NOTE] if options.model.endswith(".pth") else [])

    def close(self):
        self.running = False


app = QApplication([])
cache = Path(os.environ["KRITA_REALESRGAN_CACHE"])
report = {"before": [o.key for o in EngineSession().devices().offers]}
device_offers.save(device_offers.DeviceReport((device_offers.Offer("auto"), device_offers.Offer("gpu-openvino"))),
                   cache)
session = EngineSession(make_client=FakeClient, ask=lambda text: True, speeds=SpeedRecord(cache / "speeds.json"))
report["stored"] = [o.key for o in session.devices().offers]
session.upscale(b"\0\0\0", PixelFormat("uint8", 3), Extent(1, 1), UpscaleOptions(model="mine.pth", scale=2), "Up")
report["notes"] = list(session.notes)
report["running"] = [o.key for o in session.devices().offers]
session.upscale(b"\0\0\0", PixelFormat("uint8", 3), Extent(1, 1), UpscaleOptions(scale=2), "Up")
report["notes_after_a_quiet_run"] = list(session.notes)
print(json.dumps(report))
