"""The client's side of the engine service: connect (starting the local service on demand) and carry the
worker protocol over the connection. Standard library only (vendored into the editors).

``connect(address, ...)`` returns a ``ServiceConnection``, which ``client.EngineClient`` uses exactly as it uses
a spawned worker process (both are an ``engine_process.Transport``): ``send(request)``, ``messages()`` (the events,
until the connection ends), ``stop()``.
The client keeps writing and reading its payload files in its own private folder; the connection sends an
input file's bytes after the request and stores a result's bytes under the names the request gave
(``service_wire`` describes the frames).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

from . import engine_process, paths, protocol, service_wire
from .errors import EngineError, Kind
from .service_wire import FILE_FIELDS, INPUT, EngineAddress, FrameError, ServiceLimits

WORKER = "worker"             # the config's "engine" for a worker of the editor's own (Krita's default)
# the default of an editor whose plug-in process ends after every call (GIMP): the local service, which the first
# call starts and the later ones find warm; a worker per call where there are no Unix sockets and locks (Windows)
PER_CALL_DEFAULT = service_wire.LOCAL if os.name == "posix" else WORKER
CONNECT_TIMEOUT = 10.0        # seconds to reach a remote service
STARTED_LOG = "service.log"   # the on-demand service's stdout/stderr, in the runtime folder

Event = Dict[str, Any]


def private_folder(folder: Path) -> None:
    """Make ``folder`` with mode 0700, or check that an existing one is the user's alone (EngineError if not)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.name != "posix":
        return
    info = folder.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        if info.st_uid == os.getuid():
            os.chmod(folder, 0o700)
            return
        raise EngineError(Kind.BAD_INPUT, f"The engine service's folder {folder} belongs to someone else.")


