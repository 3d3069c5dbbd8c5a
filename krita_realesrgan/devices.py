"""Devices and precisions: where a network runs, in which float type, and how much memory a tile may use."""
from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import List

import torch

from .backends import looks_like_out_of_memory
from .backends.budget import CPU_TILE_BUDGET, host_tile_budget
from .backends.choice import FP16_ON_CPU, NO_CPU_BF16
from .backends.cpu import this_cpu
from .common.errors import EngineError, Kind

_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}

# Share of free memory one tile may use on CUDA; the host's share and CPU ceiling are in backends.budget.
_CUDA_FREE_SHARE = 0.6


@dataclass(frozen=True)
class Placement:
    device: torch.device
    precision: str  # fp32 | fp16 | bf16

    @property
    def dtype(self) -> torch.dtype:
        return _DTYPES[self.precision]

    @property
    def name(self) -> str:
        return str(self.device)

    def tile_budget_bytes(self) -> int:
        """How many bytes of activations a tile may take now."""
        kind = self.device.type
        if kind == "cuda":
            free, _ = torch.cuda.mem_get_info(self.device)
            return int(free * _CUDA_FREE_SHARE)
        return host_tile_budget(cap=CPU_TILE_BUDGET if kind == "cpu" else 0)

    def release_cache(self) -> None:
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        elif self.device.type == "mps":
            torch.mps.empty_cache()


def available_devices() -> List[str]:
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def choose(device: str = "auto", precision: str = "auto") -> Placement:
    """Resolve ``auto`` choices and refuse impossible ones with a clear message."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else (
            "mps" if "mps" in available_devices() else "cpu")
    try:
        target = torch.device(device)
    except RuntimeError as error:
        raise EngineError(Kind.DEVICE, f"Unknown device {device!r}; use auto, cpu, cuda, cuda:N or mps.") from error
    if target.type == "cuda":
        if not torch.cuda.is_available():
            raise EngineError(Kind.DEVICE, "CUDA was asked for, but no NVIDIA GPU is usable here "
                              "(no GPU, no driver, or a CPU-only torch). Use --device cpu.")
        if target.index is None:
            target = torch.device("cuda", torch.cuda.current_device())
    elif target.type == "mps" and "mps" not in available_devices():
        raise EngineError(Kind.DEVICE, "Apple MPS was asked for, but it is not available here. Use --device cpu.")
    elif target.type not in ("cpu", "cuda", "mps"):
        raise EngineError(Kind.DEVICE, f"Device type {target.type!r} is not supported.")
    if precision == "auto":
        precision = "fp16" if target.type in ("cuda", "mps") else "fp32"
    if precision == "fp16" and target.type == "cpu":
        # float16 convolutions on the CPU are tens of times slower than float32 (and no more exact)
        raise EngineError(Kind.DEVICE, FP16_ON_CPU)
    if precision == "bf16" and target.type == "cpu" and not cpu_has_bfloat16():
        # without AVX512-BF16/AMX, bfloat16 convolutions are emulated: about 8x slower than fp32 (bench/)
        raise EngineError(Kind.DEVICE, NO_CPU_BF16)
    if precision not in _DTYPES:
        raise EngineError(Kind.DEVICE, f"Unknown precision {precision!r}.")
    return Placement(target, precision)


def cpu_has_bfloat16() -> bool:
    """Whether this CPU runs bfloat16 convolutions natively (AVX512-BF16 or AMX): its flags, else torch's probe."""
    native = this_cpu().native_bf16
    if native is not None:
        return native
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def is_out_of_memory(error: BaseException) -> bool:
    oom = getattr(torch, "OutOfMemoryError", None)
    if oom is not None and isinstance(error, oom):
        return True
    return looks_like_out_of_memory(error)
