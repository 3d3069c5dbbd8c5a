"""The engine service behind ``engine.Upscaler``'s face (``upscale``, ``model_facts``, ``speeds``), so the command
line's ``--engine`` (``engine_args``) runs the same steps on the service: pixels go over the connection, progress
and Ctrl-C (a cancel) come with them."""
from __future__ import annotations

from typing import Optional

import numpy as np

from ..common.client import EngineClient
from ..engine import ModelFacts, UpscaleResult
from ..common.formats import PixelFormat, UpscaleOptions
from ..common.geometry import Extent
from ..common.progress import Cancel, Progress
from ..common.run_estimate import SpeedRecord
from ..common.run_question import model_scale


class ServiceUpscaler:
    def __init__(self, client: EngineClient):
        self.client = client
        self.speeds = SpeedRecord()        # this computer's record: the service's own speeds are not known here

    def model_facts(self, options: UpscaleOptions) -> ModelFacts:
        """What the catalog says (the model is loaded on the service, not here)."""
        return ModelFacts(model_scale(options.model), f"service {self.client.engine}", options.precision or "",
                          None, "service")

    def upscale(self, image: np.ndarray, fmt: PixelFormat, options: UpscaleOptions,
                progress: Optional[Progress] = None, cancel: Optional[Cancel] = None) -> UpscaleResult:
        image = np.ascontiguousarray(image)
        job = self.client.submit(image, fmt, Extent(image.shape[1], image.shape[0]), options)
        data, extent = job.wait(on_progress=progress, is_cancelled=cancel)
        shape = (extent.height, extent.width) + ((fmt.channels,) if fmt.channels > 1 else ())
        final = job.info or {}
        return UpscaleResult(np.frombuffer(data, np.dtype(fmt.dtype).newbyteorder("<")).reshape(shape).copy(),
                             f"{final.get('device') or '?'} on the engine service ({self.client.engine})",
                             str(final.get("precision") or ""), int(final.get("tile") or 0),
                             float(final.get("seconds") or 0.0), str(final.get("backend") or ""),
                             tuple(final.get("notes") or ()))
