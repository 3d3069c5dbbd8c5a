"""The engine worker: its parts in-process (throttle, cancel board, error events, op registry) and the real
``python -m krita_realesrgan.serving.worker`` spoken to with raw protocol lines."""
from __future__ import annotations

import os
import sys
import threading
import time

import numpy as np
import pytest

from krita_realesrgan.common import protocol, rawimage
from krita_realesrgan.serving import worker
from krita_realesrgan.common.errors import Cancelled, EngineError, Kind
from krita_realesrgan.common.formats import PixelFormat
from krita_realesrgan.common.geometry import Extent
from helpers import FakeUpscaler
from worker_pipe import RawWorker, RecordingEvents, payload


# --- in-process parts -------------------------------------------------------------------------------------------

class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_progress_throttle_limits_rate_and_always_sends_the_last():
    sent, clock = [], FakeClock()
    throttle = worker.ProgressThrottle(lambda d, t: sent.append((d, t)), interval=0.1, clock=clock)
    for done in range(1, 101):          # 100 ticks in 0.25 s
        clock.now = done * 0.0025
        throttle(done, 100)
    assert sent[0] == (1, 100) and sent[-1] == (100, 100)
    assert len(sent) <= 5
    sent.clear()
    throttle(3, 200)
    throttle(4, 200)                    # held back (same instant)
    throttle.flush()
    assert sent == [(4, 200)]


def test_cancel_board_only_cancels_known_jobs():
    board = worker.CancelBoard()
    flag = board.register(7)
    assert board.cancel(8) is False
    assert board.cancel(7) is True and flag.is_set()
    board.finish(7)
    assert board.cancel(7) is False


def test_error_events_are_structured():
    bad = worker.error_event(3, EngineError(Kind.BAD_INPUT, "Broken.", "why"))
    assert bad == {"id": 3, "event": "error", "error": {"kind": "bad_input", "message": "Broken.", "detail": "why"}}
    assert worker.error_event(4, Cancelled())["event"] == "cancelled"
    try:
        raise ValueError("a bug")
    except ValueError as error:
        internal = worker.error_event(5, error)["error"]
    assert internal["kind"] == Kind.INTERNAL and "ValueError: a bug" in internal["message"]
    assert "Traceback" in internal["detail"] and "test_error_events_are_structured" in internal["detail"]
    assert worker.error_event(6, MemoryError())["error"]["kind"] == Kind.OUT_OF_MEMORY


def test_read_payload_round_trips_uint16_rgba(tmp_path):
    image = np.arange(5 * 7 * 4, dtype=np.uint16).reshape(5, 7, 4) * 300
    path = payload(tmp_path, "in.raw", image, PixelFormat("uint16", 4))
    back, fmt = worker.read_payload(path)
    assert fmt == PixelFormat("uint16", 4) and back.dtype == np.uint16
    np.testing.assert_array_equal(back, image)


def test_upscale_job_writes_the_output_payload_and_reports_progress(tmp_path):
    image = np.arange(4 * 6, dtype=np.uint8).reshape(4, 6)
    source = payload(tmp_path, "in.raw", image, PixelFormat("uint8", 1))
    events = RecordingEvents()
    serving = worker.Worker(FakeUpscaler(), events)
    reply = serving.run_job({"id": 1, "op": "upscale", "input": str(source), "output": str(tmp_path / "out.raw"),
                             "options": {"tile": 0}})
    assert reply["event"] == "result" and (reply["width"], reply["height"]) == (12, 8)
    fmt, extent, data = rawimage.read(tmp_path / "out.raw")
    assert fmt == PixelFormat("uint8", 1) and extent == Extent(12, 8)
    assert np.frombuffer(data, np.uint8).reshape(8, 12)[::2, ::2].tolist() == image.tolist()
    progress = [e for e in events.sent if e["event"] == "progress"]
    assert progress[0]["done"] == 1 and progress[-1]["done"] == progress[-1]["total"] == 3


