"""What this CPU is and which float types it computes natively (read from /proc/cpuinfo, no torch).

bfloat16 is native only with AVX512-BF16 or AMX-BF16; elsewhere a bf16 network is emulated and slower than
float32, so it is never chosen there. Native is not yet faster: measured on a Xeon with AVX512-BF16 but no AMX
(bench/backend_bench.py), bf16 ran at 0.5-0.9x the speed of float32 with both torch and OpenVINO; the matrix
units of AMX are what make it 3-5x faster. So fast mode takes bf16 only with AMX.
"""
from __future__ import annotations

import platform
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import FrozenSet, Optional

BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@dataclass(frozen=True)
class CpuInfo:
    model: str
    flags: Optional[FrozenSet[str]]   # None where the flags cannot be read (not Linux)

    @property
    def native_bf16(self) -> Optional[bool]:
        """True/False from the flags; None when they are unknown."""
        if self.flags is None:
            return None
        return any(flag in self.flags for flag in BF16_FLAGS)

    @property
    def bf16_faster(self) -> bool:
        """Whether bf16 beats float32 here: only with AMX's bfloat16 matrix units (False when flags are unknown)."""
        return self.flags is not None and "amx_bf16" in self.flags

    def describe(self) -> str:
        """The model and the flags that matter for speed, for benchmark headers."""
        if self.flags is None:
            return f"{self.model} (flags unknown)"
        wanted = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16")
        return f"{self.model}; {' '.join(f for f in wanted if f in self.flags) or 'no AVX2'}"


def parse_cpuinfo(text: str) -> CpuInfo:
    model, flags = "", None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key == "flags" and flags is None:
            flags = frozenset(value.split())
    return CpuInfo(model or platform.processor() or "unknown CPU", flags)


@lru_cache(maxsize=1)
def this_cpu() -> CpuInfo:
    try:
        return parse_cpuinfo(Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return CpuInfo(platform.processor() or platform.machine() or "unknown CPU", None)
