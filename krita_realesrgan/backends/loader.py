"""A ready network for a request: the chosen backend, and what the tiler needs (scale, margin, memory).

PyTorch networks come from ``models.ModelStore``. OpenVINO networks come from the IR stored by
``openvino_store`` (no torch needed), or are converted from the PyTorch model on first use; a model that
OpenVINO cannot take runs with PyTorch instead, with a note saying so.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Optional, Tuple

from ..common import paths
from ..models import ModelStore, weight_sources
from . import Backend
from .choice import TORCH, Choice
from .openvino_store import ConversionFailed, IrStore, Refused, network_digest


@dataclass(frozen=True)
class Network:
    name: str
    arch: str
    scale: int
    margin: int               # tile margin (input pixels)
    bytes_per_pixel: float    # activations per input pixel per batch image, at the backend's precision
    backend: Backend
    notes: Tuple[str, ...] = ()   # to tell the user once (e.g. why OpenVINO is not used)


def _cpu(precision: str):
    """A torch placement on the CPU (imports torch: only for PyTorch runs and conversions)."""
    from .. import devices
    return devices.choose("cpu", precision)


def _half_if_reduced(bytes_per_pixel: float, precision: str) -> float:
    return bytes_per_pixel * (1.0 if precision == "fp32" else 0.5)


class NetworkStore:
    """Networks by request, the ``capacity`` most recently used OpenVINO ones kept (PyTorch ones: ModelStore)."""

    def __init__(self, models: ModelStore, capacity: int = 2):
        self.models = models
        self.capacity = capacity
        self._openvino: "OrderedDict[Tuple, Network]" = OrderedDict()
        self.ir_store = IrStore(paths.cache_dir() / "openvino")

    def get(self, model: str, denoise: Optional[float], choice: Choice) -> Network:
        if choice.backend == TORCH:
            from .. import devices
            return self._torch(model, denoise, devices.choose(choice.device, choice.precision))
        sources = weight_sources(model, denoise, self.models.dirs)
        key = sources.key + (choice,)
        if key in self._openvino:
            self._openvino.move_to_end(key)
            return self._openvino[key]
        network = self._openvino_network(model, denoise, sources, choice)
        while len(self._openvino) >= self.capacity:
            self._openvino.popitem(last=False)
        self._openvino[key] = network
        return network

    def _torch(self, model: str, denoise: Optional[float], placement, notes: Tuple[str, ...] = ()) -> Network:
        from .torch_backend import TorchBackend
        loaded = self.models.get(model, denoise, placement)
        return Network(loaded.name, loaded.arch, loaded.scale, loaded.margin, loaded.bytes_per_pixel,
                       TorchBackend(loaded), notes)

    def _openvino_network(self, model: str, denoise: Optional[float], sources, choice: Choice) -> Network:
        digest = network_digest(sources.files, sources.denoise)
        found = self.ir_store.lookup(digest)
        converted = None
        if found is None:
            loaded = self.models.get(model, denoise, _cpu("fp32"))
            try:
                found, converted = self.ir_store.convert(digest, loaded)
            except ConversionFailed as error:
                found = Refused(str(error))
        if isinstance(found, Refused):
            note = (f"{sources.name} does not convert to OpenVINO ({found.reason}); "
                    "it runs with PyTorch on the CPU instead.")
            precision = choice.precision if choice.device == "CPU" else "fp32"   # the GPU's fp16 is no CPU's
            return self._torch(model, denoise, _cpu(precision), (note,))
        from .openvino_backend import OpenVinoBackend, shared_core
        core = shared_core(self.ir_store.compiled_cache)
        if converted is None:
            converted = core.read_model(str(found.xml))
        backend = OpenVinoBackend(core, converted, choice.device, choice.precision, found.scale,
                                  found.size_rule, self.ir_store.compiled_cache)
        return Network(sources.name, found.arch, found.scale, found.margin,
                       _half_if_reduced(found.bytes_per_pixel, choice.precision), backend)
