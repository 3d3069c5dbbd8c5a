"""Krita pixel data <-> the engine's pixel payloads. Pure Python (no Krita, no numpy).

Krita hands out ``Node.pixelData`` in the layer's own colour space: integer RGBA is stored as B, G, R, A;
float RGBA as R, G, B, A; GRAYA as grey, alpha. The engine wants grey[A] / RGB[A] (``formats.PixelFormat``).
"""
from __future__ import annotations

from array import array
from dataclasses import dataclass

from .i18n import tr
from .krita_realesrgan.common.errors import EngineError, Kind
from .krita_realesrgan.common.formats import PixelFormat

DEPTH_DTYPES = {"U8": "uint8", "U16": "uint16", "F16": "float16", "F32": "float32"}
MODEL_CHANNELS = {"RGBA": 4, "GRAYA": 2}
# Colour models Krita can convert to RGBA losslessly enough for the user to work on a converted copy.
CONVERTIBLE_MODELS = ("CMYKA", "LABA", "XYZA", "YCbCrA")

# array typecodes that hold one sample of each size; float16 is moved as its raw 16 bits
_RAW_TYPECODES = {1: "B", 2: "H", 4: "I"}


class UnsupportedColourModel(EngineError):
    """A layer whose colour model or depth the engine cannot take; ``convertible`` says whether Krita can
    convert a copy of the document to RGBA."""

    def __init__(self, color_model: str, color_depth: str):
        self.color_model, self.color_depth = color_model, color_depth
        self.convertible = color_model in CONVERTIBLE_MODELS or (
            color_model in MODEL_CHANNELS and color_depth not in DEPTH_DTYPES)
        super().__init__(Kind.UNSUPPORTED_FORMAT, tr(
            "The colour model {model} {depth} is not supported (RGBA or greyscale+alpha, 8/16-bit integer or "
            "16/32-bit float).").format(model=color_model, depth=color_depth))


@dataclass(frozen=True)
class KritaPixelLayout:
    """How one Krita colour space's pixels map to the engine's format."""

    color_model: str
    color_depth: str
    fmt: PixelFormat

    @property
    def swaps_red_blue(self) -> bool:
        return self.color_model == "RGBA" and self.fmt.is_integer


def layout_for(color_model: str, color_depth: str) -> KritaPixelLayout:
    """The layout of a Krita colour space, or ``UnsupportedColourModel``."""
    if color_model not in MODEL_CHANNELS or color_depth not in DEPTH_DTYPES:
        raise UnsupportedColourModel(color_model, color_depth)
    return KritaPixelLayout(color_model, color_depth,
                            PixelFormat(DEPTH_DTYPES[color_depth], MODEL_CHANNELS[color_model]))


def _swap_red_blue(data: bytes, fmt: PixelFormat) -> bytes:
    samples = array(_RAW_TYPECODES[fmt.bytes_per_sample])
    samples.frombytes(bytes(data))
    blue = samples[0::4]
    samples[0::4] = samples[2::4]
    samples[2::4] = blue
    return samples.tobytes()


def to_engine(data: bytes, layout: KritaPixelLayout) -> bytes:
    """Krita ``pixelData`` bytes -> engine payload bytes (grey[A] / RGB[A])."""
    return _swap_red_blue(data, layout.fmt) if layout.swaps_red_blue else bytes(data)


def from_engine(data: bytes, layout: KritaPixelLayout) -> bytes:
    """Engine payload bytes -> bytes for Krita's ``setPixelData`` (the swap is its own inverse)."""
    return to_engine(data, layout)
