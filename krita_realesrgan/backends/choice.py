"""Which backend, device and precision run a request: ``--backend``, ``--device``, ``--fast`` and the machine.

``auto``: an NVIDIA (CUDA) or Apple (MPS) GPU → PyTorch, as before; otherwise OpenVINO, on its ``GPU`` device when
it lists an Intel GPU, else on the CPU. Exact (float32) is the default; ``fast`` is the fastest precision the
device runs natively and faster (bf16 on CPUs with AMX, fp16 on GPUs) and is refused where it would be
emulated. ``choose`` is a pure function of the request and the ``Facts``; ``probe`` gathers the facts (torch is
imported only where a CUDA driver or macOS could give torch a GPU).
"""
from __future__ import annotations

import ctypes
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Tuple

from ..common.device_offers import NO_AMX, NO_BF16, DeviceReport, Offer
from ..common.errors import EngineError, Kind
from .cpu import this_cpu

TORCH, OPENVINO = "torch", "openvino"
INTEL_GPU = "gpu"   # --device gpu: OpenVINO's GPU device

FP16_ON_CPU = "Half precision (fp16) is for GPUs; on the CPU use fp32 or bf16."
NO_CPU_BF16 = ("This CPU has no bfloat16 instructions (bf16 would be about 8x slower than fp32 here); "
               "use fp32.")


@dataclass(frozen=True)
class Facts:
    """What this machine offers, as far as the choice is concerned."""

    cuda: bool                    # torch sees an NVIDIA GPU
    mps: bool                     # torch sees an Apple GPU
    openvino: Tuple[str, ...]     # OpenVINO's devices ("CPU", "GPU", "GPU.1", ...); () = not installed
    cpu_bf16: bool                # the CPU computes bfloat16 natively
    cpu: str = "this CPU"         # its name, for messages
    cpu_bf16_faster: bool = False  # bf16 beats float32 on this CPU (AMX; cpu.CpuInfo.bf16_faster)

    @property
    def intel_gpu(self) -> bool:
        return any(name.split(".")[0] == "GPU" for name in self.openvino)


@dataclass(frozen=True)
class Choice:
    backend: str     # torch | openvino
    device: str      # torch: what devices.choose takes (auto, cpu, cuda, cuda:N, mps); openvino: CPU | GPU
    precision: str   # openvino: fp32 | fp16 | bf16; torch: also auto (devices.choose resolves it)


def _torch_gpu_device(device: str) -> bool:
    return device.startswith("cuda") or device == "mps"


def _auto_backend(device: str, facts: Facts) -> str:
    if _torch_gpu_device(device):
        return TORCH
    if device == INTEL_GPU:
        return OPENVINO
    if device in ("auto", "cpu"):
        if device == "auto" and (facts.cuda or facts.mps):
            return TORCH
        return OPENVINO if facts.openvino else TORCH
    return TORCH   # an unknown device: devices.choose says what is wrong with it


def _torch_kind(device: str, facts: Facts) -> str:
    if device == "auto":
        return "cuda" if facts.cuda else "mps" if facts.mps else "cpu"
    return "cuda" if device.startswith("cuda") else "mps" if device == "mps" else "cpu"


def fast_refusal(kind: str, facts: Facts) -> str:
    """Why fast mode is refused on ``kind`` (cpu, cuda, mps, gpu): device_offers.NO_BF16 / NO_AMX, "" if not."""
    if kind != "cpu":
        return ""
    if not facts.cpu_bf16:
        return NO_BF16
    return "" if facts.cpu_bf16_faster else NO_AMX


def fast_precision(kind: str, facts: Facts) -> str:
    """The fastest precision ``kind`` (cpu, cuda, mps, gpu) computes natively; refuses an emulated one."""
    refused = fast_refusal(kind, facts)
    if refused == NO_BF16:
        raise EngineError(Kind.DEVICE, f"Fast mode needs a CPU with native bfloat16 (AVX512-BF16 or AMX); "
                          f"{facts.cpu} would emulate it, slower than exact. Leave out --fast.")
    if refused == NO_AMX:
        raise EngineError(Kind.DEVICE, f"{facts.cpu} computes bfloat16 without AMX, which runs slower than exact "
                          "float32 here, so exact is already the fastest. Leave out --fast.")
    return "fp16" if kind != "cpu" else "bf16"


