"""Resampling to the requested output size.

Lanczos (8x8 taps) like the reference's ``cv2.INTER_LANCZOS4`` for enlarging and for reductions down to half
size; for stronger reductions (e.g. "restore at the same size" = x4 network then /4) Lanczos would alias, so
pixel-area averaging is used there. Integer images are resampled in their own dtype (the reference quantises
first, then resizes); float images in float32, clamped to [0, 1] (Lanczos overshoots).
"""
from __future__ import annotations

import cv2
import numpy as np

from .geometry import Extent


_MAX_LANCZOS_REDUCTION = 2.0


def to_size(image: np.ndarray, size: Extent) -> np.ndarray:
    height, width = image.shape[:2]
    if (width, height) == tuple(size):
        return image
    reduction = max(width / size.width, height / size.height)
    method = cv2.INTER_AREA if reduction > _MAX_LANCZOS_REDUCTION + 1e-9 else cv2.INTER_LANCZOS4
    dtype = image.dtype
    work = image.astype(np.float32) if dtype == np.float16 else image
    out = cv2.resize(work, (size.width, size.height), interpolation=method)
    if out.ndim == 2 and image.ndim == 3:
        out = out[:, :, None]
    if np.issubdtype(dtype, np.floating):
        out = np.clip(out, 0.0, 1.0)
    return out.astype(dtype, copy=False)


def linear(image: np.ndarray, size: Extent) -> np.ndarray:
    """Bilinear resize (the reference's cheap alpha upsampler)."""
    out = cv2.resize(image, (size.width, size.height), interpolation=cv2.INTER_LINEAR)
    return out[:, :, None] if out.ndim == 2 and image.ndim == 3 else out
