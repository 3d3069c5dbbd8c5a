"""Bad input to the worker protocol (issue 12, items 3 and 4): malformed requests, wrong field types, payload
paths outside the client's folder, lines that are not JSON / not UTF-8 / enormous, fuzzed requests. Whatever a
line holds, it gets a ``bad_request`` error (never ``internal``), the worker serves the next request, no file
outside the payload folder is touched, and closing stdin ends the worker.

Most cases run in-process (``Worker.accept`` / ``read_requests`` over a pipe, with the fake upscaler of
``test_worker``); the real ``python -m krita_realesrgan.serving.worker`` gets the same treatment once."""
from __future__ import annotations

import json
import os
import queue
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from krita_realesrgan.common import protocol, rawimage
from krita_realesrgan.serving import request_schema, worker
from krita_realesrgan.common.errors import Kind
from krita_realesrgan.common.formats import PixelFormat
from helpers import FakeUpscaler
from worker_pipe import RawWorker, RecordingEvents, payload

GREY = PixelFormat("uint8", 1)
THE_ISSUES_LINES = [b'{"id":[1],"op":"hello"}', b'{"id":2,"op":"cancel","job":{}}']


# --- helpers -----------------------------------------------------------------------------------------------------

@pytest.fixture
def folder(tmp_path) -> Path:
    """A private payload folder holding a 2x2 grey payload ``in.raw``, beside ``tmp_path/outside``."""
    inside = tmp_path / "payloads"
    inside.mkdir(mode=0o700)
    payload(inside, "in.raw", np.arange(4, dtype=np.uint8).reshape(2, 2), GREY)
    (tmp_path / "outside").mkdir()
    return inside


def precious(path: Path) -> Path:
    """A user's file that no request may change."""
    path.write_bytes(b"the user's own file")
    return path


def untouched(path: Path) -> bool:
    return path.read_bytes() == b"the user's own file"


def answer(serving: worker.Worker, message) -> dict:
    """The final event for one request line, as the worker gives it: the reader's error, or the job's reply."""
    sent = len(serving.events.sent)
    serving.accept(message if isinstance(message, bytes) else json.dumps(message).encode())
    if len(serving.events.sent) > sent:
        return serving.events.sent[-1]
    return serving.run_job(serving.requests.get_nowait())


def good_upscale(folder: Path, job_id: int = 50) -> dict:
    return {"id": job_id, "op": "upscale", "input": str(folder / "in.raw"), "output": str(folder / "out.raw"),
            "options": {}}


def assert_bad_request(event: dict, job_id, *words: str) -> None:
    assert event["event"] == "error" and event["id"] == job_id, event
    assert event["error"]["kind"] == Kind.BAD_REQUEST, event
    for word in words:
        assert word in event["error"]["message"], (word, event["error"]["message"])


def serve_lines(serving: worker.Worker, lines, answered=None, timeout: float = 10.0) -> None:
    """Write ``lines`` to the worker's stdin (a pipe), wait for the final event of job ``answered`` (closing stdin
    cancels what has not run), close stdin, and serve until the worker stops by itself."""
    read_fd, write_fd = os.pipe()
    reader = threading.Thread(target=serving.read_requests, args=(read_fd,), daemon=True)
    server = threading.Thread(target=serving.serve, daemon=True)
    reader.start()
    server.start()
    try:
        for line in lines:
            os.write(write_fd, line)
        deadline = time.monotonic() + timeout
        while answered is not None and time.monotonic() < deadline and not any(
                e["id"] == answered and e["event"] in protocol.FINAL_EVENTS for e in list(serving.events.sent)):
            time.sleep(0.01)
    finally:
        os.close(write_fd)
    reader.join(timeout)
    server.join(timeout)
    os.close(read_fd)
    assert not reader.is_alive(), "the reader did not notice stdin closing"
    assert not server.is_alive(), "the worker did not stop when stdin closed"


# --- item 3: one malformed request must not wedge the worker ---------------------------------------------------

