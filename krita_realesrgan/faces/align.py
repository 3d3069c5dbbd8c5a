"""Each face to the restorer's 512×512 template and back, by a similarity transform from its five landmarks.

The template is the five-point FFHQ alignment that GFPGAN and RestoreFormer were trained on (facexlib's, for
512×512 faces). The transform is estimated in the *upscaled* picture's pixels (``cv2.estimateAffinePartial2D``:
rotation, one scale, shift), so the crop is taken from the plain upscale and the restored face is warped back
with the very same matrix (``WARP_INVERSE_MAP``): a restorer that returned its input would change nothing.
Only the area the template covers is read and written, never the whole (possibly huge) picture.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence, Tuple

import cv2
import numpy as np

from ..common.geometry import Bounds, Extent
from .detect import Point

SIZE = 512
TEMPLATE = np.array([[192.98138, 239.94708], [318.90277, 240.1936], [256.63416, 314.01935],
                     [201.26117, 371.41043], [313.08905, 371.15118]], np.float64)
OUTSIDE = (135 / 255, 133 / 255, 132 / 255)   # what the template shows beyond the picture's edge (as trained)
_INTERPOLATION = cv2.INTER_CUBIC               # cubic both ways: the round trip stays within a level or two


@dataclass(frozen=True)
class Alignment:
    """Where one face's template lies in the upscaled picture."""

    to_template: np.ndarray   # 2x3: picture pixel -> template pixel
    region: Bounds            # the picture's pixels the template covers (clipped to the picture)

    @property
    def zoom(self) -> float:
        """Template pixels per picture pixel (above 1: the face is enlarged for the restorer)."""
        return math.sqrt(abs(np.linalg.det(self.to_template[:, :2])))

    def _local(self) -> np.ndarray:
        """``to_template`` for coordinates relative to ``region``'s corner."""
        shift = np.array([[1, 0, self.region.x], [0, 1, self.region.y], [0, 0, 1]], np.float64)
        return self.to_template @ shift

    def crop(self, area: np.ndarray) -> np.ndarray:
        """The face as the restorer takes it (SIZE×SIZE×3 float32, 0..1) from ``region``'s pixels (float RGB)."""
        face = cv2.warpAffine(np.ascontiguousarray(area, np.float32), self._local(), (SIZE, SIZE),
                              flags=_INTERPOLATION, borderMode=cv2.BORDER_CONSTANT, borderValue=OUTSIDE)
        return np.clip(face, 0.0, 1.0)

    def back(self, template_image: np.ndarray) -> np.ndarray:
        """A template-space image (SIZE×SIZE×C) warped onto ``region`` (region height × width × C)."""
        warped = cv2.warpAffine(np.ascontiguousarray(template_image, np.float32), self._local(),
                                (self.region.width, self.region.height),
                                flags=_INTERPOLATION | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT,
                                borderValue=0)
        return warped if warped.ndim == 3 else warped[:, :, None]


def output_points(landmarks: Sequence[Point], scale: Tuple[float, float]) -> np.ndarray:
    """Input-picture landmarks in the upscaled picture's pixels (pixel centres map to pixel centres)."""
    sx, sy = scale
    return np.array([((x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5) for x, y in landmarks], np.float64)


def align(points: np.ndarray, picture: Extent) -> Alignment:
    """The alignment of a face whose five landmarks are ``points`` (in the picture's pixels)."""
    matrix, _ = cv2.estimateAffinePartial2D(points, TEMPLATE, method=cv2.LMEDS)
    if matrix is None:   # degenerate landmarks (all in one point): fall back to the exact least squares
        matrix, _ = cv2.estimateAffinePartial2D(points, TEMPLATE, method=cv2.RANSAC, ransacReprojThreshold=1e9)
    to_picture = cv2.invertAffineTransform(matrix)
    corners = np.array([[0, 0, 1], [SIZE, 0, 1], [0, SIZE, 1], [SIZE, SIZE, 1]], np.float64) @ to_picture.T
    x0, y0 = np.floor(corners.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int) + 2
    region = Bounds(int(x0), int(y0), int(x1 - x0), int(y1 - y0)).clamped(picture)
    return Alignment(matrix, region)
