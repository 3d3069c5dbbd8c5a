"""EngineClient against the real worker subprocess and the real weights: results equal the in-process engine,
progress, cancel, a killed worker, a missing engine, structured errors, temporary files."""
from __future__ import annotations

import os
import signal
import stat
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from krita_realesrgan.common.client import EngineClient
from krita_realesrgan.common.errors import Cancelled, EngineError, Kind
from krita_realesrgan.common.formats import PixelFormat, UpscaleOptions
from krita_realesrgan.common.geometry import Bounds, Extent
from krita_realesrgan.common.job_outcomes import CoverOutcome, ExportOutcome
from helpers import engine_env


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(tmp_path_factory, shared_weights):
    tmp = tmp_path_factory.mktemp("client")
    engine = EngineClient(python=sys.executable, env=engine_env(tmp, shared_weights))
    yield engine
    engine.close()


def read_rgb(path: Path, flags=cv2.IMREAD_UNCHANGED) -> np.ndarray:
    image = cv2.imread(str(path), flags)
    code = cv2.COLOR_BGRA2RGBA if image.ndim == 3 and image.shape[2] == 4 else cv2.COLOR_BGR2RGB
    return np.ascontiguousarray(cv2.cvtColor(image, code))


def run_job(client: EngineClient, image: np.ndarray, fmt: PixelFormat, options: UpscaleOptions):
    extent = Extent(image.shape[1], image.shape[0])
    job = client.submit(image.tobytes(), fmt, extent, options)
    seen = []
    data, out_extent = job.wait(on_progress=lambda done, total: seen.append((done, total)))
    shape = (out_extent.height, out_extent.width) + ((fmt.channels,) if fmt.channels > 1 else ())
    return np.frombuffer(data, fmt.dtype).reshape(shape), seen, job


def test_start_reports_ready_and_models(client):
    ready = client.start()
    assert ready["event"] == "ready" and ready["pid"] > 0 and "cpu" in ready["devices"]
    assert client.start() is ready  # already running: no second worker
    models = {m["name"]: m for m in client.models()}
    assert models["realesr-animevideov3"]["available"] is True
    assert models["RealESRGAN_x4plus"]["available"] is False


def test_rgba_uint8_equals_the_in_process_engine(client, upscaler, images):
    image = read_rgb(images / "children-alpha.png")[100:164, 200:280]
    fmt = PixelFormat("uint8", 4)
    options = UpscaleOptions(tile=32, scale=2)
    got, progress, job = run_job(client, image, fmt, options)
    want = upscaler.upscale(image, fmt, options).image
    assert got.shape == want.shape == (128, 160, 4)
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1
    assert progress and progress[-1][0] == progress[-1][1] > 1
    assert job.info["tile"] == 32 and job.info["device"] == "cpu"


def test_uint16_equals_the_in_process_engine(client, upscaler, images):
    image = read_rgb(images / "tree_alpha_16bit.png")[60:108, 100:164]
    assert image.dtype == np.uint16
    fmt = PixelFormat("uint16", 4)
    options = UpscaleOptions()
    got, _, _ = run_job(client, image, fmt, options)
    want = upscaler.upscale(image, fmt, options).image
    assert got.shape == want.shape == (192, 256, 4)
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 257


def test_cancel_mid_job_then_the_worker_still_works(client, images):
    image = read_rgb(images / "OST_009.png")
    fmt = PixelFormat("uint8", 3)
    job = client.submit(image.tobytes(), fmt, Extent(image.shape[1], image.shape[0]), UpscaleOptions(tile=64))
    deadline = time.monotonic() + 120
    while job.progress[0] == 0 and not job.done and time.monotonic() < deadline:
        job.poll(0.05)
    started = time.monotonic()
    job.cancel()
    with pytest.raises(Cancelled):
        job.result(timeout=60)
    assert time.monotonic() - started < 20
    done, total = job.progress
    assert 0 < done < total
    small = image[:24, :32]
    got, _, _ = run_job(client, np.ascontiguousarray(small), fmt, UpscaleOptions())
    assert got.shape == (96, 128, 3)