BAD_LINES = {
    "id a list (the issue)": (THE_ISSUES_LINES[0], None),
    "cancel of an object (the issue)": (THE_ISSUES_LINES[1], 2),
    "id an object": (b'{"id":{},"op":"models"}', None),
    "id true": (b'{"id":true,"op":"models"}', None),
    "id a float": (b'{"id":1.5,"op":"models"}', None),
    "op a list": (b'{"id":3,"op":["hello"]}', 3),
    "op an object": (b'{"id":3,"op":{"a":1}}', 3),
    "no op": (b'{"id":3}', 3),
    "not JSON": (b"this is not json", None),
    "not an object": (b"[1, 2, 3]", None),
    "a bare string": (b'"hello"', None),
    "not UTF-8": (b'{"id":4,"op":"hello\xff\xfe"}', None),
    "nested too deep": (b"[" * 200_000 + b"]" * 200_000, None),
    "enormous": (b'{"id":5,"op":"hello","pad":"' + b"x" * (2 * request_schema.MAX_LINE_BYTES) + b'"}', None),
}


@pytest.mark.parametrize("line, job_id", BAD_LINES.values(), ids=list(BAD_LINES))
def test_a_malformed_line_gets_bad_request_and_the_worker_serves_on_and_ends_with_stdin(folder, line, job_id):
    events = RecordingEvents()
    serving = worker.Worker(FakeUpscaler(), events, payload_folder=folder)
    serve_lines(serving, [line + b"\n", json.dumps(good_upscale(folder)).encode() + b"\n"], answered=50)
    assert_bad_request(events.sent[0], job_id)
    finals = [e for e in events.sent if e["event"] in protocol.FINAL_EVENTS]
    assert len(finals) == 2 and finals[1]["id"] == 50 and finals[1]["event"] == "result", finals
    assert rawimage.read_header(folder / "out.raw")[1] == (4, 4)


def test_an_enormous_line_without_newline_still_ends_with_stdin(folder):
    events = RecordingEvents()
    serving = worker.Worker(FakeUpscaler(), events, payload_folder=folder)
    serve_lines(serving, [b"{" * (3 * request_schema.MAX_LINE_BYTES)])
    assert [e["error"]["kind"] for e in events.sent] == [Kind.BAD_REQUEST]
    assert "longer than" in events.sent[0]["error"]["message"]


def test_read_lines_hands_over_only_the_start_of_an_enormous_line():
    read_fd, write_fd = os.pipe()
    data = b"a" * 5000 + b"\nnext\n" + b"b" * 3000
    writer = threading.Thread(target=lambda: (os.write(write_fd, data), os.close(write_fd)))
    writer.start()
    lines = list(worker.read_lines(read_fd, max_line=1000, chunk=700))
    writer.join()
    os.close(read_fd)
    assert lines == [b"a" * 1001, b"next\n", b"b" * 1001]


WRONG_TYPES = {
    # name: (request fields besides id, the field the message must name, the type it must name)
    "cancel job an object": ({"op": "cancel", "job": {}}, "'job'", "an integer"),
    "cancel job a string": ({"op": "cancel", "job": "3"}, "'job'", "an integer"),
    "upscale input a number": ({"op": "upscale", "input": 5, "output": "o"}, "'input'", "a string"),
    "upscale options a string": ({"op": "upscale", "options": "fast"}, "'options'", "an object"),
    "option scale a string": ({"op": "upscale", "options": {"scale": "x"}}, "'scale'", "a finite number"),
    "option scale infinite": ({"op": "upscale", "options": {"scale": 1e999}}, "'scale'", "a finite number"),
    "option tile a string": ({"op": "upscale", "options": {"tile": "32"}}, "'tile'", "an integer"),
    "option tile a float": ({"op": "upscale", "options": {"tile": 32.5}}, "'tile'", "an integer"),
    "option target a number": ({"op": "upscale", "options": {"target": 5}}, "'target'", "[width, height]"),
    "option model a list": ({"op": "upscale", "options": {"model": ["x"]}}, "'model'", "a string"),
    "option fill_transparent a string": ({"op": "upscale", "options": {"fill_transparent": "no"}},
                                         "'fill_transparent'", "true or false"),
    "cover target a string": ({"op": "cover", "target": "1280x720"}, "'target'", "[width, height]"),
    "cover preset a number": ({"op": "cover", "preset": 3}, "'preset'", "a string"),
    "cover fit a list": ({"op": "cover", "preset": "video-16x9", "fit": ["pad"]}, "'fit'", "a string"),
    "export max_bytes a string": ({"op": "export", "max_bytes": "100"}, "'max_bytes'", "an integer"),
    "export format a number": ({"op": "export", "format": 1}, "'format'", "a string"),
    "export path a list": ({"op": "export", "path": ["/tmp/a.jpg"]}, "'path'", "a string"),
    "an unknown field": ({"op": "upscale", "ouput": "o"}, "'ouput'", "its fields"),
    "a missing field": ({"op": "cancel"}, "'job'", "an integer"),
}


