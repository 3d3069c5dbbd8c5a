"""What the command-line front ends check and say around one picture: before it is decoded (its size and its
result's against the pixel limit, with memory and a rough time from the speeds the engine records after every
run) and after decoding (what the user should know about how the file is handled)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import numpy as np

from .common.formats import PixelFormat, UpscaleOptions
from .common.geometry import Extent
from .image_header import ImageHeader
from .common.run_estimate import check_limit, estimate, network_passes
from .upscalers import PlanningUpscaler

_ASSUMED_CHANNELS, _ASSUMED_BYTES = 3, 1   # before decoding, the estimate assumes an 8-bit RGB picture


def announce(upscaler: PlanningUpscaler, source: Path, extent: Extent, options: UpscaleOptions, how_to_raise: str,
             fmt: Optional[PixelFormat] = None) -> str:
    """Refuse (EngineError TOO_LARGE) a picture whose decoding or result would pass ``options.max_pixels``;
    otherwise the line that says what the run will produce."""
    check_limit(extent, options.max_pixels, how_to_raise, "The picture has")   # decoding alone
    facts = upscaler.model_facts(options)
    result = options.output_extent(extent, facts.scale)
    check_limit(result, options.max_pixels, how_to_raise)
    speed = upscaler.speeds.seconds_per_megapixel(options.model, facts.speed_key, facts.precision)
    channels = fmt.channels if fmt else _ASSUMED_CHANNELS
    sample_bytes = fmt.bytes_per_sample if fmt else _ASSUMED_BYTES
    planned = estimate(extent, result, channels, sample_bytes, speed, facts.scale,
                       network_passes(extent, result, facts.scale), facts.bytes_per_pixel)
    return f"{source.name}: {planned.describe()}"


def notes_after_decode(source: Path, header: Optional[ImageHeader], image: np.ndarray, fmt: PixelFormat,
                       target: Path) -> List[str]:
    """What the user should know about how the file is being handled."""
    notes = []
    if header is not None and header.is_animated:
        kind = "pages" if source.suffix.lower() in (".tif", ".tiff") else "frames"
        notes.append(f"it has {header.frames} {kind}; only the first is upscaled (for every frame of an animation, "
                     "use 'krita-realesrgan video' on a GIF or APNG, or split the frames first)")
    if fmt.dtype in ("float16", "float32"):
        values = image.astype(np.float32, copy=False)
        outside = int(np.count_nonzero(~((values >= 0.0) & (values <= 1.0))))   # NaN counts as outside
        if outside:
            notes.append(f"{outside:,} float samples lie outside 0..1 (or are not numbers); the models work on "
                         "0..1, so they were clipped to it")
        if target.suffix.lower() not in (".tif", ".tiff"):
            notes.append(f"float samples are stored as integers in {target.suffix} files (a .tif output keeps "
                         "them as float)")
    return notes
