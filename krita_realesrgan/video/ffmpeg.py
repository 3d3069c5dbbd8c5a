"""The ffmpeg binary, its command lines, and the ffmpeg children of one job.

Only ``ffmpeg`` is needed (the system one, else the binary that ``imageio-ffmpeg`` bundles, which has no ffprobe).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import List, Sequence

from ..common.errors import EngineError, Kind
from ..common.paths import ENV_FFMPEG


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


def command(*args: str) -> List[str]:
    """An ffmpeg command line: no banner, no keyboard, outputs overwritten."""
    return [ffmpeg_binary(), "-hide_banner", "-nostdin", "-y", *args]


def read_header(path: Path) -> str:
    """What ``ffmpeg -i`` prints about a file: its duration, start and streams."""
    return subprocess.run(command("-i", str(path)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, errors="replace").stderr


def tail(path_or_text, lines: int = 15) -> str:
    """The last lines of a log file or of ffmpeg's output: an error's details."""
    text = path_or_text.read_text(errors="replace") if isinstance(path_or_text, Path) else str(path_or_text)
    return "\n".join(text.strip().splitlines()[-lines:])


class Processes:
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
                              tail(self.log))

    def kill_all(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.kill()
            child.wait()
        self.children.clear()
