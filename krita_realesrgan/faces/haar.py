"""Faces without landmarks, where ``yuface`` has no wheel (CPython 3.12+, macOS, ARM): OpenCV's Haar cascade.

The cascade (the one the cover crop uses, ``cover_crop.detect_faces``) gives boxes only, so the five landmarks
are put where they sit on an average upright face in such a box (measured against YuNet on the test children).
Alignment is rougher (no head tilt, eyes guessed): the report says so.
"""
from __future__ import annotations

from typing import List

import numpy as np

from ..cover import crop as cover_crop
from .. import pixels
from .detect import Face

# left eye, right eye, nose, left and right mouth corner, as fractions of a Haar face box (x, y)
IN_BOX = ((0.33, 0.36), (0.67, 0.36), (0.50, 0.57), (0.36, 0.73), (0.64, 0.73))


def detect(colour: np.ndarray) -> List[Face]:
    """Faces in float colour planes (HxWxC, 0..1), largest first, with estimated landmarks."""
    values = colour[:, :, 0] if colour.shape[2] == 1 else colour @ pixels.LUMA
    grey = np.round(np.clip(values, 0.0, 1.0) * 255.0).astype(np.uint8)
    faces = []
    for box in cover_crop.detect_faces(grey):
        marks = tuple((box.x + fx * box.width, box.y + fy * box.height) for fx, fy in IN_BOX)
        faces.append(Face(box, 0.0, marks))
    return faces
