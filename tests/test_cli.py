"""The image command line: naming rules in-process, and real runs through ``python -m krita_realesrgan``."""
from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from krita_realesrgan.cli import image as upscale_cli
from krita_realesrgan.batch_plan import Naming
from krita_realesrgan.cli.ctrl_c import CtrlC
from helpers import engine_env


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    upscale_cli.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_defaults_mirror_the_reference():
    args = parse("-i", "x.png")
    assert (args.suffix, args.ext, args.tile, args.precision, args.alpha_upsampler) == ("out", "auto", 0, "auto",
                                                                                       "network")
    assert parse("-i", "x", "--bf16").precision == "bf16" and parse("-i", "x", "--fp32").precision == "fp32"
    with pytest.raises(SystemExit):
        parse("-i", "x", "--fp32", "--bf16")
    options = upscale_cli.options_from(parse("-i", "x", "-n", "realesr-general-x4v3", "-s", "2.5", "-t", "128",
                                             "--alpha-upsampler", "resize", "--denoise-strength", "0.3"))
    assert (options.scale, options.tile, options.alpha, options.denoise) == (2.5, 128, "resize", 0.3)


def test_output_names_follow_the_reference():
    naming, to_webp = Naming("out", "auto"), Naming("out", "webp")
    assert naming.extension(Path("a.jpeg"), None) == ".jpg"
    assert naming.extension(Path("a.webp"), True) == ".png"    # alpha -> png
    assert naming.extension(Path("a.bmp"), None) == ".png"     # not writable -> png
    assert to_webp.extension(Path("a.png"), True) == ".webp"
    assert naming.name("cat", ".png") == "cat_out.png"
    assert Naming("", "auto").name("cat", ".png") == "cat.png"


def test_output_file_or_folder(tmp_path):
    source = tmp_path / "in.png"
    source.write_bytes(b"")
    args = parse("-i", str(source), "-o", str(tmp_path / "big.webp"))
    assert upscale_cli.plan_run([source], args).tasks[0].target == tmp_path / "big.webp"
    args = parse("-i", str(source), "-o", str(tmp_path / "outs"))
    assert upscale_cli.plan_run([source], args).tasks[0].target == tmp_path / "outs" / "in_out.png"


def cli(*argv: str, weights: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "krita_realesrgan", *argv], capture_output=True, text=True,
                          cwd=str(cwd), env=engine_env(cwd, weights), timeout=300)


def crop(source: Path, target: Path, size: int = 48) -> Path:
    image = cv2.imread(str(source), cv2.IMREAD_UNCHANGED)
    assert cv2.imwrite(str(target), image[:size, :size])
    return target


@pytest.mark.slow
def test_folder_run_keeps_going_past_a_corrupt_file(tmp_path, shared_weights, images):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    crop(images / "0014.jpg", folder / "a_cartoon.jpg")
    crop(images / "children-alpha.png", folder / "b_alpha.png", 40)
    crop(images / "wolf_gray.jpg", folder / "sub" / "nested.png")              # subfolders are skipped
    (folder / "notes.txt").write_text("not an image")                          # non-images are skipped
    good_png = (folder / "b_alpha.png").read_bytes()
    (folder / "c_corrupt.png").write_bytes(good_png[: len(good_png) // 2])      # truncated PNG
    out = tmp_path / "out"
    result = cli("-i", str(folder), "-o", str(out), "-s", "2", "--ext", "png", weights=shared_weights, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a_cartoon_out.png", "b_alpha_out.png"]
    cartoon = cv2.imread(str(out / "a_cartoon_out.png"), cv2.IMREAD_UNCHANGED)
    alpha = cv2.imread(str(out / "b_alpha_out.png"), cv2.IMREAD_UNCHANGED)
    assert cartoon.shape == (96, 96, 3) and alpha.shape == (80, 80, 4)
    assert "1 of 3 image(s) failed" in result.stderr
    assert "c_corrupt.png: c_corrupt.png is not a readable image" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_single_file_to_a_named_output_and_with_ext(tmp_path, shared_weights, upscaler, images):
    source = crop(images / "0014.jpg", tmp_path / "small.png", 40)
    result = cli("-i", str(source), "-o", str(tmp_path / "big.webp"), weights=shared_weights, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    big = cv2.imread(str(tmp_path / "big.webp"), cv2.IMREAD_UNCHANGED)
    assert big.shape == (160, 160, 3)
    # the same pixels as the engine in-process (webp is lossy, so compare a lossless png run instead)
    result = cli("-i", str(source), "-o", str(tmp_path), "--ext", "png", "--suffix", "x4", weights=shared_weights,
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    from krita_realesrgan.common.formats import UpscaleOptions
    from krita_realesrgan.imagefile import read_image
    image, fmt = read_image(source)
    want = upscaler.upscale(image, fmt, UpscaleOptions()).image
    got, _ = read_image(tmp_path / "small_x4.png")
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.slow
def test_missing_weights_and_corrupt_file_are_one_line_errors(tmp_path, images):
    empty = tmp_path / "weights"
    empty.mkdir()
    source = crop(images / "0014.jpg", tmp_path / "small.png", 16)
    result = cli("-i", str(source), "-o", str(tmp_path / "o"), weights=empty, cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "python3 installer.py --models realesr-animevideov3" in lines[0]
    assert not (tmp_path / "o" / "small_out.png").exists()

    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 definitely not a whole jpeg")
    result = cli("-i", str(corrupt), weights=empty, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: corrupt.jpg is not a readable image (corrupt or unsupported file)."


@pytest.mark.slow
def test_list_models(tmp_path, shared_weights):
    result = cli("--list-models", weights=shared_weights, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.strip()}
    assert rows["name"][:4] == ["name", "scale", "installed", "purpose"]
    assert rows["realesr-animevideov3"][1:3] == ["x4", "yes"]
    assert rows["RealESRGAN_x2plus"][1:3] == ["x2", "no"]
    assert "python3 installer.py --models" in result.stdout


def test_first_ctrl_c_asks_the_job_to_stop_the_second_interrupts(capsys):
    before = signal.getsignal(signal.SIGINT)
    with CtrlC("stopping…") as stop:
        assert not stop()
        signal.raise_signal(signal.SIGINT)       # to this thread: the handler has run when the next line starts
        assert stop() and "stopping…" in capsys.readouterr().err
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before
