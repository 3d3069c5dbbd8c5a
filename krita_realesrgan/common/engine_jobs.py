"""The client's jobs: one ``Job`` per request to the engine, and the ``JobTable`` that hands out their ids and sorts
the engine's events into each job's queue. Standard library only (vendored into the editors).

Events arrive on the client's reader thread (``JobTable.route``); the editor's thread polls or waits on its Job.
"""
from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import protocol, rawimage
from .errors import Cancelled, EngineError, Kind
from .geometry import Extent
from .payload_folder import remove_files
from .progress import Cancel, Progress

Event = Dict[str, Any]


class Job:
    """One request to the worker. Events arrive from the client's reader thread; ``poll`` hands them out.

    ``send_cancel(id)`` asks the engine to stop it; ``forget(job)`` drops it from the client's table once its
    result has been read."""

    def __init__(self, job_id: int, op: str, send_cancel: Callable[[int], None], forget: Callable[["Job"], None],
                 files: Tuple[Path, ...] = (), extra_outputs: Tuple[str, ...] = (), pixel_output: bool = True):
        self.id, self.op = job_id, op
        self._pixel_output = pixel_output   # whether the result names an output payload (else result() is empty)
        self._send_cancel, self._forget = send_cancel, forget
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

    def deliver(self, message: Event) -> None:
        """Called from the reader thread (or the client when the worker died)."""
        if self._finished.is_set():
            return
        if message.get("event") == "progress":
            self.progress = (int(message.get("done", 0)), int(message.get("total", 0)))
        self._events.put(message)
        if message.get("event") in protocol.FINAL_EVENTS:
            self._final = self.info = message
            # the input is no longer needed; the output stays until result() has read it
            remove_files(self._files[:1] if message.get("event") == "result" else self._files)
            self._finished.set()

    def fail(self, error: EngineError) -> None:
        """End the job with ``error`` (the engine refused it or is gone)."""
        self.deliver(protocol.event(self.id, "error", error=error.to_json()))

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
        self._send_cancel(self.id)

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
                self._forget(self)
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

    def wait(self, on_progress: Optional[Progress] = None, is_cancelled: Optional[Cancel] = None,
             interval: float = 0.1) -> Tuple[bytes, Extent]:
        """Block until the job ends, reporting progress and cancelling when ``is_cancelled()`` says so."""
        while not self.done:
            events = self.poll(interval)
            if on_progress is not None and any(e.get("event") == "progress" for e in events):
                on_progress(*self.progress)
            if is_cancelled is not None and is_cancelled():
                self.cancel()
        return self.result()

    def remove_files(self) -> None:
        """Remove all of the job's payload files (its result has been read, or no one will read it)."""
        remove_files(self._files)


class JobTable:
    """A client's jobs by id: ids handed out in order, and each event of the engine to its job.

    ``lock`` is the client's: it also guards which transport is current, so that a job is registered and sent
    as one step against the reader thread's "the engine ended" (``pending``)."""

    def __init__(self, lock: "threading.RLock") -> None:
        self._lock = lock
        self._next_id = 0
        self._jobs: Dict[int, Job] = {}

    def take_id(self) -> int:
        with self._lock:
            self._next_id += 1
            return self._next_id

    def add(self, job: Job) -> None:
        with self._lock:
            self._jobs[job.id] = job

    def forget(self, job: Job) -> None:
        """Drop a job whose result was read (or never will be) and remove its payload files."""
        with self._lock:
            self._jobs.pop(job.id, None)
        job.remove_files()

    def route(self, message: Event) -> None:
        """Hand one event to its job (by ``id``); an error without a job id (a failed start) goes to the hello."""
        job_id = message.get("id")
        with self._lock:
            job = self._jobs.get(job_id) if isinstance(job_id, int) else None
            if job is None and message.get("event") == "error" and self._jobs:
                job = self._oldest_hello()            # a startup failure reported without a job id
        if job is not None:
            job.deliver(message)

    def _oldest_hello(self) -> Optional[Job]:
        hellos = [job for job in self._jobs.values() if job.op == "hello"]
        return hellos[0] if hellos else None

    def pending(self) -> List[Job]:
        """The jobs that have not ended."""
        with self._lock:
            return [job for job in self._jobs.values() if not job.done]
