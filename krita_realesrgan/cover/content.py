"""Which model suits a picture: illustration/anime or photo, by a simple heuristic that can explain itself.

Illustrations are drawn with few flat colours, photos have texture and noise everywhere. Two numbers, measured
on the small input after a 5x5 median (which removes JPEG ringing, the thing that makes a compressed cartoon
look "textured"):

* palette share: the share of (visible) pixels taken by the 16 most common colours (4 bits a channel;
  grey pictures: 16 most common of 256 levels),
* flat share: the share of pixels whose Laplacian is below 2 levels (no texture at all).

Both high -> illustration. Tuned on the shared test pictures (a cartoon: 0.53 / 0.29; photos of children,
a building, a tree: <= 0.27 palette or <= 0.13 flat).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..common import catalog
from .. import pixels
from ..common.cover_reasons import Reason
from ..common.errors import INSTALL_HINT
from ..common.formats import PixelFormat

ILLUSTRATION_PALETTE_SHARE = 0.45
ILLUSTRATION_FLAT_SHARE = 0.20
PALETTE_SIZE = 16
# what to use for each content kind, best first (only catalog names; availability decides)
PREFERRED = {
    "anime": ("RealESRGAN_x4plus_anime_6B", "realesr-animevideov3"),
    "photo": ("RealESRGAN_x4plus", "realesr-general-x4v3", "RealESRGAN_x2plus"),
}


@dataclass(frozen=True)
class ContentGuess:
    kind: str             # "anime" (illustration) or "photo"
    palette_share: float
    flat_share: float

    def explain(self) -> Reason:
        key = "looks_like_illustration" if self.kind == "anime" else "looks_like_photo"
        return Reason(key, {"palette": round(self.palette_share, 4), "flat": round(self.flat_share, 4),
                            "colours": PALETTE_SIZE})


def _uint8_view(image: np.ndarray, fmt: PixelFormat) -> Tuple[np.ndarray, np.ndarray]:
    planes = pixels.split(image, fmt)
    colour = np.round(planes.colour * 255).astype(np.uint8)
    visible = planes.alpha[:, :, 0] > 0.5 if planes.alpha is not None else np.ones(colour.shape[:2], bool)
    return colour, visible


def guess_content(image: np.ndarray, fmt: PixelFormat) -> ContentGuess:
    colour, visible = _uint8_view(image, fmt)
    if not visible.any():
        visible = np.ones_like(visible)
    smooth = cv2.medianBlur(np.ascontiguousarray(colour if colour.shape[2] == 3 else colour[:, :, 0]), 5)
    if smooth.ndim == 3:
        quantised = (smooth[visible] >> 4).astype(np.int32)
        keys = (quantised[:, 0] << 8) | (quantised[:, 1] << 4) | quantised[:, 2]
        grey = cv2.cvtColor(smooth, cv2.COLOR_RGB2GRAY)
    else:
        keys = smooth[visible].astype(np.int32)
        grey = smooth
    counts = np.sort(np.bincount(keys))[::-1]
    palette_share = float(counts[:PALETTE_SIZE].sum() / max(1, counts.sum()))
    laplacian = np.abs(cv2.Laplacian(grey.astype(np.float32), cv2.CV_32F))
    flat_share = float((laplacian < 2.0)[visible].mean())
    illustration = palette_share >= ILLUSTRATION_PALETTE_SHARE and flat_share >= ILLUSTRATION_FLAT_SHARE
    return ContentGuess("anime" if illustration else "photo", palette_share, flat_share)


def choose_model(guess: ContentGuess, status: Sequence[dict]) -> Tuple[str, List[Reason]]:
    """The model to use for ``guess`` given ``Upscaler.model_status()`` rows, and the reasons, in words."""
    available = {row["name"] for row in status if row.get("available")}
    wanted = PREFERRED[guess.kind]
    reasons = [guess.explain()]
    for name in wanted:
        if name in available:
            reasons.append(Reason("model_best_installed", {"model": name, "kind": guess.kind}))
            return name, reasons
    missing = {"kind": guess.kind, "best": wanted[0], "hint": INSTALL_HINT.format(models=wanted[0])}
    fallback: Optional[str] = None
    if catalog.DEFAULT_MODEL in available:
        fallback = catalog.DEFAULT_MODEL
    else:
        others = [row["name"] for row in status if row.get("available") and row.get("catalog")]
        fallback = others[0] if others else None
    if fallback is None:
        reasons.append(Reason("model_none_installed", dict(missing, model=catalog.DEFAULT_MODEL)))
        return catalog.DEFAULT_MODEL, reasons
    reasons.append(Reason("model_fallback", dict(missing, model=fallback)))
    return fallback, reasons
