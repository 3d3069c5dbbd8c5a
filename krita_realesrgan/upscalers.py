"""What the code that runs upscales needs from an upscaler, as typing protocols (structural: nothing inherits them).

    Upscaler            upscale(image, fmt, options, progress, cancel) -> UpscaleResult: every user
    PlanningUpscaler    + model_facts(options) and speeds: the command line's size and time check before a run
                        (``preflight.announce``); engine.Upscaler and service_upscaler.ServiceUpscaler (--engine)
    LocalUpscaler       + model_status() and models.dirs: the worker and the engine service (the models list, hello's
                        weight folders) and a cover's model choice; engine.Upscaler and the tests' FakeUpscaler

Nothing here is imported at run time but ``typing``: the tests' fakes and the worker use these without loading
the engine.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, List, Optional, Protocol, Sequence, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from .common.formats import PixelFormat, UpscaleOptions
    from .common.progress import Cancel, Progress
    from .common.run_estimate import SpeedRecord
    from .engine import ModelFacts, UpscaleResult


@runtime_checkable
class Upscaler(Protocol):
    def upscale(self, image: np.ndarray, fmt: PixelFormat, options: UpscaleOptions,
                progress: Optional[Progress] = None, cancel: Optional[Cancel] = None) -> UpscaleResult:
        """The upscaled picture: same dtype and channel layout as ``image``; ``progress`` as work advances,
        ``cancel`` polled between tiles (True raises ``errors.Cancelled``)."""
        ...


@runtime_checkable
class PlanningUpscaler(Upscaler, Protocol):
    speeds: SpeedRecord   # this computer's measured speeds, for the time a run will take

    def model_facts(self, options: UpscaleOptions) -> ModelFacts:
        """The native scale, device, precision and working memory a run with ``options`` would use."""
        ...


class WeightFolders(Protocol):
    @property
    def dirs(self) -> Sequence[Path]:
        """The folders searched for weight files, first match wins."""
        ...


@runtime_checkable
class LocalUpscaler(Upscaler, Protocol):
    @property
    def models(self) -> WeightFolders:
        ...

    def model_status(self) -> List[dict]:
        """Every listed catalog model plus any extra weight files found: name, file, path, available, scale,
        purpose, kind."""
        ...
