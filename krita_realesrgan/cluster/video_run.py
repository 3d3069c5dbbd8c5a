"""The video pipeline (``video.pipeline.upscale_video``) on the pool: the driver probes, decodes and muxes, the workers
upscale and encode whole segments.

    driver: prepare_job (probe, rate, segments, work folder) -> ffmpeg decode -> segment n's frames
        -> worker: VideoJob.encode_segment (engine + encoder, in its own temporary folder) -> segment bytes
    -> driver: store_segment (atomically, in the work folder) ... all stored -> mux once with sound and subtitles

The segments are those of the single-machine pipeline (same numbers, lengths, encoder and job record), so a job
may be resumed by either. ``--resume`` keeps every finished segment, in any order (workers finish out of order);
the decoder starts after the unbroken run of finished ones from the first, and the frames of later finished
segments are read and dropped. An interrupted driver (Ctrl-C: ``cancel``) leaves no output file and keeps every
segment that came back.
"""
from __future__ import annotations

import time
from itertools import islice
from pathlib import Path
from typing import Iterator, Optional, Set

import numpy as np

from ..common.formats import AUTO_TILE
from ..common.progress import Cancel, Progress
from ..video.options import VideoOptions
from ..common.run_estimate import HOW_TO_RAISE
from ..video.pipeline import EncodedSegment, Log, VideoJob, VideoReport, prepare_job
from .args import RaySpec
from .pool import Shard, ShardPool
from .runtime import connect
from .worker import Failure


def finished_segments(job: VideoJob) -> Set[int]:
    """Numbers of the segments already in the work folder (an earlier run's, in any order)."""
    return {int(path.stem.split("-")[1]) for path in job.work.path.glob("segment-*.mp4")}


class _Driver:
    """Cuts the decoded frames into segment shards and files the segments that come back."""

    def __init__(self, job: VideoJob, ray, finished: Set[int], progress: Optional[Progress]):
        self.job, self.ray, self.finished, self.progress = job, ray, finished, progress
        self.job_ref = ray.put(job)
        self.end = 0                      # the number after the last decoded frame
        self.done = min(len(finished) * job.options.segment_frames, job.total)
        self.extent = None
        self.seconds = 0.0

    def shards(self, frames: Iterator[np.ndarray], skip: int) -> Iterator[Shard]:
        size = self.job.options.segment_frames
        number, self.end = skip // size, skip
        while True:
            chunk = list(islice(frames, size))
            if not chunk:
                return
            self.end = number * size + len(chunk)
            if number not in self.finished:
                yield Shard(number, len(chunk), "upscale_segment", (self.job_ref, number, np.stack(chunk)))
            number += 1

    def done_with(self, shard: Shard, segment) -> None:
        if isinstance(segment, Failure):
            raise segment.error()
        assert isinstance(segment, EncodedSegment)
        self.job.store_segment(segment)
        self.finished.add(segment.number)
        self.extent, self.seconds = segment.extent, self.seconds + segment.seconds
        for note in segment.notes:
            if note not in self.job.notes:
                self.job.notes.append(note)
        if self.job.tile == AUTO_TILE:   # fix the first worker's tile for the rest of the job and for a resume
            self.job.tile = segment.tile
            self.job.work.record_tile(self.job.wanted, segment.tile)
            self.job_ref = self.ray.put(self.job)
        self.done += segment.frames
        if self.progress:
            self.progress(self.done, max(self.job.total, self.done))


def upscale_video(source: Path, target: Path, options: VideoOptions = VideoOptions(), *, ray: RaySpec,
                  weights_dir: Optional[Path] = None, resume: bool = False, progress: Optional[Progress] = None,
                  cancel: Optional[Cancel] = None, log: Optional[Log] = None,
                  how_to_raise: str = HOW_TO_RAISE) -> VideoReport:
    """``video.pipeline.upscale_video`` with the frames upscaled and encoded by Ray workers. Raises EngineError
    (``Cancelled`` on cancel)."""
    import ray as ray_module
    say = log or (lambda message: None)
    job = prepare_job(source, target, options, resume=resume, log=say, how_to_raise=how_to_raise)
    finished = finished_segments(job)
    skip = job.first_unfinished()
    resumed = min(len(finished) * job.options.segment_frames, job.total)
    if finished:
        say(f"Resuming: {len(finished)} segment(s) already upscaled.")
    with connect(ray) as cluster:
        say(cluster.describe())
        driver = _Driver(job, ray_module, finished, progress)
        if progress:
            progress(driver.done, job.total)
        processes = job.processes()
        started = time.perf_counter()
        try:
            decoder, frames = job.decode(processes, skip)
            stats = ShardPool(cluster, str(Path(weights_dir).absolute()) if weights_dir else None).run(
                driver.shards(frames, skip), driver.done_with, cancel=cancel)
            processes.finish(decoder, "decode")
            extent = job.mux(driver.end, driver.extent)
        except BaseException:
            processes.kill_all()
            raise
    seconds = time.perf_counter() - started
    new = driver.done - resumed
    say(f"{new} frame(s) in {seconds:.1f} s ({new / max(seconds, 1e-9):.2f} frames/s) " + stats.describe())
    return job.report(driver.end, resumed, extent, driver.seconds)
