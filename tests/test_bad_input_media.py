"""Bad media and bad weights (issue 12, items 7 and 8): a variable-frame-rate clip keeps its timing and its sync with
the sound, a damaged clip says how many frames it lost, a weights file of random bytes is called damaged (not
"would run code"), and the installer neither installs nor passes as intact a weights file that does not load.

Videos are made here with ffmpeg (tiny frames, a few dozen of them) and go through the real pipeline with a
pixel-doubling stand-in for the network; the weights cases use the real loader and the real installer."""
from __future__ import annotations

import hashlib
import pickle
import random
import re
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch

from krita_realesrgan.common import catalog
from krita_realesrgan.cli import main as cli
from krita_realesrgan.video.pipeline import upscale_video
from krita_realesrgan.video.probe import probe
from krita_realesrgan.common.errors import EngineError, Kind
from krita_realesrgan.models import read_state_dict
from installer_runs import fetcher, install_with_shared_weights, run_installer, standard_args
from helpers import FakeUpscaler
from video_clips import ffmpeg, stream_seconds

SINE = "sine=frequency=440:sample_rate=48000"


def random_bytes(size: int, seed: int = 12) -> bytes:
    return random.Random(seed).randbytes(size)


def run_video_cli(monkeypatch, capsys, source: Path, target: Path, *extra: str):
    """``krita-realesrgan video`` in this process, with the pixel-doubling stand-in as the engine."""
    monkeypatch.setattr("krita_realesrgan.engine.Upscaler", lambda weights_dir=None: FakeUpscaler(ticks=0))
    code = cli.main(["video", "-i", str(source), "-o", str(target), *extra])
    captured = capsys.readouterr()
    return SimpleNamespace(code=code, out=captured.out, err=captured.err)


def every_frame(path: Path) -> np.ndarray:
    """Every decoded frame once, as RGB (``-fps_mode passthrough``: no repeats for a constant-rate muxer)."""
    extent = probe(path).extent
    raw = ffmpeg("-i", str(path), "-map", "0:v:0", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24",
                 "-").stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, extent.height, extent.width, 3)


def packet_times(path: Path) -> list:
    """Presentation time (s) of every video frame, in display order (frames decode one per packet)."""
    listing = ffmpeg("-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-").stdout.decode()
    time_base = next(Fraction(line.split(":", 1)[1].strip()) for line in listing.splitlines()
                     if line.startswith("#tb 0:"))
    return sorted(int(line.split(",")[2]) * time_base for line in listing.splitlines()
                  if line and not line.startswith("#"))


# --- item 7: variable frame rate --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def vfr_clip(tmp_path_factory) -> Path:
    """One second at 5 frames/s, then one at 25 (issue 12's recipe, with a sine tone), joined with ``-c copy``.
    The two halves show different test patterns, so that every input frame is unlike every other."""
    folder = tmp_path_factory.mktemp("vfr")
    for name, pattern, rate in (("slow.mkv", "testsrc", 5), ("fast.mkv", "testsrc2", 25)):
        ffmpeg("-f", "lavfi", "-i", f"{pattern}=size=96x64:rate={rate}", "-f", "lavfi", "-i", SINE, "-t", "1",
               "-c:v", "libx264", "-pix_fmt", "yuv444p", "-qp", "0", "-c:a", "aac", str(folder / name))
    (folder / "parts.txt").write_text("file slow.mkv\nfile fast.mkv\n", encoding="utf-8")
    clip = folder / "vfr.mkv"
    ffmpeg("-f", "concat", "-i", str(folder / "parts.txt"), "-c", "copy", str(clip))
    return clip


