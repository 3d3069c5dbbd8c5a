"""Which pixels an action reads and writes, and how a selection's softness becomes alpha. Pure Python.

A selection is processed with some context around it (so the network sees what lies beyond the edge), clamped
to the canvas; the result is cut back to the selection's bounds and multiplied by the selection's own pixel
values (0..255), so a feathered selection gives feathered layer edges.
"""
from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass
from typing import List, Optional

from .krita_realesrgan.errors import EngineError, Kind
from .krita_realesrgan.formats import PixelFormat
from .krita_realesrgan.geometry import Bounds, Extent

CONTEXT_MARGIN = 16  # pixels of context read around a selection (the network's reach is smaller)


@dataclass(frozen=True)
class Region:
    """``source``: what is sent to the engine; ``target``: what ends up on the new layer (canvas coordinates)."""

    source: Bounds
    target: Bounds

    @property
    def inner(self) -> Bounds:
        """The target in the coordinates of the source."""
        return self.target.relative_to(self.source)


def plan_region(canvas: Extent, layer: Bounds, selection: Optional[Bounds],
                margin: int = CONTEXT_MARGIN) -> Region:
    """The region to process: the whole canvas without a selection, else the selection (within the layer and
    canvas) plus ``margin`` of context. Raises EngineError(BAD_INPUT) for an empty layer or selection."""
    if canvas.is_empty:
        raise EngineError(Kind.BAD_INPUT, "The image has no pixels (zero size).")
    visible_layer = layer.clamped(canvas)
    if visible_layer.is_empty:
        raise EngineError(Kind.BAD_INPUT, "The layer is empty: there are no pixels to upscale.",
                          f"layer bounds {layer}, canvas {canvas}")
    if selection is None:
        whole = Bounds.of(canvas)
        return Region(whole, whole)
    if selection.is_empty:
        raise EngineError(Kind.BAD_INPUT, "The selection is empty.", f"selection {selection}")
    target = selection.intersection(visible_layer)
    if target.is_empty:
        raise EngineError(Kind.BAD_INPUT, "The selection lies outside the layer: there is nothing to process. "
                          "Select part of the layer, or deselect (Ctrl+Shift+A) to process the whole layer.",
                          f"selection {selection}, layer bounds {layer}, canvas {canvas}")
    return Region(target.padded(margin).clamped(canvas), target)



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
