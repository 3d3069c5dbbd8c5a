"""The end of a job: concatenate the finished segments at their exact lengths and copy the input's audio,
subtitles, chapters and metadata into a temporary file, renamed onto the output only when complete."""
from __future__ import annotations

import os
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import List

from ..common.errors import EngineError, Kind
from .containers import Container
from .ffmpeg import command, tail
from .probe import VideoInfo
from .work_folder import WorkFolder, segment_microseconds


def _concat_listing(work: WorkFolder, segment_frames: int, rate: Fraction) -> Path:
    """An ffconcat file naming every segment with its exact length (the files' own lengths are rounded)."""
    micro = segment_microseconds(segment_frames, rate)
    lines = ["ffconcat version 1.0"]
    for number in range(work.finished_segments()):
        lines += [f"file '{work.segment(number).name}'", f"duration {micro // 10 ** 6}.{micro % 10 ** 6:06d}"]
    listing = work.path / "segments.ffconcat"
    listing.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")   # the last segment ends where it ends
    return listing


def mux_segments(work: WorkFolder, source: Path, target: Path, info: VideoInfo, container: Container,
                 rate: Fraction, segment_frames: int, notes: List[str]) -> None:
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
            code = subprocess.run(command(*args), stderr=log, cwd=str(work.path)).returncode
        if code != 0:
            raise EngineError(Kind.INTERNAL, f"ffmpeg failed to write {target.name} (exit code {code}); "
                              f"see {work.log}.", tail(work.log))
        os.replace(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()
