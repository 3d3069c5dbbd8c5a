"""Cutting a result back to a selection and turning the selection's softness into alpha. Pure Python.

Which region is read and kept is ``krita_realesrgan.common.regions`` (shared with GIMP); here the result is cut back to
the selection's bounds and multiplied by the selection's own pixel values (0..255), so a feathered selection
gives feathered layer edges.
"""
from __future__ import annotations

import struct
from array import array
from typing import List

from .krita_realesrgan.common.formats import PixelFormat
from .krita_realesrgan.common.geometry import Bounds, Extent


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
    if fmt.dtype == "float16":
        bits = array("H")
        bits.frombytes(struct.pack(f"<{len(values)}e", *values))
    else:
        bits = array(samples.typecode, values)
    samples[fmt.channels - 1::fmt.channels] = bits


_TYPECODES = {"uint8": "B", "uint16": "H", "float16": "H", "float32": "f"}


def apply_mask(data: bytes, fmt: PixelFormat, mask: bytes) -> bytes:
    """Multiply the alpha of ``data`` by ``mask`` (one byte per pixel, 0..255, e.g. ``Selection.pixelData``).

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