def test_structured_errors_come_back_and_the_worker_lives_on(client):
    fmt = PixelFormat("uint8", 3)
    pixels = bytes(12 * 3)
    job = client.submit(pixels, fmt, Extent(4, 3), UpscaleOptions(model="no-such-model"))
    with pytest.raises(EngineError) as caught:
        job.result(timeout=60)
    assert caught.value.kind == Kind.UNKNOWN_MODEL and "no-such-model" in caught.value.message
    job = client.submit_payload("upscale", pixels, fmt, Extent(4, 3), options={"sharpness": 3})
    with pytest.raises(EngineError) as caught:
        job.result(timeout=60)
    assert caught.value.kind == Kind.BAD_INPUT and "sharpness" in caught.value.message
    with pytest.raises(EngineError) as caught:
        client.submit(pixels[:-1], fmt, Extent(4, 3), UpscaleOptions())
    assert caught.value.kind == Kind.BAD_INPUT
    assert client.submit(pixels, fmt, Extent(4, 3), UpscaleOptions()).result(timeout=60)[1] == Extent(16, 12)


def test_temporary_files_are_private_and_cleaned_up(tmp_path, shared_weights):
    engine = EngineClient(python=sys.executable, env=engine_env(tmp_path, shared_weights))
    engine.submit(bytes(16 * 3), PixelFormat("uint8", 3), Extent(4, 4), UpscaleOptions()).result(timeout=120)
    folder = engine._payloads.made
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert sorted(p.name for p in folder.iterdir()) == ["worker-stderr.log"]
    engine.close()
    assert not folder.exists()
    assert "job 2 upscale -> result" in (tmp_path / "data" / "logs" / "krita-realesrgan.log").read_text()


def test_cover_in_pad_fit_brings_the_picture_and_its_background(client, images):
    cartoon = read_rgb(images / "0014.jpg")            # 179x179 RGB
    job = client.submit_cover(cartoon.tobytes(), PixelFormat("uint8", 3), Extent(179, 179), Extent(480, 240),
                              UpscaleOptions(), fit="pad", background="#102030")
    outcome = CoverOutcome.of(job, timeout=300)
    assert outcome.extent == Extent(240, 240) and len(outcome.pixels) == 240 * 240 * 3
    assert outcome.canvas == Bounds(-120, 0, 480, 240) and outcome.fit == "pad" and outcome.preset == "custom"
    assert outcome.model in ("realesr-animevideov3", "RealESRGAN_x4plus_anime_6B")   # a cartoon
    assert outcome.reasons and not outcome.faces
    background = np.frombuffer(outcome.background, np.uint8).reshape(240, 480, 3)
    assert (background == (16, 32, 48)).all()
    picture = np.frombuffer(outcome.pixels, np.uint8).reshape(240, 240, 3).astype(np.float64)
    reduced = cv2.resize(picture, (179, 179), interpolation=cv2.INTER_AREA)
    error, flipped = np.abs(reduced - cartoon).mean(), np.abs(reduced - cartoon[::-1]).mean()
    assert error < 16 and error < flipped / 3            # the same picture (restored, so not identical), larger
    assert sorted(p.name for p in client._payloads.made.iterdir()) == ["worker-stderr.log"]   # payloads removed


def test_cover_preset_with_a_cancel_leaves_no_files(client, images):
    children = read_rgb(images / "children-alpha.png")   # 566x350 RGBA
    job = client.submit_cover(children.tobytes(), PixelFormat("uint8", 4), Extent(566, 350), "square",
                              UpscaleOptions(model="realesr-animevideov3", tile=32))
    while job.progress[0] < 1 and not job.done:
        job.poll(0.1)
    job.cancel()
    with pytest.raises(Cancelled):
        CoverOutcome.of(job, timeout=300)
    assert sorted(p.name for p in client._payloads.made.iterdir()) == ["worker-stderr.log"]


def test_export_lowers_the_quality_until_the_file_fits_and_says_so(client, images, tmp_path):
    """What the editors' "Export cover" does with the merged image (here a 16-bit RGBA version of a photo)."""
    photo = cv2.resize(read_rgb(images / "OST_009.png"), (1280, 720), interpolation=cv2.INTER_CUBIC)
    sixteen = np.dstack([photo.astype(np.uint16) * 257, np.full(photo.shape[:2], 65535, np.uint16)])
    free = ExportOutcome.of(client.submit_export(sixteen.tobytes(), PixelFormat("uint16", 4), Extent(1280, 720),
                                                 tmp_path / "free.jpg"), timeout=120)
    assert free.quality == 95 and free.format == "jpg" and free.bytes == (tmp_path / "free.jpg").stat().st_size
    limit = free.bytes // 2
    job = client.submit_export(sixteen.tobytes(), PixelFormat("uint16", 4), Extent(1280, 720),
                               tmp_path / "cover.jpg", max_bytes=limit)
    outcome = ExportOutcome.of(job, timeout=120)
    written = tmp_path / "cover.jpg"
    assert outcome.path == written and outcome.bytes == written.stat().st_size <= limit
    assert outcome.quality < 95 and f"quality {outcome.quality}" in outcome.description
    decoded = cv2.cvtColor(cv2.imread(str(written)), cv2.COLOR_BGR2RGB)
    error, flipped = (np.abs(decoded.astype(float) - reference).mean() for reference in (photo, photo[::-1]))
    assert decoded.shape == (720, 1280, 3) and error < 12 and error < flipped / 3, (error, flipped)
    assert sorted(p.name for p in client._payloads.made.iterdir()) == ["worker-stderr.log"]   # payload removed


