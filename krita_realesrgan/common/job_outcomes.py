"""What a finished ``cover`` or ``export`` job brings back, read from its Job's final event (the outcome types the
editors show). Standard library only (vendored into the editors).

    cover = CoverOutcome.of(client.submit_cover(pixels, fmt, extent, "video-16x9", options=UpscaleOptions()))
    saved = ExportOutcome.of(client.submit_export(pixels, fmt, extent, "cover.jpg", max_bytes=2_000_000))
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

from .cover_reasons import Reason
from .engine_jobs import Job
from .geometry import Bounds, Extent


@dataclass(frozen=True)
class CoverOutcome:
    """A finished ``cover`` job: the whole upscaled picture and where the cover lies in it."""

    pixels: bytes                  # the whole upscaled picture, in the request's format
    extent: Extent
    canvas: Bounds                 # the cover in the picture's coordinates (pad: around it, negative x/y)
    background: Optional[bytes]    # pad: the canvas-size opaque background, same format; else None
    model: str                     # "" when the picture only had to be reduced
    faces: Tuple[Bounds, ...]      # in the picture's coordinates
    reasons: Tuple[Reason, ...]    # why this model, this crop (for the user: ``reason.text(language)``)
    fit: str
    preset: str

    @staticmethod
    def of(job: Job, timeout: Optional[float] = None) -> "CoverOutcome":
        """Wait for a ``submit_cover`` job; raises EngineError (Cancelled when cancelled)."""
        pixels, extent = job.result(timeout)
        final = job.final_event(0)
        background = job.extra_payloads.get("background_output")
        return CoverOutcome(pixels, extent, Bounds(*final["canvas"]), background[0] if background else None,
                            str(final.get("model") or ""), tuple(Bounds(*face) for face in final.get("faces") or ()),
                            tuple(Reason.from_json(r) for r in final.get("reasons") or ()), str(final.get("fit") or ""),
                            str(final.get("preset") or ""))


@dataclass(frozen=True)
class ExportOutcome:
    """A finished ``export`` job: where the file went and how it was encoded."""

    path: Path
    format: str                    # "jpg" | "png" | "webp"
    quality: Optional[int]         # JPEG/WebP quality; None for PNG
    bits: int                      # PNG: bits kept a channel (8 = lossless)
    bytes: int
    description: str               # e.g. "JPEG quality 85, 1,912,334 bytes"

    @staticmethod
    def of(job: Job, timeout: Optional[float] = None) -> "ExportOutcome":
        """Wait for a ``submit_export`` job; raises EngineError (Cancelled when cancelled)."""
        job.result(timeout)
        final = job.final_event(0)
        quality = final.get("quality")
        return ExportOutcome(Path(str(final["path"])), str(final["format"]),
                             int(quality) if quality is not None else None, int(final.get("bits") or 8),
                             int(final["bytes"]), str(final.get("description") or ""))