@pytest.mark.parametrize("fields, field, expected", WRONG_TYPES.values(), ids=list(WRONG_TYPES))
def test_a_field_of_the_wrong_type_is_bad_request_naming_field_and_type(folder, tmp_path, fields, field, expected):
    """Before: an ``internal`` error with the raw exception text (or a dead reader, or ``bad_input``)."""
    serving = worker.Worker(FakeUpscaler(), RecordingEvents(), payload_folder=folder)
    base = {"upscale": good_upscale(folder), "cover": dict(good_upscale(folder), op="cover"),
            "export": {"op": "export", "input": str(folder / "in.raw"), "path": str(tmp_path / "outside" / "c.png")},
            "cancel": {}}[fields["op"]]
    request = {**base, "id": 7, **fields}
    assert_bad_request(answer(serving, request), 7, field, expected)
    assert answer(serving, good_upscale(folder))["event"] == "result"
    assert not (tmp_path / "outside" / "c.png").exists()


def test_every_op_has_a_field_list_and_every_option_a_type():
    assert set(request_schema.FIELDS) == set(protocol.OPS)
    from krita_realesrgan.common.formats import UpscaleOptions
    assert set(request_schema.OPTION_TYPES) == set(UpscaleOptions.__dataclass_fields__)


# --- item 4: payload paths stay in the client's folder ---------------------------------------------------------

def test_an_output_payload_outside_the_folder_is_refused_and_the_file_untouched(folder, tmp_path):
    victim = precious(tmp_path / "outside" / "thesis.docx")
    serving = worker.Worker(FakeUpscaler(), RecordingEvents(), payload_folder=folder)
    for output in (victim, folder / ".." / "outside" / "thesis.docx", Path(os.path.relpath(victim))):
        event = answer(serving, dict(good_upscale(folder), output=str(output)))
        assert_bad_request(event, 50, "'output'", "payload folder", str(folder))
    assert untouched(victim) and sorted(p.name for p in victim.parent.iterdir()) == ["thesis.docx"]


def test_a_symlink_in_the_folder_pointing_out_counts_as_outside(folder, tmp_path):
    victim = precious(tmp_path / "outside" / "photo.png")
    (folder / "job1-out.raw").symlink_to(victim)
    (folder / "job1-in.raw").symlink_to(victim)
    (folder / "linked").symlink_to(tmp_path / "outside", target_is_directory=True)
    serving = worker.Worker(FakeUpscaler(), RecordingEvents(), payload_folder=folder)
    for field, path in [("output", folder / "job1-out.raw"), ("input", folder / "job1-in.raw"),
                        ("output", folder / "linked" / "new.raw")]:
        assert_bad_request(answer(serving, dict(good_upscale(folder), **{field: str(path)})), 50, repr(field))
    assert untouched(victim) and sorted(p.name for p in victim.parent.iterdir()) == ["photo.png"]


def test_the_folder_given_through_a_symlink_still_takes_its_payloads(folder, tmp_path):
    (tmp_path / "alias").symlink_to(folder, target_is_directory=True)
    serving = worker.Worker(FakeUpscaler(), RecordingEvents(), payload_folder=tmp_path / "alias")
    assert answer(serving, good_upscale(tmp_path / "alias"))["event"] == "result"
    assert answer(serving, good_upscale(folder, 51))["event"] == "result"


def test_input_and_background_payloads_outside_the_folder_are_refused(folder, tmp_path):
    outside = payload(tmp_path / "outside", "in.raw", np.zeros((2, 2), np.uint8), GREY)
    victim = precious(tmp_path / "outside" / "bg.raw")
    serving = worker.Worker(FakeUpscaler(), RecordingEvents(), payload_folder=folder)
    assert_bad_request(answer(serving, dict(good_upscale(folder), input=str(outside))), 50, "'input'")
    cover = dict(good_upscale(folder), op="cover", preset="video-16x9", fit="pad", background_output=str(victim))
    assert_bad_request(answer(serving, cover), 50, "'background_output'")
    assert untouched(victim)


