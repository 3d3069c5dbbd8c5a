"""The engine worker: ``python -m krita_realesrgan.serving.worker --payloads DIR [--log PATH]``.

A long-lived process that the editor plugins start through ``client.EngineClient``. It keeps one ``Upscaler``
(so models stay loaded between jobs), reads requests as JSON lines on stdin and answers with JSON-line events
on stdout, as ``protocol`` describes. Pixels travel in payload files (``rawimage``), never through the pipe.

* Requests run one at a time, in order, on the main thread; a reader thread takes stdin so that ``cancel``
  reaches a running job, which stops between two tiles.
* Every line is checked by ``request_schema`` before it is queued: a malformed one (wrong field type, not JSON,
  a payload path outside ``--payloads``, the client's private folder) gets a ``bad_request`` error event and the
  worker reads on. Nothing a line holds can stop the reader, so stdin closing always ends the worker.
* The real stdout carries protocol lines only: ``sys.stdout`` and file descriptor 1 point at stderr, so a stray
  ``print`` in a library cannot corrupt the stream.
* Errors are events: ``EngineError`` -> its kind/message/detail; anything else -> ``internal`` with the traceback
  as detail. Stdin closing (the editor went away) cancels the running job and ends the worker.
* Ops are a registry (``HANDLERS``): a handler takes a ``JobContext`` and returns the job's final event.
  No network port is opened. The engine service (``service.py``) runs one ``Worker`` per connection over a
  shared upscaler, so its requests go through the same ``accept`` and ``run_job``.
"""
from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import queue
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

from ..common import device_offers, paths, protocol, rawimage
from . import request_schema
from .. import __version__
from ..common.errors import INSTALLER_COMMAND, Cancelled, EngineError, Kind
from ..common.formats import PixelFormat, UpscaleOptions
from ..common.geometry import Extent
from ..common.progress import Progress
from ..upscalers import LocalUpscaler

log = logging.getLogger("krita_realesrgan.serving.worker")

PROGRESS_INTERVAL = 0.1          # seconds between progress events (the last one is always sent)
LOG_BYTES, LOG_BACKUPS = 1_000_000, 2
ENGINE_IMPORT_FAILED_EXIT = 3

Event = Dict[str, Any]


