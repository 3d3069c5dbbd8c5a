"""What several test files share: the environment of an engine subprocess and small test doubles. Import them
from here; fixtures live in conftest.py, which tests never import."""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple

import numpy as np

from krita_realesrgan.common.errors import Cancelled
from krita_realesrgan.common.formats import PixelFormat, UpscaleOptions
from krita_realesrgan.common.geometry import Extent
from krita_realesrgan.common.paths import ENV_CONFIG, ENV_DATA, ENV_WEIGHTS
from krita_realesrgan.common.progress import Cancel, Progress
from krita_realesrgan.engine import UpscaleResult

from data_paths import REPO



def engine_env(folder: Path, weights: Optional[Path] = None, *, first_on_path: Sequence[Path] = (),
               **extra: str) -> Dict[str, str]:
    """The environment of a worker, engine service or command-line subprocess of this checkout: the repository on
    PYTHONPATH (after ``first_on_path``), its config file (absent unless a test writes it) and data folder in
    ``folder``, not the user's, and ``weights`` as the weights folder when given; ``extra`` adds or replaces
    variables."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([*map(str, first_on_path), str(REPO)]))
    env.update({ENV_CONFIG: str(folder / "none.json"), ENV_DATA: str(folder / "data")})
    if weights is not None:
        env[ENV_WEIGHTS] = str(weights)
    env.update(extra)
    return env


class Answers:
    """Stands in for a yes/no question box: records each question and gives one answer."""

    def __init__(self, answer):
        self.answer, self.questions = answer, []

    def __call__(self, text):
        self.questions.append(text)
        return self.answer


@dataclass
class WeightFolders:
    """What a fake upscaler says of its weight folders (``engine.Upscaler.models`` is a ``ModelStore``)."""

    dirs: List[Path]


class FakeUpscaler:
    """Stands in for ``engine.Upscaler`` (a ``LocalUpscaler``: test_upscalers.py) where the network is not what a
    test is about: nearest-neighbour ``scale``x, progress in ``ticks`` steps with ``cancel`` polled before each,
    every call's options, input size and (format, dtype) recorded. Clear ``release`` to hold each step until it is
    set again; ``started`` says a step began; ``cancel_after(n)`` is a Cancel that says stop once n calls began."""

    def __init__(self, scale: int = 2, ticks: int = 3):
        self.scale, self.ticks = scale, ticks
        self.models = WeightFolders([Path("/nowhere")])
        self.calls: List[UpscaleOptions] = []
        self.inputs: List[Extent] = []
        self.formats: Set[Tuple[PixelFormat, str]] = set()
        self.started, self.release = threading.Event(), threading.Event()
        self.release.set()

    def model_status(self) -> List[dict]:
        return [{"name": "realesr-animevideov3", "available": True, "catalog": True, "kind": "anime",
                 "scale": self.scale}]

    def cancel_after(self, calls: int) -> Cancel:
        return lambda: len(self.calls) >= calls

    def upscale(self, image: np.ndarray, fmt: PixelFormat, options: UpscaleOptions,
                progress: Optional[Progress] = None, cancel: Optional[Cancel] = None) -> UpscaleResult:
        self.calls.append(options)
        self.inputs.append(Extent(image.shape[1], image.shape[0]))
        self.formats.add((fmt, image.dtype.name))
        for tick in range(1, self.ticks + 1):
            self.started.set()
            self.release.wait(5)
            if cancel is not None and cancel():
                raise Cancelled()
            if progress is not None:
                progress(tick, self.ticks)
        image = np.repeat(np.repeat(image, self.scale, axis=0), self.scale, axis=1)
        return UpscaleResult(image, "cpu", "fp32", 0, 0.01, "torch", ())