class ServiceConnection:
    """One connection to the engine service, used by EngineClient like a worker process."""

    def __init__(self, sock: socket.socket, address: EngineAddress, where: str):
        self.sock, self.address, self.where = sock, address, where
        self.rfile, self.wfile = sock.makefile("rb"), sock.makefile("wb")
        self.write_lock = threading.Lock()
        self.closing = False
        self.reader: Optional[threading.Thread] = None
        self.limits = ServiceLimits()
        self._ended = threading.Event()
        self._outputs: Dict[int, Dict[str, str]] = {}      # job id -> output field -> the client's file
        self._reason = ""

    def welcome(self) -> Event:
        """The service's first line: ``welcome``, or an ``error`` (a refused token); OSError/FrameError when the
        connection ends first (a service that is going away)."""
        line = service_wire.read_line(self.rfile)
        if line is None:
            raise FrameError("the service closed the connection")
        return service_wire.decode_line(line)

    @property
    def alive(self) -> bool:
        return not self._ended.is_set()

    # --- requests -------------------------------------------------------------------------------------------
    def send(self, message: Event) -> bool:
        """Send a request with its input files attached; EngineError (too_large) before sending an over-size one."""
        wire = dict(message)
        attachments: List[Tuple[str, Path]] = []
        outputs: Dict[str, str] = {}
        for field, direction in FILE_FIELDS.items():
            value = message.get(field)
            if not isinstance(value, str) or (field == "path" and message.get("op") != "export"):
                continue
            wire[field] = Path(value).name
            if direction == INPUT:
                attachments.append((field, Path(value)))
            else:
                outputs[field] = value
        size = sum(os.path.getsize(path) for _, path in attachments)
        too_large = self.limits.request_too_large(size)
        if too_large is not None:
            raise too_large
        if outputs and isinstance(message.get("id"), int):
            self._outputs[message["id"]] = outputs
        with self.write_lock:
            try:
                service_wire.write_frame(self.wfile, wire, attachments)
                return True
            except (OSError, ValueError):
                return False

    # --- events ---------------------------------------------------------------------------------------------
    def messages(self) -> Iterator[Event]:
        """The service's events until the connection ends; result files are stored under the client's names."""
        try:
            while True:
                line = service_wire.read_line(self.rfile)
                if line is None:
                    break
                message = service_wire.decode_line(line)
                if message.get("event") == "ready" and "limits" in message:
                    self.limits = ServiceLimits.from_json(message["limits"])
                self._store_attachments(message)
                if "event" in message:
                    yield message
        except (OSError, ValueError, FrameError) as error:
            self._reason = str(error)
        finally:
            self._ended.set()

    def _store_attachments(self, message: Event) -> None:
        entries = service_wire.announced(message)
        message.pop("attach", None)
        job_id = message.get("id")
        targets = self._outputs.get(job_id, {}) if isinstance(job_id, int) else {}
        failure: Optional[EngineError] = None
        for field, size in entries:
            target = targets.get(field)
            problem = self._receive(size, target)
            if target is not None and problem is None:
                message[field] = target
            elif failure is None:
                what = "the cover as " if field == "path" else ""   # an export: the file the user chose
                failure = EngineError(Kind.BAD_INPUT, f"Could not save {what}{target}: {problem}. Choose another "
                                      "folder or name." if target else
                                      f"The engine service sent an unexpected {field!r}.")
        if failure is not None and message.get("event") == "result":
            message.clear()
            message.update(protocol.event(job_id, "error", error=failure.to_json()))
        if message.get("event") in protocol.FINAL_EVENTS and isinstance(job_id, int):
            self._outputs.pop(job_id, None)

    def _receive(self, size: int, target: Optional[str]) -> Optional[str]:
        """Read ``size`` bytes into ``target`` (through ``.part``, replaced at the end); the bytes are read to the
        end even when the file cannot be written, so the stream stays in step. Returns what went wrong, if any."""
        problem: Optional[str] = None
        part = Path(target + ".part") if target else None
        handle = None
        if part is not None:
            try:
                handle = open(part, "wb")
            except OSError as error:
                problem = error.strerror or str(error)
        left = size
        try:
            while left:
                chunk = self.rfile.read(min(service_wire.CHUNK, left))
                if not chunk:
                    raise FrameError("the connection ended inside a payload")
                left -= len(chunk)
                if handle is not None:
                    try:
                        handle.write(chunk)
                    except OSError as error:
                        problem = error.strerror or str(error)
                        handle.close()
                        handle = None
            if handle is not None:
                handle.close()
                handle = None
                if problem is None:
                    try:
                        os.replace(str(part), str(target))
                    except OSError as error:
                        problem = error.strerror or str(error)
        finally:
            if handle is not None:
                handle.close()
            if part is not None and (problem is not None or left):
                try:
                    part.unlink()
                except OSError:
                    pass
        return problem if target else "unexpected"

    # --- ending ---------------------------------------------------------------------------------------------
    def ended_description(self) -> str:
        return f"the connection to the engine service at {self.where} closed" + (
            f" ({self._reason})" if self._reason else "")

    def detail(self) -> str:
        return self.ended_description()

    def stop(self, shutdown: Event) -> None:
        """Close this connection (the service cancels this client's jobs and serves the others on)."""
        self.closing = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if self.reader is not None and self.reader is not threading.current_thread():
            self.reader.join(timeout=5.0)
        for stream in (self.rfile, self.wfile):
            try:
                stream.close()
            except OSError:
                pass
        self.sock.close()


# --- connecting ---------------------------------------------------------------------------------------------------

def _unreachable(address: EngineAddress, error: Exception) -> EngineError:
    return EngineError(Kind.WORKER_DIED, f"Cannot reach the engine at {address} ({error}). Check that "
                       "'krita-realesrgan serve --listen' runs there, that the address and port are right, and that "
                       "no firewall blocks the port.", repr(error))


def _connect_remote(address: EngineAddress) -> ServiceConnection:
    try:
        sock = socket.create_connection((address.host, address.port), timeout=CONNECT_TIMEOUT)
    except OSError as error:
        raise _unreachable(address, error) from None
    try:
        if address.cafile is not None:
            import ssl
            context = ssl.create_default_context(cafile=address.cafile)
            sock = context.wrap_socket(sock, server_hostname=address.host)
        connection = ServiceConnection(sock, address, str(address))
        service_wire.write_frame(connection.wfile, {"auth": address.token})
        answer = connection.welcome()
    except (OSError, FrameError) as error:
        sock.close()
        raise _unreachable(address, error) from None
    if answer.get("event") != "welcome":
        sock.close()
        refused = EngineError.from_json(answer.get("error") or {"message": "The engine service refused the "
                                                                           "connection."})
        raise EngineError(refused.kind, f"{refused.message} ({address})", refused.detail)
    sock.settimeout(None)
    return connection


