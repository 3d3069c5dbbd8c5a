"""Talk to the engine worker from an editor's own Python. Standard library only (Python 3.8+, no numpy).

    client = EngineClient()                      # engine python and weights folder from the installer's config
    client.start()                               # spawns ``<python> -m krita_realesrgan.worker``, waits for ready
    job = client.submit(pixels, PixelFormat("uint8", 4), Extent(w, h), UpscaleOptions(scale=2))
    data, extent = job.wait(on_progress=lambda done, total: ...)   # or poll() from a UI timer
    cover = CoverOutcome.of(client.submit_cover(pixels, fmt, extent, "video-16x9", options=UpscaleOptions()))
    client.close()

One worker process per client, started on first use and restarted on the next job after it died. Pixels go
through payload files in a private temporary folder (mode 0700, removed by ``close``), which the worker is told
at start (``--payloads``) and outside which it reads and writes no payload; each job's files are removed when
the job ends. A reader thread sorts the worker's events into per-job queues.

``EngineClient(engine=EngineAddress(...))`` uses the engine service instead (``service_client``: this user's,
started on demand, or another computer's with a token): the same jobs and events, the payload files' contents
carried over the connection. The worker process (``_Process``) and a service connection answer the same calls:
``send``, ``messages``, ``alive``, ``stop``, ``ended_description``, ``detail``.
"""
from __future__ import annotations

import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
import weakref
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

from . import paths, protocol, rawimage
from .cover_reasons import Reason
from .errors import INSTALLER_COMMAND, Cancelled, EngineError, Kind
from .formats import PixelFormat, UpscaleOptions
from .geometry import Bounds, Extent

WORKER_MODULE = "krita_realesrgan.worker"
START_TIMEOUT = 180.0      # seconds for the worker to import torch and answer hello (slow disks, first run)
CLOSE_TIMEOUT = 5.0        # seconds for a polite shutdown before the worker is terminated
STDERR_TAIL_LINES = 20
TEMPDIR_PREFIX = "krita-realesrgan-"   # + the client's pid + "-" + random: <tmp>/krita-realesrgan-1234-ab12cd
STALE_AGE_S = 24 * 3600               # where a pid cannot be checked (Windows), folders older than this are stale

Event = Dict[str, Any]


def _tail(path: Path, lines: int = STDERR_TAIL_LINES, max_bytes: int = 16384) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _exit_description(code: Optional[int]) -> str:
    if code is None:
        return "still running"
    if code < 0:
        return f"killed by signal {-code}"
    return f"exit code {code}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)          # signal 0: only asks whether the process exists (POSIX)
    except ProcessLookupError:
        return False
    except OSError:              # exists but belongs to someone else
        return True
    return True


def sweep_stale_tempdirs(root: Optional[Path] = None) -> List[Path]:
    """Remove payload folders left by clients that were killed (GIMP ends a plug-in process without letting it
    clean up): ours, named with the pid of a process that no longer runs. Returns what was removed."""
    removed: List[Path] = []
    folder = Path(root or tempfile.gettempdir())
    try:
        candidates = list(folder.glob(TEMPDIR_PREFIX + "*-*"))
    except OSError:
        return removed
    for path in candidates:
        pid_text = path.name[len(TEMPDIR_PREFIX):].split("-", 1)[0]
        try:
            info = path.lstat()
            if not pid_text.isdigit() or not path.is_dir() or path.is_symlink():
                continue
            if os.name == "posix":
                stale = info.st_uid == os.getuid() and not _process_alive(int(pid_text))
            else:
                stale = time.time() - info.st_mtime > STALE_AGE_S
        except OSError:
            continue
        if stale:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


