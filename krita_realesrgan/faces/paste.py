"""Which faces to restore, and restoring them into the upscaled picture at the picture's own precision.

Faces smaller than ``MIN_FACE`` input pixels carry too little for the restorer to help (it would invent a
face); beyond ``MAX_FACES`` only the largest are restored (a crowd would take minutes a face on the CPU). Both
are counted in the ``FaceReport``. Each face is cut from the plain upscale in the 8-bit-equivalent 0..1 range the
restorer expects, restored in batches, warped back and blended with the feathered mask times ``strength``:
pixels the mask does not reach are not written at all, so the rest of the picture (and all of alpha) keeps
its exact values, 16-bit and float included.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..common.errors import Cancelled
from ..common.formats import PixelFormat
from ..common.geometry import Extent
from ..common.progress import Cancel, Progress   # progress: (faces done, faces total); cancel: between faces
from ..pixels import LUMA
from .align import Alignment, align, output_points
from .detect import Face
from .mask import template_mask
from .restorer import Restorer

MIN_FACE = 16      # input pixels (the face box's longer side)
MAX_FACES = 20     # the largest ones are restored, the rest counted


@dataclass(frozen=True)
class FaceReport:
    restored: int = 0
    too_small: int = 0
    too_many: int = 0      # beyond MAX_FACES
    rough: bool = False    # landmarks guessed from Haar boxes (no yuface): alignment is rougher

    def summary(self) -> str:
        """E.g. "3 faces restored, 2 too small"."""
        if not (self.restored or self.too_small or self.too_many):
            return "no faces found"
        parts = [f"{self.restored} face{'' if self.restored == 1 else 's'} restored"]
        if self.too_small:
            parts.append(f"{self.too_small} too small (under {MIN_FACE} px)")
        if self.too_many:
            parts.append(f"{self.too_many} more not restored (at most {MAX_FACES})")
        if self.rough:
            parts.append("aligned roughly (without yuface the landmarks are guessed)")
        return ", ".join(parts)


def choose(faces: Sequence[Face]) -> Tuple[List[Face], FaceReport]:
    """The faces worth restoring (largest first) and the report of the rest (restored = how many are kept)."""
    large = [face for face in sorted(faces, key=lambda f: f.size, reverse=True) if face.size >= MIN_FACE]
    kept = large[:MAX_FACES]
    return kept, FaceReport(len(kept), len(faces) - len(large), len(large) - len(kept))


class _Picture:
    """The upscaled picture's colour, read and written as float 0..1 region by region in its own dtype."""

    def __init__(self, image: np.ndarray, fmt: PixelFormat):
        self.fmt = fmt
        self.image = image if image.ndim == 3 else image[:, :, None]
        self.top = np.float64(np.iinfo(image.dtype).max) if image.dtype.kind in "ui" else None

    @property
    def extent(self) -> Extent:
        return Extent(self.image.shape[1], self.image.shape[0])

    def read(self, alignment: Alignment) -> np.ndarray:
        """``alignment.region``'s colour as float (integers / their maximum; floats as they are)."""
        values = self.image[alignment.region.slices][:, :, :self.fmt.colour_channels].astype(np.float32)
        return values / np.float32(self.top) if self.top is not None else values

    def write(self, alignment: Alignment, values: np.ndarray, where: np.ndarray) -> None:
        area = self.image[alignment.region.slices]
        colour = self.fmt.colour_channels
        if self.top is not None:
            stored = np.round(np.clip(values, 0.0, 1.0) * self.top).astype(self.image.dtype)
        else:
            stored = values.astype(self.image.dtype)
        area[:, :, :colour][where] = stored[where]


def _as_rgb(colour: np.ndarray) -> np.ndarray:
    return np.repeat(colour, 3, axis=2) if colour.shape[2] == 1 else colour


def _as_colour(rgb: np.ndarray, channels: int) -> np.ndarray:
    return rgb if channels == 3 else np.tensordot(rgb, LUMA, axes=([2], [0]))[:, :, None].astype(np.float32)


def restore_faces(picture: np.ndarray, fmt: PixelFormat, faces: Sequence[Face], scale: Tuple[float, float],
                  restorer: Restorer, strength: float, progress: Optional[Progress] = None,
                  cancel: Optional[Cancel] = None) -> np.ndarray:
    """Restore ``faces`` (found in the input picture; ``scale`` = output / input per axis) into ``picture`` (the
    plain upscale, in ``fmt``, changed in place and returned)."""
    target = _Picture(picture, fmt)
    alignments = [align(output_points(face.landmarks, scale), target.extent) for face in faces]
    alignments = [a for a in alignments if not a.region.is_empty]
    mask = template_mask()
    done = 0
    for start in range(0, len(alignments), restorer.batch):
        if cancel is not None and cancel():
            raise Cancelled()
        group = alignments[start:start + restorer.batch]
        plain = [target.read(a) for a in group]
        crops = np.stack([a.crop(np.clip(_as_rgb(values), 0.0, 1.0)) for a, values in zip(group, plain)])
        restored = restorer(crops)
        for alignment, values, face in zip(group, plain, restored):
            weight = np.clip(alignment.back(mask), 0.0, 1.0) * np.float32(strength)
            back = alignment.back(_as_colour(face, fmt.colour_channels))
            blended = values + weight * (back - values)
            target.write(alignment, blended, np.broadcast_to(weight > 0, blended.shape))
            done += 1
            if progress is not None:
                progress(done, len(alignments))
    return picture
