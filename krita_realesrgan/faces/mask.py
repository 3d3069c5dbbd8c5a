"""The feathered mask that blends a restored face into the picture, drawn once in template space.

An ellipse around the aligned face (brows to chin, ear to ear, in the 512×512 template), its edge softened by a
Gaussian: the restored face fades into the plain upscale over about a tenth of the face, and the template's
corners (background, neighbours, the grey beyond the picture's edge) are never pasted. Warped into the picture
with the face (``Alignment.back``).
"""
from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from .align import SIZE

CENTRE = (256, 262)      # between the eyes (y 240) and the mouth (y 371), low enough for the chin
AXES = (180, 186)        # half width and half height before feathering
FEATHER = 20             # Gaussian sigma of the soft edge, template pixels (3 sigma stay inside)


@lru_cache(maxsize=1)
def template_mask() -> np.ndarray:
    """SIZE×SIZE×1 float32 in [0, 1]: 1 on the face, 0 at the template's edges."""
    hard = np.zeros((SIZE, SIZE), np.float32)
    cv2.ellipse(hard, CENTRE, AXES, 0, 0, 360, 1.0, thickness=-1, lineType=cv2.LINE_AA)
    soft = cv2.GaussianBlur(hard, (0, 0), FEATHER, borderType=cv2.BORDER_CONSTANT)
    soft[soft < 1e-3] = 0.0   # exactly 0 where the face does not reach: those pixels stay the plain upscale
    mask = np.clip(soft, 0.0, 1.0)[:, :, None]
    mask.setflags(write=False)
    return mask