class ProgressThrottle:
    """Sends at most one progress event per ``interval`` seconds; ``flush`` sends the last one if it was held."""

    def __init__(self, send: Progress, interval: float = PROGRESS_INTERVAL,
                 clock: Callable[[], float] = time.monotonic):
        self._send, self._interval, self._clock = send, interval, clock
        self._last_sent_at: Optional[float] = None
        self._pending: Optional[Tuple[int, int]] = None

    def __call__(self, done: int, total: int) -> None:
        now = self._clock()
        if done >= total or self._last_sent_at is None or now - self._last_sent_at >= self._interval:
            self._last_sent_at, self._pending = now, None
            self._send(done, total)
        else:
            self._pending = (done, total)

    def flush(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._send(*pending)


class CancelBoard:
    """Which queued or running jobs have been asked to stop (set from the reader thread)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._flags: Dict[Any, threading.Event] = {}

    def register(self, job_id: Any) -> threading.Event:
        with self._lock:
            return self._flags.setdefault(job_id, threading.Event())

    def cancel(self, job_id: Any) -> bool:
        with self._lock:
            flag = self._flags.get(job_id)
        if flag is not None:
            flag.set()
        return flag is not None

    def cancel_all(self) -> None:
        with self._lock:
            flags = list(self._flags.values())
        for flag in flags:
            flag.set()

    def finish(self, job_id: Any) -> None:
        with self._lock:
            self._flags.pop(job_id, None)


class EventWriter:
    """Writes protocol events to the saved real stdout, one whole line at a time, from any thread."""

    def __init__(self, stream):
        self._stream, self._lock = stream, threading.Lock()

    def send(self, message: Event) -> None:
        data = protocol.encode(message)
        with self._lock:
            try:
                self._stream.write(data)
                self._stream.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass  # the client is gone; the reader sees stdin close and the worker ends


class JobContext:
    """What a handler gets: the request, the shared upscaler, payload helpers, progress and cancel."""

    def __init__(self, worker: "Worker", request: Dict[str, Any], cancel_flag: threading.Event):
        self.worker, self.request, self.id = worker, request, request.get("id")
        self._cancel_flag = cancel_flag
        self.progress = ProgressThrottle(self._send_progress)

    @property
    def upscaler(self) -> LocalUpscaler:
        return self.worker.upscaler

    def cancelled(self) -> bool:
        return self._cancel_flag.is_set()

    def _send_progress(self, done: int, total: int) -> None:
        self.worker.events.send(protocol.event(self.id, "progress", done=int(done), total=int(total),
                                               stage=self.request.get("op")))

    def reply(self, name: str, **fields: Any) -> Event:
        return protocol.event(self.id, name, **fields)

    def field(self, name: str) -> Any:
        if name not in self.request:
            raise EngineError(Kind.BAD_INPUT, f"The {self.request.get('op')} request has no {name!r}.")
        return self.request[name]

    def read_input(self):
        """The input payload as (numpy array, PixelFormat)."""
        return read_payload(Path(str(self.field("input"))))

    def write_output(self, image, fmt: PixelFormat) -> Extent:
        extent = Extent(image.shape[1], image.shape[0])
        rawimage.write(Path(str(self.field("output"))), fmt, extent, image)
        return extent


def read_payload(path: Path):
    """A payload file as an HxW or HxWxC numpy array in its stated format (validated by rawimage)."""
    import numpy as np
    fmt, extent, offset = rawimage.read_header(path)
    count = extent.width * extent.height * fmt.channels
    samples = np.fromfile(str(path), dtype=np.dtype(fmt.dtype).newbyteorder("<"), count=count, offset=offset)
    shape = (extent.height, extent.width) if fmt.channels == 1 else (extent.height, extent.width, fmt.channels)
    return samples.reshape(shape), fmt


# --- handlers: op name -> function(JobContext) -> final event -------------------------------------------------

def handle_hello(job: JobContext) -> Event:
    """Ready, with what the editors' device lists offer (``device_offers``, kept in the cache for the next
    dialog). Torch is imported only where probing for a CUDA or Apple GPU needs it, never for OpenVINO."""
    from ..backends import choice
    facts = machine_facts()
    report = choice.device_report(facts)
    device_offers.save(report, paths.cache_dir())
    log.info("hello: %s", torch_state())
    return job.reply("ready", version=__version__, protocol=protocol.PROTOCOL_VERSION,
                     devices=_device_names(facts), pid=os.getpid(), python=sys.executable,
                     weights=[str(d) for d in job.upscaler.models.dirs], **report.to_json())


def _device_names(facts) -> list:
    """--device values that work here: cpu, gpu (an Intel GPU), cuda:N, mps."""
    names = ["cpu"]
    if facts.cuda or facts.mps:   # the probe imported torch already
        from .. import devices
        names = devices.available_devices()
    return names + (["gpu"] if facts.intel_gpu else [])


def handle_models(job: JobContext) -> Event:
    return job.reply("models", models=job.upscaler.model_status())


def handle_upscale(job: JobContext) -> Event:
    options = UpscaleOptions.from_json(dict(job.request.get("options") or {}))
    image, fmt = job.read_input()
    result = job.upscaler.upscale(image, fmt, options, progress=job.progress, cancel=job.cancelled)
    job.progress.flush()
    extent = job.write_output(result.image, fmt)
    return job.reply("result", output=str(job.field("output")), width=extent.width, height=extent.height,
                     dtype=fmt.dtype, channels=fmt.channels, seconds=round(result.seconds, 4),
                     device=result.device, precision=result.precision, tile=result.tile,
                     backend=result.backend, notes=list(result.notes),
                     faces=result.faces.summary() if options.face_enhance else None)


def handle_cover(job: JobContext) -> Event:
    from ..cover.op import handle  # imported on first use: OpenCV's face finder is not needed to start
    return handle(job)


def handle_export(job: JobContext) -> Event:
    from ..cover.op import handle_export
    return handle_export(job)


def handle_shutdown(job: JobContext) -> Event:
    job.worker.running = False
    return job.reply("bye")


HANDLERS: Dict[str, Callable[[JobContext], Event]] = {
    "hello": handle_hello,
    "models": handle_models,
    "upscale": handle_upscale,
    "cover": handle_cover,
    "export": handle_export,
    "shutdown": handle_shutdown,
}
# "cancel" is not a handler: the reader thread acts on it at once, even while a job runs.


def error_event(job_id: Any, error: BaseException) -> Event:
    """The event for a failed job: structured for EngineError, ``internal`` (with traceback) for anything else."""
    if isinstance(error, Cancelled):
        return protocol.event(job_id, "cancelled")
    if isinstance(error, EngineError):
        return protocol.event(job_id, "error", error=error.to_json())
    detail = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    if isinstance(error, MemoryError):
        engine_error = EngineError(Kind.OUT_OF_MEMORY, "Not enough memory for this image. Close other programs "
                                   "or upscale a smaller part.", detail)
    else:
        engine_error = EngineError(Kind.INTERNAL, f"The engine failed unexpectedly ({type(error).__name__}: "
                                   f"{str(error)[:200]}). Details are in the log.", detail)
    return protocol.event(job_id, "error", error=engine_error.to_json())


class Worker:
    """``payload_folder``: the client's private folder, the only place payload paths may name (None: none may)."""

    def __init__(self, upscaler: LocalUpscaler, events: EventWriter,
                 handlers: Dict[str, Callable[[JobContext], Event]] = HANDLERS, payload_folder: Optional[Path] = None):
        self.upscaler, self.events, self.handlers = upscaler, events, handlers
        self.payload_folder = None if payload_folder is None else request_schema.resolved_folder(payload_folder)
        self.cancels = CancelBoard()
        self.requests: "queue.Queue[Optional[Dict[str, Any]]]" = queue.Queue()
        self.running = True

    # reader thread
    def read_requests(self, fd: int) -> None:
        try:
            for line in read_lines(fd, request_schema.MAX_LINE_BYTES):
                if line.strip():
                    self.accept(line)
        finally:
            log.info("stdin closed: cancelling and stopping")
            self.cancels.cancel_all()
            self.requests.put(None)

    def accept(self, line: bytes) -> None:
        """One line from stdin: queue its request, act on a cancel, or answer a malformed line with an error."""
        try:
            request = request_schema.parse(line, self.payload_folder)
        except request_schema.BadRequest as error:
            log.warning("bad request %r: %s", line[:200], error.message)
            self.events.send(error_event(error.job_id, error))
            return
        except Exception as error:  # noqa: BLE001 - a bug in the checks must not stop the reader
            log.exception("checking request %r failed", line[:200])
            self.events.send(error_event(None, error))
            return
        if request["op"] == "cancel":
            found = self.cancels.cancel(request["job"])
            log.info("cancel job %s%s", request["job"], "" if found else " (not queued or running)")
            return
        self.cancels.register(request["id"])
        self.requests.put(request)

    # main thread
    def serve(self) -> None:
        while self.running:
            request = self.requests.get()
            if request is None:
                break
            self.events.send(self.run_job(request))

    def run_job(self, request: Dict[str, Any]) -> Event:
        job_id, op = request.get("id"), request.get("op")
        flag = self.cancels.register(job_id)
        started = time.perf_counter()
        try:
            handler = self.handlers.get(op)
            if handler is None:
                raise EngineError(Kind.BAD_INPUT, f"Unknown request {op!r}.", f"known: {', '.join(self.handlers)}")
            if flag.is_set() and op != "shutdown":
                raise Cancelled()
            reply = handler(JobContext(self, request, flag))
            log.info("job %s %s -> %s in %.3f s", job_id, op, reply.get("event"), time.perf_counter() - started)
            return reply
        except BaseException as error:  # noqa: BLE001 - every failure becomes an event; the worker lives on
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
            reply = error_event(job_id, error)
            if reply["event"] == "error":
                log.error("job %s %s failed: %s", job_id, op, reply["error"]["detail"])
            else:
                log.info("job %s %s cancelled", job_id, op)
            return reply
        finally:
            self.cancels.finish(job_id)


