"""How much host memory one tile's activations may take (the CPU, Apple and Intel GPUs share it)."""
from __future__ import annotations

import psutil

HOST_FREE_SHARE = 0.4
# Ceiling on the CPU: a pixel costs about the same in any tile, but small tiles repeat more work in their overlaps,
# and the whole result image must fit beside them. realesr-animevideov3 (OpenVINO) on 2000x2000 x4: a 512 MiB
# ceiling gave 25 tiles of 448 px (25% of the work repeated), 162 s, 1.2 GB peak RSS; 1 GiB gives 9 tiles of
# 704 px (12%), 150 s, 1.8 GB (the limit is 2.5 GB). engine.auto_tile lets a network with a wide margin grow its
# tiles past this ceiling.
CPU_TILE_BUDGET = 1024 * 1024 ** 2


def host_tile_budget(share: float = HOST_FREE_SHARE, cap: int = CPU_TILE_BUDGET) -> int:
    budget = int(psutil.virtual_memory().available * share)
    return min(budget, cap) if cap else budget
