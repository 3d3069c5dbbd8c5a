"""The face restorer: GFPGAN or RestoreFormer weights, read safely and built through spandrel.

A restorer takes a batch of aligned faces (N×512×512×3 float32 RGB in 0..1) and returns them restored, same
shape and range. It always sees whole faces (never tiles: the network looks at all of it) and runs in float32
(GFPGAN has no fp16). spandrel's GFPGAN expects and returns -1..1 (the reference normalises around it); its
RestoreFormer normalises inside. A loaded restorer is kept per (file, modification time, device).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Sequence, Tuple

import numpy as np

from ..common import catalog
from .. import models
from ..common.errors import EngineError, Kind

Restore = Callable[[np.ndarray], np.ndarray]   # N×SIZE×SIZE×3 float32 in [0, 1] -> the same, restored

_SIGNED_RANGE = {"GFPGAN"}     # spandrel architectures that take and give -1..1 instead of 0..1
BATCH = {"cpu": 1, "cuda": 4, "mps": 2}   # faces per network call (the CPU gains nothing from batching)


@dataclass
class Restorer:
    name: str
    arch: str
    device: str
    batch: int
    run: Restore

    def __call__(self, faces: np.ndarray) -> np.ndarray:
        return self.run(faces)


def _torch_device(device: str) -> str:
    """The torch device for a face restorer: the upscale's own, except OpenVINO's Intel "gpu" (torch: the CPU)."""
    return "auto" if device in ("auto", "gpu") else device


def _descriptor(name: str, path: Path):
    import spandrel
    state = models.read_state_dict(path)
    try:
        descriptor = spandrel.ModelLoader().load_from_state_dict(state)
    except Exception as error:  # noqa: BLE001 - spandrel raises several types for unknown layouts
        raise EngineError(Kind.BAD_WEIGHTS, f"{name} is not a face restoration network that can be recognised "
                          "(GFPGAN or RestoreFormer).", f"{type(error).__name__}: {error}") from error
    if descriptor.purpose != "FaceSR" or descriptor.input_channels != 3 or descriptor.output_channels != 3:
        raise EngineError(Kind.BAD_WEIGHTS, f"{name} is not a face restorer ({descriptor.architecture.name}, "
                          f"purpose {descriptor.purpose}); use GFPGANv1.4 or a RestoreFormer file.")
    return descriptor


def _runner(descriptor, device) -> Restore:
    import torch
    signed = descriptor.architecture.id in _SIGNED_RANGE

    def run(faces: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            tensor = torch.from_numpy(np.ascontiguousarray(faces, np.float32)).permute(0, 3, 1, 2).to(device)
            tensor = tensor.contiguous()   # GFPGAN views its features flat
            if signed:   # the module itself: spandrel's descriptor would clamp its -1..1 output to 0..1
                out = (descriptor.model(tensor * 2.0 - 1.0, return_rgb=False)[0].float() + 1.0) / 2.0
            else:
                out = descriptor(tensor).float()
            out = torch.nan_to_num(out, nan=0.5).clamp_(0.0, 1.0)
            return out.permute(0, 2, 3, 1).cpu().numpy()
    return run


def resolve(model: str, dirs: Sequence[Path]) -> Tuple[str, Path]:
    """(name, weights file) of a face model: a catalog face model or a file; a catalog upscaler is refused."""
    info = catalog.get(model)
    if info is not None and info.kind != catalog.FACE:
        faces = ", ".join(m.name for m in catalog.face_models())
        raise EngineError(Kind.BAD_INPUT, f"{info.name} is an upscaler, not a face restorer; the face model is "
                          f"{faces} or a GFPGAN/RestoreFormer file.")
    name, path, _ = models.resolve(model, dirs)
    return name, path


class RestorerStore:
    """Loads face restorers on demand and keeps the last one."""

    def __init__(self, dirs: Sequence[Path]):
        self.dirs = list(dirs)
        self._kept: Dict[Tuple, Restorer] = {}

    def get(self, model: str, device: str) -> Restorer:
        from .. import devices
        name, path = resolve(model, self.dirs)
        placement = devices.choose(_torch_device(device), "fp32")
        key = (str(path), path.stat().st_mtime_ns, str(placement.device))
        if key not in self._kept:
            descriptor = _descriptor(name, path)
            descriptor.to(placement.device).eval()
            self._kept.clear()
            placement.release_cache()
            self._kept[key] = Restorer(name, descriptor.architecture.id, str(placement.device),
                                       BATCH.get(placement.device.type, 1), _runner(descriptor, placement.device))
        return self._kept[key]


