"""Cutting a result back to a selection, turning the selection's softness into alpha, and a selection upscaled
into a new image. Pure Python.

Which region is read and kept is ``regions`` (the engine's, shared with the CLI); here the result is cut back to
the selection's bounds and multiplied by the selection's own pixel values (0..255), so a feathered selection
gives feathered layer edges.
"""
from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass
from typing import List

from ..formats import PixelFormat
from ..geometry import Bounds, Extent
from ..regions import Region


@dataclass(frozen=True)
class ScaledSelection:
    """A selection upscaled into a new image: the engine's output for the whole source region (``whole``) and
    the part of it that is the selection (``selection``)."""

    whole: Extent
    selection: Bounds


def scaled_selection(region: Region, scale: float) -> ScaledSelection:
    """What a selection (the region's inner part) upscaled by ``scale`` to a new image asks of the engine."""
    whole = Bounds.of(region.source.extent).scaled(scale)
    return ScaledSelection(whole.extent, region.inner.scaled(scale).clamped(whole.extent))


def crop(data: bytes, fmt: PixelFormat, extent: Extent, bounds: Bounds) -> bytes:
    """The pixels of ``bounds`` (inside ``extent``) out of an interleaved image."""
    if not Bounds.of(extent).contains(bounds):
        raise ValueError(f"crop {bounds} outside {extent}")
    if bounds == Bounds.of(extent):
        return bytes(data)
    row = fmt.bytes_per_pixel * extent.width
    start, length = fmt.bytes_per_pixel * bounds.x, fmt.bytes_per_pixel * bounds.width
    view = memoryview(data)
    return b"".join(view[y * row + start: y * row + start + length] for y in range(bounds.y, bounds.bottom))


def _alpha_values(samples: array, fmt: PixelFormat) -> List[float]:
    raw = samples[fmt.channels - 1::fmt.channels]
    if fmt.dtype == "float16":
        return list(struct.unpack(f"<{len(raw)}e", raw.tobytes()))
    return raw.tolist()


def _store_alpha(samples: array, fmt: PixelFormat, values: List[float]) -> None:
    bits: array   # the new alpha samples, in the image's own typecode (float16 as its raw 16 bits)
    if fmt.dtype == "float16":
        bits = array("H")
        bits.frombytes(struct.pack(f"<{len(values)}e", *values))
    else:
        bits = array(str(samples.typecode))
        bits.fromlist(values)
    samples[fmt.channels - 1::fmt.channels] = bits


_TYPECODES = {"uint8": "B", "uint16": "H", "float16": "H", "float32": "f"}


def apply_mask(data: bytes, fmt: PixelFormat, mask: bytes) -> bytes:
    """Multiply the alpha of ``data`` by ``mask`` (one byte per pixel, 0..255, e.g. Krita's
    ``Selection.pixelData``).

    Integers round to nearest; an image without alpha is returned unchanged (Krita layers always have alpha).
    """
    if not fmt.has_alpha:
        return bytes(data)
    samples = array(_TYPECODES[fmt.dtype])
    samples.frombytes(bytes(data))
    alpha = _alpha_values(samples, fmt)
    if len(alpha) != len(mask):
        raise ValueError(f"mask has {len(mask)} pixels, image {len(alpha)}")
    if fmt.is_integer:
        values = [(a * m + 127) // 255 for a, m in zip(alpha, mask)]
    else:
        values = [a * m / 255.0 for a, m in zip(alpha, mask)]
    _store_alpha(samples, fmt, values)
    return samples.tobytes()
