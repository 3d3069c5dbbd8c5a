"""The engine service (``krita-realesrgan serve``) and EngineClient over it: several clients on one service in
fair order with their own cancels, tokens, limits, a killed service, the idle exit, and remote over loopback TCP
equal to the in-process engine."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from krita_realesrgan.common import paths, protocol, rawimage, service_client, service_wire
from krita_realesrgan.cli import exit_codes, main as cli
from krita_realesrgan.common.client import EngineClient
from krita_realesrgan.common.engine_process import WorkerProcess
from krita_realesrgan.common.errors import Cancelled, EngineError, Kind
from krita_realesrgan.common.formats import PixelFormat, UpscaleOptions
from krita_realesrgan.common.geometry import Extent
from krita_realesrgan.cli.serve import LocalSocket, tls_context
from krita_realesrgan.serving.service import Service
from krita_realesrgan.common.service_wire import EngineAddress, ServiceLimits
from helpers import FakeUpscaler, engine_env

GREY = PixelFormat("uint8", 1)


class OrderedFake(FakeUpscaler):
    """Records which picture (its first sample) each upscale starts on."""

    def __init__(self):
        super().__init__()
        self.order, self.options = [], []

    def upscale(self, image, fmt, options, progress=None, cancel=None):
        self.order.append(int(image.flat[0]))
        self.options.append(options)
        return super().upscale(image, fmt, options, progress, cancel)


@pytest.fixture
def runtime():
    """A short runtime folder (a Unix socket's path is limited to about 100 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="krs-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def client_env(runtime: Path, weights: Path = Path("/nowhere")) -> dict:
    return engine_env(runtime, weights, XDG_RUNTIME_DIR=str(runtime))


@contextlib.contextmanager
def in_process_service(upscaler, runtime: Path, limits=ServiceLimits(), tcp_token: str = "", tls=None):
    """A Service on a thread: the local socket of ``client_env(runtime)``, or loopback TCP with ``tcp_token``."""
    if tcp_token:
        sock = socket.create_server(("127.0.0.1", 0))
        listeners = [(sock, True)]
    else:
        path = paths.service_socket(client_env(runtime))
        service_client.private_folder(path.parent)
        listeners = [(LocalSocket(path).bind(), False)]
    service = Service(upscaler, listeners, limits, idle_timeout=0, token=tcp_token, tls=tls)
    thread = threading.Thread(target=service.run, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        service.stop()
        thread.join(5)


def local_client(runtime: Path) -> EngineClient:
    return EngineClient(python=sys.executable, env=client_env(runtime), engine=EngineAddress())


def grey(value: int, size: int = 4) -> bytes:
    return bytes([value]) * (size * size)


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


# --- in-process service, fake engine -----------------------------------------------------------------------------

def test_two_clients_share_one_service_in_fair_order_with_their_own_cancels(runtime):
    fake = OrderedFake()
    fake.release.clear()                                   # the first job holds the engine until released
    with in_process_service(fake, runtime) as service, local_client(runtime) as alice, local_client(runtime) as bob:
        assert alice.start()["pid"] == bob.start()["pid"] == os.getpid()      # one engine for both
        a1 = alice.submit(grey(11), GREY, Extent(4, 4), UpscaleOptions())
        assert fake.started.wait(5)
        a_rest = [alice.submit(grey(v), GREY, Extent(4, 4), UpscaleOptions()) for v in (12, 13)]
        b_jobs = [bob.submit(grey(v), GREY, Extent(4, 4), UpscaleOptions()) for v in (21, 22, 23)]
        wait_for(lambda: service.scheduler.count() == 6)
        a1.cancel()                                        # running: alice's first job
        b_jobs[1].cancel()                                 # queued: bob's second
        time.sleep(0.1)
        fake.release.set()
        with pytest.raises(Cancelled):
            a1.result(10)
        with pytest.raises(Cancelled):
            b_jobs[1].result(10)
        for job, value in zip((a_rest[0], a_rest[1], b_jobs[0], b_jobs[2]), (12, 13, 21, 23)):
            data, extent = job.result(10)
            assert extent == Extent(8, 8) and data == bytes([value]) * 64
            assert job.progress == (3, 3)
    # round robin: alice's running job, then bob and alice in turn; a cancelled queued job never reaches the engine
    assert fake.order == [11, 21, 12, 13, 23]


def test_a_client_that_goes_away_cancels_its_jobs_and_the_other_goes_on(runtime):
    fake = OrderedFake()
    fake.release.clear()
    with in_process_service(fake, runtime) as service, local_client(runtime) as bob:
        alice = local_client(runtime)
        alice.submit(grey(11), GREY, Extent(4, 4), UpscaleOptions())
        assert fake.started.wait(5)
        alice.submit(grey(12), GREY, Extent(4, 4), UpscaleOptions())
        job = bob.submit(grey(21), GREY, Extent(4, 4), UpscaleOptions())
        wait_for(lambda: service.scheduler.count() == 3)
        alice.close()
        wait_for(lambda: not service.connections or len(service.connections) == 1)
        fake.release.set()
        assert job.result(10)[0] == bytes([21]) * 64
    assert fake.order == [11, 21]                          # alice's queued job was cancelled, not run


def test_export_writes_the_clients_file_and_its_errors_leave_none(runtime, tmp_path):
    from krita_realesrgan.common.job_outcomes import ExportOutcome
    noise = np.random.default_rng(1).integers(0, 256, (60, 80, 3), np.uint8)
    with in_process_service(OrderedFake(), runtime), local_client(runtime) as client:
        outcome = ExportOutcome.of(client.submit_export(noise.tobytes(), PixelFormat("uint8", 3), Extent(80, 60),
                                                        tmp_path / "cover.png"), timeout=30)
        assert outcome.path == tmp_path / "cover.png" and outcome.bytes == outcome.path.stat().st_size
        assert (cv2.cvtColor(cv2.imread(str(outcome.path)), cv2.COLOR_BGR2RGB) == noise).all()     # lossless PNG
        blocker = tmp_path / "a-file"
        blocker.write_text("not a folder")
        with pytest.raises(EngineError) as caught:
            ExportOutcome.of(client.submit_export(noise.tobytes(), PixelFormat("uint8", 3), Extent(80, 60),
                                                  blocker / "cover.png"), timeout=30)
        assert caught.value.kind == Kind.BAD_INPUT and f"Could not save the cover as {blocker / 'cover.png'}" in caught.value.message
        with pytest.raises(EngineError) as caught:
            ExportOutcome.of(client.submit_export(noise.tobytes(), PixelFormat("uint8", 3), Extent(80, 60),
                                                  tmp_path / "cover.gif"), timeout=30)
        assert "cover.gif" in caught.value.message
        # the client's next job still works (the stream stayed in step after the failed write)
        assert client.submit(grey(4), GREY, Extent(4, 4), UpscaleOptions()).result(10)[0] == bytes([4]) * 64
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "cover.png"]     # no .part left behind


def test_limits_over_size_busy_and_pixels_are_refused_with_clear_errors(runtime):
    fake = OrderedFake()
    fake.release.clear()
    limits = ServiceLimits(max_request_bytes=20_000, max_pixels=10_000, max_jobs=2)
    with in_process_service(fake, runtime, limits), local_client(runtime) as client:
        assert client.start()["limits"] == limits.to_json()
        big = client.submit(bytes(80 * 80 * 4), PixelFormat("uint8", 4), Extent(80, 80), UpscaleOptions())
        with pytest.raises(EngineError) as caught:
            big.result(5)
        assert caught.value.kind == Kind.TOO_LARGE and "up to 20,000" in caught.value.message
        first = client.submit(grey(1), GREY, Extent(4, 4), UpscaleOptions())
        second = client.submit(grey(2), GREY, Extent(4, 4), UpscaleOptions())
        third = client.submit(grey(3), GREY, Extent(4, 4), UpscaleOptions())
        with pytest.raises(EngineError) as caught:
            third.result(5)
        assert caught.value.kind == Kind.BUSY and "2 jobs" in caught.value.message
        fake.release.set()
        assert first.result(5)[1] == second.result(5)[1] == Extent(8, 8)
        assert [options.max_pixels for options in fake.options] == [10_000, 10_000]   # the result's limit, capped
        wide = client.submit(bytes(101 * 101), GREY, Extent(101, 101), UpscaleOptions())
        with pytest.raises(EngineError) as caught:
            wide.result(5)
        assert caught.value.kind == Kind.TOO_LARGE and "10,201 pixels" in caught.value.message

        # the service checks the announced size itself, before reading the bytes (a client that skips the check)
        with socket.socket(socket.AF_UNIX) as raw:
            raw.connect(str(paths.service_socket(client_env(runtime))))
            raw.sendall(protocol.encode({"id": 7, "op": "upscale", "input": "a.raw", "output": "b.raw",
                                         "attach": [["input", 500_000_000]]}))
            lines = raw.makefile("rb")
            assert json.loads(lines.readline())["event"] == "welcome"
            reply = json.loads(lines.readline())
            assert reply["id"] == 7 and reply["error"]["kind"] == Kind.TOO_LARGE
            assert raw.recv(1) == b""                       # and closes: the bytes are never read


def test_bad_frames_are_answered_and_the_connection_stays_in_step(runtime):
    payload = rawimage.header_bytes(GREY, Extent(2, 2)) + bytes([7]) * 4
    with in_process_service(OrderedFake(), runtime), socket.socket(socket.AF_UNIX) as raw:
        raw.connect(str(paths.service_socket(client_env(runtime))))
        lines = raw.makefile("rb")
        assert json.loads(lines.readline())["event"] == "welcome"
        job = {"op": "upscale", "input": "in.raw", "output": "out.raw", "options": {}}
        raw.sendall(protocol.encode(dict(job, id=1, attach=[["output", len(payload)]])) + payload)   # not an input
        raw.sendall(protocol.encode(dict(job, id=2)))                                                  # no contents
        raw.sendall(protocol.encode(dict(job, id=3, input="../../etc/passwd", attach=[["input", len(payload)]]))
                    + payload)
        replies = [json.loads(lines.readline()) for _ in range(2)]
        assert [(r["id"], r["error"]["kind"]) for r in replies] == [(1, Kind.BAD_REQUEST), (2, Kind.BAD_REQUEST)]
        assert "not one of its inputs" in replies[0]["error"]["message"]
        events = []
        while not events or events[-1]["event"] == "progress":
            events.append(json.loads(lines.readline()))
        result = events[-1]
        assert result["id"] == 3 and result["event"] == "result" and result["output"] == "out.raw"
        assert result["attach"][0][0] == "output"
        data = lines.read(result["attach"][0][1])
        assert data.endswith(bytes([7]) * 16)                 # the 4x4 result, received in full after its line


def test_tcp_needs_the_right_token(runtime):
    with in_process_service(OrderedFake(), runtime, tcp_token="correct horse") as service:
        port = service.listeners[0][0].getsockname()[1]
        remote = EngineClient(env=client_env(runtime), engine=EngineAddress("127.0.0.1", port, "correct horse"))
        with remote:
            assert remote.start()["event"] == "ready"
            data, extent = remote.submit(grey(5), GREY, Extent(4, 4), UpscaleOptions()).result(10)
            assert data == bytes([5]) * 64
        for token in ("wrong", ""):
            intruder = EngineClient(env=client_env(runtime), engine=EngineAddress("127.0.0.1", port, token))
            with pytest.raises(EngineError) as caught:
                intruder.start()
            assert caught.value.kind == Kind.BAD_REQUEST and "wrong or missing token" in caught.value.message
        with socket.create_connection(("127.0.0.1", port)) as raw:     # a request instead of the token
            raw.sendall(protocol.encode({"id": 1, "op": "hello"}))
            reply = json.loads(raw.makefile("rb").readline())
            assert reply["event"] == "error" and "token" in reply["error"]["message"]


def test_engine_options_on_the_command_line_are_checked(tmp_path, images, capsys):
    out = tmp_path / "out.png"
    assert cli.main(["-i", str(images / "wolf_gray.jpg"), "-o", str(out), "--engine", "10.0.0.2:7860"]) == 1
    assert "--engine 10.0.0.2:7860 needs --token-file FILE" in capsys.readouterr().err
    assert cli.main(["-i", str(images / "wolf_gray.jpg"), "-o", str(out), "--engine", "somewhere"]) == 1
    assert "is not 'local' or HOST:PORT" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="makes its certificate with openssl")
