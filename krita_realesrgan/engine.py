"""The engine's front door: ``Upscaler`` keeps models warm and runs the pipeline.

    decode -> normalise (dtype, channels, alpha) -> plan tiles -> run model -> blend -> restore dtype -> resample

Arrays are numpy, HxW (grey) or HxWxC, channel order grey[A]/RGB[A], with the dtype named by a ``PixelFormat``
(never guessed from the values). The output has the input's dtype and channel layout.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional

import numpy as np

from .formats import PixelFormat, UpscaleOptions

Progress = Callable[[int, int], None]   # (tiles done, tiles total), over all network passes
Cancel = Callable[[], bool]             # polled between tiles; True -> raise errors.Cancelled


@dataclass
class UpscaleResult:
    image: np.ndarray
    device: str        # "cpu", "cuda:0", "mps"
    precision: str     # "fp32", "fp16", "bf16"
    tile: int          # the input tile edge finally used (after any out-of-memory halving); 0 = whole image
    seconds: float


class Upscaler:
    """Runs upscales; keeps recently used models loaded. One instance per process (the worker, the CLI)."""

    def __init__(self, weights_dir: Optional[Path] = None):
        raise NotImplementedError

    def upscale(self, image: np.ndarray, fmt: PixelFormat, options: UpscaleOptions,
                progress: Optional[Progress] = None, cancel: Optional[Cancel] = None) -> UpscaleResult:
        raise NotImplementedError

    def model_status(self) -> List[dict]:
        """Every listed catalog model plus any extra weight files found: name, file, path, available, scale,
        purpose, kind. For the plugins' model list (greyed when unavailable)."""
        raise NotImplementedError
