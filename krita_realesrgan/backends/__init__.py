"""Backends: what runs one batch of tiles through a network (PyTorch, or OpenVINO).

The runner cuts tiles, blends their outputs and never sees a framework: it hands a backend a batch of equal
tiles as one float32 array N×h×w×3 (values 0..1) and gets N×(h·s)×(w·s)×3 float32 back. Which backend runs a
request is decided by ``choice`` (``--backend auto|torch|openvino``, ``--device``, ``--fast``); ``loader``
gives the engine a ready ``Network`` (the backend plus what the tiler needs: scale, margin, memory per pixel).

This package imports neither torch nor openvino at import time: a warm OpenVINO start needs no torch at all.
"""
from __future__ import annotations

import numpy as np


class Backend:
    """One network placed on one device in one precision."""

    name = ""        # "torch" | "openvino"
    device = ""      # "cpu", "cuda:0", "mps" (torch); "cpu", "gpu" (OpenVINO)
    precision = ""   # "fp32" | "fp16" | "bf16"

    def run(self, batch: np.ndarray) -> np.ndarray:
        """N×h×w×3 float32 in, N×(h·scale)×(w·scale)×3 float32 out (clamped to 0..1)."""
        raise NotImplementedError

    def tile_budget_bytes(self) -> int:
        """How many bytes of activations a tile may take now."""
        raise NotImplementedError

    def release_cache(self) -> None:
        """Give back memory held for earlier tiles (after running out of memory)."""

    def is_out_of_memory(self, error: BaseException) -> bool:
        return looks_like_out_of_memory(error)

    def describe(self) -> str:
        return f"{self.name} {self.device} {self.precision}"


def looks_like_out_of_memory(error: BaseException) -> bool:
    if isinstance(error, MemoryError):
        return True
    text = str(error).lower()
    return isinstance(error, RuntimeError) and any(
        words in text for words in ("out of memory", "can't allocate memory", "not enough memory",
                                    "failed to allocate", "std::bad_alloc"))