def test_tls_with_the_services_certificate(runtime, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    with in_process_service(OrderedFake(), runtime, tcp_token="t0ken", tls=tls_context(cert, key)) as service:
        port = service.listeners[0][0].getsockname()[1]
        secure = EngineAddress("127.0.0.1", port, "t0ken", cafile=str(cert))
        with EngineClient(env=client_env(runtime), engine=secure) as client:
            assert client.submit(grey(9), GREY, Extent(4, 4), UpscaleOptions()).result(10)[0] == bytes([9]) * 64
        plain = EngineClient(env=client_env(runtime), engine=EngineAddress("127.0.0.1", port, "t0ken"))
        with pytest.raises(EngineError) as caught:      # plain TCP to a TLS service: no welcome
            plain.start()
        assert f"Cannot reach the engine at 127.0.0.1:{port}" in caught.value.message


def test_the_editors_engine_comes_from_the_config_or_the_environment(tmp_path):
    config = tmp_path / "config.json"
    env = {"HOME": str(tmp_path), "KRITA_REALESRGAN_CONFIG": str(config)}
    assert service_client.configured_engine(env) is None                          # default: a worker of their own
    assert service_client.configured_engine(dict(env, KRITA_REALESRGAN_ENGINE="local")) == EngineAddress()
    config.write_text(json.dumps({"python": "/x", "engine": "gpu-box:7860"}))
    with pytest.raises(EngineError) as caught:
        service_client.configured_engine(env)
    assert "needs 'engine_token_file'" in caught.value.message
    (tmp_path / "token").write_text("abc\n")
    config.write_text(json.dumps({"python": "/x", "engine": "gpu-box:7860", "engine_token_file": str(tmp_path / "token")}))
    assert service_client.configured_engine(env) == EngineAddress("gpu-box", 7860, "abc")
    assert service_client.configured_engine(dict(env, KRITA_REALESRGAN_ENGINE="worker")) is None


def test_gimp_defaults_to_the_local_service_where_there_are_unix_sockets(tmp_path):
    env = {"HOME": str(tmp_path), "KRITA_REALESRGAN_CONFIG": str(tmp_path / "config.json")}
    default = service_client.PER_CALL_DEFAULT
    assert default == (service_wire.LOCAL if os.name == "posix" else service_client.WORKER)
    expected = EngineAddress() if os.name == "posix" else None
    assert service_client.configured_engine(env, default=default) == expected
    assert service_client.configured_engine(dict(env, KRITA_REALESRGAN_ENGINE="worker"), default=default) is None


def test_the_editors_engine_setting_is_the_config_files_and_keeps_its_other_keys(tmp_path):
    from krita_realesrgan.common import engine_setting
    from krita_realesrgan.common.engine_setting import OTHER_COMPUTER, THIS_COMPUTER, EngineSetting
    config = tmp_path / "config.json"
    env = {"HOME": str(tmp_path), "KRITA_REALESRGAN_CONFIG": str(config)}
    config.write_text(json.dumps({"version": 1, "python": "/x", "weights": "/w"}))
    assert engine_setting.read(env) == EngineSetting()
    token = tmp_path / "token"
    token.write_text("abc\n")
    assert EngineSetting(OTHER_COMPUTER, "gpu-box", str(token)).problem() == engine_setting.ADDRESS_NEEDED
    assert EngineSetting(OTHER_COMPUTER, "local", str(token)).problem() == engine_setting.ADDRESS_NEEDED
    assert EngineSetting(OTHER_COMPUTER, "gpu-box:7860").problem() == engine_setting.TOKEN_NEEDED
    assert EngineSetting(OTHER_COMPUTER, "gpu-box:7860", str(tmp_path / "none")).problem() == \
        engine_setting.TOKEN_UNREADABLE
    with pytest.raises(EngineError) as caught:                  # refused: the config file stays as it was
        engine_setting.write(EngineSetting(OTHER_COMPUTER, "gpu-box:7860", str(tmp_path / "none")), env)
    assert str(tmp_path / "none") in caught.value.message
    assert json.loads(config.read_text()) == {"version": 1, "python": "/x", "weights": "/w"}
    remote = EngineSetting(OTHER_COMPUTER, "gpu-box:7860", str(token))
    engine_setting.write(remote, env)
    assert engine_setting.read(env) == remote
    assert json.loads(config.read_text())["python"] == "/x"
    assert service_client.configured_engine(env, default=service_client.PER_CALL_DEFAULT) == \
        EngineAddress("gpu-box", 7860, "abc")                   # what both editors then use
    paths.write_config("/y", Path("/w2"), env)                  # the installer run again: the setting stays
    assert engine_setting.read(env) == remote and paths.read_config(env).python == "/y"
    engine_setting.write(EngineSetting(THIS_COMPUTER, "", str(token)), env)    # the token file stays for later
    assert engine_setting.read(env) == EngineSetting(THIS_COMPUTER, "", str(token))
    assert service_client.configured_engine(env) is None
    config.write_text(json.dumps({"engine": "local"}))          # this computer's service, chosen by hand: kept
    engine_setting.write(EngineSetting(), env)
    assert json.loads(config.read_text()) == {"engine": "local"}


def failing_serve_python(folder: Path) -> Path:
    """A python that runs everything but ``-m krita_realesrgan serve`` (exits 3): a service that cannot start."""
    script = folder / "python"
    script.write_text(f'#!/bin/sh\n[ "$3" = serve ] && exit 3\nexec {sys.executable} "$@"\n')
    script.chmod(0o755)
    return script


@pytest.mark.skipif(os.name != "posix", reason="Unix sockets")
def test_a_local_service_that_cannot_start_is_an_error_without_the_fallback(runtime):
    client = EngineClient(python=str(failing_serve_python(runtime)), env=client_env(runtime), engine=EngineAddress())
    with pytest.raises(EngineError) as caught:
        client.start()
    assert caught.value.kind == Kind.ENGINE_MISSING and "could not be started" in caught.value.message


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="Unix sockets")
def test_with_the_fallback_a_service_that_cannot_start_gives_a_worker_of_its_own(runtime, shared_weights):
    env = client_env(runtime, shared_weights)
    with EngineClient(python=str(failing_serve_python(runtime)), env=env, engine=EngineAddress(),
                      worker_fallback=True) as client:
        pid = client.start()["pid"]
        data, extent = client.submit(grey(7, 8), GREY, Extent(8, 8), UpscaleOptions()).result(120)
        assert extent == Extent(32, 32) and len(data) == 32 * 32
        assert isinstance(client._process, WorkerProcess)      # a worker over stdin/stdout, not a connection
        assert pid != os.getpid()
    assert "The local engine service could not be used" in paths.log_file(env).read_text()