def test_unknown_op_bad_options_and_missing_fields_are_errors(tmp_path):
    serving = worker.Worker(FakeUpscaler(), RecordingEvents())
    assert serving.run_job({"id": 1, "op": "paint"})["error"]["kind"] == Kind.BAD_INPUT
    source = payload(tmp_path, "in.raw", np.zeros((2, 2), np.uint8), PixelFormat("uint8", 1))
    reply = serving.run_job({"id": 2, "op": "upscale", "input": str(source), "output": str(tmp_path / "o"),
                             "options": {"colour": "blue"}})
    assert reply["error"]["kind"] == Kind.BAD_INPUT and "colour" in reply["error"]["message"]
    reply = serving.run_job({"id": 3, "op": "upscale", "input": str(source), "options": {}})
    assert reply["error"]["kind"] == Kind.BAD_INPUT and "output" in reply["error"]["message"]


def test_every_protocol_op_has_a_handler_or_is_cancel():
    assert set(worker.HANDLERS) | {"cancel"} == set(protocol.OPS)


def test_a_new_op_is_one_registry_entry():
    handlers = dict(worker.HANDLERS, cover=lambda job: job.reply("result", made="cover", of=job.request["what"]))
    serving = worker.Worker(FakeUpscaler(), RecordingEvents(), handlers)
    assert serving.run_job({"id": 9, "op": "cover", "what": "x"}) == {"id": 9, "event": "result", "made": "cover",
                                                                       "of": "x"}


def test_cancel_reaches_a_running_job_and_a_queued_one(tmp_path):
    source = payload(tmp_path, "in.raw", np.zeros((2, 2), np.uint8), PixelFormat("uint8", 1))
    upscaler = FakeUpscaler()
    upscaler.release.clear()
    events = RecordingEvents()
    serving = worker.Worker(upscaler, events, payload_folder=tmp_path)
    read_fd, write_fd = os.pipe()
    reader = threading.Thread(target=serving.read_requests, args=(read_fd,), daemon=True)
    reader.start()
    server = threading.Thread(target=serving.serve, daemon=True)
    server.start()

    def send(message):
        os.write(write_fd, protocol.encode(message))

    job = {"op": "upscale", "input": str(source), "options": {}}
    send(dict(job, id=1, output=str(tmp_path / "1.raw")))
    send(dict(job, id=2, output=str(tmp_path / "2.raw")))
    assert upscaler.started.wait(5)
    send({"id": 3, "op": "cancel", "job": 1})
    send({"id": 4, "op": "cancel", "job": 2})
    time.sleep(0.1)
    upscaler.release.set()
    send({"id": 5, "op": "shutdown"})
    server.join(5)
    os.close(write_fd)
    finals = [(e["id"], e["event"]) for e in events.sent if e["event"] != "progress"]
    assert finals == [(1, "cancelled"), (2, "cancelled"), (5, "bye")]
    assert not (tmp_path / "1.raw").exists()


# --- the real worker process --------------------------------------------------------------------------------------

@pytest.mark.slow
def test_real_worker_protocol_session(tmp_path, shared_weights, images):
    import cv2
    raw = RawWorker(tmp_path, shared_weights)
    try:
        raw.send({"id": 1, "op": "hello"})
        ready = raw.until_final(1)[-1]
        assert ready["event"] == "ready" and ready["pid"] == raw.popen.pid and "cpu" in ready["devices"]
        assert ready["protocol"] == protocol.PROTOCOL_VERSION

        raw.send({"id": 2, "op": "models"})
        models = {m["name"]: m for m in raw.until_final(2)[-1]["models"]}
        assert models["realesr-animevideov3"]["available"] is True

        picture = cv2.cvtColor(cv2.imread(str(images / "0014.jpg")), cv2.COLOR_BGR2RGB)[40:104, 50:146]
        good = payload(tmp_path, "good.raw", np.ascontiguousarray(picture), PixelFormat("uint8", 3))
        truncated = tmp_path / "truncated.raw"
        truncated.write_bytes(good.read_bytes()[:-10])
        raw.send({"id": 3, "op": "upscale", "input": str(truncated), "output": str(tmp_path / "t.raw"), "options": {}})
        error = raw.until_final(3)[-1]
        assert error["event"] == "error" and error["error"]["kind"] == Kind.BAD_INPUT
        assert "truncated" in error["error"]["message"] and not (tmp_path / "t.raw").exists()

        raw.send(b"this is not json\n")
        raw.send({"id": 4, "op": "upscale", "input": str(good), "output": str(tmp_path / "out.raw"),
                  "options": {"tile": 32}})
        events = raw.until_final(4)
        assert events[0] == {"id": None, "event": "error", "error": events[0]["error"]}  # the garbage line
        assert events[-1]["event"] == "result" and (events[-1]["width"], events[-1]["height"]) == (384, 256)
        last = [e for e in events if e["event"] == "progress"][-1]
        assert last["done"] == last["total"] > 1 and events[-1]["tile"] == 32
        assert rawimage.read_header(tmp_path / "out.raw")[1] == Extent(384, 256)
    finally:
        assert raw.close() == 0
    assert "job 4 upscale -> result" in raw.log.read_text()


