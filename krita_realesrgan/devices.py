"""Devices and precisions: where a network runs, in which float type, and how much memory a tile may use."""
from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import List

import psutil
import torch

from .errors import EngineError, Kind

_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}

# Share of free memory one tile may use, and a ceiling on the CPU: bigger CPU tiles are not faster, and the
# whole result image must fit beside them (a 2000x2000 x4 run stays under 2.5 GB).
_FREE_SHARE = {"cuda": 0.6, "mps": 0.4, "cpu": 0.4}
_CPU_TILE_BUDGET = 512 * 1024 ** 2


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
            return int(free * _FREE_SHARE["cuda"])
        free = psutil.virtual_memory().available
        budget = int(free * _FREE_SHARE.get(kind, 0.4))
        return min(budget, _CPU_TILE_BUDGET) if kind == "cpu" else budget

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
        raise EngineError(Kind.DEVICE, "Half precision (fp16) is for GPUs; on the CPU use fp32 or bf16.")
    if precision == "bf16" and target.type == "cpu" and not cpu_has_bfloat16():
        # without AVX512-BF16/AMX, bfloat16 convolutions are emulated: about 8x slower than fp32 (bench/)
        raise EngineError(Kind.DEVICE, "This CPU has no bfloat16 instructions (bf16 would be about 8x slower "
                          "than fp32 here); use fp32.")
    if precision not in _DTYPES:
        raise EngineError(Kind.DEVICE, f"Unknown precision {precision!r}.")
    return Placement(target, precision)


def cpu_has_bfloat16() -> bool:
    """Whether this CPU runs bfloat16 convolutions natively (AVX512-BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def is_out_of_memory(error: BaseException) -> bool:
    if isinstance(error, MemoryError):
        return True
    oom = getattr(torch, "OutOfMemoryError", None)
    if oom is not None and isinstance(error, oom):
        return True
    text = str(error).lower()
    return isinstance(error, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text
                                                or "not enough memory" in text)