def test_a_worker_without_a_payload_folder_takes_no_payloads(folder):
    serving = worker.Worker(FakeUpscaler(), RecordingEvents())
    assert_bad_request(answer(serving, good_upscale(folder)), 50, "without a payload folder")
    assert answer(serving, {"id": 1, "op": "models"})["event"] == "models"


@pytest.mark.parametrize("name, problem", [("notes.txt", "ending in .jpg"), ("notes", "ending in .jpg"),
                                           ("relative.png", "absolute"), ("bad\0name.jpg", "NUL"),
                                           ("lone\ud800surrogate.png", "not a usable file name")])
def test_export_takes_only_an_absolute_file_name_with_an_export_extension(folder, tmp_path, name, problem):
    """Before: the export wrote any name it was given (over ``notes.txt`` when the format was named, a relative
    name into the worker's working folder)."""
    outside = tmp_path / "outside"
    target = outside / name if name != "relative.png" else Path(name)
    if name.startswith("notes"):
        precious(target)
    before = sorted(outside.iterdir())
    serving = worker.Worker(FakeUpscaler(), RecordingEvents(), payload_folder=folder)
    request = {"id": 8, "op": "export", "input": str(folder / "in.raw"), "path": str(target), "format": "jpg"}
    assert_bad_request(answer(serving, request), 8, "'path'", problem)
    assert sorted(outside.iterdir()) == before and not Path("relative.png").exists()
    assert not name.startswith("notes") or untouched(target)


def test_export_still_writes_the_users_file_outside_the_folder(folder, tmp_path):
    serving = worker.Worker(FakeUpscaler(), RecordingEvents(), payload_folder=folder)
    target = tmp_path / "outside" / "cover.png"
    reply = answer(serving, {"id": 9, "op": "export", "input": str(folder / "in.raw"), "path": str(target),
                             "format": None, "max_bytes": None})
    assert reply["event"] == "result" and reply["format"] == "png", reply
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("argv, message", [([], "--payloads"), (["--payloads", "MISSING"], "No such file"),
                                           (["--payloads", "SHARED"], "others may write"),
                                           (["--payloads", "FILE"], "not a folder")])
def test_the_worker_refuses_to_start_without_a_private_payload_folder(tmp_path, capsys, argv, message):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    (tmp_path / "file").write_text("x")
    places = {"MISSING": str(tmp_path / "missing"), "SHARED": str(shared), "FILE": str(tmp_path / "file")}
    with pytest.raises(SystemExit) as stopped:
        worker.main([places.get(arg, arg) for arg in argv])
    assert stopped.value.code == 2 and message in capsys.readouterr().err


# --- fuzzing: random JSON of every type, random field values for each op ---------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=8)
PLAUSIBLE = st.sampled_from([2, 0.5, 0, -1, 32, "auto", "fp32", "network", [64, 48], [0, 5], True, False, "",
                             "video-16x9", "pad", "cover", "blur", "#202020", "png", 1000])


def request_lines(folder: Path):
    """Lines a confused or hostile client might send: any JSON value, or a request for a real op whose fields
    hold anything (paths inside and outside the payload folder included), sometimes with unknown fields."""
    outside = folder.parent / "outside"
    paths = st.sampled_from([str(folder / "in.raw"), str(folder / "out.raw"), str(folder / "bg.raw"),
                             str(outside / "x.raw"), str(folder / ".." / "outside" / "x.raw"), "in.raw", "",
                             str(outside / "c.jpg"), str(outside / "c.txt"), "c.png", "/", str(folder)])
    options = st.dictionaries(st.sampled_from([*request_schema.OPTION_TYPES, "colour"]), JSON | PLAUSIBLE,
                              max_size=4)
    values = JSON | PLAUSIBLE | paths | options

    def with_fields(op):
        names = [field.name for field in request_schema.FIELDS[op]] + ["colour"]
        return st.dictionaries(st.sampled_from(names), values, max_size=len(names)).map(lambda f: {"op": op, **f})

    ids = st.integers() | JSON
    requests = st.tuples(ids, st.one_of([with_fields(op) for op in protocol.OPS])).map(lambda p: {"id": p[0], **p[1]})
    loose = st.dictionaries(st.sampled_from(["id", "op", "job", "input", "output"]), JSON | PLAUSIBLE, max_size=4)
    return st.one_of(requests, nearly_right_requests(folder), loose, JSON).map(lambda v: json.dumps(v).encode()) | \
        st.binary(max_size=40).map(lambda b: b.replace(b"\n", b" "))


