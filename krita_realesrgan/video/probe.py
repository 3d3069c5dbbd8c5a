"""What a clip holds, from ``ffmpeg -i`` and a listing of its video packets (no decoding, no ffprobe):
``VideoInfo`` (size, pixel format, colour tags, exact frame rate and count, time base, audio and subtitle streams).
"""
from __future__ import annotations

import re
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Optional, Tuple

from ..common.errors import EngineError, Kind
from ..common.geometry import Extent
from .ffmpeg import command, read_header, tail


@dataclass(frozen=True)
class VideoInfo:
    """What the pipeline needs to know about an input clip (from ffmpeg alone; no ffprobe needed)."""

    extent: Extent
    stream: int                  # index of the video stream in the file (cover pictures skipped)
    pix_fmt: str                 # the decoder's pixel format, e.g. yuv420p, yuv420p10le
    colour: Tuple[str, ...]      # colour tags from the stream line (e.g. ("tv", "bt709")), may be empty
    frame_rate: Fraction         # exact when the container's frame durations are constant; the most common
                                 # frame duration's rate when they vary
    time_base: Fraction          # the video stream's time base
    frame_count: int
    duration: float              # seconds of video
    offset: Fraction             # seconds from the file's start (its earliest stream) to the first frame
    variable_rate: bool          # frame durations differ by more than one time-base tick
    rate_range: Tuple[Fraction, Fraction]   # the slowest and the fastest rate of single frames
    sar: Fraction
    audio: Tuple[str, ...]       # codec name per audio stream
    subtitles: Tuple[str, ...]   # codec name per subtitle stream

    @property
    def matrix(self) -> Optional[str]:
        """The YUV matrix the stream is tagged with (bt709, smpte170m, ...), or None when untagged."""
        for tag in self.colour:
            if tag.split("/")[0] in MATRICES:
                return tag.split("/")[0]
        return None

    @property
    def high_bit_depth(self) -> bool:
        return bool(re.search(r"(p0\d\d|48|64|\D(9|10|12|14|16))(le|be)?$", self.pix_fmt))


MATRICES = ("bt709", "bt470bg", "smpte170m", "bt2020nc", "bt2020c", "fcc", "smpte240m")
_STREAM = re.compile(r"Stream #0:(\d+)\S*: (Video|Audio|Subtitle|Data|Attachment): ([\w-]+)(.*)")
_VIDEO_FORMAT = re.compile(r", ([a-z][a-z0-9_]*)(?:\(([^)]*)\))?, (\d+)x(\d+)")
_RATE = re.compile(r", ([\d.]+k?) (fps|tbr)")
_SAR = re.compile(r"SAR (\d+):(\d+)")
_START = re.compile(r"Duration: .*?, start: (-?[\d.]+)")
_CRC_LINE = re.compile(r"^\s*\d+,\s*(-?\d+),\s*(-?\d+),\s*(\d+),")


def _parse_rate(text: str) -> Fraction:
    """ffmpeg prints rates rounded (29.97); recover NTSC rates (30000/1001) and keep others as written."""
    value = float(text[:-1]) * 1000 if text.endswith("k") else float(text)
    ntsc = round(value * 1001)
    if ntsc % 1000 == 0 and abs(ntsc / 1001 - value) < 0.006 and value != round(value):
        return Fraction(ntsc, 1001)
    return Fraction(text[:-1] if text.endswith("k") else text).limit_denominator(1001) * (
        1000 if text.endswith("k") else 1)