def _connect_unix(path: Path) -> ServiceConnection:
    """A welcomed connection to the local socket; OSError when no live service answers there."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
        sock.settimeout(CONNECT_TIMEOUT)
        connection = ServiceConnection(sock, EngineAddress(), str(path))
        if connection.welcome().get("event") != "welcome":
            raise OSError("the service did not welcome this connection")
        sock.settimeout(None)
        return connection
    except (OSError, FrameError) as error:
        sock.close()
        raise OSError(str(error)) from None


def _start_local(python: str, env: Mapping[str, str], log_path: Path) -> subprocess.Popen:
    """``<python> -m krita_realesrgan serve`` in the background, its output in the runtime folder's log."""
    folder = paths.service_socket(env).parent
    private_folder(folder)
    with open(folder / STARTED_LOG, "ab") as output:
        options: Dict[str, Any] = {}
        if os.name == "posix":
            options["start_new_session"] = True     # it outlives the editor that started it
        return subprocess.Popen([python, "-m", "krita_realesrgan", "serve", "--log", str(log_path)],
                                stdin=subprocess.DEVNULL, stdout=output, stderr=output, env=dict(env),
                                close_fds=True, **options)


def _log_tail(env: Mapping[str, str], lines: int = 20) -> str:
    """The end of what the service printed while starting (the whole file read, as it is small)."""
    return engine_process.tail(paths.service_socket(env).parent / STARTED_LOG, lines, max_bytes=sys.maxsize)


def connect_local(python: str, env: Mapping[str, str], log_path: Path, timeout: float) -> ServiceConnection:
    """Connect to this user's service, starting it first when no one answers on its socket."""
    path = paths.service_socket(env)
    try:
        return _connect_unix(path)
    except OSError:
        pass                                   # no socket, or one left by a killed service: start one
    started = _start_local(python, env, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return _connect_unix(path)
        except OSError:
            pass
        code = started.poll()
        if code not in (None, 0):              # 0: another client's service won the lock; keep trying it
            raise EngineError(Kind.ENGINE_MISSING, f"The engine service could not be started with {python} "
                              f"(exit code {code}).", _log_tail(env))
        time.sleep(0.05)
    raise EngineError(Kind.ENGINE_MISSING, f"The engine service did not start within {timeout:.0f} seconds "
                      f"(socket {path}).", _log_tail(env))


def configured_engine(env: Mapping[str, str] = os.environ, default: str = WORKER) -> Optional[EngineAddress]:
    """The engine the editors use, from the config file's ``engine`` (or ``KRITA_REALESRGAN_ENGINE``), else the
    editor's ``default`` (GIMP: ``local``, Krita: ``worker``): None for a worker of their own (``worker``; also
    ``local`` where there are no Unix sockets), else the service's address; ``HOST:PORT`` takes its token from
    ``engine_token_file`` (TLS: ``engine_cert``)."""
    config = paths.read_config(env)
    text = (config.engine or default).strip()
    if text == WORKER or (text == service_wire.LOCAL and not hasattr(socket, "AF_UNIX")):
        return None
    address = EngineAddress.parse(text)
    if address.is_local:
        return address
    if not config.engine_token_file:
        raise EngineError(Kind.BAD_INPUT, f"The engine {address} ({config.source}) needs 'engine_token_file': the "
                          "file holding the token its service was started with.")
    return EngineAddress(address.host, address.port, service_wire.read_token(config.engine_token_file),
                         config.engine_cert or None)


def connect(address: EngineAddress, python: str, env: Mapping[str, str], log_path: Path,
            timeout: float) -> ServiceConnection:
    if address.is_local:
        return connect_local(python, env, log_path, timeout)
    return _connect_remote(address)
