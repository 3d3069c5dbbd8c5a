"""Pixel formats in and out of the network: normalise any supported image to float planes, and back.

A *plane* is a float32 HxWxC array in [0, 1] with C = 3 (colour) or C = 1 (grey, or alpha). The network always
sees three channels; one-channel planes are replicated in and reduced to luma out, exactly like the reference
(``cv2.COLOR_GRAY2RGB`` in, ``cv2.COLOR_BGR2GRAY`` out).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import cv2
import numpy as np

from .common.errors import EngineError, Kind
from .common.formats import PixelFormat
from .common.geometry import Extent

# cv2.COLOR_BGR2GRAY weights, in RGB order
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
_INTEGER_MAX = {"uint8": 255.0, "uint16": 65535.0}


@dataclass
class Planes:
    colour: np.ndarray             # HxWx3 or HxWx1 float32 in [0, 1]
    alpha: Optional[np.ndarray]    # HxWx1 float32 in [0, 1], or None

    @property
    def extent(self) -> Extent:
        return Extent(self.colour.shape[1], self.colour.shape[0])


def check_image(image: np.ndarray, fmt: PixelFormat) -> Extent:
    """Validate that ``image`` really is an array in ``fmt``; return its size."""
    if not isinstance(image, np.ndarray):
        raise EngineError(Kind.BAD_INPUT, "The image must be a numpy array.")
    if image.dtype.name != fmt.dtype:
        raise EngineError(Kind.BAD_INPUT, f"The image has {image.dtype} samples but the format says {fmt.dtype}.")
    channels = 1 if image.ndim == 2 else (image.shape[2] if image.ndim == 3 else -1)
    if channels != fmt.channels:
        raise EngineError(Kind.BAD_INPUT, f"The image has shape {image.shape}, which is not {fmt}.")
    extent = Extent(image.shape[1], image.shape[0])
    if extent.is_empty:
        raise EngineError(Kind.BAD_INPUT, f"The image is empty ({extent}).")
    return extent


def to_float(samples: np.ndarray, dtype: str) -> np.ndarray:
    if dtype in _INTEGER_MAX:
        return samples.astype(np.float32) / np.float32(_INTEGER_MAX[dtype])
    values = samples.astype(np.float32)
    return np.clip(np.nan_to_num(values, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)


def from_float(values: np.ndarray, dtype: str) -> np.ndarray:
    """Clamp to [0, 1] and store as ``dtype`` (integers rounded like the reference: ``(x * max).round()``)."""
    clipped = np.clip(values, 0.0, 1.0)
    if dtype in _INTEGER_MAX:
        return np.round(clipped * np.float32(_INTEGER_MAX[dtype])).astype(dtype)
    return clipped.astype(dtype)


def split(image: np.ndarray, fmt: PixelFormat) -> Planes:
    """Normalise to float planes: colour (grey kept as one channel) and alpha (if any)."""
    values = to_float(image if image.ndim == 3 else image[:, :, None], fmt.dtype)
    colour = np.ascontiguousarray(values[:, :, :fmt.colour_channels])
    alpha = np.ascontiguousarray(values[:, :, fmt.colour_channels:]) if fmt.has_alpha else None
    return Planes(colour, alpha)


def merge(colour: np.ndarray, alpha: Optional[np.ndarray], fmt: PixelFormat) -> np.ndarray:
    """Float planes back to an array in ``fmt`` (same channel layout as the input)."""
    values = colour if alpha is None else np.concatenate([colour, alpha], axis=2)
    out = from_float(values, fmt.dtype)
    return out[:, :, 0] if fmt.channels == 1 else out


def fill_transparent(colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Replace the colour under fully transparent pixels by the colour of the nearest visible pixels.

    Editors store anything (often black) under alpha 0; the network would smear it into the visible edge
    (dark fringes). A push-pull pyramid: average the visible colours down to coarse levels, then fill holes
    from the coarser level on the way back up. Visible pixels are never changed.
    """
    visible = (alpha[:, :, 0] > 0).astype(np.float32)
    if visible.all() or not visible.any():
        return colour
    levels = [(colour * visible[:, :, None], visible)]
    while min(levels[-1][1].shape) > 1:
        premultiplied, weight = levels[-1]
        h, w = weight.shape
        size = (max(1, (w + 1) // 2), max(1, (h + 1) // 2))
        down_weight = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)
        down_colour = cv2.resize(premultiplied, size, interpolation=cv2.INTER_AREA)
        levels.append((down_colour.reshape(size[1], size[0], -1), down_weight))
    filled = None
    for premultiplied, weight in reversed(levels):
        with np.errstate(invalid="ignore", divide="ignore"):
            here = premultiplied / weight[:, :, None]
        if filled is not None:
            up = cv2.resize(filled, (weight.shape[1], weight.shape[0]), interpolation=cv2.INTER_LINEAR)
            up = up.reshape(weight.shape[0], weight.shape[1], -1)
            here = np.where(weight[:, :, None] > 0, here, up)
        filled = np.nan_to_num(here)
    return np.where(visible[:, :, None] > 0, colour, filled).astype(np.float32)
