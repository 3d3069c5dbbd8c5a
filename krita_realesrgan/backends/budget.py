"""How much host memory one tile's activations may take (the CPU, Apple and Intel GPUs share it)."""
from __future__ import annotations

import psutil

from ..common.formats import CPU_TILE_BUDGET

__all__ = ["CPU_TILE_BUDGET", "HOST_FREE_SHARE", "host_tile_budget"]
HOST_FREE_SHARE = 0.4
# Ceiling on the CPU: a pixel costs about the same in any tile, but small tiles repeat more work in their overlaps,
# and the whole result image must fit beside them (2000x2000 x4 under 2.5 GB peak RSS). realesr-animevideov3
# through OpenVINO, 2000x2000 x4, first run (the network converted in the same process), peak RSS:
#   512 MiB: 25 tiles of 448 px, 25% of the work repeated, 1.89 GB
#   768 MiB: 16 tiles of 544 px, 18% repeated, 2.12 GB
#   1 GiB:    9 tiles of 704 px, 12% repeated, 2.53 GB (too much)
# engine.auto_tile lets a network with a wide margin grow its tiles past this ceiling. The value lives in
# formats.CPU_TILE_BUDGET (standard library), so the editors' run estimates count the same workspace.


def host_tile_budget(share: float = HOST_FREE_SHARE, cap: int = CPU_TILE_BUDGET) -> int:
    budget = int(psutil.virtual_memory().available * share)
    return min(budget, cap) if cap else budget