@pytest.mark.slow
def test_a_worker_with_a_stored_conversion_starts_and_upscales_without_torch(tmp_path, shared_weights,
                                                                            engine_cache):
    """The editors' warm start: the second worker finds the OpenVINO conversion the first one stored, reports the
    device list in its ready event (and keeps it for the next dialog), and never imports torch."""
    from krita_realesrgan.common import device_offers
    from krita_realesrgan.backends import choice
    logs = []
    for run in ("first", "second"):
        folder = tmp_path / run
        folder.mkdir(mode=0o700)
        raw = RawWorker(folder, shared_weights)
        try:
            raw.send({"id": 1, "op": "hello"})
            ready = raw.until_final(1)[-1]
            source = payload(folder, "in.raw", np.full((24, 32, 3), 90, np.uint8), PixelFormat("uint8", 3))
            raw.send({"id": 2, "op": "upscale", "input": str(source), "output": str(folder / "out.raw"),
                      "options": {"backend": "openvino"}})
            result = raw.until_final(2)[-1]
            assert result["event"] == "result" and result["backend"] == "openvino", result
        finally:
            assert raw.close() == 0
        logs.append(raw.log.read_text())
    report = device_offers.DeviceReport.from_json(ready)
    assert report is not None and [o.key for o in report.offers][:3] == ["auto", "cpu-openvino", "cpu-torch"]
    assert device_offers.load(engine_cache) == report
    if choice._nvidia_driver() or sys.platform == "darwin":
        pytest.skip("probing for a CUDA or Apple GPU imports torch here")
    assert "hello: torch not imported" in logs[0]        # the first converted: torch only for the job
    assert "hello: torch not imported" in logs[1] and "worker stopped (torch not imported)" in logs[1]


STRAY_SITECUSTOMIZE = '''
import os
import krita_realesrgan.engine as engine
_original = engine.Upscaler.upscale
def noisy(self, *args, **kwargs):
    print("stray print from a library")
    os.write(1, b"stray bytes on file descriptor 1\\n")
    return _original(self, *args, **kwargs)
engine.Upscaler.upscale = noisy
'''


@pytest.mark.slow
def test_stray_output_in_the_worker_does_not_reach_the_protocol_stream(tmp_path, shared_weights):
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(STRAY_SITECUSTOMIZE)
    raw = RawWorker(tmp_path, shared_weights, extra_pythonpath=[hooks])
    try:
        source = payload(tmp_path, "in.raw", np.full((8, 8, 3), 128, np.uint8), PixelFormat("uint8", 3))
        raw.send({"id": 1, "op": "upscale", "input": str(source), "output": str(tmp_path / "o.raw"), "options": {}})
        assert raw.until_final(1)[-1]["event"] == "result"   # until_final parses every stdout line as JSON
    finally:
        assert raw.close() == 0
    assert b"library" not in b"".join(raw.lines) and b"descriptor" not in b"".join(raw.lines)
    assert "stray output: stray print from a library" in raw.log.read_text()
    assert "stray bytes on file descriptor 1" in raw.stderr_path.read_text()
