"""The engine service: one engine (one ``Upscaler``, one copy of each model) for every editor and command that
connects, on this computer (a Unix domain socket) or from others (TCP with a token, optional TLS).

Each connection gets a ``worker.Worker`` of its own, sharing the service's upscaler: its requests are checked
and dispatched exactly as the stdin worker's (``Worker.accept`` -> ``request_schema``; ``Worker.run_job`` ->
the op handlers), its cancels reach only its jobs, and its events go back on its connection
(``service_wire`` frames: pixels travel as bytes after the JSON line, into a private folder per connection).

* ``hello``, ``models`` and ``shutdown`` are answered at once on the connection's own thread (a client starting
  up does not wait behind another's long job); ``shutdown`` ends that connection only.
* ``upscale``, ``cover`` and ``export`` queue in the ``Scheduler``: one job runs at a time on the engine thread,
  taken round-robin between the connections that have work (fair between editors).
* Limits (``service_wire.ServiceLimits``): bytes a request attaches (checked from the announced sizes, before
  reading them), result pixels (the options' ``max_pixels`` is capped), jobs queued or running (``busy``).
* A connection that closes cancels its jobs. With no connection and no job for ``idle_timeout`` seconds the
  service stops (0: never).
"""
from __future__ import annotations

import collections
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Deque, Dict, List, Optional, Tuple

from ..common import protocol, rawimage, service_wire
from ..common.payload_folder import TEMPDIR_PREFIX, sweep_stale_tempdirs
from ..common.errors import EngineError, Kind
from ..common.service_wire import FILE_FIELDS, INPUT, FrameError, ServiceLimits
from ..upscalers import LocalUpscaler
from .worker import Worker, error_event

log = logging.getLogger("krita_realesrgan.serving.service")

QUICK_OPS = ("hello", "models", "shutdown")      # answered on the connection's thread, never queued
AUTH_TIMEOUT = 30.0                              # seconds for a TCP client to authenticate (and TLS handshake)
MAX_CONNECTIONS = 64                           # more are closed at once (each has a thread and a folder)
WELCOME = {"id": None, "event": "welcome"}      # the first line of every connection (TCP: after the token)
Request = Dict[str, Any]


class Scheduler:
    """Queued jobs of every connection; ``take`` hands them out round-robin between connections."""

    def __init__(self, max_jobs: int):
        self.max_jobs = max_jobs
        self._changed = threading.Condition()
        self._queues: "collections.OrderedDict[Connection, Deque[Request]]" = collections.OrderedDict()
        self._running = 0
        self.last_activity = time.monotonic()

    @property
    def busy(self) -> bool:
        with self._changed:
            return self._running > 0 or any(self._queues.values())

    def count(self) -> int:
        return self._running + sum(len(queue) for queue in self._queues.values())

    def put(self, connection: "Connection", request: Request) -> None:
        """Queue a job; EngineError(busy) when the service already holds ``max_jobs``."""
        with self._changed:
            if self.count() >= self.max_jobs:
                raise EngineError(Kind.BUSY, f"The engine service is busy ({self.max_jobs} jobs queued or running). "
                                  "Try again when one has finished.")
            if connection not in self._queues:      # a newcomer's turn comes next (the others have had theirs)
                self._queues[connection] = collections.deque()
                self._queues.move_to_end(connection, last=False)
            self._queues[connection].append(request)
            self._changed.notify_all()

    def take(self, timeout: float) -> Optional[Tuple["Connection", Request]]:
        """The next job: the first connection in turn that has one; it then goes to the back of the turn."""
        with self._changed:
            deadline = time.monotonic() + timeout
            while True:
                for connection, queue in list(self._queues.items()):
                    if not queue and connection.closed.is_set():
                        del self._queues[connection]
                    elif queue:
                        request = queue.popleft()
                        self._queues.move_to_end(connection)
                        self._running += 1
                        return connection, request
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)

    def finished(self) -> None:
        with self._changed:
            self._running -= 1
            self.last_activity = time.monotonic()

    def drop(self, connection: "Connection") -> None:
        """Forget a closed connection's turn (its queued jobs, already cancelled, still run to their cancel)."""
        with self._changed:
            queue = self._queues.get(connection)
            if queue is not None and not queue:
                del self._queues[connection]
            self.last_activity = time.monotonic()

    def wake(self) -> None:
        with self._changed:
            self._changed.notify_all()


