"""Where to crop a cover: around the faces when there are any, else around the most salient area.

Everything is measured on the small input picture (fast) and mapped to the upscaled picture's coordinates.
Faces come from OpenCV's bundled Haar cascade (``cv2.data``, shipped inside the opencv-python-headless 4.x wheel,
so nothing is downloaded at run time).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .. import pixels
from ..common.cover_reasons import Reason
from ..common.formats import PixelFormat
from ..common.geometry import Bounds, Extent

FACE_CASCADE = "haarcascade_frontalface_default.xml"
DETECT_MAX_EDGE = 1024       # larger inputs are reduced before detection (speed); small ones are NOT enlarged:
                             # enlarging a tiny picture made the cascade see faces in fur and leaves
FACE_MIN_FRACTION = 0.05     # faces smaller than this share of the short side are ignored (false positives)
FACE_MIN_NEIGHBOURS = 5
FACE_HEADROOM = 0.35         # room kept above/around a face (hair, chin) when it fits, in face heights
CENTRE_PRIOR = 0.6           # saliency: sigma of the centre weighting, as a share of the image size
SALIENCY_EDGE = 64           # spectral residual works on a copy this large (long side), as in the paper
SALIENCY_BLUR = 2.5          # at SALIENCY_EDGE

_cascade: Optional[cv2.CascadeClassifier] = None


@dataclass(frozen=True)
class CropChoice:
    bounds: Bounds               # the crop in the upscaled picture
    faces: Tuple[Bounds, ...]    # every detected face, in the upscaled picture
    kept: Tuple[Bounds, ...]     # the faces the crop was placed to contain
    reason: Reason


def grey_view(image: np.ndarray, fmt: PixelFormat) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """The picture as uint8 grey (transparent parts shown as mid grey) and its alpha (float 0..1) or None."""
    planes = pixels.split(image, fmt)
    colour = planes.colour
    grey = colour[:, :, 0] if colour.shape[2] == 1 else colour @ pixels.LUMA
    alpha = None
    if planes.alpha is not None:
        alpha = planes.alpha[:, :, 0]
        grey = grey * alpha + 0.5 * (1.0 - alpha)
    return np.round(np.clip(grey, 0, 1) * 255).astype(np.uint8), alpha


def _face_cascade() -> cv2.CascadeClassifier:
    global _cascade
    if _cascade is None:
        classifier = cv2.CascadeClassifier(cv2.data.haarcascades + FACE_CASCADE)
        if classifier.empty():
            raise RuntimeError(f"OpenCV's {FACE_CASCADE} is missing (opencv-python-headless 4.x ships it)")
        _cascade = classifier
    return _cascade


def detect_faces(grey: np.ndarray) -> List[Bounds]:
    """Frontal faces in a uint8 grey picture, in its own coordinates, largest first."""
    height, width = grey.shape
    reduce = min(1.0, DETECT_MAX_EDGE / max(width, height))
    work = grey if reduce == 1.0 else cv2.resize(grey, (max(1, round(width * reduce)), max(1, round(height * reduce))),
                                                 interpolation=cv2.INTER_AREA)
    work = cv2.equalizeHist(work)
    smallest = max(20, int(FACE_MIN_FRACTION * min(work.shape)))
    found = _face_cascade().detectMultiScale(work, scaleFactor=1.1, minNeighbors=FACE_MIN_NEIGHBOURS,
                                             minSize=(smallest, smallest))
    faces = [Bounds(int(x / reduce), int(y / reduce), int(round(w / reduce)), int(round(h / reduce)))
             for x, y, w, h in (found if len(found) else [])]
    return sorted(faces, key=lambda b: b.width * b.height, reverse=True)


def saliency(grey: np.ndarray, alpha: Optional[np.ndarray]) -> np.ndarray:
    """Spectral-residual saliency (Hou & Zhang, 2007) per pixel, zero where transparent.

    The log amplitude spectrum of a small copy minus its local average is what stands out from the picture's
    usual texture; back in the image domain (with the original phase) it lights up the parts that draw the
    eye (windows and shutters rather than the brick wall around them).
    """
    height, width = grey.shape
    reduce = SALIENCY_EDGE / max(height, width)
    small_size = (max(1, round(width * reduce)), max(1, round(height * reduce)))
    small = cv2.resize(grey.astype(np.float32), small_size, interpolation=cv2.INTER_AREA)
    spectrum = np.fft.fft2(small)
    log_amplitude = np.log(np.abs(spectrum) + 1e-6)
    residual = log_amplitude - cv2.blur(log_amplitude, (3, 3))
    salient = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
    salient = cv2.GaussianBlur(salient.astype(np.float32), (0, 0), SALIENCY_BLUR)
    salient = cv2.resize(salient, (width, height), interpolation=cv2.INTER_LINEAR)
    if alpha is not None:
        salient *= alpha
    return salient


def salient_centre(energy: np.ndarray, window: Extent) -> Tuple[float, float]:
    """Centre (x, y) of the ``window``-sized area with the most (centre-weighted) saliency."""
    height, width = energy.shape
    window = Extent(min(max(1, window.width), width), min(max(1, window.height), height))
    ys = (np.arange(height) - (height - 1) / 2) / (CENTRE_PRIOR * height)
    xs = (np.arange(width) - (width - 1) / 2) / (CENTRE_PRIOR * width)
    weighted = energy * np.exp(-0.5 * (ys[:, None] ** 2 + xs[None, :] ** 2)).astype(np.float32)
    if not np.any(weighted > 0):
        return (width / 2, height / 2)
    integral = cv2.integral(weighted.astype(np.float64))
    w, h = window
    sums = integral[h:, w:] - integral[:-h, w:] - integral[h:, :-w] + integral[:-h, :-w]
    y, x = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return (x + w / 2, y + h / 2)


def map_bounds(bounds: Bounds, source: Extent, target: Extent) -> Bounds:
    """``bounds`` in a picture of size ``source`` -> the covering box in the same picture resized to ``target``."""
    fx, fy = target.width / source.width, target.height / source.height
    x0, y0 = int(np.floor(bounds.x * fx)), int(np.floor(bounds.y * fy))
    x1, y1 = int(np.ceil(bounds.right * fx)), int(np.ceil(bounds.bottom * fy))
    return Bounds(x0, y0, x1 - x0, y1 - y0).clamped(target)


def union(boxes: Sequence[Bounds]) -> Bounds:
    x0, y0 = min(b.x for b in boxes), min(b.y for b in boxes)
    x1, y1 = max(b.right for b in boxes), max(b.bottom for b in boxes)
    return Bounds(x0, y0, x1 - x0, y1 - y0)


def centred(picture: Extent, crop: Extent, cx: float, cy: float) -> Bounds:
    """The ``crop``-sized window centred on (cx, cy) as far as the picture allows."""
    x = int(round(cx - crop.width / 2))
    y = int(round(cy - crop.height / 2))
    x = min(max(x, 0), max(0, picture.width - crop.width))
    y = min(max(y, 0), max(0, picture.height - crop.height))
    return Bounds(x, y, crop.width, crop.height)


def _fits(box: Bounds, crop: Extent) -> bool:
    return box.width <= crop.width and box.height <= crop.height


def faces_to_keep(faces: Sequence[Bounds], crop: Extent) -> List[Bounds]:
    """All faces when their union fits in the crop; otherwise the largest, plus every next-largest that still fits."""
    kept: List[Bounds] = []
    for face in sorted(faces, key=lambda b: b.width * b.height, reverse=True):
        if _fits(union(kept + [face]), crop) or not kept:
            kept.append(face)
    return kept


def with_headroom(box: Bounds, face_height: int) -> Bounds:
    return box.padded(int(round(FACE_HEADROOM * face_height)))


def cut_area(crop: Bounds, faces: Sequence[Bounds]) -> int:
    """How badly ``crop`` cuts through ``faces``: per face, the smaller of its parts inside and outside (0 for a
    face that is wholly in or wholly out)."""
    total = 0
    for face in faces:
        inside = face.intersection(crop).extent.pixel_count
        total += min(inside, face.extent.pixel_count - inside)
    return total


def _starts(current: int, length: int, picture_length: int, keep: Tuple[int, int],
            faces: Sequence[Tuple[int, int]]) -> List[int]:
    """On one axis, where a window of ``length`` may start so that ``keep`` (start, end) stays inside it and it
    stays inside the picture: ``current`` and every start that puts an edge of the window on a face's edge."""
    low, high = max(0, keep[1] - length), min(picture_length - length, keep[0])
    if low > high:
        return [current]
    edges = [edge for face in faces for edge in face]
    return sorted({min(max(start, low), high) for start in [current] + edges + [edge - length for edge in edges]})


