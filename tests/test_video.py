"""The video pipeline on real clips made here with ffmpeg (test pattern + a sine tone + subtitles), through the real
engine and weights: frame count, size, rate, time base, audio/subtitles kept, clean interruption and exact resume."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import psutil
import pytest

from krita_realesrgan.video.encode import even_extent
from krita_realesrgan.video.options import VideoOptions
from krita_realesrgan.video.pipeline import upscale_video
from krita_realesrgan.video.probe import probe
from krita_realesrgan.video.work_folder import WorkFolder, preview_folder, segment_length, segment_microseconds
from helpers import FakeUpscaler, engine_env
from video_clips import decoded_frames, ffmpeg, make_clip, packet_hashes, stream_seconds
from krita_realesrgan.common.errors import Cancelled, EngineError, Kind
from krita_realesrgan.common.formats import UpscaleOptions
from krita_realesrgan.common.geometry import Extent

CLIP_EXTENT = Extent(96, 64)
CLIP_FRAMES = 24
CLIP_RATE = 12
SEGMENT = 3   # a multiple of 3: whole microseconds at 12 frames/s; small, so that a SIGINT after the first
              # segment still finds 7 segments of work left (with 9 the run could finish before the signal)
def work_leftovers(folder: Path):
    return sorted(p.name for p in folder.rglob("*") if ".partial" in p.name or p.suffix == ".part")


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4")


@pytest.fixture(scope="module")
def single_run(clip, shared_weights, tmp_path_factory):
    """One uninterrupted run through the real engine (realesr-animevideov3, x2)."""
    target = tmp_path_factory.mktemp("single") / "single.mp4"
    options = VideoOptions(UpscaleOptions(scale=2), segment_frames=SEGMENT)
    report = upscale_video(clip, target, options, weights_dir=shared_weights)
    return target, report


# --- probing ---------------------------------------------------------------------------------------------------

def test_probe_reads_the_generated_clip(clip):
    info = probe(clip)
    assert info.extent == CLIP_EXTENT
    assert info.frame_count == CLIP_FRAMES
    assert info.frame_rate == CLIP_RATE
    assert info.duration == pytest.approx(CLIP_FRAMES / CLIP_RATE)
    assert not info.variable_rate and not info.high_bit_depth
    assert info.audio == ("aac",) and info.subtitles == ("mov_text",)


def test_probe_recovers_ntsc_rate_from_a_millisecond_container(tmp_path):
    # Matroska stores 33 ms per frame; the rate must still come out as exactly 30000/1001
    clip = make_clip(tmp_path / "ntsc.mkv", size="64x48", rate="30000/1001", seconds=0.5)
    info = probe(clip)
    assert info.time_base == Fraction(1, 1000)
    assert info.frame_rate == Fraction(30000, 1001)
    assert info.frame_count == 15


def test_probe_refuses_a_file_that_is_not_a_video(tmp_path):
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("not a video")
    with pytest.raises(EngineError) as caught:
        probe(bogus)
    assert caught.value.kind == Kind.BAD_INPUT and "notes.mp4" in caught.value.message


def test_even_extent_crops_only_what_chroma_subsampling_needs():
    assert even_extent(Extent(285, 191), "yuv420p") == Extent(284, 190)
    assert even_extent(Extent(285, 191), "yuv422p10le") == Extent(284, 191)
    assert even_extent(Extent(285, 191), "yuv444p") == Extent(285, 191)
    assert even_extent(Extent(192, 128), "yuv420p") == Extent(192, 128)


def test_unknown_output_container_is_a_clear_error(clip, tmp_path):
    with pytest.raises(EngineError) as caught:
        upscale_video(clip, tmp_path / "out.avi", upscaler=FakeUpscaler(ticks=0))
    assert caught.value.kind == Kind.BAD_INPUT and ".mkv" in caught.value.message


# --- the real pipeline -----------------------------------------------------------------------------------------

@pytest.mark.slow
def test_output_keeps_frames_rate_time_base_audio_and_subtitles(clip, single_run):
    target, report = single_run
    source, result = probe(clip), probe(target)
    assert report.frames == result.frame_count == source.frame_count == CLIP_FRAMES
    assert result.extent == report.extent == Extent(CLIP_EXTENT.width * 2, CLIP_EXTENT.height * 2)
    assert result.frame_rate == source.frame_rate == CLIP_RATE
    assert result.time_base == source.time_base
    assert stream_seconds(target, "0:v:0") == stream_seconds(clip, "0:v:0") == Fraction(CLIP_FRAMES, CLIP_RATE)
    assert result.audio == ("aac",)
    assert stream_seconds(target, "0:a:0") == stream_seconds(clip, "0:a:0")
    assert packet_hashes(target, "0:a:0") == packet_hashes(clip, "0:a:0")
    assert result.subtitles == ("mov_text",)
    assert packet_hashes(target, "0:s:0") == packet_hashes(clip, "0:s:0")
    assert not (target.parent / f".{target.name}.work").exists()


@pytest.mark.slow
def test_frames_are_the_upscaled_input(clip, single_run):
    """The network's output, not a plain resize: sharper than bicubic on the test pattern, same picture."""
    import cv2
    target, _ = single_run
    frames, sources = decoded_frames(target), decoded_frames(clip)
    assert frames.shape == (CLIP_FRAMES, 128, 192, 3)
    for out, src in zip(frames[::8], sources[::8]):
        down = cv2.resize(out, (96, 64), interpolation=cv2.INTER_AREA).astype(np.float32)
        assert np.abs(down - src).mean() < 12          # the same picture (after two lossy encodes)
    assert np.abs(frames[0].astype(int) - frames[1].astype(int)).mean() > 1   # frames differ: not one repeated


