"""The client's job table without an engine: events routed to their job by id, payload files removed as a job ends
and its result is read, cancels sent once, failures raised as the engine's errors."""
from __future__ import annotations

import threading

import pytest

from krita_realesrgan.common import protocol, rawimage
from krita_realesrgan.common.engine_jobs import Job, JobTable
from krita_realesrgan.common.errors import Cancelled, EngineError, Kind
from krita_realesrgan.common.formats import PixelFormat
from krita_realesrgan.common.geometry import Extent
from krita_realesrgan.common.payload_folder import PayloadFolder

GREY = PixelFormat("uint8", 1)


@pytest.fixture
def table() -> JobTable:
    return JobTable(threading.RLock())


def new_job(table: JobTable, op: str, cancels: list, job_id=None, files=()) -> Job:
    job = Job(job_id or table.take_id(), op, cancels.append, table.forget, files)
    table.add(job)
    return job


def test_events_go_to_their_job_and_the_result_is_read_from_its_payload(table, tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    payloads = PayloadFolder()
    cancels: list = []
    other = new_job(table, "upscale", cancels)
    job_id = table.take_id()
    files = payloads.job_files(job_id)
    output = dict(files.outputs)["output"]
    job = new_job(table, "upscale", cancels, job_id, files.all)
    assert (other.id, job.id) == (1, 2)                               # ids in order, one per request
    rawimage.write(files.source, GREY, Extent(2, 1), bytes([1, 2]))
    table.route(protocol.event(job.id, "progress", done=1, total=4))
    table.route(protocol.event(99, "progress", done=9, total=9))       # no such job: dropped
    assert job.progress == (1, 4) and other.progress == (0, 0) and [e["event"] for e in job.poll()] == ["progress"]
    rawimage.write(output, GREY, Extent(4, 2), bytes(range(8)))
    table.route(protocol.event(job.id, "result", output=str(output), device="cpu"))
    assert job.done and not files.source.exists() and output.exists()  # the input goes; the output waits to be read
    assert table.pending() == [other]
    assert job.result(0) == (bytes(range(8)), Extent(4, 2)) and job.info["device"] == "cpu"
    assert not output.exists()                                        # read, then forgotten with its files
    table.route(protocol.event(job.id, "error", error={"kind": "internal", "message": "late"}))
    assert job.result(0) == (bytes(range(8)), Extent(4, 2))           # an ended job takes no more events
    job.cancel()
    assert cancels == []                                              # nothing to cancel once it ended
    payloads.close()


def test_an_error_without_a_job_id_ends_the_hello(table):
    cancels: list = []
    upscale, hello = new_job(table, "upscale", cancels), new_job(table, "hello", cancels)
    table.route(protocol.event(None, "error", error={"kind": "engine_missing", "message": "No torch."}))
    assert hello.done and not upscale.done
    assert hello.final_event(0)["error"]["message"] == "No torch."


def test_cancel_is_sent_once_and_a_failure_is_raised(table):
    cancels: list = []
    job = new_job(table, "upscale", cancels)
    job.cancel()
    job.cancel()
    assert cancels == [job.id]
    table.route(protocol.event(job.id, "cancelled"))
    with pytest.raises(Cancelled):
        job.result(0)
    failed = new_job(table, "upscale", cancels)
    failed.fail(EngineError(Kind.WORKER_DIED, "The upscaling engine stopped unexpectedly."))
    with pytest.raises(EngineError) as caught:
        failed.result(0)
    assert caught.value.kind == Kind.WORKER_DIED and "stopped unexpectedly" in caught.value.message
    assert table.pending() == []
    with pytest.raises(TimeoutError):
        new_job(table, "models", cancels).final_event(0.01)
