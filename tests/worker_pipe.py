"""Speaking to the engine worker in tests: a real worker process on pipes (``RawWorker``), an event recorder, and
payload files (test_worker, test_bad_input_worker)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from krita_realesrgan.common import protocol, rawimage
from krita_realesrgan.common.formats import PixelFormat
from krita_realesrgan.common.geometry import Extent
from helpers import engine_env


class RecordingEvents:
    def __init__(self):
        self.sent = []

    def send(self, message):
        self.sent.append(message)


def payload(tmp_path: Path, name: str, image: np.ndarray, fmt: PixelFormat) -> Path:
    path = tmp_path / name
    rawimage.write(path, fmt, Extent(image.shape[1], image.shape[0]), image)
    return path


class RawWorker:
    """``python -m krita_realesrgan.serving.worker`` with pipes, for speaking the protocol line by line."""

    def __init__(self, tmp_path: Path, weights: Path, extra_pythonpath=()):
        """``tmp_path`` is also the payload folder (``--payloads``)."""
        self.log = tmp_path / "worker.log"
        self.stderr_path = tmp_path / "stderr.txt"
        env = engine_env(tmp_path, weights, first_on_path=extra_pythonpath)
        with open(self.stderr_path, "wb") as stderr:
            self.popen = subprocess.Popen([sys.executable, "-m", "krita_realesrgan.serving.worker",
                                           "--payloads", str(tmp_path), "--log", str(self.log)],
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env)
        self.lines = []

    def send(self, message) -> None:
        self.popen.stdin.write(message if isinstance(message, bytes) else protocol.encode(message))
        self.popen.stdin.flush()

    def until_final(self, job_id):
        events = []
        while True:
            line = self.popen.stdout.readline()
            assert line, f"worker ended early; stderr: {self.stderr_path.read_text()}"
            self.lines.append(line)
            message = json.loads(line)  # every line on stdout must be protocol
            events.append(message)
            if message["id"] == job_id and message["event"] in protocol.FINAL_EVENTS:
                return events

    def close(self) -> int:
        if self.popen.poll() is None:
            self.send({"id": 999, "op": "shutdown"})
            assert self.until_final(999)[-1]["event"] == "bye"
        self.popen.stdin.close()
        return self.popen.wait(30)