def probe(path: Path) -> VideoInfo:
    """Read the stream layout from ``ffmpeg -i`` and count the video packets (no decoding) for the exact frame
    count, time base and frame durations."""
    path = Path(path)
    if not path.is_file():
        raise EngineError(Kind.BAD_INPUT, f"The video {path} does not exist.")
    with tempfile.TemporaryFile() as errors:
        header = read_header(path)
        video = None
        audio, subtitles = [], []
        for match in _STREAM.finditer(header):
            index, kind, codec, rest = int(match.group(1)), match.group(2), match.group(3), match.group(4)
            if kind == "Video" and video is None and "attached pic" not in rest:
                video = (index, codec, rest)
            elif kind == "Audio":
                audio.append(codec)
            elif kind == "Subtitle":
                subtitles.append(codec)
        if video is None:
            raise EngineError(Kind.BAD_INPUT, f"{path.name} is not a video file ffmpeg can read.",
                              tail(header))
        index, codec, rest = video
        fmt = _VIDEO_FORMAT.search(rest)
        if fmt is None:
            raise EngineError(Kind.BAD_INPUT, f"Cannot read the picture format of {path.name}.", rest)
        pix_fmt, tags = fmt.group(1), fmt.group(2) or ""
        extent = Extent(int(fmt.group(3)), int(fmt.group(4)))
        rates = {kind: text for text, kind in _RATE.findall(rest)}
        sar_match = _SAR.search(rest)
        sar = Fraction(int(sar_match.group(1)), int(sar_match.group(2))) if sar_match and int(
            sar_match.group(2)) else Fraction(1)

        listing = subprocess.Popen(command("-i", str(path), "-map", f"0:{index}", "-c", "copy", "-f", "framecrc",
                                           "-"), stdout=subprocess.PIPE, stderr=errors, text=True)
        time_base, times, last_packet = None, [], (0, 0)   # (pts, duration) of the latest packet
        for line in listing.stdout:
            if line.startswith("#tb 0:"):
                num, den = line.split(":", 1)[1].strip().split("/")
                time_base = Fraction(int(num), int(den))
            packet = _CRC_LINE.match(line)
            if packet:
                pts, duration = int(packet.group(2)), int(packet.group(3))
                times.append(pts)
                last_packet = max(last_packet, (pts, duration))
        if listing.wait() != 0 or time_base is None or not times:
            errors.seek(0)
            raise EngineError(Kind.BAD_INPUT, f"{path.name} has no readable video frames.",
                              tail(errors.read().decode(errors="replace")))

    # A frame lasts until the next one starts. Packet durations can be wrong: Matroska parts joined with -c copy
    # (ffmpeg 5.1) give every frame the first part's default duration; presentation times are right.
    count = len(times)
    times.sort()
    durations = Counter(b - a for a, b in zip(times, times[1:])) if count > 1 else Counter([last_packet[1]])
    first, last_end = times[0], times[-1] + (times[-1] - times[-2] if count > 1 else last_packet[1])

    header_rate = _parse_rate(rates.get("fps") or rates["tbr"]) if ("fps" in rates or "tbr" in rates) else None
    constant = len(durations) == 1 and 0 not in durations
    spread = (max(durations) - min(durations)) if durations else 0
    variable = not constant and spread > 1 and 0 not in durations
    if constant or variable:   # variable: the rate most frames have (one 5 fps second + one 25 fps second: 25)
        frame_rate = 1 / (durations.most_common(1)[0][0] * time_base)
        # containers with coarse time bases (Matroska: 1 ms) round every duration: 29.97 fps reads as 33 ms
        if header_rate is not None and abs(1 / header_rate - 1 / frame_rate) < time_base:
            frame_rate = header_rate
    elif header_rate is not None:
        frame_rate = header_rate
    else:
        frame_rate = Fraction(count) / ((last_end - first) * time_base)
    duration = float((last_end - first) * time_base) if variable else float(count / frame_rate)
    start = _START.search(header)
    offset = max(Fraction(0), first * time_base - (Fraction(start.group(1)) if start else 0))
    rate_range = (1 / (max(durations) * time_base), 1 / (min(durations) * time_base)) if variable else (
        frame_rate, frame_rate)
    return VideoInfo(extent, index, pix_fmt, tuple(t.strip() for t in tags.split(",") if t.strip()), frame_rate,
                     time_base, count, duration, offset, variable, rate_range, sar, tuple(audio), tuple(subtitles))


def frame_extent(video: Path) -> Extent:
    """The frame size of a video this pipeline wrote (a segment)."""
    match = _VIDEO_FORMAT.search(read_header(video))
    return Extent(int(match.group(3)), int(match.group(4)))
