"""Upscale a video clip frame by frame, keeping its audio, subtitles, frame count, frame rate and duration.

    probe (ffmpeg -i + a packet listing) -> decode (ffmpeg -> raw RGB frames on a pipe) -> Upscaler, frame by frame
    -> encode segments of N frames (raw frames piped into ffmpeg, each segment finished atomically in a work folder)
    -> concatenate the segments and copy the input's audio/subtitles into a temp file -> rename onto the output

Memory stays flat: the current and the previous frame are held (a frame equal to the one before, as ffmpeg's fps
filter repeats them, reuses its upscaled picture). A job that stops (Ctrl-C,
``cancel``, a crash) leaves no output file; its finished segments stay in the work folder next to the output, and
``resume=True`` continues from the first unfinished segment. Every segment is a pure function of its frames and
the encoder settings, so a resumed job gives the same file as an uninterrupted one.
"""
from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ..common import catalog
from ..common.errors import EngineError, Kind
from ..common.formats import PixelFormat, UpscaleOptions
from ..common.geometry import Extent
from ..common.progress import Cancel, Progress
from ..common.run_estimate import HOW_TO_RAISE, check_limit
from ..file_guard import same_file
from .containers import Container, container_for
from .decode import decode_command, raw_pix_fmt, read_frames
from .encode import SegmentWriter
from .ffmpeg import Processes, tail
from .frame_loop import FrameLoop
from .mux import mux_segments
from .options import VideoOptions
from .probe import VideoInfo, frame_extent, probe
from .work_folder import WorkFolder, job_record, prepare_work, preview_folder, segment_length

Log = Callable[[str], None]



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

    def processes(self) -> Processes:
        """The job's ffmpeg children (all killed when it stops early), logging into the work folder."""
        return Processes(self.work.log)

    def decode(self, processes: Processes, skip: int) -> Tuple[subprocess.Popen, Iterator[np.ndarray]]:
        """Start ffmpeg decoding from frame ``skip``; the process and its frames (finish the process after)."""
        decoder = processes.start(decode_command(self.source, self.info, self.resample, self.total, skip,
                                                 raw_pix_fmt(self.fmt)), stdout=subprocess.PIPE)
        return decoder, read_frames(decoder.stdout, self.info.extent, self.fmt)

    def frame_loop(self, upscaler, processes: Processes, work: Optional[WorkFolder] = None,
                   target: Optional[Path] = None) -> FrameLoop:
        """Frames -> engine -> segments in ``work`` (default: the job's), previews beside ``target``."""
        work = work or self.work
        writer = SegmentWriter(processes, work, self.options, self.rate, self.info)
        return FrameLoop(upscaler, self.fmt, self.options.upscale.with_(tile=self.tile), self.options, writer, work,
                         self.wanted, target or self.target, self.notes)

    def encode_segment(self, upscaler, number: int, frames: Sequence[np.ndarray],
                       cancel: Optional[Cancel] = None) -> "EncodedSegment":
        """Upscale and encode segment ``number`` from its decoded ``frames`` in a private temporary folder, for a
        process that does not share the job's folders (a cluster worker); ``store_segment`` files the result."""
        with tempfile.TemporaryDirectory(prefix="krita-realesrgan-segment-") as folder:
            target = Path(folder) / self.target.name
            work = WorkFolder(target)
            work.reset()
            processes = Processes(work.log)
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
                              tail(self.work.log))
        extent = extent or frame_extent(self.work.segment(0))
        mux_segments(self.work, self.source, self.target, self.info, self.container, self.rate,
                     self.options.segment_frames, self.notes)
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


def check_frame_size(extent: Extent, options: UpscaleOptions, how_to_raise: str = HOW_TO_RAISE) -> None:
    """Refuse, before decoding anything, frames whose upscaled size passes ``options.max_pixels`` (known up front
    for a catalog model; the engine checks any other model at the first frame). ``how_to_raise`` ends the refusal
    (the CLI: its --max-pixels hint)."""
    check_limit(extent, options.max_pixels, how_to_raise, "Each frame has")
    info = catalog.get(options.model)
    if info is not None:
        check_limit(options.output_extent(extent, info.scale), options.max_pixels, how_to_raise,
                    "Each upscaled frame would have")


def prepare_job(source: Path, target: Path, options: VideoOptions = VideoOptions(), *, resume: bool = False,
                log: Optional[Log] = None, how_to_raise: str = HOW_TO_RAISE) -> VideoJob:
    """Check the paths, probe the clip, fix the rate and segment length, and keep (``resume``) or start the work
    folder. Raises EngineError (frames past the pixel limit: ending in ``how_to_raise``)."""
    source, target = Path(source).absolute(), Path(target).absolute()
    say = log or (lambda message: None)
    container = container_for(target)
    if container.video_codecs is not None and options.codec not in container.video_codecs:
        raise EngineError(Kind.BAD_INPUT, f"{target.suffix} files cannot hold {options.codec} video; use --codec "
                          f"{container.video_codecs[0]}, or an .mp4/.mkv output.")
    if source.resolve() == target.resolve() or same_file(source, target):   # a hard link is the input too
        raise EngineError(Kind.BAD_INPUT, "The output must not overwrite the input video.")
    info = probe(source)
    check_frame_size(info.extent, options.upscale, how_to_raise)
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
    wanted = job_record(source, info, options)
    tile = prepare_work(work, wanted, resume, notes)
    return VideoJob(source, target, info, container, options, rate, resample, total, work, wanted, tile, notes)


def upscale_video(source: Path, target: Path, options: VideoOptions = VideoOptions(), *, upscaler=None,
                  weights_dir: Optional[Path] = None, resume: bool = False, progress: Optional[Progress] = None,
                  cancel: Optional[Cancel] = None, log: Optional[Log] = None,
                  how_to_raise: str = HOW_TO_RAISE) -> VideoReport:
    """Upscale ``source`` into ``target`` (see the module text). Raises EngineError (``Cancelled`` on cancel)."""
    say = log or (lambda message: None)
    job = prepare_job(source, target, options, resume=resume, log=say, how_to_raise=how_to_raise)
    skip = job.first_unfinished()
    if skip:
        say(f"Resuming after {skip} frames already upscaled.")
    if upscaler is None:
        from ..engine import Upscaler
        upscaler = Upscaler(weights_dir)
    processes = job.processes()
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