_probe_lock = threading.Lock()


def machine_facts():
    """``backends.choice.probe()``, computed once even when the warm-up thread and hello ask at the same time."""
    from ..backends import choice
    with _probe_lock:
        return choice.probe()


def torch_state() -> str:
    """For the log: whether this process has imported torch (a warm OpenVINO start never does)."""
    return "torch imported" if "torch" in sys.modules else "torch not imported"


def warm_up() -> None:
    """While the engine loads and the user chooses options: probe the machine (hello needs it), and where PyTorch
    serves (a CUDA or Apple GPU, or no OpenVINO) import the model loader, so the first job starts sooner.

    Where OpenVINO serves, nothing more: with a stored conversion a job needs neither torch nor spandrel, and
    running a small tile first did not make the first job faster: OpenVINO compiles per tile shape, from its disk
    cache in about 0.1 s, and a first inference costs what the next ones cost (with PyTorch on the CPU too, a
    32 px tile first cost 1.6 s and saved nothing). Measured by bench/warm_start_bench.py: ready in 0.6-0.8 s (was
    3.5-4.0 s, torch imported for hello) and the first upscale as fast as the second."""
    try:
        facts = machine_facts()
        if facts.cuda or facts.mps or not facts.openvino:
            import spandrel  # noqa: F401 - several seconds of imports (torch, all its architectures)
    except Exception:  # noqa: BLE001 - the first job will report it properly
        log.exception("warm-up failed")


