"""The PyTorch backend: a spandrel model on a torch device (CPU, CUDA, MPS), channels-last, in inference mode."""
from __future__ import annotations

import numpy as np
import torch

from .. import devices
from ..models import LoadedModel
from . import Backend


class TorchBackend(Backend):
    name = "torch"

    def __init__(self, model: LoadedModel):
        self.model = model
        self.placement = model.placement
        self.device = model.placement.name
        self.precision = model.placement.precision

    def run(self, batch: np.ndarray) -> np.ndarray:
        placement = self.placement
        tensor = torch.from_numpy(batch).permute(0, 3, 1, 2)  # N,3,h,w (a channels-last view)
        tensor = tensor.to(placement.device, placement.dtype, non_blocking=True).contiguous(
            memory_format=torch.channels_last)
        with torch.inference_mode():
            output = self.model.descriptor(tensor)
        return output.float().permute(0, 2, 3, 1).cpu().numpy()

    def tile_budget_bytes(self) -> int:
        return self.placement.tile_budget_bytes()

    def release_cache(self) -> None:
        self.placement.release_cache()

    def is_out_of_memory(self, error: BaseException) -> bool:
        return devices.is_out_of_memory(error)
