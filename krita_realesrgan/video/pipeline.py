"""Upscale a video clip frame by frame, keeping its audio, subtitles, frame count, frame rate and duration.

    probe (ffmpeg -i + a packet listing) -> decode (ffmpeg -> raw RGB frames on a pipe) -> Upscaler, frame by frame
    -> encode segments of N frames (raw frames piped into ffmpeg, each segment finished atomically in a work folder)
    -> concatenate the segments and copy the input's audio/subtitles into a temp file -> rename onto the output

Memory stays flat: the current and the previous frame are held (a frame equal to the one before, as ffmpeg's fps
filter repeats them, reuses its upscaled picture). A job that stops (Ctrl-C,
``cancel``, a crash) leaves no output file; its finished segments stay in the work folder next to the output, and
``resume=True`` continues from the first unfinished segment. Every segment is a pure function of its frames and
the encoder settings, so a resumed job gives the same file as an uninterrupted one.

Only ``ffmpeg`` is needed (the system one, else the binary that ``imageio-ffmpeg`` bundles, which has no ffprobe).
"""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ..common import catalog
from ..cli import limit_args
from ..common.errors import Cancelled, EngineError, Kind
from ..file_guard import same_file
from ..common.formats import AUTO_TILE, NO_TILING, PixelFormat, UpscaleOptions
from ..common.geometry import Extent
from ..common.paths import ENV_FFMPEG
from ..common.run_estimate import check_limit

Progress = Callable[[int, int], None]   # (frames done, frames total)
Cancel = Callable[[], bool]
Log = Callable[[str], None]

DEFAULT_CODEC = "libx264"
DEFAULT_CRF = 18
DEFAULT_PRESET = "medium"
DEFAULT_PIX_FMT = "yuv420p"
DEFAULT_SEGMENT_FRAMES = 240   # a multiple of 3: NTSC-rate segment lengths are whole microseconds (concat offsets)
JOB_VERSION = 1


# --- the ffmpeg binary --------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def ffmpeg_binary() -> str:
    """The ffmpeg to run: $KRITA_REALESRGAN_FFMPEG, else the system's when on PATH, else imageio-ffmpeg's."""
    system = os.environ.get(ENV_FFMPEG) or shutil.which("ffmpeg")
    if system:
        return system
    try:
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as error:
        raise EngineError(Kind.ENGINE_MISSING, "ffmpeg is not available. Install ffmpeg, or the Python package "
                          "imageio-ffmpeg in the engine's environment.", str(error)) from None


def _ffmpeg(*args: str) -> List[str]:
    return [ffmpeg_binary(), "-hide_banner", "-nostdin", "-y", *args]


def _tail(path_or_text, lines: int = 15) -> str:
    text = path_or_text.read_text(errors="replace") if isinstance(path_or_text, Path) else str(path_or_text)
    return "\n".join(text.strip().splitlines()[-lines:])


# --- probe ----------------------------------------------------------------------------------------------------------

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
            if tag.split("/")[0] in _MATRICES:
                return tag.split("/")[0]
        return None

    @property
    def high_bit_depth(self) -> bool:
        return bool(re.search(r"(p0\d\d|48|64|\D(9|10|12|14|16))(le|be)?$", self.pix_fmt))