def test_unreachable_remote_engine_says_what_to_check(runtime):
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]                      # closed below: nothing listens there
    client = EngineClient(env=client_env(runtime), engine=EngineAddress("127.0.0.1", port, "t"))
    with pytest.raises(EngineError) as caught:
        client.start()
    assert f"Cannot reach the engine at 127.0.0.1:{port}" in caught.value.message
    assert "krita-realesrgan serve --listen" in caught.value.message


def test_listening_without_a_token_is_refused_at_start(capsys, tmp_path):
    """A contradicting command line exits 2 (as argparse does), a token file that cannot be used 1: the same codes
    as every command."""
    assert cli.main(["serve", "--listen", "0.0.0.0:7860"]) == exit_codes.USAGE == 2
    error = capsys.readouterr().err
    assert "refusing to listen on 0.0.0.0:7860 (the network) without a token" in error and "--token-file" in error
    empty = tmp_path / "token"
    empty.write_text("\n")
    assert cli.main(["serve", "--listen", "0.0.0.0:7860", "--token-file", str(empty)]) == exit_codes.FAILED == 1
    assert "is empty" in capsys.readouterr().err


# --- the real service process ------------------------------------------------------------------------------------

def read_rgb(path: Path) -> np.ndarray:
    return np.ascontiguousarray(cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB))


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="Unix sockets and SIGKILL")
def test_local_service_started_on_demand_killed_mid_job_and_restarted(runtime, shared_weights, images):
    env = client_env(runtime, shared_weights)
    socket_path = paths.service_socket(env)
    socket_path.parent.mkdir(mode=0o700)
    socket_path.write_bytes(b"")                            # a stale file where the socket goes: replaced
    client = EngineClient(python=sys.executable, env=env, engine=EngineAddress())
    other = EngineClient(python=sys.executable, env=env, engine=EngineAddress())
    pids = []
    try:
        # two clients at once find no service: both start one, one wins the lock, both end up on the winner
        started = []
        racer = threading.Thread(target=lambda: started.append(other.start()["pid"]))
        racer.start()
        pids.append(client.start()["pid"])
        racer.join(120)
        other.close()
        assert started == pids and pids[0] != os.getpid()
        assert (socket_path.stat().st_mode & 0o777) == 0o600 and (socket_path.parent.stat().st_mode & 0o777) == 0o700
        image = read_rgb(images / "OST_009.png")
        job = client.submit(image.tobytes(), PixelFormat("uint8", 3), Extent(image.shape[1], image.shape[0]),
                            UpscaleOptions(tile=64))
        while job.progress[0] == 0 and not job.done:
            job.poll(0.05)
        os.kill(pids[0], signal.SIGKILL)
        with pytest.raises(EngineError) as caught:
            job.result(timeout=60)
        assert caught.value.kind == Kind.WORKER_DIED and "\n" not in caught.value.message
        small = np.ascontiguousarray(image[:16, :16])
        data, extent = client.submit(small.tobytes(), PixelFormat("uint8", 3), Extent(16, 16),
                                     UpscaleOptions()).result(120)
        assert extent == Extent(64, 64)
        pids.append(client.start()["pid"])
        assert pids[1] != pids[0]
    finally:
        client.close()
        for pid in pids[1:]:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="Unix sockets")
