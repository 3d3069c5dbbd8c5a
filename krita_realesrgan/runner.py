"""Run a network over float planes, tile by tile, through a backend (``backends``: PyTorch or OpenVINO).

Only tiles go to the backend; the whole image stays in host memory. All planes of one tile go through the
network in one batch (colour and alpha together); every tile of a plan has the same shape. One-channel planes
are replicated to RGB on the way in and reduced to luma on the way out, like the reference.
"""
from __future__ import annotations

from typing import Callable, List, Optional

import numpy as np

from .backends import Backend
from .common.errors import Cancelled
from .common.progress import Cancel
from .pixels import LUMA
from .tiling import BandBlender, TilePlan


class TileOutOfMemory(Exception):
    """The device ran out of memory on a tile of this plan."""


def _to_batch(planes: List[np.ndarray], source, backend: Backend) -> np.ndarray:
    """The tile ``source`` of every plane as one N×h×w×3 float32 batch (grey planes replicated to RGB)."""
    rows, cols = source.slices
    crops = []
    for plane in planes:
        crop = plane[rows, cols]
        if crop.shape[2] == 1:
            crop = np.repeat(crop, 3, axis=2)
        crops.append(crop)
    return np.stack(crops).astype(np.float32, copy=False)


def _from_batch(output: np.ndarray, channels: List[int]) -> List[np.ndarray]:
    results = []
    for image, c in zip(output, channels):
        if c == 1:
            image = np.tensordot(image, LUMA, axes=([2], [0]))[:, :, None].astype(np.float32, copy=False)
        results.append(image)
    return results


def run_planes(backend: Backend, planes: List[np.ndarray], plan: TilePlan,
               emit: Callable[[int, List[np.ndarray]], None],
               on_tile: Optional[Callable[[], None]] = None,
               cancelled: Optional[Cancel] = None) -> None:
    """Upscale ``planes`` (HxWxC float32, C = 1 or 3) by the plan's scale with ``backend``, following ``plan``.

    Finished output rows are passed to ``emit(y0, [rows per plane])`` top to bottom (float32, clamped to
    [0, 1]). Raises TileOutOfMemory when the device cannot hold a tile, Cancelled when ``cancelled()`` says so.
    """
    channels = [p.shape[2] for p in planes]
    blender = BandBlender(plan, channels, emit)
    for row, tiles in plan.row_tiles():
        blender.start_row(row)
        for tile in tiles:
            if cancelled is not None and cancelled():
                raise Cancelled()
            try:
                outputs = _from_batch(backend.run(_to_batch(planes, tile.source, backend)), channels)
            except Exception as error:  # noqa: BLE001 - only out-of-memory is handled here
                if backend.is_out_of_memory(error):
                    del error
                    backend.release_cache()
                    raise TileOutOfMemory() from None
                raise
            blender.add(tile, outputs)
            if on_tile is not None:
                on_tile()
    blender.finish()