def test_variable_frame_rate_clip_keeps_its_duration_timing_and_sync(vfr_clip, tmp_path, monkeypatch, capsys):
    """Before: every frame at an even 5 frames/s, a 6 s picture against 2 s of sound."""
    info = probe(vfr_clip)
    assert info.variable_rate and info.frame_count == 30
    target = tmp_path / "out.mkv"
    result = run_video_cli(monkeypatch, capsys, vfr_clip, target, "--crf", "0", "--pix-fmt", "yuv444p")
    assert result.code == 0, result.err

    out = probe(target)
    frame = Fraction(1) / out.frame_rate
    assert out.frame_rate == 25 and not out.variable_rate
    # (the input's packet durations may all say 200 ms: ffmpeg 5.1 joins Matroska parts so; its times are right)
    starts = packet_times(vfr_clip)
    ends = starts[1:] + [starts[-1] + Fraction(1, 25)]
    picture, sound = stream_seconds(target, "0:v:0"), stream_seconds(target, "0:a:0")
    assert abs(picture - (ends[-1] - starts[0])) <= 2 * frame                  # 2 s, not 6 s
    assert sound == stream_seconds(vfr_clip, "0:a:0")                            # the sound is copied as it was
    assert abs(picture - sound) <= 2 * frame                                    # and the picture ends with it

    # frame timing: output frame i (shown at i/25 s) is the input frame on screen then, within one frame
    sources = every_frame(vfr_clip).astype(np.int16)
    assert len(sources) == len(starts) == 30
    matched = []
    for number, picture_out in enumerate(every_frame(target)):
        half = picture_out[::2, ::2].astype(np.int16)          # the stand-in doubles pixels
        errors = np.abs(sources - half).mean(axis=(1, 2, 3))
        best = int(errors.argmin())
        assert errors[best] < 2, f"output frame {number} is none of the input frames"
        shown = number * frame
        assert starts[best] - frame <= shown < ends[best] + frame, (number, best, float(starts[best]))
        matched.append(best)
    assert matched == sorted(matched) and set(matched) == set(range(30))    # in order, none dropped
    assert re.search(r"variable frame rate \([\d.]+ to 25 frames/s\)", result.err), result.err
    assert "Traceback" not in result.err


def test_repeated_frames_are_upscaled_once(vfr_clip, tmp_path):
    """The 5 frames/s second is shown at 25 frames/s: its repeats reuse the upscaled picture."""
    engine = FakeUpscaler(ticks=0)
    report = upscale_video(vfr_clip, tmp_path / "out.mp4", upscaler=engine)
    assert report.frames >= 50 and len(engine.calls) == 30


# --- item 7: frames lost in a damaged file ----------------------------------------------------------------------

def test_damaged_middle_warns_with_the_number_of_lost_frames(tmp_path, monkeypatch, capsys):
    """20 Motion-JPEG frames, two of them overwritten: ffmpeg decodes 18 and the picture ends before the sound."""
    clip = tmp_path / "clip.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=96x64:rate=10:duration=2", "-f", "lavfi", "-i", f"{SINE}:duration=2",
           "-c:v", "mjpeg", "-c:a", "aac", str(clip))
    data = bytearray(clip.read_bytes())
    starts, at = [], data.find(b"\xff\xd8\xff")
    while at >= 0:
        starts.append(at)
        at = data.find(b"\xff\xd8\xff", at + 1)
    assert len(starts) == 20
    for start in starts[9:11]:
        data[start:start + 600] = bytes(600)
    damaged = tmp_path / "damaged.mkv"
    damaged.write_bytes(bytes(data))

    result = run_video_cli(monkeypatch, capsys, damaged, tmp_path / "out.mkv")
    assert result.code == 0, result.err
    assert "warning: ffmpeg could not decode 2 of the 20 frames of damaged.mkv" in result.err
    assert "0.20 s before its sound" in result.err
    assert probe(tmp_path / "out.mkv").frame_count == 18

    intact = run_video_cli(monkeypatch, capsys, clip, tmp_path / "intact.mkv")
    assert intact.code == 0 and "warning" not in intact.err                  # no false alarm on the good clip


# --- item 8: weights that are damaged, not dangerous ------------------------------------------------------------

class _Exploit:
    def __reduce__(self):
        return (print, ("this pickle runs code",))