_MATRICES = ("bt709", "bt470bg", "smpte170m", "bt2020nc", "bt2020c", "fcc", "smpte240m")
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
        header = subprocess.run(_ffmpeg("-i", str(path)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, errors="replace").stderr
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
                              _tail(header))
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

        listing = subprocess.Popen(_ffmpeg("-i", str(path), "-map", f"0:{index}", "-c", "copy", "-f", "framecrc",
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
                              _tail(errors.read().decode(errors="replace")))

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


# --- containers ---------------------------------------------------------------------------------------------------

_TEXT_SUBTITLES = {"subrip", "srt", "ass", "ssa", "webvtt", "mov_text", "text"}


@dataclass(frozen=True)
class Container:
    muxer: str
    subtitle_codecs: Tuple[str, ...]  # subtitle codecs it holds as they are (copied)
    text_subtitles_as: str            # other text subtitles are converted to this; picture subtitles are left out
    audio_codecs: Optional[Tuple[str, ...]] = None   # None = any codec is copied
    video_codecs: Optional[Tuple[str, ...]] = None
    attachments: bool = False         # fonts of ASS subtitles
    options: Tuple[str, ...] = ()

    def subtitle_codec(self, codec: str) -> Optional[str]:
        """"copy", the codec to convert to, or None when this container cannot hold the subtitles."""
        if codec in self.subtitle_codecs:
            return "copy"
        return self.text_subtitles_as if codec in _TEXT_SUBTITLES else None


_MP4 = Container("mp4", ("mov_text",), "mov_text", options=("-movflags", "+faststart"))
CONTAINERS = {
    ".mp4": _MP4,
    ".m4v": _MP4,
    ".mov": replace(_MP4, muxer="mov", options=()),
    ".mkv": Container("matroska", ("subrip", "ass", "ssa", "webvtt", "dvd_subtitle", "hdmv_pgs_subtitle",
                                   "dvb_subtitle", "dvb_teletext"), "srt", attachments=True),
    ".webm": Container("webm", ("webvtt",), "webvtt", audio_codecs=("opus", "vorbis"),
                       video_codecs=("libvpx-vp9", "libvpx", "libaom-av1", "libsvtav1", "librav1e")),
}


def container_for(path: Path) -> Container:
    container = CONTAINERS.get(Path(path).suffix.lower())
    if container is None:
        raise EngineError(Kind.BAD_INPUT, f"Cannot write {Path(path).name}: the output must end in "
                          f"{', '.join(CONTAINERS)}.")
    return container


# --- options and the job record -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class VideoOptions:
    upscale: UpscaleOptions = field(default_factory=UpscaleOptions)
    codec: str = DEFAULT_CODEC
    crf: Optional[int] = DEFAULT_CRF
    preset: Optional[str] = DEFAULT_PRESET
    pix_fmt: str = DEFAULT_PIX_FMT
    fps: Optional[Fraction] = None            # convert to this frame rate (frames dropped/repeated, duration kept)
    segment_frames: int = DEFAULT_SEGMENT_FRAMES
    extract_every: Optional[int] = None       # also write every Nth upscaled frame as PNG

    def __post_init__(self):
        if self.segment_frames < 1:
            raise EngineError(Kind.BAD_INPUT, "Segments must hold at least one frame.")
        if self.extract_every is not None and self.extract_every < 1:
            raise EngineError(Kind.BAD_INPUT, "--extract-frame-every must be 1 or more.")
        if self.fps is not None and Fraction(self.fps) <= 0:
            raise EngineError(Kind.BAD_INPUT, f"Frame rate {self.fps} must be positive.")

    def encoder_args(self) -> List[str]:
        args = ["-c:v", self.codec, "-pix_fmt", self.pix_fmt]
        if self.crf is not None and self.codec in ("libx264", "libx265", "libvpx-vp9", "libaom-av1", "libsvtav1"):
            args += ["-crf", str(self.crf)] + (["-b:v", "0"] if self.codec in ("libvpx-vp9", "libaom-av1") else [])
        if self.preset and self.codec in ("libx264", "libx265", "libsvtav1"):
            args += ["-preset", str(self.preset)]
        return args


def _job_record(source: Path, info: VideoInfo, options: VideoOptions, tile: int) -> dict:
    stat = source.stat()
    upscale = options.upscale.to_json()
    upscale["tile"] = tile
    return {"version": JOB_VERSION, "input": str(source.resolve()), "input_bytes": stat.st_size,
            "input_mtime_ns": stat.st_mtime_ns, "frames": info.frame_count, "upscale": upscale,
            "codec": options.codec, "crf": options.crf, "preset": options.preset, "pix_fmt": options.pix_fmt,
            "fps": str(options.fps) if options.fps else None, "segment_frames": options.segment_frames}


class WorkFolder:
    """``.<output name>.work/`` next to the output: job.json, finished segments, the ffmpeg log."""

    def __init__(self, target: Path):
        self.path = target.parent / f".{target.name}.work"
        self.job_file = self.path / "job.json"
        self.log = self.path / "ffmpeg.log"

    def segment(self, number: int) -> Path:
        return self.path / f"segment-{number:06d}.mp4"

    def finished_segments(self) -> int:
        """How many segments from the first on are finished (a gap ends the count)."""
        count = 0
        while self.segment(count).is_file():
            count += 1
        return count

    def read_job(self) -> Optional[dict]:
        try:
            return json.loads(self.job_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def write_job(self, record: dict) -> None:
        from ..common.paths import atomic_write_bytes
        atomic_write_bytes(self.job_file, (json.dumps(record, indent=2) + "\n").encode("utf-8"))

    def reset(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir(parents=True)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _same_job(stored: Optional[dict], wanted: dict) -> bool:
    if not stored:
        return False
    ignore = {"upscale"}
    if any(stored.get(k) != v for k, v in wanted.items() if k not in ignore):
        return False
    stored_upscale = dict(stored.get("upscale") or {})
    wanted_upscale = dict(wanted["upscale"])
    if wanted_upscale.get("tile") == AUTO_TILE:   # the stored job's resolved tile is kept
        stored_upscale.pop("tile", None)
        wanted_upscale.pop("tile", None)
    return stored_upscale == wanted_upscale


def segment_length(wanted: int, rate: Fraction) -> int:
    """The segment length nearest above ``wanted`` whose duration is a whole number of microseconds.

    ffmpeg's concat demuxer places each segment at the sum of the earlier durations, counted in microseconds; with
    whole-microsecond segments no timestamp is ever rounded (12 fps or 30000/1001 fps: a multiple of 3 frames).
    """
    unit = rate.numerator // math.gcd(rate.numerator, rate.denominator * 10 ** 6)
    return max(1, -(-wanted // unit)) * unit


def segment_microseconds(frames: int, rate: Fraction) -> int:
    return int(frames * 10 ** 6 / rate)


# --- decode and encode processes ----------------------------------------------------------------------------------

def even_extent(extent: Extent, pix_fmt: str) -> Extent:
    """The largest size that ``pix_fmt``'s chroma subsampling can hold: 4:2:0 needs even width and height,
    4:2:2 an even width. Frames are cropped to it (at most the last column/row goes), never stretched."""
    width, height = extent
    if re.match(r"(yuvj?4[12][02]|nv1[26]|nv21|p0[12]\d)", pix_fmt):
        width -= width % 2
        if re.match(r"(yuvj?420|yuvj?411|nv12|nv21|p0[12]\d)", pix_fmt):
            height -= height % 2
    return Extent(width, height)


class _Processes:
    """The ffmpeg children of one job: all of them are killed when the job stops early."""

    def __init__(self, log: Path):
        self.children: List[subprocess.Popen] = []
        self.log = log

    def start(self, args: Sequence[str], **kwargs) -> subprocess.Popen:
        with open(self.log, "ab") as log:
            # own session: a Ctrl-C in the terminal reaches only us, and we end the children ourselves
            child = subprocess.Popen(list(args), stderr=log, start_new_session=True, **kwargs)
        self.children.append(child)
        return child

    def finish(self, child: subprocess.Popen, what: str) -> None:
        for stream in (child.stdin, child.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        code = child.wait()
        self.children.remove(child)
        if code != 0:
            raise EngineError(Kind.INTERNAL if what != "decode" else Kind.BAD_INPUT,
                              f"ffmpeg failed to {what} the video (exit code {code}); see {self.log}.",
                              _tail(self.log))

    def kill_all(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.kill()
            child.wait()
        self.children.clear()


def _decode_command(source: Path, info: VideoInfo, fps: Optional[Fraction], total: int, skip: int,
                    pix_fmt: str) -> List[str]:
    """Decode to raw frames: every frame, or (``fps``) at that even rate on a grid from the file's start (frame n
    is shown at n/fps, as the sound expects), ending after ``total`` frames (the fps filter holds the last frame for
    its packet duration, which a joined Matroska file can overstate)."""
    filters = ([f"fps={fps}:start_time=0", f"trim=end_frame={total}"] if fps else []) + (
        [f"select=gte(n\\,{skip})"] if skip else [])
    return _ffmpeg("-loglevel", "error", "-i", str(source), "-map", f"0:{info.stream}",
                   *(["-vf", ",".join(filters)] if filters else []), "-fps_mode", "passthrough",
                   "-f", "rawvideo", "-pix_fmt", pix_fmt, "pipe:1")


def _frames(pipe, extent: Extent, fmt: PixelFormat) -> Iterator[np.ndarray]:
    size = fmt.byte_count(extent)
    shape = (extent.height, extent.width, fmt.channels)
    while True:
        buffer = bytearray(size)
        view, filled = memoryview(buffer), 0
        while filled < size:
            got = pipe.readinto(view[filled:])
            if not got:
                break
            filled += got
        if filled < size:
            return
        yield np.frombuffer(buffer, dtype=fmt.dtype).reshape(shape)


class _SegmentWriter:
    """Feeds upscaled frames to one ffmpeg encoder per segment; a segment appears under its name only when done."""

    def __init__(self, processes: _Processes, work: WorkFolder, options: VideoOptions, rate: Fraction,
                 info: VideoInfo):
        self.processes, self.work, self.options, self.rate = processes, work, options, rate
        self.sar, self.colour_args, self.to_yuv = info.sar, _colour_args(info), _to_yuv_filter(info)
        self.encoder: Optional[subprocess.Popen] = None
        self.number = 0
        self.frames_in_segment = 0
        self.part: Optional[Path] = None

    def open(self, number: int, extent: Extent, raw_pix_fmt: str) -> None:
        self.number, self.frames_in_segment = number, 0
        self.part = self.work.segment(number).with_suffix(".part")
        filters = self.to_yuv + [f"format={self.options.pix_fmt}",
                                 f"setsar={self.sar.numerator}/{self.sar.denominator}"]
        self.encoder = self.processes.start(
            _ffmpeg("-loglevel", "error", "-f", "rawvideo", "-pix_fmt", raw_pix_fmt, "-s", f"{extent.width}x"
                    f"{extent.height}", "-framerate", str(self.rate), "-i", "pipe:0", "-vf", ",".join(filters),
                    *self.colour_args, *self.options.encoder_args(), "-f", "mp4", str(self.part)),
            stdin=subprocess.PIPE)

    def write(self, frame: np.ndarray) -> None:
        try:
            self.encoder.stdin.write(memoryview(np.ascontiguousarray(frame)).cast("B"))
        except BrokenPipeError:
            self.processes.finish(self.encoder, "encode")
            raise
        self.frames_in_segment += 1

    @property
    def is_open(self) -> bool:
        return self.encoder is not None

    def close(self) -> None:
        encoder, self.encoder = self.encoder, None
        self.processes.finish(encoder, "encode")
        os.replace(self.part, self.work.segment(self.number))

    def abandon(self) -> None:
        self.encoder = None
        if self.part is not None:
            try:
                self.part.unlink()
            except OSError:
                pass


_SCALE_MATRIX = {"bt709": "bt709", "bt470bg": "bt470", "smpte170m": "smpte170m", "bt2020nc": "bt2020",
                 "bt2020c": "bt2020", "fcc": "fcc", "smpte240m": "smpte240m"}


def _to_yuv_filter(info: VideoInfo) -> List[str]:
    """Convert RGB to YUV with the input's matrix explicitly (older ffmpeg ignores the output tags here)."""
    if info.matrix is None:
        return []   # untagged: ffmpeg's default matrix both ways (decoding honours a tagged matrix everywhere)
    ranges = [tag for tag in info.colour if tag in ("tv", "pc")]
    return [f"scale=out_color_matrix={_SCALE_MATRIX[info.matrix]}:out_range={ranges[0] if ranges else 'tv'}"]


def _colour_args(info: VideoInfo) -> List[str]:
    """Tag the output with the input's colour range and description (ffmpeg prints "bt709" when matrix, primaries
    and transfer agree, else "matrix/primaries/transfer"): the RGB round trip then uses one matrix both ways."""
    args = []
    for tag in info.colour:
        if tag in ("tv", "pc"):
            args += ["-color_range", tag]
            continue
        parts = tag.split("/")
        if parts[0] not in _MATRICES:
            continue
        matrix, primaries, transfer = parts if len(parts) == 3 else (parts[0],) * 3
        for option, value in (("-colorspace", matrix), ("-color_primaries", primaries), ("-color_trc", transfer)):
            if value != "unknown":
                args += [option, value]
    return args


# --- the job ------------------------------------------------------------------------------------------------------

@dataclass
class VideoReport:
    output: Path
    frames: int
    extent: Extent
    frame_rate: Fraction
    resumed_frames: int      # frames taken from an earlier, interrupted run
    seconds_upscaling: float = 0.0
    notes: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)   # something about the input went wrong (lost frames)


def preview_folder(target: Path) -> Path:
    return target.parent / f"{target.stem}_frames"


def _prepare_work(work: WorkFolder, wanted: dict, resume: bool, notes: List[str]) -> int:
    """Keep the work folder of the same interrupted job (``resume``) or start a fresh one; returns the tile edge
    to use (a resumed job keeps the one it chose, so its frames are computed exactly as before)."""
    stored = work.read_job()
    if resume and _same_job(stored, wanted):
        return int(stored["upscale"]["tile"])
    if resume and stored is not None:
        notes.append("The unfinished job in the work folder had other settings; starting over.")
    work.reset()
    work.write_job(wanted)
    return int(wanted["upscale"]["tile"])


class _FrameLoop:
    """Decoded frames -> engine -> even crop -> segment encoder (+ preview PNGs), counting frames."""

    def __init__(self, upscaler, fmt: PixelFormat, upscale: UpscaleOptions, options: VideoOptions,
                 writer: _SegmentWriter, work: WorkFolder, wanted: dict, target: Path, notes: List[str]):
        self.upscaler, self.fmt, self.upscale, self.options = upscaler, fmt, upscale, options
        self.writer, self.work, self.wanted, self.target, self.notes = writer, work, wanted, target, notes
        self.extent: Optional[Extent] = None
        self.seconds = 0.0
        self.previous: Optional[Tuple[np.ndarray, np.ndarray]] = None   # (decoded frame, its upscaled picture)

    def run(self, frames: Iterator[np.ndarray], index: int, total: int, progress: Optional[Progress],
            cancel: Optional[Cancel]) -> int:
        """Process ``frames`` (the first is number ``index``); returns the number after the last."""
        first = index
        for frame in frames:
            if cancel is not None and cancel():
                raise Cancelled()
            if self.previous is not None and np.array_equal(frame, self.previous[0]):
                image = self.previous[1]   # a repeated frame (ffmpeg's fps filter): the same picture again
            else:
                image = self._upscale(frame, cancel, note=index == first)
                self.previous = (frame, image)
            if not self.writer.is_open:
                self.writer.open(index // self.options.segment_frames, self.extent, raw_pix_fmt(self.fmt))
            self.writer.write(image)
            if self.options.extract_every and index % self.options.extract_every == 0:
                from ..imagefile import write_image
                write_image(preview_folder(self.target) / f"frame_{index:06d}.png", image)
            index += 1
            if self.writer.frames_in_segment == self.options.segment_frames:
                self.writer.close()
            if progress:
                progress(index, max(total, index))
        if self.writer.is_open:
            self.writer.close()
        return index

    def _upscale(self, frame: np.ndarray, cancel: Optional[Cancel], note: bool) -> np.ndarray:
        started = time.perf_counter()
        result = self.upscaler.upscale(frame, self.fmt, self.upscale, cancel=cancel)
        self.seconds += time.perf_counter() - started
        if self.upscale.tile == AUTO_TILE:   # fix the tile plan for the whole job: identical frames on resume
            self.upscale = self.upscale.with_(tile=result.tile or NO_TILING)
            self.work.write_job({**self.wanted, "upscale": {**self.wanted["upscale"], "tile": self.upscale.tile}})
        image = result.image
        full = Extent(image.shape[1], image.shape[0])
        self.extent = even_extent(full, self.options.pix_fmt)
        if note and self.extent != full:
            self.notes.append(f"{self.options.pix_fmt} needs even sizes: frames are cropped from {full} to "
                              f"{self.extent}.")
        return image[:self.extent.height, :self.extent.width]


def raw_pix_fmt(fmt: PixelFormat) -> str:
    """ffmpeg's name for the RGB frames on the pipes."""
    return "rgb48le" if fmt.dtype == "uint16" else "rgb24"


@dataclass(frozen=True)
class EncodedSegment:
    """One segment upscaled and encoded by another process: the file's bytes and what the job needs to know."""
    number: int
    frames: int
    data: bytes
    extent: Extent
    seconds: float                              # upscaling time
    tile: int                                   # the tile edge it used (resolved when the job's is automatic)
    notes: Tuple[str, ...]
    previews: Tuple[Tuple[str, bytes], ...]     # (file name, PNG bytes) of its --extract-frame-every frames


@dataclass
class VideoJob:
    """One clip's job, decided before the first frame (``prepare_job``): what is read at which rate, in which
    segments, and the work folder that keeps the finished ones. ``upscale_video`` runs it in this process; the
    cluster (``cluster/video_run.py``) hands its segments to other processes. Every segment is a pure function of
    its frames and these settings, so it does not matter who encodes it."""

    source: Path
    target: Path
    info: VideoInfo
    container: Container
    options: VideoOptions           # segment_frames already a whole number of microseconds
    rate: Fraction                  # output frames per second
    resample: Optional[Fraction]    # the rate of ffmpeg's fps filter, or None: every frame as decoded
    total: int                      # frames expected
    work: WorkFolder
    wanted: dict                    # the job record (job.json)
    tile: int                       # the tile edge (a resumed job keeps its own)
    notes: List[str]

    @property
    def fmt(self) -> PixelFormat:
        return PixelFormat("uint16" if self.info.high_bit_depth else "uint8", 3)

    def first_unfinished(self) -> int:
        """The frame after the finished segments from the first on (an earlier run's): decoding starts there."""
        return self.work.finished_segments() * self.options.segment_frames

    def processes(self) -> "_Processes":
        """The job's ffmpeg children (all killed when it stops early), logging into the work folder."""
        return _Processes(self.work.log)

    def decode(self, processes: "_Processes", skip: int) -> Tuple[subprocess.Popen, Iterator[np.ndarray]]:
        """Start ffmpeg decoding from frame ``skip``; the process and its frames (finish the process after)."""
        decoder = processes.start(_decode_command(self.source, self.info, self.resample, self.total, skip,
                                                  raw_pix_fmt(self.fmt)), stdout=subprocess.PIPE)
        return decoder, _frames(decoder.stdout, self.info.extent, self.fmt)

    def frame_loop(self, upscaler, processes: "_Processes", work: Optional[WorkFolder] = None,
                   target: Optional[Path] = None) -> "_FrameLoop":
        """Frames -> engine -> segments in ``work`` (default: the job's), previews beside ``target``."""
        work = work or self.work
        writer = _SegmentWriter(processes, work, self.options, self.rate, self.info)
        return _FrameLoop(upscaler, self.fmt, self.options.upscale.with_(tile=self.tile), self.options, writer, work,
                          self.wanted, target or self.target, self.notes)

    def encode_segment(self, upscaler, number: int, frames: Sequence[np.ndarray],
                       cancel: Optional[Cancel] = None) -> "EncodedSegment":
        """Upscale and encode segment ``number`` from its decoded ``frames`` in a private temporary folder, for a
        process that does not share the job's folders (a cluster worker); ``store_segment`` files the result."""
        with tempfile.TemporaryDirectory(prefix="krita-realesrgan-segment-") as folder:
            target = Path(folder) / self.target.name
            work = WorkFolder(target)
            work.reset()
            processes = _Processes(work.log)
            notes: List[str] = []
            loop = replace(self, notes=notes).frame_loop(upscaler, processes, work, target)
            try:
                loop.run(iter(frames), number * self.options.segment_frames, self.total, None, cancel)
            except BaseException:
                processes.kill_all()
                loop.writer.abandon()
                raise
            previews = sorted(preview_folder(target).glob("*.png"))
            return EncodedSegment(number, len(frames), work.segment(number).read_bytes(), loop.extent, loop.seconds,
                                  loop.upscale.tile, tuple(notes), tuple((p.name, p.read_bytes()) for p in previews))

    def store_segment(self, segment: "EncodedSegment") -> None:
        """File a segment encoded elsewhere (``encode_segment``) in the work folder, and its preview frames."""
        from ..common.paths import atomic_write_bytes
        for name, data in segment.previews:
            atomic_write_bytes(preview_folder(self.target) / name, data)
        atomic_write_bytes(self.work.segment(segment.number), segment.data)

    def mux(self, end: int, extent: Optional[Extent]) -> Extent:
        """All ``end`` frames are in finished segments: write the target with the input's sound and subtitles.
        Returns the frame size (``extent`` None: read from the first segment, all from an earlier run)."""
        if end == 0:
            raise EngineError(Kind.BAD_INPUT, f"ffmpeg decoded no frames from {self.source.name}.",
                              _tail(self.work.log))
        extent = extent or _segment_extent(self.work.segment(0))
        _mux(self.work, self.source, self.target, self.info, self.container, self.rate, self.options.segment_frames,
             self.notes)
        return extent

    def report(self, end: int, resumed: int, extent: Extent, seconds: float) -> VideoReport:
        """After ``mux``: remove the work folder; the report, with a warning for frames ffmpeg could not decode."""
        self.work.remove()
        frames = end if end > resumed else min(resumed, self.total)   # (resumed after the last segment)
        # the fps filter fills a gap with repeats, and its count may differ from the rounded total by one
        lost = self.total - frames if self.total - frames > (1 if self.resample else 0) else 0
        warnings = [_lost_frames_warning(self.source.name, self.info, lost, self.total, self.rate)] if lost else []
        return VideoReport(self.target, frames, extent, self.rate, min(resumed, frames), seconds, self.notes,
                           warnings)


def check_frame_size(extent: Extent, options: UpscaleOptions) -> None:
    """Refuse, before decoding anything, frames whose upscaled size passes ``options.max_pixels`` (known up front
    for a catalog model; the engine checks any other model at the first frame)."""
    check_limit(extent, options.max_pixels, limit_args.HINT, "Each frame has")
    info = catalog.get(options.model)
    if info is not None:
        check_limit(options.output_extent(extent, info.scale), options.max_pixels, limit_args.HINT,
                    "Each upscaled frame would have")


def prepare_job(source: Path, target: Path, options: VideoOptions = VideoOptions(), *, resume: bool = False,
                log: Optional[Log] = None) -> VideoJob:
    """Check the paths, probe the clip, fix the rate and segment length, and keep (``resume``) or start the work
    folder. Raises EngineError."""
    source, target = Path(source).absolute(), Path(target).absolute()
    say = log or (lambda message: None)
    container = container_for(target)
    if container.video_codecs is not None and options.codec not in container.video_codecs:
        raise EngineError(Kind.BAD_INPUT, f"{target.suffix} files cannot hold {options.codec} video; use --codec "
                          f"{container.video_codecs[0]}, or an .mp4/.mkv output.")
    if source.resolve() == target.resolve() or same_file(source, target):   # a hard link is the input too
        raise EngineError(Kind.BAD_INPUT, "The output must not overwrite the input video.")
    info = probe(source)
    check_frame_size(info.extent, options.upscale)
    notes: List[str] = []
    rate = Fraction(options.fps) if options.fps else info.frame_rate
    resample = rate if options.fps or info.variable_rate else None   # ffmpeg's fps filter: keeps the timing
    if info.variable_rate and not options.fps:
        notes.append(_variable_rate_note(source.name, info))
    total = round((info.offset + Fraction(info.duration)) * rate) if resample else info.frame_count
    frames_per_segment = segment_length(options.segment_frames, rate)
    if frames_per_segment != options.segment_frames:
        say(f"Segments of {frames_per_segment} frames (whole microseconds at {rate} frames/s).")
        options = replace(options, segment_frames=frames_per_segment)

    target.parent.mkdir(parents=True, exist_ok=True)
    work = WorkFolder(target)
    wanted = _job_record(source, info, options, options.upscale.tile)
    tile = _prepare_work(work, wanted, resume, notes)
    return VideoJob(source, target, info, container, options, rate, resample, total, work, wanted, tile, notes)


def upscale_video(source: Path, target: Path, options: VideoOptions = VideoOptions(), *, upscaler=None,
                  weights_dir: Optional[Path] = None, resume: bool = False, progress: Optional[Progress] = None,
                  cancel: Optional[Cancel] = None, log: Optional[Log] = None) -> VideoReport:
    """Upscale ``source`` into ``target`` (see the module text). Raises EngineError (``Cancelled`` on cancel)."""
    say = log or (lambda message: None)
    job = prepare_job(source, target, options, resume=resume, log=say)
    skip = job.first_unfinished()
    if skip:
        say(f"Resuming after {skip} frames already upscaled.")
    if upscaler is None:
        from ..engine import Upscaler
        upscaler = Upscaler(weights_dir)
    processes = _Processes(job.work.log)
    loop = job.frame_loop(upscaler, processes)
    try:
        decoder, frames = job.decode(processes, skip)
        if progress:
            progress(min(skip, job.total), job.total)
        end = loop.run(frames, skip, job.total, progress, cancel)
        processes.finish(decoder, "decode")
        extent = job.mux(end, loop.extent)
    except BaseException:
        processes.kill_all()
        loop.writer.abandon()
        raise
    return job.report(end, skip, extent, loop.seconds)


def _variable_rate_note(name: str, info: VideoInfo) -> str:
    slowest, fastest = info.rate_range
    return (f"{name} has a variable frame rate ({float(slowest):.3g} to {float(fastest):.3g} frames/s): the output "
            f"runs at a constant {float(info.frame_rate):.3g} frames/s with the input's timing and duration "
            f"(frames are repeated where the input is slower" + (", dropped where it is faster" if fastest >
                                                                  info.frame_rate else "") + ").")


def _lost_frames_warning(name: str, info: VideoInfo, lost: int, expected: int, rate: Fraction) -> str:
    short = f"{float(lost / rate):.2f} s"
    return (f"ffmpeg could not decode {lost} of the {expected} frames of {name} (a damaged file?): the output has "
            f"{expected - lost} frames, and " + (f"its picture ends {short} before its sound." if info.audio else
                                                   f"it is {short} shorter than the input."))


def _segment_extent(segment: Path) -> Extent:
    header = subprocess.run(_ffmpeg("-i", str(segment)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, errors="replace").stderr
    match = _VIDEO_FORMAT.search(header)
    return Extent(int(match.group(3)), int(match.group(4)))


def _concat_listing(work: WorkFolder, segment_frames: int, rate: Fraction) -> Path:
    """An ffconcat file naming every segment with its exact length (the files' own lengths are rounded)."""
    micro = segment_microseconds(segment_frames, rate)
    lines = ["ffconcat version 1.0"]
    for number in range(work.finished_segments()):
        lines += [f"file '{work.segment(number).name}'", f"duration {micro // 10 ** 6}.{micro % 10 ** 6:06d}"]
    listing = work.path / "segments.ffconcat"
    listing.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")   # the last segment ends where it ends
    return listing


def _mux(work: WorkFolder, source: Path, target: Path, info: VideoInfo, container: Container, rate: Fraction,
         segment_frames: int, notes: List[str]) -> None:
    """Concatenate the segments and copy the input's audio and subtitles into a temp file; rename it at the end."""
    listing = _concat_listing(work, segment_frames, rate)
    args = ["-loglevel", "error", "-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(source),
            "-map", "0:v", "-map", "1:a?", "-map_metadata", "1", "-map_chapters", "1", "-c", "copy"]
    if container.audio_codecs is not None and any(a not in container.audio_codecs for a in info.audio):
        args += ["-c:a", "libopus"]
        notes.append(f"{target.suffix} files hold only {'/'.join(container.audio_codecs)} audio: "
                     "the audio was re-encoded as Opus.")
    kept = 0
    for number, codec in enumerate(info.subtitles):
        conversion = container.subtitle_codec(codec)
        if conversion is None:
            notes.append(f"Subtitle stream {number} ({codec}) cannot go into a {target.suffix} file and was left "
                         "out; use an .mkv output to keep it.")
            continue
        args += ["-map", f"1:s:{number}", f"-c:s:{kept}", conversion]
        kept += 1
    if container.attachments:
        args += ["-map", "1:t?"]
    frame_ticks = 1 / (rate * info.time_base)
    if container.muxer in ("mp4", "mov") and info.time_base.numerator == 1 and frame_ticks.denominator == 1:
        args += ["-video_track_timescale", str(info.time_base.denominator)]   # keep the input's time base
    temporary = target.parent / f".{target.stem}.partial{target.suffix}"
    args += [*container.options, "-f", container.muxer, str(temporary)]
    try:
        with open(work.log, "ab") as log:
            code = subprocess.run(_ffmpeg(*args), stderr=log, cwd=str(work.path)).returncode
        if code != 0:
            raise EngineError(Kind.INTERNAL, f"ffmpeg failed to write {target.name} (exit code {code}); "
                              f"see {work.log}.", _tail(work.log))
        os.replace(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()
