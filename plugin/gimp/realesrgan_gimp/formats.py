"""Which Babl format carries a GIMP layer's pixels to the engine and back. Pure Python.

GIMP images have one precision for all layers: a sample type (u8, u16, u32, half, float, double) and a tone
response curve (linear, non-linear = sRGB, perceptual). The engine takes uint8, uint16, float16 and float32; the
transfer keeps the layer's own curve (no conversion to or from linear light) and widens u32 and double to float.
"""
from __future__ import annotations

from dataclasses import dataclass

from krita_realesrgan.common.errors import EngineError, Kind
from krita_realesrgan.common.formats import PixelFormat

# GIMP sample type (from the Gimp.Precision nick) -> (Babl type used for the transfer, engine dtype)
TRANSFER_TYPES = {
    "u8": ("u8", "uint8"),
    "u16": ("u16", "uint16"),
    "u32": ("float", "float32"),
    "half": ("half", "float16"),
    "float": ("float", "float32"),
    "double": ("float", "float32"),
}
# tone response curve -> how Babl spells the colour components
TRC_COMPONENTS = {
    "linear": ("RGB", "Y"),
    "non-linear": ("R'G'B'", "Y'"),
    "perceptual": ("R~G~B~", "Y~"),
}

INDEXED_MESSAGE = ("Indexed images cannot be upscaled: their colours come from a palette. Convert the image "
                   "with Image ▸ Mode ▸ RGB first (and back to Indexed afterwards if you need to).")


@dataclass(frozen=True)
class LayerTransfer:
    """The Babl format string for ``buffer.get``/``buffer.set`` and the engine's matching PixelFormat."""

    babl: str
    fmt: PixelFormat

    @property
    def linear_light(self) -> bool:
        """True when the values are linear light (Babl writes no ' or ~ after the components)."""
        components = self.babl.split(" ")[0]
        return "'" not in components and "~" not in components


def split_precision(nick: str):
    """``"u16-non-linear"`` -> ``("u16", "non-linear")`` (a Gimp.Precision value nick)."""
    for sample_type in TRANSFER_TYPES:
        prefix = sample_type + "-"
        if nick.startswith(prefix) and nick[len(prefix):] in TRC_COMPONENTS:
            return sample_type, nick[len(prefix):]
    raise EngineError(Kind.UNSUPPORTED_FORMAT, f"This image's precision ({nick}) is not supported.",
                      f"unknown Gimp.Precision nick {nick!r}")


def layer_transfer(precision_nick: str, grey: bool, has_alpha: bool, indexed: bool = False) -> LayerTransfer:
    """How to move a layer of this image precision and colour model through the engine."""
    if indexed:
        raise EngineError(Kind.UNSUPPORTED_FORMAT, INDEXED_MESSAGE)
    sample_type, trc = split_precision(precision_nick)
    babl_type, dtype = TRANSFER_TYPES[sample_type]
    rgb, y = TRC_COMPONENTS[trc]
    components = (y if grey else rgb) + ("A" if has_alpha else "")
    channels = (1 if grey else 3) + (1 if has_alpha else 0)
    return LayerTransfer(f"{components} {babl_type}", PixelFormat(dtype, channels))


def export_transfer(precision_nick: str, grey: bool, has_alpha: bool, indexed: bool = False) -> LayerTransfer:
    """How to read a layer for a file (8-bit sRGB in the end): the image's sample type, always in the sRGB tone
    curve (non-linear), so linear-light and perceptual images come out looking as they do on screen."""
    sample_type, _ = split_precision(precision_nick)
    return layer_transfer(f"{sample_type}-non-linear", grey, has_alpha, indexed)