def test_random_bytes_are_damaged_weights_not_unsafe_ones(tmp_path, capsys):
    garbage = tmp_path / "random.pth"
    garbage.write_bytes(random_bytes(50_000))
    with pytest.raises(EngineError) as caught:
        read_state_dict(garbage)
    assert caught.value.kind == Kind.BAD_WEIGHTS
    assert "random.pth is damaged or not a model file" in caught.value.message
    assert "would run code" not in caught.value.message

    # a catalog file says how to get it again
    named = tmp_path / catalog.get("realesr-animevideov3").file
    named.write_bytes(random_bytes(50_000, seed=3))
    with pytest.raises(EngineError) as caught:
        read_state_dict(named)
    assert "installer.py --models realesr-animevideov3" in caught.value.message

    # real pickles that name code to run are still refused as such, in both file formats
    legacy, archive = tmp_path / "legacy.pth", tmp_path / "archive.pth"
    legacy.write_bytes(pickle.dumps({"params": _Exploit()}))
    torch.save({"params": {"w": _Exploit()}}, archive)
    for evil in (legacy, archive):
        with pytest.raises(EngineError) as caught:
            read_state_dict(evil)
        assert caught.value.kind == Kind.UNSAFE_FILE and "would run code" in caught.value.message

    # and the command line says the same, in one line
    picture = tmp_path / "in.png"
    cv2.imwrite(str(picture), np.full((8, 8, 3), 128, np.uint8))
    code = cli.main(["-i", str(picture), "-o", str(tmp_path / "out.png"), "-n", str(garbage), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code != 0 and "damaged or not a model file" in err and "would run code" not in err
    assert "Traceback" not in err and not (tmp_path / "out.png").exists()


# --- item 8: the installer loads a file that is not the release before it trusts it -----------------------------

def test_weights_from_a_folder_with_a_file_that_does_not_load_fails(home, plugin_source, tmp_path):
    """Before: installed, exit 0, and ``--check`` said "present and intact"."""
    folder = tmp_path / "from"
    folder.mkdir()
    (folder / "realesr-animevideov3.pth").write_bytes(random_bytes(100_000))
    result = run_installer(home, *standard_args(home, plugin_source, "--models", "realesr-animevideov3",
                                                "--weights-from", str(folder)), check=False)
    assert result.rc != 0
    assert any("FAILED" in line and "does not load (it is damaged or not an upscaling model)" in line
               and "was not installed" in line for line in result.out.splitlines()), result.out
    weights = home / ".local/share/krita-realesrgan/weights"
    assert not list(weights.glob("realesr-animevideov3*"))                    # neither the file nor a .part


def test_check_reports_an_installed_file_that_does_not_load(home, plugin_source):
    install_with_shared_weights(home, plugin_source)
    assert "loads as a model" in run_installer(home, "--check").out        # the good, unpinned file passes
    installed = home / ".local/share/krita-realesrgan/weights/realesr-animevideov3.pth"
    installed.write_bytes(random_bytes(installed.stat().st_size))
    report = run_installer(home, "--check", check=False)
    assert report.rc == 1
    assert any("FAILED" in line and "realesr-animevideov3.pth does not load" in line
               for line in report.out.splitlines()), report.out
    assert "present and intact" not in report.out


def test_a_kept_file_that_does_not_load_is_not_kept(tmp_path):
    """A file an earlier run accepted (unpinned, recorded with its hash) is loaded again before it is kept."""
    from install_steps.files import sha256_file
    folder = tmp_path / "from"
    folder.mkdir()
    fetch, weights, console, manifest = fetcher(tmp_path, weights_from=str(folder))
    info = catalog.ModelInfo(name="tiny", file="tiny.pth", url="http://127.0.0.1:9/tiny.pth", bytes=10,
                             sha256=hashlib.sha256(b"0123456789").hexdigest(), arch="Compact", scale=4,
                             purpose="test", kind="anime")
    kept = weights / "tiny.pth"
    kept.write_bytes(random_bytes(5_000))
    manifest.record_file(kept, kind="weight", model="tiny", sha256=sha256_file(kept), source="local folder",
                         verified=False)
    (folder / "tiny.pth").write_bytes(kept.read_bytes())
    fetch.args.offline = True
    fetch.install_one(info)
    output = console.stream.getvalue()
    assert "tiny.pth does not load" in output and "keeping" not in output
    assert console.failures and "was not installed" in console.failures[0]


def test_a_good_unpinned_file_from_a_folder_is_still_installed(tmp_path):
    """The load check passes a real network that differs from the pinned release (no false alarm)."""
    from data_paths import ANIMEVIDEO_PTH, require
    folder = require(ANIMEVIDEO_PTH).parent
    fetch, weights, console, manifest = fetcher(tmp_path, weights_from=str(folder))
    info = catalog.ModelInfo(name="anime", file=ANIMEVIDEO_PTH.name, url="http://127.0.0.1:9/x.pth", bytes=1,
                             sha256="0" * 64, arch="Compact", scale=4, purpose="test", kind="anime")
    fetch.args.offline = True
    fetch.install_one(info)
    assert not console.failures
    assert (weights / ANIMEVIDEO_PTH.name).read_bytes() == ANIMEVIDEO_PTH.read_bytes()
    assert manifest.files[str(weights / ANIMEVIDEO_PTH.name)]["verified"] is False
    assert "loads as a model" in console.stream.getvalue()