class _Inbox:
    """Stands in for a Worker's request queue: quick ops run now, jobs go to the scheduler."""

    def __init__(self, connection: "Connection"):
        self._connection = connection

    def put(self, request: Request) -> None:
        self._connection.dispatch(request)


class FrameWriter:
    """The connection's event stream (``Worker.events``): final events of a job carry its output files."""

    def __init__(self, connection: "Connection"):
        self._connection = connection
        self._lock = threading.Lock()

    def send(self, message: Dict[str, Any]) -> None:
        connection = self._connection
        job_id = message.get("id")
        attachments: List[Tuple[str, Path]] = []
        if message.get("event") == "ready":
            message = dict(message, limits=connection.service.limits.to_json())
        if message.get("event") == "result" and isinstance(job_id, int):
            message = dict(message)
            for field, name in connection.outputs.get(job_id, {}).items():
                path = connection.job_path(job_id, field, name)
                if message.get(field) == str(path) and path.is_file():
                    attachments.append((field, path))
                    message[field] = name
        try:
            with self._lock:
                service_wire.write_frame(connection.wfile, message, attachments)
        except (OSError, ValueError):
            connection.shut()      # the client is gone: the reader sees the end and cancels its jobs
        finally:
            if message.get("event") in protocol.FINAL_EVENTS and isinstance(job_id, int):
                connection.forget_job(job_id)


