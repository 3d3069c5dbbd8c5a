"""``VideoOptions``: the engine's options plus the encoder's (codec, quality, pixel format), the frame rate, the
segment length and the preview frames, with the defaults the command line shows."""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import List, Optional

from ..common.errors import EngineError, Kind
from ..common.formats import UpscaleOptions

DEFAULT_CODEC = "libx264"
DEFAULT_CRF = 18
DEFAULT_PRESET = "medium"
DEFAULT_PIX_FMT = "yuv420p"
DEFAULT_SEGMENT_FRAMES = 240   # a multiple of 3: NTSC-rate segment lengths are whole microseconds (concat offsets)


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
