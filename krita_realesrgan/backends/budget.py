"""How much host memory one tile's activations may take (the CPU, Apple and Intel GPUs share it)."""
from __future__ import annotations

import psutil

HOST_FREE_SHARE = 0.4
# Ceiling on the CPU: bigger CPU tiles are not faster, and the whole result image must fit beside them
# (a 2000x2000 x4 run stays under 2.5 GB).
CPU_TILE_BUDGET = 512 * 1024 ** 2


def host_tile_budget(share: float = HOST_FREE_SHARE, cap: int = CPU_TILE_BUDGET) -> int:
    budget = int(psutil.virtual_memory().available * share)
    return min(budget, cap) if cap else budget