class Connection:
    """One client: its socket, private folder, Worker (request checks, cancels, handlers) and reader thread."""

    def __init__(self, service: "Service", sock: socket.socket, peer: str, needs_token: bool):
        self.service, self.sock, self.peer, self.needs_token = service, sock, peer, needs_token
        # mode 0700, the service's own; named like a client's payload folder (prefix, pid), so the folders of a
        # service that was killed are swept as a killed client's are (payload_folder.sweep_stale_tempdirs)
        self.folder = Path(tempfile.mkdtemp(prefix=f"{TEMPDIR_PREFIX}{os.getpid()}-service-"))
        self.outputs: Dict[int, Dict[str, str]] = {}                      # job id -> file field -> client's name
        self.rfile = self.wfile = None
        self.worker = Worker(service.upscaler, FrameWriter(self), payload_folder=self.folder)
        self.worker.requests = _Inbox(self)
        self.closed = threading.Event()
        self._discard = 0
        self._jobs_lock = threading.Lock()
        self._jobs = 0                          # queued or running in the scheduler

    # --- reader thread ----------------------------------------------------------------------------------------
    def run(self) -> None:
        try:
            self.sock = self.service.secure(self.sock)
            self.rfile, self.wfile = self.sock.makefile("rb"), self.sock.makefile("wb")
            if self.needs_token and not self._authenticate():
                return
            if not self.needs_token:
                self.worker.events.send(WELCOME)
            self.sock.settimeout(None)
            while not self.closed.is_set():
                line = service_wire.read_line(self.rfile)
                if line is None:
                    break
                self._accept(line)
        except (OSError, FrameError, ValueError) as error:
            log.info("connection %s: %s", self.peer, error)
        finally:
            self.close()

    def _authenticate(self) -> bool:
        import hmac
        self.sock.settimeout(AUTH_TIMEOUT)
        line = service_wire.read_line(self.rfile)
        try:
            offered = service_wire.decode_line(line).get("auth") if line else None
        except FrameError:
            offered = None
        expected = self.service.token.encode("utf-8")
        if isinstance(offered, str) and hmac.compare_digest(offered.encode("utf-8"), expected):
            self.worker.events.send(WELCOME)
            return True
        log.warning("connection %s: wrong or missing token", self.peer)
        self.worker.events.send(protocol.event(None, "error", error=EngineError(
            Kind.BAD_REQUEST, "The engine service refused the connection: wrong or missing token "
            "(check the token file; it must hold the token the service was started with).").to_json()))
        return False

    def _accept(self, line: bytes) -> None:
        try:
            message = service_wire.decode_line(line)
        except FrameError:
            self.worker.accept(line)            # the worker's own bad_request answer
            return
        entries = service_wire.announced(message)
        job_id = message.get("id")
        too_large = self.service.limits.request_too_large(sum(size for _, size in entries))
        if too_large is not None:
            self.worker.events.send(error_event(job_id if isinstance(job_id, int) else None, too_large))
            raise FrameError(f"request of {sum(size for _, size in entries):,} bytes refused")
        message.pop("attach", None)
        if not isinstance(job_id, int):
            for _, size in entries:             # keep the stream in step; the schema answers the bad id
                self._skip(size)
            self.worker.accept(protocol.encode(message))
            return
        try:
            self._place_files(job_id, message, entries)
            self._apply_service_options(message)
        except EngineError as error:
            self.worker.events.send(error_event(job_id, error))
            self.forget_job(job_id)
            return
        self.worker.accept(protocol.encode(message))

    def _place_files(self, job_id: int, message: Request, entries: List[Tuple[str, int]]) -> None:
        """File fields name this connection's private files; attached inputs are received into them."""
        names = {}
        for field, direction in FILE_FIELDS.items():
            if field == "path" and message.get("op") != "export":
                continue
            value = message.get(field)
            if isinstance(value, str):
                names[field] = value
                message[field] = str(self.job_path(job_id, field, value))
        outputs = {field: name for field, name in names.items() if FILE_FIELDS[field] != INPUT}
        if outputs:
            self.outputs[job_id] = outputs
        problem = None
        for field, size in entries:             # every announced byte is read, so the stream stays in step
            if field not in names or FILE_FIELDS[field] != INPUT:
                self._skip(size)
                problem = problem or f"The request attached {field!r}, which is not one of its inputs."
            else:
                service_wire.receive_file(self.rfile, size, self.job_path(job_id, field, names[field]))
        missing = [field for field in names if FILE_FIELDS[field] == INPUT and field not in dict(entries)]
        if problem or missing:
            raise EngineError(Kind.BAD_REQUEST, problem or f"The request's {missing[0]!r} has no attached contents.")

    def _apply_service_options(self, message: Request) -> None:
        """The service's ``--device``/``--backend`` where the request says auto, its ``--fast``; the result may have
        at most the service's pixel limit (the client may ask for less); so may the input."""
        options = message.get("options")
        if isinstance(options, dict):
            for name, value in self.service.defaults.items():
                if name == "fast":
                    options[name] = bool(options.get(name)) or bool(value)
                elif options.get(name) in (None, "auto"):
                    options[name] = value
            asked = options.get("max_pixels")
            limit = self.service.limits.max_pixels
            if limit > 0 and (not isinstance(asked, int) or isinstance(asked, bool) or asked <= 0 or asked > limit):
                options["max_pixels"] = limit
        if self.service.limits.max_pixels > 0 and isinstance(message.get("input"), str) \
                and os.path.isfile(message["input"]):
            fmt, extent, _ = rawimage.read_header(message["input"])
            if extent.width * extent.height > self.service.limits.max_pixels:
                raise EngineError(Kind.TOO_LARGE, f"The picture has {extent.width * extent.height:,} pixels; the "
                                  f"engine service takes up to {self.service.limits.max_pixels:,}.")

    def _skip(self, size: int) -> None:
        self._discard += 1
        path = self.folder / f"discard-{self._discard}"
        service_wire.receive_file(self.rfile, size, path)
        path.unlink()

    def job_path(self, job_id: int, field: str, name: str) -> Path:
        """This connection's file for a job's file field. An export keeps the client's file name (its extension
        says the format; messages name it), reduced to plain characters."""
        if field != "path":
            return self.folder / f"job{job_id}-{field}.raw"
        plain = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in Path(name).name)
        return self.folder / f"job{job_id}-{plain[-100:] or 'export'}"

    def forget_job(self, job_id: int) -> None:
        self.outputs.pop(job_id, None)
        for path in self.folder.glob(f"job{job_id}-*"):
            try:
                path.unlink()
            except OSError:
                pass

    # --- dispatch (called by Worker.accept through the inbox) ---------------------------------------------------
    def dispatch(self, request: Request) -> None:
        if request["op"] in QUICK_OPS:
            self.worker.events.send(self.worker.run_job(request))
            if not self.worker.running:         # shutdown: this connection only
                self.shut()
            return
        try:
            with self._jobs_lock:
                self.service.scheduler.put(self, request)
                self._jobs += 1
        except EngineError as error:
            self.worker.cancels.finish(request["id"])
            self.worker.events.send(error_event(request["id"], error))

    # --- ending -----------------------------------------------------------------------------------------------
    def shut(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        self.worker.cancels.cancel_all()
        self.service.scheduler.drop(self)
        self.shut()
        for stream in (self.rfile, self.wfile):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        self.sock.close()
        self.service.connection_closed(self)
        log.info("connection %s closed", self.peer)

    def job_ended(self) -> None:
        with self._jobs_lock:
            self._jobs -= 1
        self._remove_folder_when_done()

    def _remove_folder_when_done(self) -> None:
        with self._jobs_lock:
            if self.closed.is_set() and self._jobs == 0:
                shutil.rmtree(self.folder, ignore_errors=True)


class Service:
    """Listeners, connections and the engine thread. ``run`` blocks until ``stop`` or the idle timeout."""

    def __init__(self, upscaler: LocalUpscaler, listeners: List[Tuple[socket.socket, bool]],
                 limits: ServiceLimits = ServiceLimits(), idle_timeout: float = 600.0, token: str = "", tls=None,
                 defaults: Optional[Dict[str, Any]] = None):
        self.upscaler, self.limits, self.idle_timeout = upscaler, limits, idle_timeout
        self.listeners = listeners                # (socket, needs_token)
        self.token, self.tls = token, tls
        self.defaults = dict(defaults or {})     # UpscaleOptions fields: device, backend, fast (backend_args)
        self.scheduler = Scheduler(limits.max_jobs)
        self.connections: List[Connection] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def secure(self, sock: socket.socket) -> socket.socket:
        if self.tls is None or sock.family == getattr(socket, "AF_UNIX", None):
            return sock
        sock.settimeout(AUTH_TIMEOUT)
        return self.tls.wrap_socket(sock, server_side=True)

    def _accept_loop(self, listener: socket.socket, needs_token: bool) -> None:
        while not self._stop.is_set():
            try:
                sock, peer = listener.accept()
            except OSError:
                if self._stop.is_set():
                    return
                time.sleep(0.05)
                continue
            with self._lock:
                full = len(self.connections) >= MAX_CONNECTIONS
            if full:
                log.warning("connection %s refused: %d connections already", peer, MAX_CONNECTIONS)
                sock.close()
                continue
            connection = Connection(self, sock, str(peer or "local"), needs_token)
            with self._lock:
                self.connections.append(connection)
            threading.Thread(target=connection.run, name=f"connection {peer or 'local'}", daemon=True).start()

    def connection_closed(self, connection: Connection) -> None:
        with self._lock:
            if connection in self.connections:
                self.connections.remove(connection)
        connection._remove_folder_when_done()
        self.scheduler.wake()

    def idle(self) -> bool:
        with self._lock:
            connected = bool(self.connections)
        return (self.idle_timeout > 0 and not connected and not self.scheduler.busy
                and time.monotonic() - self.scheduler.last_activity >= self.idle_timeout)

    def run(self) -> None:
        """Accept connections and run jobs on this thread until stopped or idle."""
        sweep_stale_tempdirs()
        for listener, needs_token in self.listeners:
            threading.Thread(target=self._accept_loop, args=(listener, needs_token), name="accept",
                             daemon=True).start()
        try:
            while not self._stop.is_set():
                item = self.scheduler.take(timeout=0.2)
                if item is None:
                    if self.idle():
                        log.info("no client for %.0f s: stopping", self.idle_timeout)
                        break
                    continue
                connection, request = item
                try:
                    connection.worker.events.send(connection.worker.run_job(request))
                finally:
                    self.scheduler.finished()
                    connection.job_ended()
        finally:
            self.stop()

    def stop(self) -> None:
        self._stop.set()
        for listener, _ in self.listeners:
            try:
                listener.close()
            except OSError:
                pass
        with self._lock:
            connections = list(self.connections)
        for connection in connections:
            connection.shut()
