"""Bad input to the image command line (one file, a folder) and to ``cover``: what a hostile or careless user does.

For each entry point: a file that is not what its name says, a file too big, a path that must not be written, and
an interrupted run. Every case checks the user's files afterwards, byte for byte. (The worker protocol, video and
the installer have their own files: test_bad_input_worker.py, test_bad_input_media.py.)
"""
from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Dict

import cv2
import numpy as np
import pytest

from krita_realesrgan.image_header import read_header
from helpers import engine_env


def run_cli(*argv: str, weights: Path, cwd: Path, **popen) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "krita_realesrgan", *argv], capture_output=True, text=True,
                          cwd=str(cwd), env=cli_env(weights, cwd), timeout=300, **popen)


def cli_env(weights: Path, cwd: Path) -> Dict[str, str]:
    return engine_env(cwd, weights, PYTHONUNBUFFERED="1", KRITA_REALESRGAN_CACHE=str(cwd / "cache"))


def snapshot(folder: Path) -> Dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()}


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def write_png(path: Path, width: int, height: int, rows: int) -> Path:
    """A grey PNG whose header declares ``width`` x ``height`` and whose data holds ``rows`` rows of flat grey
    (all of them: a real, valid picture; fewer: what a hostile or truncated download looks like, a few bytes that
    ask for gigabytes)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    packer = zlib.compressobj(9)
    row = b"\0" + b"\x80" * width
    body = b"".join(packer.compress(row) for _ in range(rows)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def png_declaring(path: Path, width: int, height: int) -> Path:
    return write_png(path, width, height, rows=1)


def small_copy(images: Path, name: str, target: Path, size: int = 32) -> Path:
    image = cv2.imread(str(images / name), cv2.IMREAD_UNCHANGED)
    assert cv2.imwrite(str(target), image[:size, :size])
    return target


# --- a path that must not be written: the input itself ------------------------------------------------------

@pytest.mark.parametrize("how", ["same path", "other spelling", "symlink", "hard link"])
def test_output_that_is_the_input_is_refused(tmp_path, shared_weights, images, how):
    source = small_copy(images, "0014.jpg", tmp_path / "x.jpg")
    before = source.read_bytes()
    output = {"same path": Path("x.jpg"), "other spelling": tmp_path / "." / "x.jpg",
              "symlink": tmp_path / "link.jpg", "hard link": tmp_path / "hard.jpg"}[how]
    if how == "symlink":
        output.symlink_to(source)
    elif how == "hard link":
        os.link(source, output)
    result = run_cli("-i", "x.jpg", "-o", str(output), weights=shared_weights, cwd=tmp_path)
    assert result.returncode == 1
    assert "is the input file" in one_line_error(result)
    assert source.read_bytes() == before
    assert not list(tmp_path.glob(".*.part"))


@pytest.mark.parametrize("names, expected", [
    ({"a.jpg": "0014.jpg", "b.png": "wolf_gray.jpg"}, "2 outputs would replace input pictures (a.jpg, b.png)"),
    # a.jpeg -> a.jpg is not a.jpeg itself, but it is the user's a.jpg
    ({"a.jpeg": "0014.jpg", "a.jpg": "wolf_gray.jpg"}, "would replace"),
])
def test_folder_into_itself_without_suffix_is_refused_before_any_work(tmp_path, shared_weights, images, names,
                                                                       expected):
    folder = tmp_path / "pics"
    folder.mkdir()
    for name, source in names.items():
        small_copy(images, source, folder / name)
    before = snapshot(folder)
    result = run_cli("-i", str(folder), "-o", str(folder), "--suffix", "", weights=shared_weights, cwd=tmp_path)
    assert result.returncode == 1
    assert expected in one_line_error(result)
    assert snapshot(folder) == before
    assert "->" not in result.stdout     # nothing was upscaled


# --- outputs that would collide within one run ---------------------------------------------------------------

@pytest.mark.slow
def test_colliding_output_names_are_renamed_not_overwritten(tmp_path, shared_weights, images):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    for name, source in (("a.jpg", "0014.jpg"), ("a.jpeg", "wolf_gray.jpg"), ("t.tif", "0014.jpg"),
                         ("t.tiff", "wolf_gray.jpg"), ("b.png", "0014.jpg"), ("b.bmp", "wolf_gray.jpg")):
        small_copy(images, source, folder / name, 16)
    result = run_cli("-i", str(folder), "-o", str(out), "-s", "1", weights=shared_weights, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == ["a_jpeg_out.jpg", "a_out.jpg", "b_bmp_out.png", "b_out.png", "t_out.tif", "t_tiff_out.tif"]
    # each output holds its own input: the cartoon is colour, the wolf grey
    for colour, grey in (("a_out.jpg", "a_jpeg_out.jpg"), ("b_out.png", "b_bmp_out.png"),
                         ("t_out.tif", "t_tiff_out.tif")):
        assert cv2.imread(str(out / colour), cv2.IMREAD_UNCHANGED).ndim == 3
        assert cv2.imread(str(out / grey), cv2.IMREAD_UNCHANGED).ndim == 2
    assert "renamed: a.jpeg -> a_jpeg_out.jpg" in result.stdout
    assert "renamed: b.bmp -> b_bmp_out.png" in result.stdout


def test_forced_extension_collisions_are_renamed(tmp_path, shared_weights, images):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    small_copy(images, "0014.jpg", folder / "c.webp", 8)
    small_copy(images, "0014.jpg", folder / "c.png", 8)
    result = run_cli("-i", str(folder), "-o", str(out), "-s", "1", "--ext", "png", weights=shared_weights,
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["c_out.png", "c_webp_out.png"]


# --- a file that is not what its name says ------------------------------------------------------------------

def test_text_named_png_fails_alone_and_a_jpeg_named_png_works(tmp_path, shared_weights, images):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    (folder / "notes.png").write_text("this is not a picture\n")
    jpeg_bytes = cv2.imencode(".jpg", cv2.imread(str(images / "0014.jpg"))[:16, :16])[1].tobytes()
    (folder / "really_a_jpeg.png").write_bytes(jpeg_bytes)
    result = run_cli("-i", str(folder), "-o", str(out), "-s", "1", weights=shared_weights, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "notes.png: notes.png is not a readable image" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["really_a_jpeg_out.png"]

    single = run_cli("-i", str(folder / "notes.png"), "-o", str(out), weights=shared_weights, cwd=tmp_path)
    assert single.returncode == 1
    assert one_line_error(single) == "error: notes.png is not a readable image (corrupt or unsupported file)."


@pytest.mark.parametrize("case", ["text named .jpg", "header of 100000x100000"])
def test_cover_of_a_bad_file_is_a_one_line_error(tmp_path, shared_weights, case):
    if case == "text named .jpg":
        (tmp_path / "photo.jpg").write_text("not a photo")
        expected = "photo.jpg is not a readable image"
    else:
        png_declaring(tmp_path / "photo.jpg", 100_000, 100_000)    # a PNG named .jpg, and huge
        expected = "--max-pixels"
    result = run_cli("cover", "-i", "photo.jpg", "-o", "cover.jpg", "--weights", str(shared_weights),
                     weights=shared_weights, cwd=tmp_path)
    assert result.returncode == 1
    assert expected in one_line_error(result)
    assert not (tmp_path / "cover.jpg").exists()


# --- a file too big -----------------------------------------------------------------------------------------

def test_header_declaring_100000_square_is_refused_before_decoding(tmp_path, shared_weights, images):
    huge = png_declaring(tmp_path / "huge.png", 100_000, 100_000)
    assert read_header(huge).extent == (100_000, 100_000)
    result = run_cli("-i", str(huge), "-o", str(tmp_path / "out"), weights=shared_weights, cwd=tmp_path)
    assert result.returncode == 1
    error = one_line_error(result)
    assert "100000x100000" in error and "--max-pixels" in error
    # without the limit, the decoder's own refusal is still one line, not a cv2.error traceback
    result = run_cli("-i", str(huge), "-o", str(tmp_path / "out"), "--max-pixels", "0", weights=shared_weights,
                     cwd=tmp_path)
    assert result.returncode == 1
    assert "huge.png" in one_line_error(result)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_huge_file_in_a_folder_does_not_stop_the_batch(tmp_path, shared_weights, images):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    png_declaring(folder / "a_huge.png", 100_000, 100_000)
    small_copy(images, "0014.jpg", folder / "b_small.jpg", 16)
    result = run_cli("-i", str(folder), "-o", str(out), "--max-pixels", "0", weights=shared_weights, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "1 of 2 image(s) failed" in result.stderr and "a_huge.png" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["b_small_out.jpg"]


def test_real_picture_whose_result_passes_the_limit_is_refused_with_the_option(tmp_path, shared_weights):
    big = write_png(tmp_path / "flat.png", 9000, 9000, rows=9000)   # valid; ×4 would be 36000x36000 (1.3 GP)
    assert big.stat().st_size < 1_000_000
    result = run_cli("-i", str(big), "-o", str(tmp_path / "out"), weights=shared_weights, cwd=tmp_path)
    assert result.returncode == 1
    error = one_line_error(result)
    assert "The result would be 36000x36000 pixels (1.3 gigapixels)" in error and "--max-pixels" in error
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_estimate_is_announced_before_the_run(tmp_path, shared_weights, images):
    source = small_copy(images, "0014.jpg", tmp_path / "x.jpg", 24)
    result = run_cli("-i", str(source), "-o", str(tmp_path / "out"), weights=shared_weights, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "x.jpg: 24x24 -> 96x96, about" in result.stdout and "of memory" in result.stdout
    again = run_cli("-i", str(source), "-o", str(tmp_path / "out"), weights=shared_weights, cwd=tmp_path)
    assert "of memory, about" in again.stdout     # the first run's speed gives the second its rough time


# --- a path that must not be written: an output folder that takes no files ----------------------------------

def unwritable_folder(tmp_path: Path) -> Path:
    """An existing folder where no file can be created, also for root (sysfs refuses new files to everyone)."""
    if os.geteuid() != 0:
        folder = tmp_path / "locked"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    folder = Path("/sys/kernel")
    try:
        handle = os.open(folder / "krita-realesrgan-probe", os.O_CREAT | os.O_WRONLY, 0o600)
    except OSError:
        return folder
    os.close(handle)
    pytest.fail("/sys/kernel accepted a new file: this machine has no unwritable folder to test with")


def test_unwritable_output_folder_is_found_before_the_upscale(tmp_path, shared_weights, images):
    source = small_copy(images, "0014.jpg", tmp_path / "x.jpg")
    folder = unwritable_folder(tmp_path)
    result = run_cli("-i", str(source), "-o", str(folder), weights=shared_weights, cwd=tmp_path)
    assert result.returncode == 1
    error = one_line_error(result)
    assert f"Cannot write to the output folder {folder}" in error and ".part" not in error
    assert "->" not in result.stdout     # refused before any upscale

    cover = run_cli("cover", "-i", str(source), "-o", str(folder / "c.jpg"), "--weights", str(shared_weights),
                    weights=shared_weights, cwd=tmp_path)
    assert cover.returncode == 1
    assert f"Cannot write to the output folder {folder}" in one_line_error(cover)


# --- odd pictures: float, animation, options that would be ignored ------------------------------------------

def test_float_tiff_stays_float_and_clipping_is_said(tmp_path, shared_weights, images):
    colour = cv2.imread(str(images / "0014.jpg"))[:16, :16].astype(np.float32) / 255.0
    colour[0, 0] = (1.5, -0.25, 0.5)                     # HDR-ish values outside 0..1
    assert cv2.imwrite(str(tmp_path / "f.tif"), colour)
    result = run_cli("-i", "f.tif", "-o", "out", "-s", "1", weights=shared_weights, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = cv2.imread(str(tmp_path / "out" / "f_out.tif"), cv2.IMREAD_UNCHANGED)
    assert written.dtype == np.float32 and written.shape == (16, 16, 3)
    assert "2 float samples lie outside 0..1" in result.stdout
    # away from the clipped corner the picture is the input (x1 through the network then back: close, not equal)
    assert np.abs(written[8:, 8:] - colour[8:, 8:]).mean() < 0.05


def test_animated_gif_says_only_the_first_frame_is_used(tmp_path, shared_weights):
    from PIL import Image
    frames = [Image.fromarray(np.full((12, 12, 3), value, np.uint8)) for value in (0, 128, 255)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    result = run_cli("-i", "anim.gif", "-o", "out", "-s", "1", weights=shared_weights, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "it has 3 frames; only the first is upscaled" in result.stdout
    assert (tmp_path / "out" / "anim_out.png").exists()


@pytest.mark.parametrize("command", ["image", "cover"])
def test_denoise_strength_for_a_model_without_twin_is_refused(tmp_path, shared_weights, images, command):
    source = small_copy(images, "0014.jpg", tmp_path / "x.jpg", 16)
    argv = (["-i", str(source), "-o", "out", "--denoise-strength", "0.5"] if command == "image" else
            ["cover", "-i", str(source), "-o", "c.jpg", "--model-name", "realesr-animevideov3",
             "--denoise-strength", "0.5", "--weights-dir", str(shared_weights)])   # the image command's names
    result = run_cli(*argv, weights=shared_weights, cwd=tmp_path)
    assert result.returncode != 0
    assert "has no such twin" in one_line_error(result)
    assert not (tmp_path / "out").exists() and not (tmp_path / "c.jpg").exists()


# --- an interrupted run ---------------------------------------------------------------------------------------

def default_ctrl_c() -> None:
    """In the child: Ctrl-C as a terminal gives it, even when the tests were started in the background (a shell
    without job control starts background jobs with SIGINT ignored, and Python keeps it ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt_after(argv, wait_for: str, weights: Path, cwd: Path) -> subprocess.CompletedProcess:
    """Start the CLI, send Ctrl-C (SIGINT) once ``wait_for`` appears on its stdout, and collect the result."""
    process = subprocess.Popen([sys.executable, "-m", "krita_realesrgan", *argv], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=str(cwd), env=cli_env(weights, cwd),
                               preexec_fn=default_ctrl_c)
    seen = ""
    deadline = time.monotonic() + 120
    while wait_for not in seen and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen += line
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(argv, process.returncode, seen + out, err)


@pytest.mark.slow
def test_interrupted_folder_run_leaves_whole_files_only(tmp_path, shared_weights, images):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    big = cv2.resize(cv2.imread(str(images / "OST_009.png")), (448, 448))
    for name in ("a.png", "b.png", "c.png"):
        assert cv2.imwrite(str(folder / name), big)
    before = snapshot(folder)
    result = interrupt_after(["-i", str(folder), "-o", str(out), "-t", "64"], "a.png: 448x448", shared_weights,
                             tmp_path)
    assert result.returncode == 130, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "interrupted" in result.stderr
    assert snapshot(folder) == before
    for written in out.iterdir():        # only finished outputs, each a whole picture
        assert not written.name.endswith(".part") and not written.name.startswith(".")
        assert cv2.imread(str(written)).shape == (1792, 1792, 3)


@pytest.mark.slow
def test_interrupted_cover_writes_nothing(tmp_path, shared_weights, images):
    big = cv2.resize(cv2.imread(str(images / "OST_009.png")), (1000, 1000))
    assert cv2.imwrite(str(tmp_path / "photo.png"), big)
    # x4 in 32-pixel tiles: far longer than the 6 s before Ctrl-C, wherever it lands (imports, model, tiles)
    process = subprocess.Popen([sys.executable, "-m", "krita_realesrgan", "cover", "-i", "photo.png", "-o",
                                "cover.jpg", "-n", "realesr-animevideov3", "-t", "32", "--size", "4000x4000",
                                "--weights", str(shared_weights)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=str(tmp_path),
                               env=cli_env(shared_weights, tmp_path), preexec_fn=default_ctrl_c)
    time.sleep(6)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, (out, err)   # never an abort (-6) from a Ctrl-C inside native code
    assert "Traceback" not in err and "interrupted (nothing was written)" in err
    assert not (tmp_path / "cover.jpg").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


# --- the engine itself: sizes that would never finish ----------------------------------------------------------

@pytest.mark.parametrize("target, message", [((1_000_000, 1), "the most is 64"),
                                             ((4000, 4000), "Before its final resize to 4000x4000")])
def test_engine_refuses_runs_that_would_explode(upscaler, target, message):
    """8x8 -> 1000000x1 once ran nine network passes toward 2097152x2097152 (it never finished); 8x8 -> 4000x4000
    is a scale of 500. 100x100 -> 4000x4000 (x40) would need 3 passes: 6400x6400, within the limit; with a limit
    of 16 MP it is refused before any pass."""
    from krita_realesrgan.common.errors import EngineError
    from krita_realesrgan.common.formats import PixelFormat, UpscaleOptions
    small = np.zeros((8, 8, 3), np.uint8) if target[1] == 1 else np.zeros((100, 100, 3), np.uint8)
    options = UpscaleOptions(target=target, max_pixels=16_000_000)
    started = time.monotonic()
    with pytest.raises(EngineError, match=message):
        upscaler.upscale(small, PixelFormat("uint8", 3), options)
    assert time.monotonic() - started < 60


# --- video: the same four kinds of bad input -------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory) -> Path:
    from krita_realesrgan.video.ffmpeg import ffmpeg_binary
    path = tmp_path_factory.mktemp("clip") / "clip.mkv"
    subprocess.run([ffmpeg_binary(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=8:duration=1",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)], check=True, timeout=120)
    return path


def test_video_output_that_is_a_hard_link_to_the_input_is_refused(tiny_clip, tmp_path, shared_weights):
    source = tmp_path / "in.mkv"
    source.write_bytes(tiny_clip.read_bytes())
    os.link(source, tmp_path / "out.mkv")
    before = source.read_bytes()
    result = run_cli("video", "-i", str(source), "-o", str(tmp_path / "out.mkv"), weights=shared_weights,
                     cwd=tmp_path)
    assert result.returncode == 1
    assert "must not overwrite the input video" in one_line_error(result)
    assert source.read_bytes() == before


def test_video_whose_frames_would_pass_the_limit_is_refused_before_decoding(tiny_clip, tmp_path, shared_weights):
    result = run_cli("video", "-i", str(tiny_clip), "-o", str(tmp_path / "out.mkv"), "--max-pixels", "20000",
                     weights=shared_weights, cwd=tmp_path)     # 64x48 frames, x4: 256x192 = 49,152 pixels
    assert result.returncode == 1
    error = one_line_error(result)
    assert "Each upscaled frame would have 256x192 pixels" in error and "--max-pixels" in error
    assert [p.name for p in tmp_path.iterdir() if p.name != "cache"] == []   # no output, no work folder
