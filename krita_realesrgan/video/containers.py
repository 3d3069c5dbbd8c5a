"""The output containers (.mp4, .m4v, .mov, .mkv, .webm): the muxer and which audio, subtitle and video codecs
each one holds as they are."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional, Tuple

from ..common.errors import EngineError, Kind


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