def read_lines(fd: int, max_line: int, chunk: int = 65536):
    """Lines from a file descriptor, read without Python's buffered reader (whose lock would block interpreter
    shutdown while this daemon thread waits for input). Of a line longer than ``max_line`` bytes only the first
    ``max_line + 1`` are kept (the caller sees it is too long); the rest is read and dropped."""
    pending, overlong = b"", False
    while True:
        data = os.read(fd, chunk)
        if not data:
            if pending:
                yield pending
            return
        if overlong:                    # inside a line already handed over: drop up to its end
            end = data.find(b"\n")
            if end < 0:
                continue
            data, overlong = data[end + 1:], False
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            yield line + b"\n"
        if len(pending) > max_line:
            yield pending[:max_line + 1]
            pending, overlong = b"", True


class _LogLines:
    """A text stream that turns stray prints into log lines (sys.stdout of the worker)."""

    encoding = "utf-8"

    def __init__(self, logger: logging.Logger):
        self._logger, self._buffer = logger, ""

    def write(self, text: str) -> int:
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            if line.strip():
                self._logger.info("stray output: %s", line)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def protect_stdout():
    """Keep the real stdout for protocol lines only; everything else written to stdout goes to stderr/the log."""
    sys.stdout.flush()
    protocol_fd = os.dup(1)
    os.dup2(2, 1)  # C libraries writing to fd 1 now reach stderr
    sys.stdout = _LogLines(log)
    return os.fdopen(protocol_fd, "wb", buffering=0)


def setup_logging(log_path: Optional[Path]) -> None:
    root = logging.getLogger("krita_realesrgan")
    root.setLevel(logging.INFO)
    formatter = logging.Formatter("%(asctime)s worker[%(process)d] %(levelname)s %(message)s")
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(formatter)
    stderr.setLevel(logging.WARNING)
    root.addHandler(stderr)
    if log_path is None:
        return
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(str(log_path), maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS,
                                                       encoding="utf-8")
    except OSError as error:
        root.warning("cannot write the log file %s: %s", log_path, error)
        return
    handler.setFormatter(formatter)
    root.addHandler(handler)


def payload_folder_problem(folder: Path) -> Optional[str]:
    """Why ``folder`` cannot be the payload folder (None when it can): it must be a folder that only its owner can
    write to, as ``tempfile.mkdtemp`` makes (else another user could plant a link there)."""
    try:
        info = folder.stat()
    except OSError as error:
        return error.strerror or str(error)
    if not folder.is_dir():
        return "not a folder"
    if os.name == "posix" and info.st_mode & 0o022:
        return "others may write to it (use a private folder, mode 0700)"
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m krita_realesrgan.serving.worker",
                                     description="The engine worker (JSON lines on stdin/stdout; see "
                                                 "krita_realesrgan/common/protocol.py).")
    parser.add_argument("--payloads", type=Path, required=True, metavar="DIR",
                        help="the client's private payload folder: payload paths must name files in it")
    parser.add_argument("--log", type=Path, default=None, help=f"log file (default {paths.log_file()})")
    args = parser.parse_args(argv)
    problem = payload_folder_problem(args.payloads)
    if problem:
        parser.error(f"--payloads {args.payloads}: {problem}")
    events = EventWriter(protect_stdout())
    setup_logging(args.log or paths.log_file())
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()   # probes while the engine loads
    try:
        from ..engine import Upscaler
    except ImportError as error:
        message = (f"The engine's Python ({sys.executable}) cannot load the engine ({error}). "
                   f"Run the installer again: {INSTALLER_COMMAND}")
        log.error("%s\n%s", message, traceback.format_exc())
        events.send(protocol.event(None, "error", error=EngineError(Kind.ENGINE_MISSING, message,
                                                                    traceback.format_exc()).to_json()))
        return ENGINE_IMPORT_FAILED_EXIT
    worker = Worker(Upscaler(), events, payload_folder=args.payloads)
    log.info("worker %s started (python %s, weights %s)", __version__, sys.executable,
             ", ".join(map(str, worker.upscaler.models.dirs)))
    reader = threading.Thread(target=worker.read_requests, args=(sys.stdin.fileno(),), name="requests", daemon=True)
    reader.start()
    worker.serve()
    log.info("worker stopped (%s)", torch_state())
    return 0


if __name__ == "__main__":
    sys.exit(main())