@pytest.mark.slow
def test_ctrl_c_leaves_no_output_and_resume_gives_the_same_video(clip, single_run, shared_weights, tmp_path):
    """SIGINT to the CLI after its first segment: exit 130, no output, no ffmpeg left running; --resume then
    produces exactly the frames of one uninterrupted run (each segment is a pure function of its frames and the
    encoder settings on this machine, so bit-identical, not just within codec tolerance)."""
    target = tmp_path / "resumed.mp4"
    work = tmp_path / f".{target.name}.work"
    env = engine_env(tmp_path, shared_weights)
    command = [sys.executable, "-m", "krita_realesrgan", "video", "-i", str(clip), "-o", str(target), "-s", "2",
               "--segment-frames", str(SEGMENT)]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not (work / "segment-000000.mp4").exists():
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    children = [c.pid for c in psutil.Process(first.pid).children(recursive=True)]
    first.send_signal(signal.SIGINT)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    assert not target.exists() and work_leftovers(tmp_path) == []
    assert not [pid for pid in children if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
    finished = sorted(p.name for p in work.glob("segment-*.mp4"))
    assert 1 <= len(finished) < CLIP_FRAMES // SEGMENT

    resumed = subprocess.run(command + ["--resume"], env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert "from the earlier run" in resumed.stdout
    assert not work.exists()
    single, _ = single_run
    assert np.array_equal(decoded_frames(target), decoded_frames(single))
    assert probe(target) == probe(single)


# --- plumbing with a stand-in engine ------------------------------------------------------------------------------

def test_cancel_hook_stops_cleanly_and_resume_skips_finished_segments(clip, tmp_path):
    target = tmp_path / "out.mkv"
    options = VideoOptions(segment_frames=6)
    engine = FakeUpscaler(ticks=0)
    with pytest.raises(Cancelled):
        upscale_video(clip, target, options, upscaler=engine, cancel=engine.cancel_after(14))
    assert not target.exists() and work_leftovers(tmp_path) == []
    work = WorkFolder(target)
    assert work.finished_segments() == 2                       # frames 0-11 are safe; 12-13 are redone

    engine = FakeUpscaler(ticks=0)
    seen = []
    report = upscale_video(clip, target, options, upscaler=engine, resume=True,
                           progress=lambda done, total: seen.append((done, total)))
    assert len(engine.calls) == CLIP_FRAMES - 12 and report.resumed_frames == 12
    assert seen[0] == (12, CLIP_FRAMES) and seen[-1] == (CLIP_FRAMES, CLIP_FRAMES)
    result = probe(target)
    assert result.frame_count == CLIP_FRAMES and result.extent == Extent(192, 128)
    assert result.subtitles == ("subrip",)                     # mp4 timed text becomes SubRip in Matroska
    assert packet_hashes(target, "0:a:0") == packet_hashes(clip, "0:a:0")   # copied, not re-encoded
    assert stream_seconds(target, "0:a:0") == pytest.approx(stream_seconds(clip, "0:a:0"), abs=0.05)  # 1 ms ticks


def test_resume_with_other_settings_starts_over(clip, tmp_path):
    target = tmp_path / "out.mp4"
    engine = FakeUpscaler(ticks=0)
    with pytest.raises(Cancelled):
        upscale_video(clip, target, VideoOptions(segment_frames=5), upscaler=engine, cancel=engine.cancel_after(6))
    engine = FakeUpscaler(ticks=0)
    report = upscale_video(clip, target, VideoOptions(segment_frames=5, crf=30), upscaler=engine,
                           resume=True)
    assert len(engine.calls) == CLIP_FRAMES and report.resumed_frames == 0
    assert any("other settings" in note for note in report.notes)


def test_extract_frame_every_writes_previews(clip, tmp_path):
    target = tmp_path / "out.mp4"
    upscale_video(clip, target, VideoOptions(extract_every=10), upscaler=FakeUpscaler(ticks=0))
    previews = sorted(p.name for p in preview_folder(target).iterdir())
    assert previews == ["frame_000000.png", "frame_000010.png", "frame_000020.png"]
    import cv2
    assert cv2.imread(str(preview_folder(target) / previews[1])).shape == (128, 192, 3)


def test_fps_conversion_keeps_the_duration(clip, tmp_path):
    target = tmp_path / "out.mp4"
    upscale_video(clip, target, VideoOptions(fps=Fraction(6)), upscaler=FakeUpscaler(ticks=0))
    result = probe(target)
    assert result.frame_rate == 6 and result.frame_count == CLIP_FRAMES // 2
    assert result.duration == pytest.approx(CLIP_FRAMES / CLIP_RATE)


def test_odd_output_size_is_cropped_to_even_for_yuv420p(tmp_path):
    clip = make_clip(tmp_path / "odd.mkv", size="48x32", seconds=0.5, extra=("-vf", "format=yuv444p,crop=47:31:0:0",
                                                                             "-pix_fmt", "yuv444p"))
    assert probe(clip).extent == Extent(47, 31)
    report = upscale_video(clip, tmp_path / "out.mkv", upscaler=FakeUpscaler(ticks=0))
    assert report.extent == Extent(94, 62) and not report.notes    # x2 of odd sizes is even already

    report = upscale_video(clip, tmp_path / "out3.mkv", upscaler=FakeUpscaler(scale=3, ticks=0))
    assert report.extent == probe(tmp_path / "out3.mkv").extent == Extent(140, 92)
    assert any("cropped from 141x93" in note for note in report.notes)


def test_cli_reports_bad_input_without_a_traceback(tmp_path):
    bogus = tmp_path / "broken.mp4"
    bogus.write_bytes(b"\0" * 100)
    result = subprocess.run([sys.executable, "-m", "krita_realesrgan", "video", "-i", str(bogus), "-o",
                             str(tmp_path / "out.mp4")], capture_output=True, text=True, env=engine_env(tmp_path), timeout=120)
    assert result.returncode == 1
    assert "broken.mp4" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out.mp4").exists()


def test_segment_lengths_are_whole_microseconds():
    assert segment_length(8, Fraction(12)) == 9
    assert segment_length(240, Fraction(30000, 1001)) == 240
    assert segment_length(100, Fraction(25)) == 100
    for rate in (Fraction(12), Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60), Fraction(12345, 1000)):
        frames = segment_length(10, rate)
        assert frames * 10 ** 6 / rate == segment_microseconds(frames, rate)


def test_memory_stays_flat_over_the_clip(tmp_path):
    """200 frames of 640x360 output would take 138 MB if any stage kept them; the process must not grow."""
    clip = make_clip(tmp_path / "long.mp4", size="320x180", rate="25", seconds=8)
    process = psutil.Process()
    rss = {}

    def sample(done, total):
        if done in (25, 200):
            rss[done] = process.memory_info().rss
    report = upscale_video(clip, tmp_path / "out.mp4", VideoOptions(preset="ultrafast"),
                           upscaler=FakeUpscaler(ticks=0), progress=sample)
    assert report.frames == 200
    assert rss[200] - rss[25] < 20 * 1024 ** 2, rss


def test_high_bit_depth_sources_go_through_as_16_bit(tmp_path):
    clip = make_clip(tmp_path / "deep.mkv", size="64x48", seconds=0.5, extra=("-pix_fmt", "yuv420p10le"))
    assert probe(clip).high_bit_depth
    engine = FakeUpscaler(ticks=0)
    report = upscale_video(clip, tmp_path / "out.mkv", VideoOptions(pix_fmt="yuv420p10le"),
                           upscaler=engine)
    assert {dtype for _, dtype in engine.formats} == {"uint16"}
    result = probe(tmp_path / "out.mkv")
    assert result.pix_fmt == "yuv420p10le" and result.extent == Extent(128, 96) and report.frames == 6


def test_colour_description_is_kept_and_colours_round_trip(tmp_path):
    """A BT.709 clip decoded to RGB and encoded back must use BT.709 both ways (BT.601 would shift colours)."""
    clip = tmp_path / "bt709.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=12:duration=0.5",
           "-vf", "scale=out_color_matrix=bt709:out_range=tv,format=yuv444p", "-colorspace", "bt709",
           "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv", "-c:v", "libx264", "-qp", "0",
           str(clip))
    assert probe(clip).matrix == "bt709"
    target = tmp_path / "out.mkv"
    upscale_video(clip, target, VideoOptions(crf=0, pix_fmt="yuv444p"), upscaler=FakeUpscaler(ticks=0))
    assert probe(target).matrix == "bt709"
    out = decoded_frames(target)[:, ::2, ::2].astype(int)
    assert np.abs(out - decoded_frames(clip)).mean() < 0.2
