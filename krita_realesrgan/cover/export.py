"""Export a cover as JPEG/PNG/WebP within a file-size limit: lower the quality step by step until it fits."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from .. import pixels
from ..common.cover_presets import EXPORT_FORMATS, export_format_of
from ..common.cover_reasons import encoding
from ..common.errors import Cancelled, EngineError, Kind
from ..common.formats import PixelFormat
from ..common.progress import Cancel
from ..imagefile import WRITE_EXTENSIONS, encode_image
from ..common.paths import atomic_write_bytes

LOSSY_QUALITIES = tuple(range(95, 29, -5))  # 95, 90, ... 30: below that covers look visibly blocky
PNG_POSTERISE_BITS = (7, 6, 5)
WHITE = (1.0, 1.0, 1.0)


@dataclass(frozen=True)
class Encoded:
    data: bytes
    format: str               # "jpg" | "png" | "webp"
    quality: Optional[int]    # JPEG/WebP quality; None for PNG
    bits: int = 8             # PNG: bits kept per channel (below 8 = posterised to fit the limit)

    @property
    def size(self) -> int:
        return len(self.data)

    def describe(self) -> str:
        return encoding(self.format, self.quality, self.bits, self.size).text("en")


def format_for(path: Path, requested: Optional[str] = None) -> str:
    """The export format: ``requested`` if given, else from the file name's extension."""
    name = export_format_of(f"cover.{requested}" if requested else path)
    if name is None:
        raise EngineError(Kind.BAD_INPUT, f"Covers are saved as {', '.join(EXPORT_FORMATS)}; "
                          f"{Path(path).name!r} names none of them (use e.g. cover.jpg).")
    return name


def to_8bit(image: np.ndarray, fmt: PixelFormat, export_format: str,
            matte: Tuple[float, float, float] = WHITE) -> np.ndarray:
    """The cover as 8-bit samples for the file; JPEG has no alpha, so a transparent cover is laid on ``matte``."""
    planes = pixels.split(image, fmt)
    colour, alpha = planes.colour, planes.alpha
    if alpha is not None and export_format == "jpg":
        under = np.asarray(matte, np.float32)
        under = under[None, None, :] if colour.shape[2] == 3 else np.float32(under @ pixels.LUMA)
        colour = colour * alpha + under * (1.0 - alpha)
        alpha = None
    return pixels.merge(colour, alpha, PixelFormat("uint8", colour.shape[2] + (alpha is not None)))


def posterised(image: np.ndarray, bits: int) -> np.ndarray:
    """8-bit samples kept to their ``bits`` high bits (rounded), so PNG finds more repeats to compress."""
    step = 1 << (8 - bits)
    return np.minimum((image.astype(np.int16) + step // 2) // step * step, 255).astype(np.uint8)


def _check(cancel: Optional[Cancel]) -> None:
    if cancel is not None and cancel():
        raise Cancelled()


def _encode_png(image: np.ndarray, max_bytes: Optional[int], cancel: Optional[Cancel]) -> Encoded:
    encoded = None
    for bits in (8,) + PNG_POSTERISE_BITS:
        _check(cancel)
        encoded = Encoded(encode_image(image if bits == 8 else posterised(image, bits), ".png"), "png", None, bits)
        if max_bytes is None or encoded.size <= max_bytes:
            return encoded
    raise EngineError(Kind.BAD_INPUT, f"As PNG this cover is {encoded.size:,} bytes even with "
                      f"{encoded.bits} bits a channel, over the limit of {max_bytes:,} bytes. Save it as JPEG or "
                      "WebP (e.g. cover.jpg), which are much smaller at the same size.")


def encode_within(image: np.ndarray, fmt: str, max_bytes: Optional[int], cancel: Optional[Cancel] = None) -> Encoded:
    """Encode an 8-bit cover at the best quality whose file is at most ``max_bytes`` (None = no limit).

    JPEG/WebP: quality 95, 90, ... 30. PNG: lossless, then posterised to 7, 6, 5 bits a channel. ``cancel`` is
    asked before each try (raises Cancelled).
    """
    if fmt == "png":
        return _encode_png(image, max_bytes, cancel)
    extension = WRITE_EXTENSIONS[fmt]
    encoded = None
    for quality in LOSSY_QUALITIES:
        _check(cancel)
        encoded = Encoded(encode_image(image, extension, quality), fmt, quality)
        if max_bytes is None or encoded.size <= max_bytes:
            return encoded
    raise EngineError(Kind.BAD_INPUT, f"Even at quality {encoded.quality} this cover is {encoded.size:,} bytes, "
                      f"over the limit of {max_bytes:,} bytes.")


def save(path: Path, encoded: Encoded) -> None:
    """Write atomically: the file appears complete or not at all (an older file of that name stays as it was)."""
    try:
        atomic_write_bytes(Path(path), encoded.data)
    except OSError as error:
        raise EngineError(Kind.BAD_INPUT, f"Could not save the cover as {path}: {error.strerror or error}. "
                          "Choose another folder or name.", repr(error)) from error


def export(image: np.ndarray, fmt: PixelFormat, path: Path, export_format: str,
           max_bytes: Optional[int], cancel: Optional[Cancel] = None) -> Encoded:
    """A finished cover (any dtype, grey or colour, with or without alpha) to ``path``, within ``max_bytes``.
    A cancel (``cancel()`` true) is honoured up to the moment the file is written: then nothing is written."""
    encoded = encode_within(to_8bit(image, fmt, export_format), export_format, max_bytes, cancel)
    _check(cancel)
    save(path, encoded)
    return encoded
