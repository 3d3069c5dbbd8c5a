"""Talk to the engine from an editor's own Python: the ``EngineClient`` facade. Standard library only (Python 3.8+,
no numpy; vendored into the editors).

    client = EngineClient()                      # engine python and weights folder from the installer's config
    client.start()                               # spawns the worker (``-m krita_realesrgan.serving.worker``)
    job = client.submit(pixels, PixelFormat("uint8", 4), Extent(w, h), UpscaleOptions(scale=2))
    data, extent = job.wait(on_progress=lambda done, total: ...)   # or poll() from a UI timer
    cover = CoverOutcome.of(client.submit_cover(pixels, fmt, extent, "video-16x9", options=UpscaleOptions()))
    client.close()

One worker process per client, started on first use and restarted on the next job after it died
(``engine_process``). Pixels go through payload files in a private temporary folder (``payload_folder``: mode 0700,
removed by ``close``), which the worker is told at start (``--payloads``) and outside which it reads and writes no
payload; each job's files are removed when the job ends. A reader thread sorts the worker's events into per-job
queues (``engine_jobs``); ``job_outcomes`` reads a cover's or an export's final event.

``EngineClient(engine=EngineAddress(...))`` uses the engine service instead (``service_client``: this user's,
started on demand, or another computer's with a token): the same jobs and events, the payload files' contents
carried over the connection. The worker process and a service connection are both an ``engine_process.Transport``.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any, List, Mapping, Optional, Tuple, Union

from . import engine_process, log_file, paths, protocol, rawimage
from .engine_jobs import Job, JobTable
from .engine_process import Transport
from .errors import INSTALLER_COMMAND, Cancelled, EngineError, Kind
from .formats import PixelFormat, UpscaleOptions
from .geometry import Extent
from .payload_folder import PayloadFolder

START_TIMEOUT = 180.0      # seconds for the worker to import torch and answer hello (slow disks, first run)

Event = engine_process.Event


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
        self._jobs = JobTable(self._lock)
        self._process: Optional[Transport] = None
        self._ready: Optional[Event] = None
        self._payloads = PayloadFolder()

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
                              engine_process.tail(self._stderr_path()))
        finally:
            self._jobs.forget(job)
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
            job_id = self._jobs.take_id()
            files = self._payloads.job_files(job_id, tuple(extra_outputs), pixel_output)
            rawimage.write(files.source, fmt, Extent(*extent), pixels)
            job = self._new_job(job_id, op, files.all, tuple(extra_outputs), pixel_output)
            return self._send(job, **files.request_fields(), **fields)

    def submit_cover(self, pixels, fmt: PixelFormat, extent: Extent, target: Union[str, Extent],
                     options: UpscaleOptions, fit: str = "cover", background: str = "blur") -> Job:
        """Start a cover (see ``cover.op``): ``target`` is a preset id or an exact size; ``fit`` "cover" crops,
        "pad" fits inside on a ``background`` ("blur" or "#rrggbb"). Read the outcome with ``CoverOutcome.of``."""
        where = {"preset": target} if isinstance(target, str) else {"target": list(target)}
        extra = ("background_output",) if fit == "pad" else ()
        return self.submit_payload("cover", pixels, fmt, extent, extra_outputs=extra, fit=fit,
                                   background=background, options=options.to_json(), **where)

    def submit_export(self, pixels, fmt: PixelFormat, extent: Extent, path: os.PathLike,
                      max_bytes: Optional[int] = None, export_format: Optional[str] = None) -> Job:
        """Save a finished cover (e.g. the editor's merged image with its title) as JPEG/PNG/WebP at ``path``
        within ``max_bytes`` (the quality is lowered step by step until it fits; see ``cover.op.handle_export``).
        The format is ``export_format`` or the name's extension. Read the outcome with ``ExportOutcome.of``."""
        return self.submit_payload("export", pixels, fmt, extent, pixel_output=False, path=str(path),
                                   max_bytes=max_bytes, format=export_format)

    def close(self) -> None:
        """Stop the worker (politely, then firmly) and remove the temporary folder."""
        with self._start_lock:
            self._stop_process()
            self._payloads.close()

    def __enter__(self) -> "EngineClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- the engine: a worker of our own or a service connection (engine_process.Transport) -----------------

    def _stderr_path(self) -> Path:
        return self._payloads.path() / engine_process.STDERR_FILE

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
        python = engine_process.find_python(self.python, self._env)
        self._attach(engine_process.spawn(python, self._payloads.path(), self.log_path,
                                          engine_process.worker_env(self._env, self.weights)))

    def _connect_service(self) -> None:
        from . import service_client
        python = engine_process.find_python(self.python, self._env) if self.engine.is_local else ""
        env = engine_process.worker_env(self._env, self.weights) if self.engine.is_local else self._env
        self._attach(service_client.connect(self.engine, python, env, self.log_path, START_TIMEOUT))

    def _attach(self, process: Transport) -> None:
        """Start reading a new worker's (or service connection's) events."""
        process.reader = threading.Thread(target=self._read_events, args=(process,), name="engine-events",
                                          daemon=True)
        with self._lock:
            self._process, self._ready = process, None
        process.reader.start()

    def _read_events(self, process: Transport) -> None:
        for message in process.messages():
            self._jobs.route(message)
        self._worker_ended(process)

    def _worker_ended(self, process: Transport) -> None:
        with self._lock:
            pending = self._jobs.pending()
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
            if isinstance(error, Cancelled):
                job.deliver(protocol.event(job.id, "cancelled"))
            else:
                job.fail(error)

    def _stop_process(self) -> None:
        """Stop the current worker; never called with ``_lock`` held (the reader thread needs it to finish)."""
        with self._lock:
            process, self._process, self._ready = self._process, None, None
        if process is not None:
            process.stop(protocol.request(self._jobs.take_id(), "shutdown"))

    # --- jobs -----------------------------------------------------------------------------------------------

    def _new_job(self, job_id: int, op: str, files: Tuple[Path, ...] = (), extra_outputs: Tuple[str, ...] = (),
                 pixel_output: bool = True) -> Job:
        return Job(job_id, op, self._send_cancel, self._jobs.forget, files, extra_outputs, pixel_output)

    def _request(self, op: str, **fields: Any) -> Job:
        return self._send(self._new_job(self._jobs.take_id(), op), **fields)

    def _send(self, job: Job, **fields: Any) -> Job:
        with self._lock:
            process = self._process
            self._jobs.add(job)
        try:
            sent = process is not None and process.send(protocol.request(job.id, job.op, **fields))
        except EngineError as refused:          # the service's limits, known before sending
            job.fail(refused)
            return job
        if not sent:
            # the reader thread may already have reported the death to the jobs it knew of
            job.fail(EngineError(
                Kind.WORKER_DIED, "The upscaling engine is not running. It will be restarted for the next run.",
                engine_process.tail(self._stderr_path())))
        return job

    def _run_simple(self, op: str) -> Event:
        self.start()
        job = self._request(op)
        try:
            final = job.final_event()
        finally:
            self._jobs.forget(job)
        if final.get("event") == "error":
            raise EngineError.from_json(final.get("error") or {})
        if final.get("event") == "cancelled":
            raise Cancelled()
        return final

    def _send_cancel(self, job_id: int) -> None:
        process = self._process
        if process is not None:
            process.send(protocol.request(self._jobs.take_id(), "cancel", job=job_id))

    def _log(self, text: str) -> None:
        log_file.append(self.log_path, f"{time.strftime('%Y-%m-%d %H:%M:%S')} client[{os.getpid()}] {text}\n")
