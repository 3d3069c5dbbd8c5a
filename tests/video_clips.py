"""Small video clips for the video tests, made and inspected with ffmpeg (test_video, test_cluster,
test_bad_input_media)."""
from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np

from krita_realesrgan.video.ffmpeg import ffmpeg_binary
from krita_realesrgan.video.probe import probe

SUBTITLES = "1\n00:00:00,100 --> 00:00:00,900\nHello\n\n2\n00:00:01,000 --> 00:00:01,500\nWorld\n"


def ffmpeg(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([ffmpeg_binary(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *args],
                          check=True, capture_output=True)


def make_clip(path: Path, size: str = "96x64", rate: str = "12", seconds: float = 2.0, extra=()) -> Path:
    srt = path.parent / "subtitles.srt"
    srt.write_text(SUBTITLES, encoding="utf-8")
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}",
           "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}", "-i", str(srt),
           "-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
           *extra, *(["-c:s", "mov_text"] if path.suffix == ".mp4" else []), str(path))
    return path


def stream_seconds(path: Path, selector: str) -> Fraction:
    """Exact length of one stream: the sum of its packet durations in its time base."""
    listing = ffmpeg("-i", str(path), "-map", selector, "-c", "copy", "-f", "framecrc", "-").stdout.decode()
    time_base, total = None, 0
    for line in listing.splitlines():
        if line.startswith("#tb 0:"):
            time_base = Fraction(line.split(":", 1)[1].strip())
        elif line and not line.startswith("#"):
            total += int(line.split(",")[3])
    return total * time_base


def packet_hashes(path: Path, selector: str):
    """Size and CRC of every packet of one stream: equal lists mean the stream was copied unchanged."""
    listing = ffmpeg("-i", str(path), "-map", selector, "-c", "copy", "-f", "framecrc", "-").stdout.decode()
    return [tuple(field.strip() for field in line.split(",")[4:6]) for line in listing.splitlines()
            if line and not line.startswith("#")]


def decoded_frames(path: Path) -> np.ndarray:
    info = probe(path)
    raw = ffmpeg("-i", str(path), "-map", "0:v:0", "-f", "rawvideo", "-pix_fmt", "rgb24", "-").stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, info.extent.height, info.extent.width, 3)