def nearly_right_requests(folder: Path):
    """Requests with every field an op needs, each usually of the right type (so that they reach the handlers
    with odd values), now and then of any type."""
    def maybe(right):
        return st.one_of(*[right] * 9, JSON)

    inside = st.sampled_from([str(folder / "in.raw"), str(folder / "out.raw"), str(folder / "bg.raw")])
    text = st.sampled_from(["auto", "cpu", "cuda:7", "fp16", "fp8", "network", "resize", "realesr-animevideov3",
                            "no-such-model", "video-16x9", "pad", "cover", "blur", "#202020", "", "jpg"]) | st.text()
    numbers = st.integers() | st.floats()
    option_values = {"scale": numbers | st.none(), "denoise": numbers | st.none(), "tile": st.integers(-3, 300),
                     "max_pixels": st.integers(), "fill_transparent": st.booleans(),
                     "target": st.lists(st.integers(-2, 300), min_size=2, max_size=2) | st.none()}
    options = st.fixed_dictionaries({}, optional={name: maybe(option_values.get(name, text))
                                                  for name in request_schema.OPTION_TYPES})
    values = {"input": inside, "output": inside, "background_output": inside, "options": options, "job": st.integers(),
              "target": st.lists(st.integers(-2, 300), min_size=2, max_size=2), "max_bytes": st.integers(),
              "path": st.sampled_from([str(folder.parent / "outside" / name) for name in ("c.jpg", "c.PNG", "c.webp")])}

    def request(op):
        fields = {field.name: maybe(values.get(field.name, text)) for field in request_schema.FIELDS[op]}
        required = {name: fields.pop(name) for name in [f.name for f in request_schema.FIELDS[op] if f.required]}
        return st.fixed_dictionaries({"id": st.integers(), "op": st.just(op), **required}, optional=fields)
    return st.one_of([request(op) for op in protocol.OPS])


def parsed(line: bytes):
    """The JSON value on a line, or None."""
    try:
        return json.loads(line.decode("utf-8"))
    except (ValueError, RecursionError):
        return None


def typed_stub(folder: Path):
    """A cover/export handler that only checks what reached it (so the fuzz writes no user file): the fields
    the protocol documents, of their types, payloads in the folder. A failed check is an ``internal`` error."""
    def handler(job):
        request = job.request
        assert isinstance(request["id"], int) and not isinstance(request["id"], bool)
        for name in ("input", "output", "background_output"):
            if request.get(name) is not None:
                assert Path(os.path.realpath(request[name])).parent == Path(os.path.realpath(folder))
        if request["op"] == "export":
            assert isinstance(request["path"], str) and os.path.isabs(request["path"])
            assert Path(request["path"]).suffix.lower() in (".jpg", ".jpeg", ".png", ".webp")
            assert request.get("max_bytes") is None or type(request["max_bytes"]) is int
        assert request.get("options") is None or isinstance(request["options"], dict)
        assert request.get("target") is None or (isinstance(request["target"], list) and
                                                 all(type(v) is int for v in request["target"]))
        return job.reply("result")
    return handler