def test_idle_service_exits_and_removes_its_socket(runtime, shared_weights):
    env = client_env(runtime, shared_weights)
    service = subprocess.Popen([sys.executable, "-m", "krita_realesrgan", "serve", "--idle-timeout", "2"], env=env,
                               stderr=subprocess.PIPE)
    try:
        socket_path = paths.service_socket(env)
        wait_for(socket_path.exists, 120)
        with EngineClient(python=sys.executable, env=env, engine=EngineAddress()) as client:
            assert client.start()["pid"] == service.pid
            time.sleep(3)                                    # connected: not idle, however long
            assert service.poll() is None
        started = time.monotonic()
        assert service.wait(20) == 0
        assert 1.5 < time.monotonic() - started < 10
        assert not socket_path.exists()
    finally:
        if service.poll() is None:
            service.kill()
            service.wait()


@pytest.mark.slow
def test_remote_over_loopback_with_a_token_equals_the_local_engine(tmp_path, shared_weights, upscaler, images, capsys):
    token_file = tmp_path / "token"
    token_file.write_text("s3cret-token\n")
    env = engine_env(tmp_path)
    service = subprocess.Popen([sys.executable, "-m", "krita_realesrgan", "serve", "--listen", "127.0.0.1:0",
                                "--token-file", str(token_file), "--weights-dir", str(shared_weights),
                                "--idle-timeout", "60"], env=env, stderr=subprocess.PIPE)
    try:
        line = service.stderr.readline().decode()          # "... listening on 127.0.0.1:PORT (plain TCP, ...)"
        assert "listening on 127.0.0.1:" in line and "token required" in line
        port = int(line.split("127.0.0.1:")[1].split()[0])
        image = np.ascontiguousarray(read_rgb(images / "OST_009.png")[:48, :64])
        fmt, options = PixelFormat("uint8", 3), UpscaleOptions(scale=2)
        address = EngineAddress.parse(f"127.0.0.1:{port}", token=service_wire.read_token(token_file))
        with EngineClient(env={"HOME": str(tmp_path)}, engine=address) as remote:
            data, extent = remote.submit(image.tobytes(), fmt, Extent(64, 48), options).result(120)
        got = np.frombuffer(data, np.uint8).reshape(extent.height, extent.width, 3)
        local = upscaler.upscale(image, fmt, options).image
        assert got.shape == local.shape == (96, 128, 3)
        assert np.abs(got.astype(int) - local.astype(int)).max() <= 1

        # the command line's --engine: the same picture through the service, written where -o says
        source, target = tmp_path / "crop.png", tmp_path / "crop_x2.png"
        cv2.imwrite(str(source), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        assert cli.main(["-i", str(source), "-o", str(target), "-s", "2", "--engine", f"127.0.0.1:{port}",
                         "--token-file", str(token_file)]) == 0
        assert np.abs(read_rgb(target).astype(int) - local.astype(int)).max() <= 1
        assert "on the engine service (127.0.0.1:" in capsys.readouterr().out
    finally:
        service.terminate()
        service.wait(30)