class Job:
    """One request to the worker. Events arrive from the client's reader thread; ``poll`` hands them out."""

    def __init__(self, client: "EngineClient", job_id: int, op: str, files: Tuple[Path, ...] = (),
                 extra_outputs: Tuple[str, ...] = (), pixel_output: bool = True):
        self.id, self.op = job_id, op
        self._pixel_output = pixel_output   # whether the result names an output payload (else result() is empty)
        self._client = client
        self._files = files                 # payload files to remove when the job ends
        self._extra_outputs = extra_outputs  # result fields naming further payloads the worker wrote
        self.extra_payloads: Dict[str, Tuple[bytes, Extent]] = {}   # filled by result()
        self._events: "queue.Queue[Event]" = queue.Queue()
        self._finished = threading.Event()
        self._final: Optional[Event] = None
        self._outcome: Optional[Tuple[bytes, Extent]] = None
        self._cancel_sent = False
        self.progress: Tuple[int, int] = (0, 0)
        self.info: Optional[Event] = None   # the final event (result fields: device, precision, seconds, ...)

    @property
    def done(self) -> bool:
        return self._finished.is_set()

    def _deliver(self, message: Event) -> None:
        """Called from the reader thread (or the client when the worker died)."""
        if self._finished.is_set():
            return
        if message.get("event") == "progress":
            self.progress = (int(message.get("done", 0)), int(message.get("total", 0)))
        self._events.put(message)
        if message.get("event") in protocol.FINAL_EVENTS:
            self._final = self.info = message
            # the input is no longer needed; the output stays until result() has read it
            self._remove_files(self._files[:1] if message.get("event") == "result" else self._files)
            self._finished.set()

    def poll(self, timeout: float = 0.0) -> List[Event]:
        """The events that arrived since the last call; waits up to ``timeout`` seconds for the first one."""
        events: List[Event] = []
        try:
            events.append(self._events.get(timeout=timeout) if timeout > 0 else self._events.get_nowait())
            while True:
                events.append(self._events.get_nowait())
        except queue.Empty:
            pass
        return events

    def cancel(self) -> None:
        """Ask the worker to stop this job between two tiles; it then ends with ``Cancelled``."""
        if self.done or self._cancel_sent:
            return
        self._cancel_sent = True
        self._client._send_cancel(self.id)

    def final_event(self, timeout: Optional[float] = None) -> Event:
        if not self._finished.wait(timeout):
            raise TimeoutError(f"job {self.id} ({self.op}) is still running")
        assert self._final is not None
        return self._final

    def result(self, timeout: Optional[float] = None) -> Tuple[bytes, Extent]:
        """The output pixels and their size; raises EngineError (Cancelled when cancelled)."""
        final = self.final_event(timeout)
        if self._outcome is None:
            try:
                self._outcome = self._read_outcome(final)
            finally:
                self._client._forget(self)
        return self._outcome

    def _read_outcome(self, final: Event) -> Tuple[bytes, Extent]:
        name = final.get("event")
        if name == "cancelled":
            raise Cancelled()
        if name == "error":
            raise EngineError.from_json(final.get("error") or {})
        if name != "result":
            raise EngineError(Kind.INTERNAL, f"The {self.op} job ended with {name!r}, not a result.")
        if not self._pixel_output:
            return b"", Extent(0, 0)
        _, extent, samples = rawimage.read(Path(final["output"]))
        for name in self._extra_outputs:
            if final.get(name):
                _, extra_extent, extra = rawimage.read(Path(final[name]))
                self.extra_payloads[name] = (extra, extra_extent)
        return samples, extent

    def wait(self, on_progress: Optional[Callable[[int, int], None]] = None,
             is_cancelled: Optional[Callable[[], bool]] = None, interval: float = 0.1) -> Tuple[bytes, Extent]:
        """Block until the job ends, reporting progress and cancelling when ``is_cancelled()`` says so."""
        while not self.done:
            events = self.poll(interval)
            if on_progress is not None and any(e.get("event") == "progress" for e in events):
                on_progress(*self.progress)
            if is_cancelled is not None and is_cancelled():
                self.cancel()
        return self.result()

    def _remove_files(self, files: Optional[Tuple[Path, ...]] = None) -> None:
        for path in self._files if files is None else files:
            for candidate in (path, Path(str(path) + ".part")):
                try:
                    candidate.unlink()
                except OSError:
                    pass