def device_report(facts: Facts) -> DeviceReport:
    """What the editors' device lists offer on this machine (see device_offers), with where fast is refused."""
    auto_kind = ("cuda" if facts.cuda else "mps" if facts.mps else INTEL_GPU if facts.openvino and facts.intel_gpu
                 else "cpu")
    cpu = fast_refusal("cpu", facts)
    offers = [Offer("auto", fast_refusal(auto_kind, facts))]
    offers += [Offer("cpu-openvino", cpu)] if facts.openvino else []
    offers += [Offer("cpu-torch", cpu)]
    offers += [Offer("gpu-openvino")] if facts.intel_gpu else []
    offers += [Offer("cuda")]
    offers += [Offer("mps")] if facts.mps else []
    return DeviceReport(tuple(offers), facts.cpu)


def choose(backend: str, device: str, precision: str, fast: bool, facts: Facts) -> Choice:
    device = (device or "auto").strip().lower()
    if backend == "auto":
        backend = _auto_backend(device, facts)
    if backend == TORCH:
        if device == INTEL_GPU:
            raise EngineError(Kind.DEVICE, "The Intel GPU is run by OpenVINO; use --backend openvino (or auto).")
        return Choice(TORCH, device, fast_precision(_torch_kind(device, facts), facts) if fast else precision)
    if backend != OPENVINO:
        raise EngineError(Kind.BAD_INPUT, f"Unknown backend {backend!r}; use auto, torch or openvino.")
    if not facts.openvino:
        raise EngineError(Kind.DEVICE, "OpenVINO is not installed in the engine's environment; run the installer "
                          "again, or use --backend torch.")
    if _torch_gpu_device(device):
        raise EngineError(Kind.DEVICE, f"OpenVINO runs on the CPU or an Intel GPU, not {device}; "
                          "use --backend torch (or auto) for it.")
    if device == "auto":
        kind = INTEL_GPU if facts.intel_gpu else "cpu"
    elif device in ("cpu", INTEL_GPU):
        kind = device
        if kind == INTEL_GPU and not facts.intel_gpu:
            raise EngineError(Kind.DEVICE, "OpenVINO finds no Intel GPU here (it lists "
                              f"{', '.join(facts.openvino)}); use --device cpu.")
    else:
        raise EngineError(Kind.DEVICE, f"Unknown device {device!r}; use auto, cpu, gpu (Intel, with OpenVINO), "
                          "cuda, cuda:N or mps.")
    if fast:
        precision = fast_precision(kind, facts)
    elif precision == "auto":
        precision = "fp32"
    if kind == "cpu" and precision == "fp16":
        raise EngineError(Kind.DEVICE, FP16_ON_CPU)
    if kind == "cpu" and precision == "bf16" and not facts.cpu_bf16:
        raise EngineError(Kind.DEVICE, NO_CPU_BF16)
    if kind == INTEL_GPU and precision == "bf16":
        raise EngineError(Kind.DEVICE, "Intel GPUs run fp16 or fp32 with OpenVINO; use --fast (fp16) or fp32.")
    return Choice(OPENVINO, "GPU" if kind == INTEL_GPU else "CPU", precision)


def _nvidia_driver() -> bool:
    """Whether an NVIDIA driver library is present (cheap; torch is asked only then)."""
    names = ("nvcuda.dll",) if sys.platform.startswith("win") else ("libcuda.so.1", "libcuda.so")
    for name in names:
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            continue
    return False


def _openvino_devices() -> Tuple[str, ...]:
    try:
        from .openvino_backend import shared_core
        return tuple(shared_core().available_devices)
    except Exception:  # noqa: BLE001 - not installed, or a broken install: then there is no OpenVINO
        return ()


def _openvino_cpu_bf16() -> bool:
    try:
        from .openvino_backend import shared_core
        return "BF16" in shared_core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except Exception:  # noqa: BLE001
        return False


@lru_cache(maxsize=1)
def probe() -> Facts:
    cuda = mps = False
    if _nvidia_driver() or sys.platform == "darwin":
        import torch
        cuda = torch.cuda.is_available()
        mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    cpu = this_cpu()
    openvino = _openvino_devices()
    bf16 = cpu.native_bf16
    if bf16 is None:   # flags unknown (not Linux): OpenVINO's own probe
        bf16 = bool(openvino) and _openvino_cpu_bf16()
    return Facts(cuda, mps, openvino, bf16, cpu.model or "this CPU", cpu.bf16_faster)