@pytest.fixture(scope="module")
def fuzz_folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    inside = root / "payloads"
    inside.mkdir(mode=0o700)
    (root / "outside").mkdir()
    payload(inside, "in.raw", np.arange(4, dtype=np.uint8).reshape(2, 2), GREY)
    return inside


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_each_line_gets_one_answer_never_internal_and_a_good_request_still_works(fuzz_folder, data):
    handlers = dict(worker.HANDLERS, cover=typed_stub(fuzz_folder), export=typed_stub(fuzz_folder))
    payload(fuzz_folder, "in.raw", np.arange(4, dtype=np.uint8).reshape(2, 2), GREY)   # a fuzzed job may replace it
    events = RecordingEvents()
    serving = worker.Worker(FakeUpscaler(), events, handlers, payload_folder=fuzz_folder)
    for line in data.draw(st.lists(request_lines(fuzz_folder), min_size=1, max_size=5)):
        sent = len(events.sent)
        serving.accept(line)
        said = events.sent[sent:]
        try:
            queued = [serving.requests.get_nowait()]
        except queue.Empty:
            queued = []
        if said:       # refused by the reader: one bad_request error, nothing queued
            assert len(said) == 1 and said[0]["error"]["kind"] == Kind.BAD_REQUEST and not queued, (line, said)
            message = parsed(line)
            if isinstance(message, dict) and type(message.get("id")) is int:
                assert said[0]["id"] == message["id"]
        elif not queued:   # only a cancel is taken without a word
            assert json.loads(line)["op"] == "cancel"
        for request in queued:
            reply = serving.run_job(request)
            event(f"{request['op']} -> {reply['event']} {reply.get('error', {}).get('kind', '')}")
            assert reply["event"] in protocol.FINAL_EVENTS and reply["id"] == request["id"]
            if reply["event"] == "error":
                assert reply["error"]["kind"] != Kind.INTERNAL, (request, reply)
    assert answer(serving, good_upscale(fuzz_folder))["event"] == "result"
    assert sorted(p.name for p in (fuzz_folder.parent / "outside").iterdir()) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_through_the_pipe_the_worker_always_ends_when_stdin_closes(fuzz_folder, data):
    lines = data.draw(st.lists(request_lines(fuzz_folder) | st.binary(max_size=60), max_size=6))
    events = RecordingEvents()
    serving = worker.Worker(FakeUpscaler(), events, payload_folder=fuzz_folder)
    serve_lines(serving, [line + b"\n" for line in lines])
    assert all(e["error"]["kind"] != Kind.INTERNAL for e in events.sent if e["event"] == "error")


# --- the real worker process ---------------------------------------------------------------------------------------

@pytest.mark.slow
def test_real_worker_survives_bad_and_fuzzed_lines_keeps_files_and_exits_when_stdin_closes(tmp_path, shared_weights):
    """Before: the issue's lines killed the reader (no answer, the worker never exited on stdin closing), and an
    output payload anywhere was overwritten with raw pixels."""
    victim = precious(tmp_path / "victim.txt")
    folder = tmp_path / "payloads"
    folder.mkdir(mode=0o700)
    (folder / "link.raw").symlink_to(victim)
    source = payload(folder, "in.raw", np.full((8, 8, 3), 100, np.uint8), PixelFormat("uint8", 3))
    raw = RawWorker(folder, shared_weights)
    probes = iter(range(10_000, 20_000))

    def answers(line: bytes):
        """The events a line causes, ended by the answer to a probe (which shows the worker still serves)."""
        probe = next(probes)
        raw.send(line + b"\n")
        raw.send({"id": probe, "op": "models"})
        events = raw.until_final(probe)
        assert events[-1]["event"] == "models"
        return events[:-1]

    try:
        for line, job_id in BAD_LINES.values():
            said = answers(line)
            assert len(said) == 1, (line[:60], said)
            assert_bad_request(said[0], job_id)
        for output in (victim, folder / "link.raw"):
            said = answers(json.dumps({"id": 5, "op": "upscale", "input": str(source), "output": str(output),
                                       "options": {}}).encode())
            assert_bad_request(said[-1], 5, "'output'", "payload folder")
        assert untouched(victim)

        @settings(max_examples=25, deadline=None, database=None)
        @given(line=request_lines(folder))
        def fuzzed(line):
            try:
                assume(request_schema.parse(line, folder)["op"] in ("hello", "models", "cancel"))
            except request_schema.BadRequest:
                pass     # refused: what this test is after (valid jobs, and shutdown, run in-process above)
            said = answers(line)
            assert all(e["event"] != "error" or e["error"]["kind"] == Kind.BAD_REQUEST for e in said), said
        fuzzed()

        raw.send({"id": 6, "op": "upscale", "input": str(source), "output": str(folder / "out.raw"), "options": {}})
        assert raw.until_final(6)[-1]["event"] == "result"
        raw.popen.stdin.close()          # no shutdown request: stdin closing alone must end the worker
        assert raw.popen.wait(30) == 0
    finally:
        if raw.popen.poll() is None:
            raw.popen.kill()
            raw.popen.wait()
    assert untouched(victim) and sorted(p.name for p in tmp_path.iterdir()) == ["payloads", "victim.txt"]
