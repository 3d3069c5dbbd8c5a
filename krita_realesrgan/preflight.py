"""What the command-line front ends check and say around one picture: before (the result's size against the pixel
limit, with memory and a rough time), after decoding (what the user should know about the file) and after the run
(the measured speed, for the next estimate)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import numpy as np

from .engine import Upscaler, UpscaleResult, network_passes
from .formats import PixelFormat, UpscaleOptions
from .geometry import Extent
from .image_header import ImageHeader
from .run_estimate import SpeedRecord, check_limit, estimate, network_pixels

_ASSUMED_CHANNELS, _ASSUMED_BYTES = 3, 1   # before decoding, the estimate assumes an 8-bit RGB picture


def announce(upscaler: Upscaler, source: Path, extent: Extent, options: UpscaleOptions, how_to_raise: str,
             fmt: Optional[PixelFormat] = None, speeds: Optional[SpeedRecord] = None) -> str:
    """Refuse (EngineError TOO_LARGE) a picture whose decoding or result would pass ``options.max_pixels``;
    otherwise the line that says what the run will produce."""
    check_limit(extent, options.max_pixels, how_to_raise, "The picture has")   # decoding alone
    facts = upscaler.model_facts(options)
    result = options.output_extent(extent, facts.scale)
    check_limit(result, options.max_pixels, how_to_raise)
    speed = (speeds or SpeedRecord()).seconds_per_megapixel(options.model, facts.device, facts.precision)
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


def record_speed(upscaler: Upscaler, options: UpscaleOptions, result: UpscaleResult, source: np.ndarray,
                 speeds: Optional[SpeedRecord] = None) -> None:
    """Remember how fast this run was, for the next estimate on this computer."""
    facts = upscaler.model_facts(options)
    extent = Extent(source.shape[1], source.shape[0])
    output = Extent(result.image.shape[1], result.image.shape[0])
    pixels = network_pixels(extent, facts.scale, network_passes(extent, output, facts.scale))
    (speeds or SpeedRecord()).add(options.model, result.device, result.precision, result.seconds, pixels / 1e6)