@dataclass(frozen=True)
class CoverOutcome:
    """A finished ``cover`` job: the whole upscaled picture and where the cover lies in it."""

    pixels: bytes                  # the whole upscaled picture, in the request's format
    extent: Extent
    canvas: Bounds                 # the cover in the picture's coordinates (pad: around it, negative x/y)
    background: Optional[bytes]    # pad: the canvas-size opaque background, same format; else None
    model: str                     # "" when the picture only had to be reduced
    faces: Tuple[Bounds, ...]      # in the picture's coordinates
    reasons: Tuple[Reason, ...]    # why this model, this crop (for the user: ``reason.text(language)``)
    fit: str
    preset: str

    @staticmethod
    def of(job: Job, timeout: Optional[float] = None) -> "CoverOutcome":
        """Wait for a ``submit_cover`` job; raises EngineError (Cancelled when cancelled)."""
        pixels, extent = job.result(timeout)
        final = job.final_event(0)
        background = job.extra_payloads.get("background_output")
        return CoverOutcome(pixels, extent, Bounds(*final["canvas"]), background[0] if background else None,
                            str(final.get("model") or ""), tuple(Bounds(*face) for face in final.get("faces") or ()),
                            tuple(Reason.from_json(r) for r in final.get("reasons") or ()), str(final.get("fit") or ""),
                            str(final.get("preset") or ""))


@dataclass(frozen=True)
class ExportOutcome:
    """A finished ``export`` job: where the file went and how it was encoded."""

    path: Path
    format: str                    # "jpg" | "png" | "webp"
    quality: Optional[int]         # JPEG/WebP quality; None for PNG
    bits: int                      # PNG: bits kept a channel (8 = lossless)
    bytes: int
    description: str               # e.g. "JPEG quality 85, 1,912,334 bytes"

    @staticmethod
    def of(job: Job, timeout: Optional[float] = None) -> "ExportOutcome":
        """Wait for a ``submit_export`` job; raises EngineError (Cancelled when cancelled)."""
        job.result(timeout)
        final = job.final_event(0)
        quality = final.get("quality")
        return ExportOutcome(Path(str(final["path"])), str(final["format"]),
                             int(quality) if quality is not None else None, int(final.get("bits") or 8),
                             int(final["bytes"]), str(final.get("description") or ""))


class _Process:
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

    def messages(self):
        """The worker's events until its stdout closes (lines that are not protocol events are skipped)."""
        assert self.popen.stdout is not None
        for line in iter(self.popen.stdout.readline, b""):
            message = protocol.decode(line)
            if message is not None and "event" in message:
                yield message

    def ended_description(self) -> str:
        try:
            return _exit_description(self.popen.wait(timeout=10))
        except subprocess.TimeoutExpired:
            return _exit_description(None)

    def detail(self) -> str:
        return f"worker {self.ended_description()}; last lines of its output:\n{_tail(self.stderr_path)}"

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


