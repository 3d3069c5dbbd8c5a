"""What a job keeps beside its output: the work folder ``.<output name>.work/`` (the job record job.json, the
finished segments, the ffmpeg log), the segment lengths, and the preview frames' folder ``<output stem>_frames/``.

A job that stops keeps its finished segments; ``prepare_work`` keeps them for the same job (``resume``) and starts
over for any other.
"""
from __future__ import annotations

import json
import math
import shutil
from fractions import Fraction
from pathlib import Path
from typing import List, Optional

from ..common.formats import AUTO_TILE
from .options import VideoOptions
from .probe import VideoInfo

JOB_VERSION = 1


def job_record(source: Path, info: VideoInfo, options: VideoOptions) -> dict:
    stat = source.stat()
    upscale = options.upscale.to_json()
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

    def record_tile(self, wanted: dict, tile: int) -> None:
        """The job record with the tile edge the first frames used, fixed for the rest of the job and a resume."""
        self.write_job({**wanted, "upscale": {**wanted["upscale"], "tile": tile}})

    def reset(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir(parents=True)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def same_job(stored: Optional[dict], wanted: dict) -> bool:
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


def preview_folder(target: Path) -> Path:
    return target.parent / f"{target.stem}_frames"


def prepare_work(work: WorkFolder, wanted: dict, resume: bool, notes: List[str]) -> int:
    """Keep the work folder of the same interrupted job (``resume``) or start a fresh one; returns the tile edge
    to use (a resumed job keeps the one it chose, so its frames are computed exactly as before)."""
    stored = work.read_job()
    if resume and same_job(stored, wanted):
        return int(stored["upscale"]["tile"])
    if resume and stored is not None:
        notes.append("The unfinished job in the work folder had other settings; starting over.")
    work.reset()
    work.write_job(wanted)
    return int(wanted["upscale"]["tile"])
