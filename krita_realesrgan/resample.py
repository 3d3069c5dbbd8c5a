"""Resampling to the requested output size.

Lanczos (8x8 taps) like the reference's ``cv2.INTER_LANCZOS4`` for enlarging and for reductions down to half
size; for stronger reductions (e.g. "restore at the same size" = x4 network then /4) Lanczos would alias, so
pixel-area averaging is used there. Integer images are resampled in their own dtype (the reference quantises
first, then resizes); float images in float32, clamped to [0, 1] (Lanczos overshoots).
"""
from __future__ import annotations

import cv2
import numpy as np

from .common.geometry import Bounds, Extent


_MAX_LANCZOS_REDUCTION = 2.0


def interpolates(source: Extent, size: Extent) -> bool:
    """Whether ``to_size(source -> size)`` interpolates (Lanczos) rather than averages areas."""
    return max(source.width / size.width, source.height / size.height) <= _MAX_LANCZOS_REDUCTION + 1e-9


def _work(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float32) if image.dtype == np.float16 else image


def _restore(out: np.ndarray, like: np.ndarray) -> np.ndarray:
    if out.ndim == 2 and like.ndim == 3:
        out = out[:, :, None]
    if np.issubdtype(like.dtype, np.floating):
        out = np.clip(out, 0.0, 1.0)
    return out.astype(like.dtype, copy=False)


def to_size(image: np.ndarray, size: Extent) -> np.ndarray:
    height, width = image.shape[:2]
    if (width, height) == tuple(size):
        return image
    method = cv2.INTER_LANCZOS4 if interpolates(Extent(width, height), size) else cv2.INTER_AREA
    return _restore(cv2.resize(_work(image), (size.width, size.height), interpolation=method), image)


def window(part: np.ndarray, where: Bounds, picture: Extent, size: Extent, wanted: Bounds) -> np.ndarray:
    """The ``wanted`` pixels of ``to_size(whole, size)``, computed from ``part`` of a ``picture``-sized ``whole``.

    ``where``: the part's place in the whole picture. It must reach 4 pixels (Lanczos' reach) beyond the pixels
    that ``wanted`` samples, unless it meets the picture's edge there. Only for resamples that interpolate (see
    ``interpolates``): each wanted pixel is sampled where ``to_size`` samples it, with the same Lanczos kernel at a
    phase rounded to 1/32 pixel (within a few levels of 255 of ``to_size``: 2 on smooth pictures, 5 at hard
    pixel edges).
    """
    if not interpolates(picture, size):
        raise ValueError("window() needs an interpolating resample (a reduction of at most 2x)")
    if where == Bounds.of(picture) and wanted == Bounds.of(size):
        return to_size(part, size)
    rx, ry = picture.width / size.width, picture.height / size.height
    to_part = np.array([[rx, 0.0, (wanted.x + 0.5) * rx - 0.5 - where.x],
                        [0.0, ry, (wanted.y + 0.5) * ry - 0.5 - where.y]])
    out = cv2.warpAffine(_work(part), to_part, (wanted.width, wanted.height),
                         flags=cv2.INTER_LANCZOS4 | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    return _restore(out, part)


def linear(image: np.ndarray, size: Extent) -> np.ndarray:
    """Bilinear resize (the reference's cheap alpha upsampler)."""
    out = cv2.resize(image, (size.width, size.height), interpolation=cv2.INTER_LINEAR)
    return out[:, :, None] if out.ndim == 2 and image.ndim == 3 else out
