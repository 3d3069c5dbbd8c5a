"""What the engine calls around an upscale when faces are to be restored.

``Faces.prepare`` runs *before* the upscale, so a refusal (an anime model: the restorers are for real faces,
as the reference says) or missing face weights end the job before minutes of upscaling; ``FaceStep.run`` runs
after it: detect on the input, choose, restore into the upscaled picture, report.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional, Sequence, Tuple

import numpy as np

from ..common import catalog
from .. import pixels
from ..common.errors import EngineError, Kind
from ..common.formats import PixelFormat, UpscaleOptions
from .detect import detect, has_landmarks
from ..common.progress import Cancel, Progress
from .paste import FaceReport, choose, restore_faces
from .restorer import Restorer, RestorerStore


def check_model(model: str) -> None:
    """Refuse face restoration with an anime model (the face restorers know real faces only)."""
    info = catalog.get(model)
    if info is not None and info.kind == "anime":
        photo = ", ".join(m.name for m in catalog.listed() if m.kind in ("photo", "general"))
        raise EngineError(Kind.BAD_INPUT, f"Face restoration is for photos of real people, and {info.name} is "
                          f"an anime model: choose a photo model ({photo}) or leave face restoration off.")


@dataclass(frozen=True)
class FaceStep:
    restorer: Restorer
    strength: float

    def run(self, image: np.ndarray, fmt: PixelFormat, upscaled: np.ndarray, progress: Optional[Progress] = None,
            cancel: Optional[Cancel] = None) -> Tuple[np.ndarray, FaceReport]:
        """Restore the faces of ``image`` (the input) in ``upscaled`` (its plain upscale, changed in place)."""
        faces = detect(pixels.split(image, fmt).colour)
        kept, report = choose(faces)
        report = replace(report, rough=bool(faces) and not has_landmarks())
        scale = (upscaled.shape[1] / image.shape[1], upscaled.shape[0] / image.shape[0])
        restore_faces(upscaled, fmt, kept, scale, self.restorer, self.strength, progress, cancel)
        return upscaled, report


class Faces:
    """The engine's face restorers (one kept loaded)."""

    def __init__(self, dirs: Sequence[Path]):
        self.restorers = RestorerStore(dirs)

    def prepare(self, options: UpscaleOptions) -> Optional[FaceStep]:
        if not options.face_enhance:
            return None
        check_model(options.model)
        return FaceStep(self.restorers.get(options.face_model, options.device), float(options.face_strength))
