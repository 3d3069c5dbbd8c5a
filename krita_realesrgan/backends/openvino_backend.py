"""The OpenVINO backend: a converted network (IR), compiled once per tile shape for the CPU or an Intel GPU.

Every tile of a plan has the same shape, so a plan compiles once; the compiled blobs go to OpenVINO's on-disk
cache (``CACHE_DIR``), keyed by the network, the shape and the precision, so a new process starts warm.
Architectures whose input must be a multiple of some size are padded here exactly as spandrel pads them
(reflect, then replicate) and the output cropped back.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from . import Backend
from .budget import host_tile_budget

# OpenVINO's name for each precision (its INFERENCE_PRECISION_HINT)
INFERENCE_PRECISION = {"fp32": "f32", "bf16": "bf16", "fp16": "f16"}
_COMPILED_KEPT = 3   # compiled shapes held in memory (a plan needs one; OOM halving and alpha add a few)
# OpenVINO's compiled-network cache holds one blob per network, shape and precision (as big as the weights:
# 67 MB for RealESRGAN_x4plus); beyond this many bytes the oldest blobs are deleted.
COMPILED_CACHE_LIMIT = 1024 ** 3


@dataclass(frozen=True)
class SizeRule:
    """spandrel's size requirements of an architecture: at least ``minimum``, a multiple of ``multiple_of``,
    square or not."""

    minimum: int = 0
    multiple_of: int = 1
    square: bool = False

    def padding(self, width: int, height: int) -> Tuple[int, int]:
        def up(x: int) -> int:
            return -(-x // self.multiple_of) * self.multiple_of
        w, h = up(max(self.minimum, width)), up(max(self.minimum, height))
        if self.square:
            w = h = max(w, h)
        return w - width, h - height


def pad_like_spandrel(batch: np.ndarray, pad_w: int, pad_h: int) -> np.ndarray:
    """N×h×w×C padded at the bottom/right: reflect as far as it goes (size - 1), then replicate."""
    n, h, w, c = batch.shape
    reflect_w, reflect_h = min(pad_w, w - 1), min(pad_h, h - 1)
    batch = np.pad(batch, ((0, 0), (0, reflect_h), (0, reflect_w), (0, 0)), mode="reflect")
    return np.pad(batch, ((0, 0), (0, pad_h - reflect_h), (0, pad_w - reflect_w), (0, 0)), mode="edge")


class OpenVinoBackend(Backend):
    name = "openvino"

    def __init__(self, core, model, ov_device: str, precision: str, scale: int, size_rule: SizeRule,
                 compiled_cache: Optional[Path] = None):
        self.core = core
        self.model = model                 # openvino.Model, input N×3×?×? (dynamic)
        self.ov_device = ov_device         # "CPU" | "GPU"
        self.device = ov_device.lower()
        self.precision = precision
        self.scale = scale
        self.size_rule = size_rule
        self.compiled_cache = compiled_cache
        self._compiled: "OrderedDict[Tuple[int, ...], object]" = OrderedDict()

    def config(self) -> dict:
        return {"INFERENCE_PRECISION_HINT": INFERENCE_PRECISION[self.precision], "PERFORMANCE_HINT": "LATENCY"}

    def compiled_for(self, shape: Tuple[int, ...]):
        """The network compiled for input N×3×h×w (from OpenVINO's disk cache when it has it)."""
        compiled = self._compiled.get(shape)
        if compiled is not None:
            self._compiled.move_to_end(shape)
            return compiled
        import openvino
        model = self.model.clone()
        model.reshape({model.inputs[0]: openvino.PartialShape(list(shape))})
        while len(self._compiled) >= _COMPILED_KEPT:
            self._compiled.popitem(last=False)
        compiled = self.core.compile_model(model, self.ov_device, self.config())
        self._compiled[shape] = compiled
        if self.compiled_cache is not None:
            prune_oldest(self.compiled_cache, COMPILED_CACHE_LIMIT)
        return compiled

    def run(self, batch: np.ndarray) -> np.ndarray:
        n, h, w, _ = batch.shape
        pad_w, pad_h = self.size_rule.padding(w, h)
        if pad_w or pad_h:
            batch = pad_like_spandrel(batch, pad_w, pad_h)
        tensor = np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float32)
        compiled = self.compiled_for(tensor.shape)
        output = compiled(tensor)[0]
        return output[:, :, :h * self.scale, :w * self.scale].transpose(0, 2, 3, 1)

    def tile_budget_bytes(self) -> int:
        return host_tile_budget() if self.ov_device == "CPU" else host_tile_budget(cap=0)

    def release_cache(self) -> None:
        self._compiled.clear()


def prune_oldest(folder: Path, limit: int) -> None:
    """Delete the oldest files in ``folder`` until the rest take at most ``limit`` bytes."""
    try:
        files = sorted((entry.stat().st_mtime, entry.stat().st_size, entry) for entry in Path(folder).iterdir()
                       if entry.is_file())
    except OSError:
        return
    total = sum(size for _, size, _ in files)
    for _, size, path in files:
        if total <= limit:
            break
        try:
            path.unlink()
            total -= size
        except OSError:
            pass


_cores: dict = {}


def shared_core(compiled_cache: Optional[Path] = None):
    """The process's OpenVINO core keeping compiled networks in ``compiled_cache`` (None: nowhere). Cores are
    never dropped: unloading OpenVINO's device plugins while the process lives made a later signal (Ctrl-C)
    crash the process."""
    key = str(compiled_cache) if compiled_cache is not None else None
    if key not in _cores:
        import openvino
        core = openvino.Core()
        if compiled_cache is not None:
            compiled_cache.mkdir(parents=True, exist_ok=True)
            core.set_property({"CACHE_DIR": key})
        _cores[key] = core
    return _cores[key]
