"""The engine worker as a process of the client's own: find the engine's Python, spawn
``<python> -m krita_realesrgan.serving.worker`` and talk to it over stdin/stdout. Standard library only (vendored).

``Transport`` is what ``client.EngineClient`` talks over: a ``WorkerProcess`` from ``spawn`` here, or a
``service_client.ServiceConnection`` to the engine service; both answer the same calls.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any, Dict, Iterator, Mapping, Optional, Protocol

from . import paths, protocol
from .errors import INSTALLER_COMMAND, EngineError, Kind

WORKER_MODULE = "krita_realesrgan.serving.worker"
CLOSE_TIMEOUT = 5.0        # seconds for a polite shutdown before the worker is terminated
STDERR_TAIL_LINES = 20
STDERR_FILE = "worker-stderr.log"   # the worker's stderr, kept in the client's payload folder

Event = Dict[str, Any]


class Transport(Protocol):
    """What the client sends requests over and reads events from: a worker process or a service connection."""

    closing: bool                              # set by stop(): the end that follows is not a crash
    reader: Optional[threading.Thread]         # the client's thread reading messages()

    @property
    def alive(self) -> bool: ...

    def send(self, message: Event) -> bool:
        """Send one request; False when the other end is gone (EngineError: refused before sending)."""
        ...

    def messages(self) -> Iterator[Event]:
        """The events, until the other end closes."""
        ...

    def ended_description(self) -> str: ...

    def detail(self) -> str:
        """What the log and an error's details say about how it ended."""
        ...

    def stop(self, shutdown: Event) -> None: ...


def tail(path: Path, lines: int = STDERR_TAIL_LINES, max_bytes: int = 16384) -> str:
    """The last ``lines`` lines of a (stderr capture) file; "" when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def exit_description(code: Optional[int]) -> str:
    if code is None:
        return "still running"
    if code < 0:
        return f"killed by signal {-code}"
    return f"exit code {code}"


def find_python(python: str, env: Mapping[str, str]) -> str:
    """The engine's Python as a path that exists; EngineError (engine missing) when there is none."""
    if not python:
        raise EngineError(Kind.ENGINE_MISSING, "The upscaling engine is not installed. Install it with: "
                          f"{INSTALLER_COMMAND}", f"no engine python in {paths.config_file(env)}")
    found = shutil.which(python) if not os.path.isabs(python) else python
    if not found or not os.path.isfile(found):
        raise EngineError(Kind.ENGINE_MISSING, f"The upscaling engine's Python ({python}) does not exist. "
                          f"Install the engine with: {INSTALLER_COMMAND}", f"python {python!r} not found")
    return found


def worker_env(env: Mapping[str, str], weights: Optional[Path]) -> Dict[str, str]:
    """The environment the engine runs in: the editor's, less what would break the engine's venv."""
    result = dict(env)
    result.pop("PYTHONHOME", None)  # an editor's embedded Python may set it; it would break the engine venv
    result[paths.ENV_WEIGHTS] = str(weights)
    result["PYTHONUNBUFFERED"] = "1"
    result["PYTHONIOENCODING"] = "utf-8"
    return result


class WorkerProcess:
    """One running worker: the Popen, its reader thread and its stderr capture file."""

    def __init__(self, popen: subprocess.Popen, stderr_path: Path):
        self.popen, self.stderr_path = popen, stderr_path
        self.write_lock = threading.Lock()
        self.closing = False
        self.reader: Optional[threading.Thread] = None

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def send(self, message: Event) -> bool:
        data = protocol.encode(message)
        with self.write_lock:
            try:
                assert self.popen.stdin is not None
                self.popen.stdin.write(data)
                self.popen.stdin.flush()
                return True
            except (OSError, ValueError):
                return False

    def messages(self) -> Iterator[Event]:
        """The worker's events until its stdout closes (lines that are not protocol events are skipped)."""
        assert self.popen.stdout is not None
        for line in iter(self.popen.stdout.readline, b""):
            message = protocol.decode(line)
            if message is not None and "event" in message:
                yield message

    def ended_description(self) -> str:
        try:
            return exit_description(self.popen.wait(timeout=10))
        except subprocess.TimeoutExpired:
            return exit_description(None)

    def detail(self) -> str:
        return f"worker {self.ended_description()}; last lines of its output:\n{tail(self.stderr_path)}"

    def stop(self, shutdown: Event) -> None:
        """Ask the worker to exit, then terminate or kill it if it does not."""
        self.closing = True
        if self.alive:
            self.send(shutdown)
        try:
            if self.popen.stdin is not None:
                self.popen.stdin.close()
        except OSError:
            pass
        try:
            self.popen.wait(timeout=CLOSE_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=CLOSE_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        if self.reader is not None and self.reader is not threading.current_thread():
            self.reader.join(timeout=CLOSE_TIMEOUT)
        if self.popen.stdout is not None:
            self.popen.stdout.close()


def spawn(python: str, payloads: Path, log_path: Path, env: Mapping[str, str]) -> WorkerProcess:
    """Start ``<python> -m krita_realesrgan.serving.worker`` reading and writing payloads only in ``payloads``
    (its stderr captured there); EngineError (engine missing) when the Python cannot be run."""
    stderr_path = payloads / STDERR_FILE
    options: Dict[str, Any] = {}
    if os.name == "nt":
        options["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    else:
        options["start_new_session"] = True  # Ctrl-C in the editor's terminal is not meant for the worker
    with open(stderr_path, "wb") as stderr:
        try:
            popen = subprocess.Popen([python, "-m", WORKER_MODULE, "--payloads", str(payloads),
                                      "--log", str(log_path)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                     env=dict(env), close_fds=True, **options)
        except OSError as error:
            raise EngineError(Kind.ENGINE_MISSING, f"The upscaling engine's Python ({python}) cannot be run. "
                              f"Install the engine with: {INSTALLER_COMMAND}", str(error)) from error
    return WorkerProcess(popen, stderr_path)