def test_export_errors_leave_no_file(client, tmp_path):
    noise = np.random.default_rng(1).integers(0, 256, (300, 400, 3), np.uint8)
    with pytest.raises(EngineError) as caught:       # not even quality 30 fits 2 kB
        ExportOutcome.of(client.submit_export(noise.tobytes(), PixelFormat("uint8", 3), Extent(400, 300),
                                              tmp_path / "tiny.webp", max_bytes=2000), timeout=120)
    assert caught.value.kind == Kind.BAD_INPUT and "over the limit of 2,000 bytes" in caught.value.message
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(EngineError) as caught:
        ExportOutcome.of(client.submit_export(noise.tobytes(), PixelFormat("uint8", 3), Extent(400, 300),
                                              blocker / "cover.png"), timeout=120)
    assert caught.value.kind == Kind.BAD_INPUT and "Could not save the cover" in caught.value.message
    with pytest.raises(EngineError) as caught:
        ExportOutcome.of(client.submit_export(noise.tobytes(), PixelFormat("uint8", 3), Extent(400, 300),
                                              tmp_path / "cover.gif"), timeout=120)
    assert "cover.gif" in caught.value.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]     # no file, no .part left behind


@pytest.mark.skipif(os.name != "posix", reason="uses SIGKILL")
def test_killed_worker_is_reported_and_restarted(client, images):
    first_pid = client.start()["pid"]
    image = read_rgb(images / "OST_009.png")
    fmt = PixelFormat("uint8", 3)
    job = client.submit(image.tobytes(), fmt, Extent(image.shape[1], image.shape[0]), UpscaleOptions(tile=64))
    while job.progress[0] == 0 and not job.done:
        job.poll(0.05)
    os.kill(first_pid, signal.SIGKILL)
    with pytest.raises(EngineError) as caught:
        job.result(timeout=60)
    assert caught.value.kind == Kind.WORKER_DIED and "signal 9" in caught.value.message
    assert "last lines" in caught.value.detail
    got, _, _ = run_job(client, np.ascontiguousarray(image[:16, :16]), fmt, UpscaleOptions())
    assert got.shape == (64, 64, 3)
    assert client.start()["pid"] != first_pid


def test_missing_python_is_engine_missing(tmp_path):
    engine = EngineClient(python=str(tmp_path / "no" / "python"), env={"HOME": str(tmp_path)})
    with pytest.raises(EngineError) as caught:
        engine.start()
    assert caught.value.kind == Kind.ENGINE_MISSING and "python3 installer.py" in caught.value.message
    unconfigured = EngineClient(env={"HOME": str(tmp_path), "KRITA_REALESRGAN_CONFIG": str(tmp_path / "c.json")})
    with pytest.raises(EngineError) as caught:
        unconfigured.submit(b"\0\0\0", PixelFormat("uint8", 3), Extent(1, 1), UpscaleOptions())
    assert caught.value.kind == Kind.ENGINE_MISSING


def test_python_without_the_engine_is_engine_missing(tmp_path):
    """A python that has the package but not torch/numpy (like an editor's own Python)."""
    blocker = tmp_path / "hooks"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('numpy', 'torch'):\n"
        "            raise ImportError('No module named ' + repr(name))\n"
        "sys.meta_path.insert(0, Block())\n")
    engine = EngineClient(python=sys.executable, env=engine_env(tmp_path, first_on_path=[blocker]))
    try:
        with pytest.raises(EngineError) as caught:
            engine.start()
    finally:
        engine.close()
    assert caught.value.kind == Kind.ENGINE_MISSING
    assert "python3 installer.py" in caught.value.message
    assert "numpy" in caught.value.detail or "torch" in caught.value.detail