class EngineClient:
    """Starts and talks to the engine worker. Thread-safe; jobs run one at a time in the worker, in order.

    ``engine``: None (default) spawns a worker of this client's own over stdin/stdout; a
    ``service_wire.EngineAddress`` uses the engine service instead (``local``: this user's, started on demand;
    ``host:port`` with a token: another computer's), with the same jobs, events and errors. ``worker_fallback``:
    when the local service cannot be started, use a worker of this client's own instead (logged; GIMP's default)."""

    def __init__(self, python: Optional[str] = None, weights: Optional[os.PathLike] = None,
                 log_path: Optional[os.PathLike] = None, env: Optional[Mapping[str, str]] = None,
                 engine=None, worker_fallback: bool = False):
        base_env = dict(os.environ if env is None else env)
        config = paths.read_config(base_env)
        self.python = str(python or config.python or "")
        self.weights = Path(weights) if weights else config.weights
        self.log_path = Path(log_path) if log_path else paths.log_file(base_env)
        self._env = base_env
        self.engine = engine                    # None: a worker of our own; else a service_wire.EngineAddress
        self.worker_fallback = worker_fallback
        self._lock = threading.RLock()          # job table and process state (short sections only)
        self._start_lock = threading.Lock()     # one start/close at a time
        self._next_id = 0
        self._jobs: Dict[int, Job] = {}
        self._process: Optional[_Process] = None
        self._ready: Optional[Event] = None
        self._tempdir: Optional[Path] = None
        self._cleanup: Optional[Callable[[], object]] = None

    # --- public API ---------------------------------------------------------------------------------------

    def start(self) -> Event:
        """Start the worker if it is not running; return its ``ready`` event (version, devices, pid)."""
        with self._start_lock:
            if self._process is not None and self._process.alive and self._ready is not None:
                return self._ready
            return self._start_locked()

    def _start_locked(self) -> Event:
        self._stop_process()
        self._spawn()
        job = self._request("hello")
        try:
            final = job.final_event(START_TIMEOUT)
        except TimeoutError:
            self._stop_process()
            raise EngineError(Kind.ENGINE_MISSING, f"The upscaling engine did not start within {START_TIMEOUT:.0f} "
                              f"seconds. Try again, or run the installer again: {INSTALLER_COMMAND}",
                              _tail(self._stderr_path()))
        finally:
            self._forget(job)
        if final.get("event") != "ready":
            error = EngineError.from_json(final.get("error") or {})
            self._stop_process()
            if error.kind in (Kind.WORKER_DIED, Kind.ENGINE_MISSING) and (self.engine is None or self.engine.is_local):
                raise EngineError(Kind.ENGINE_MISSING, f"The upscaling engine could not be started with {self.python}. "
                                  f"Install it with: {INSTALLER_COMMAND}", error.detail)
            raise error
        self._ready = final
        self._log(f"worker started: pid {final.get('pid')}, python {self.python}, weights {self.weights}")
        return final

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.alive

    def models(self) -> List[dict]:
        """The worker's model list (``Upscaler.model_status()``)."""
        final = self._run_simple("models")
        return list(final.get("models") or [])

    def submit(self, pixels, fmt: PixelFormat, extent: Extent, options: UpscaleOptions) -> Job:
        """Start an upscale of ``pixels`` (bytes in ``fmt``, ``extent``); returns at once with its Job."""
        return self.submit_payload("upscale", pixels, fmt, extent, options=options.to_json())

    def submit_payload(self, op: str, pixels, fmt: PixelFormat, extent: Extent, extra_outputs: Tuple[str, ...] = (),
                       pixel_output: bool = True, **fields: Any) -> Job:
        """Any op that takes an input payload and writes an output payload (``upscale``, ``cover``).
        ``extra_outputs``: request fields that name further payloads the worker writes (given a path here, read
        into ``job.extra_payloads`` by ``job.result()``). ``pixel_output=False``: an op that returns only fields
        (``export``); ``job.result()`` then gives empty pixels."""
        self.start()
        with self._lock:
            job_id = self._take_id()
            folder = self._ensure_tempdir()
            source, target = folder / f"job{job_id}-in.raw", folder / f"job{job_id}-out.raw"
            extras = {name: str(folder / f"job{job_id}-{name}.raw") for name in extra_outputs}
            if pixel_output:
                extras["output"] = str(target)
            rawimage.write(source, fmt, Extent(*extent), pixels)
            files = (source, *(Path(path) for path in extras.values()))
            job = Job(self, job_id, op, files, tuple(extra_outputs), pixel_output)
            return self._send(job, input=str(source), **extras, **fields)

    def submit_cover(self, pixels, fmt: PixelFormat, extent: Extent, target: Union[str, Extent],
                     options: UpscaleOptions, fit: str = "cover", background: str = "blur") -> Job:
        """Start a cover (see ``cover_op``): ``target`` is a preset id or an exact size; ``fit`` "cover" crops,
        "pad" fits inside on a ``background`` ("blur" or "#rrggbb"). Read the outcome with ``CoverOutcome.of``."""
        where = {"preset": target} if isinstance(target, str) else {"target": list(target)}
        extra = ("background_output",) if fit == "pad" else ()
        return self.submit_payload("cover", pixels, fmt, extent, extra_outputs=extra, fit=fit,
                                   background=background, options=options.to_json(), **where)

    def submit_export(self, pixels, fmt: PixelFormat, extent: Extent, path: os.PathLike,
                      max_bytes: Optional[int] = None, export_format: Optional[str] = None) -> Job:
        """Save a finished cover (e.g. the editor's merged image with its title) as JPEG/PNG/WebP at ``path``
        within ``max_bytes`` (the quality is lowered step by step until it fits; see ``cover_op.handle_export``).
        The format is ``export_format`` or the name's extension. Read the outcome with ``ExportOutcome.of``."""
        return self.submit_payload("export", pixels, fmt, extent, pixel_output=False, path=str(path),
                                   max_bytes=max_bytes, format=export_format)

    def close(self) -> None:
        """Stop the worker (politely, then firmly) and remove the temporary folder."""
        with self._start_lock:
            self._stop_process()
            if self._cleanup is not None:
                self._cleanup()
            self._tempdir, self._cleanup = None, None

    def __enter__(self) -> "EngineClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- worker process -------------------------------------------------------------------------------------

    def _check_python(self) -> str:
        if not self.python:
            raise EngineError(Kind.ENGINE_MISSING, "The upscaling engine is not installed. Install it with: "
                              f"{INSTALLER_COMMAND}", f"no engine python in {paths.config_file(self._env)}")
        found = shutil.which(self.python) if not os.path.isabs(self.python) else self.python
        if not found or not os.path.isfile(found):
            raise EngineError(Kind.ENGINE_MISSING, f"The upscaling engine's Python ({self.python}) does not exist. "
                              f"Install the engine with: {INSTALLER_COMMAND}", f"python {self.python!r} not found")
        return found

    def _worker_env(self) -> Dict[str, str]:
        env = dict(self._env)
        env.pop("PYTHONHOME", None)  # an editor's embedded Python may set it; it would break the engine venv
        env[paths.ENV_WEIGHTS] = str(self.weights)
        env["PYTHONUNBUFFERED"] = "1"
        env["PYTHONIOENCODING"] = "utf-8"
        return env

    def _ensure_tempdir(self) -> Path:
        if self._tempdir is None:
            sweep_stale_tempdirs()
            self._tempdir = Path(tempfile.mkdtemp(prefix=f"{TEMPDIR_PREFIX}{os.getpid()}-"))  # mode 0700
            self._cleanup = weakref.finalize(self, shutil.rmtree, str(self._tempdir), True)
        return self._tempdir

    def _stderr_path(self) -> Path:
        return self._ensure_tempdir() / "worker-stderr.log"

    def _spawn(self) -> None:
        if self.engine is not None:
            try:
                self._connect_service()
                return
            except (EngineError, OSError) as error:
                if not (self.worker_fallback and self.engine.is_local):
                    raise
                reason, detail = ((error.message, error.detail) if isinstance(error, EngineError)
                                  else (str(error), ""))
                self._log(f"The local engine service could not be used ({reason}); using a worker of this "
                          f"editor's own.\n{detail}")
        python = self._check_python()
        stderr_path = self._stderr_path()
        options: Dict[str, Any] = {}
        if os.name == "nt":
            options["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
        else:
            options["start_new_session"] = True  # Ctrl-C in the editor's terminal is not meant for the worker
        with open(stderr_path, "wb") as stderr:
            try:
                popen = subprocess.Popen([python, "-m", WORKER_MODULE, "--payloads", str(self._ensure_tempdir()),
                                          "--log", str(self.log_path)],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                         env=self._worker_env(), close_fds=True, **options)
            except OSError as error:
                raise EngineError(Kind.ENGINE_MISSING, f"The upscaling engine's Python ({python}) cannot be run. "
                                  f"Install the engine with: {INSTALLER_COMMAND}", str(error)) from error
        self._attach(_Process(popen, stderr_path))

    def _connect_service(self) -> None:
        from . import service_client
        python = self._check_python() if self.engine.is_local else ""
        env = self._worker_env() if self.engine.is_local else self._env
        self._attach(service_client.connect(self.engine, python, env, self.log_path, START_TIMEOUT))

    def _attach(self, process) -> None:
        """Start reading a new worker's (or service connection's) events."""
        process.reader = threading.Thread(target=self._read_events, args=(process,), name="engine-events",
                                          daemon=True)
        with self._lock:
            self._process, self._ready = process, None
        process.reader.start()

    def _read_events(self, process: _Process) -> None:
        for message in process.messages():
            job_id = message.get("id")
            with self._lock:
                job = self._jobs.get(job_id) if isinstance(job_id, int) else None
                if job is None and message.get("event") == "error" and self._jobs:
                    job = self._oldest_hello()            # a startup failure reported without a job id
            if job is not None:
                job._deliver(message)
        self._worker_ended(process)

    def _oldest_hello(self) -> Optional[Job]:
        hellos = [job for job in self._jobs.values() if job.op == "hello"]
        return hellos[0] if hellos else None

    def _worker_ended(self, process: _Process) -> None:
        with self._lock:
            pending = [job for job in self._jobs.values() if not job.done]
            if self._process is process:
                self._ready = None
        if process.closing:
            error: EngineError = Cancelled("The upscaling engine was closed.")
        else:
            detail = process.detail()
            error = EngineError(Kind.WORKER_DIED, "The upscaling engine stopped unexpectedly "
                                f"({process.ended_description()}). It will be restarted for the next run; "
                                f"details are in {self.log_path}.", detail)
            self._log(detail)
        for job in pending:
            job._deliver(protocol.event(job.id, "cancelled") if isinstance(error, Cancelled)
                         else protocol.event(job.id, "error", error=error.to_json()))

    def _stop_process(self) -> None:
        """Stop the current worker; never called with ``_lock`` held (the reader thread needs it to finish)."""
        with self._lock:
            process, self._process, self._ready = self._process, None, None
        if process is not None:
            process.stop(protocol.request(self._take_id(), "shutdown"))

    # --- jobs -----------------------------------------------------------------------------------------------

    def _take_id(self) -> int:
        with self._lock:
            self._next_id += 1
            return self._next_id

    def _request(self, op: str, **fields: Any) -> Job:
        return self._send(Job(self, self._take_id(), op), **fields)

    def _send(self, job: Job, **fields: Any) -> Job:
        with self._lock:
            process = self._process
            self._jobs[job.id] = job
        try:
            sent = process is not None and process.send(protocol.request(job.id, job.op, **fields))
        except EngineError as refused:          # the service's limits, known before sending
            job._deliver(protocol.event(job.id, "error", error=refused.to_json()))
            return job
        if not sent:
            # the reader thread may already have reported the death to the jobs it knew of
            job._deliver(protocol.event(job.id, "error", error=EngineError(
                Kind.WORKER_DIED, "The upscaling engine is not running. It will be restarted for the next run.",
                _tail(self._stderr_path())).to_json()))
        return job

    def _run_simple(self, op: str) -> Event:
        self.start()
        job = self._request(op)
        try:
            final = job.final_event()
        finally:
            self._forget(job)
        if final.get("event") == "error":
            raise EngineError.from_json(final.get("error") or {})
        if final.get("event") == "cancelled":
            raise Cancelled()
        return final

    def _send_cancel(self, job_id: int) -> None:
        process = self._process
        if process is not None:
            process.send(protocol.request(self._take_id(), "cancel", job=job_id))

    def _forget(self, job: Job) -> None:
        with self._lock:
            self._jobs.pop(job.id, None)
        job._remove_files()

    def _log(self, text: str) -> None:
        try:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log_path, "a", encoding="utf-8") as handle:
                handle.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} client[{os.getpid()}] {text}\n")
        except OSError:
            pass