def clear_of_faces(crop: Bounds, picture: Extent, keep: Bounds, others: Sequence[Bounds]) -> Bounds:
    """``crop`` moved as little as possible, still holding ``keep``, so that it cuts through as little of the
    ``others`` (faces it could not hold with the rest) as it can: a face half in a cover looks like a mistake."""
    xs = _starts(crop.x, crop.width, picture.width, (keep.x, keep.right), [(f.x, f.right) for f in others])
    ys = _starts(crop.y, crop.height, picture.height, (keep.y, keep.bottom), [(f.y, f.bottom) for f in others])
    candidates = [Bounds(x, y, crop.width, crop.height) for x in xs for y in ys]
    return min(candidates, key=lambda moved: (cut_area(moved, others), abs(moved.x - crop.x) + abs(moved.y - crop.y)))


def place_crop(picture: Extent, crop: Extent, faces: Sequence[Bounds],
               salient: Optional[Tuple[float, float]]) -> CropChoice:
    """Where to put a ``crop``-sized window in the upscaled ``picture``.

    ``faces`` and ``salient`` (the centre of the most salient area) are in the picture's coordinates.
    """
    faces = tuple(faces)
    if faces:
        kept = faces_to_keep(faces, crop)
        box = union(kept)
        roomy = with_headroom(box, max(b.height for b in kept)).clamped(picture)
        target = roomy if _fits(roomy, crop) else box
        bounds = centred(picture, crop, target.x + target.width / 2, target.y + target.height / 2)
        if len(kept) < len(faces):
            bounds = clear_of_faces(bounds, picture, box, [face for face in faces if face not in kept])
            reason = Reason("crop_largest_faces", {"faces": len(faces), "kept": len(kept)})
        else:
            reason = Reason("crop_all_faces", {"faces": len(faces)}) if len(faces) > 1 else Reason("crop_one_face")
        return CropChoice(bounds, faces, tuple(kept), reason)
    if salient is None:
        return CropChoice(centred(picture, crop, picture.width / 2, picture.height / 2), (), (),
                          Reason("crop_centred"))
    bounds = centred(picture, crop, *salient)
    return CropChoice(bounds, (), (), Reason("crop_salient"))
