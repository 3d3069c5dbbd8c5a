"""Run a loaded network over float planes, tile by tile, on a device.

Only tiles go to the device; the whole image stays in host memory. All planes of one tile go through the
network in one batch (colour and alpha together). One-channel planes are replicated to RGB on the way in and
reduced to luma on the way out, like the reference.
"""
from __future__ import annotations

from typing import Callable, List, Optional

import numpy as np
import torch

from .devices import Placement, is_out_of_memory
from .errors import Cancelled
from .models import LoadedModel
from .pixels import LUMA
from .tiling import BandBlender, TilePlan


class TileOutOfMemory(Exception):
    """The device ran out of memory on a tile of this plan."""


def _to_batch(planes: List[np.ndarray], source, placement: Placement) -> torch.Tensor:
    rows, cols = source.slices
    crops = []
    for plane in planes:
        crop = plane[rows, cols]
        if crop.shape[2] == 1:
            crop = np.repeat(crop, 3, axis=2)
        crops.append(crop)
    batch = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2)  # N,3,h,w (a channels-last view)
    return batch.to(placement.device, placement.dtype, non_blocking=True).contiguous(
        memory_format=torch.channels_last)


def _from_batch(output: torch.Tensor, channels: List[int]) -> List[np.ndarray]:
    output = output.float()
    results = []
    for index, c in enumerate(channels):
        image = output[index]
        if c == 1:
            image = torch.tensordot(torch.from_numpy(LUMA).to(image.device), image, dims=([0], [0]))[None]
        results.append(image.permute(1, 2, 0).cpu().numpy())
    return results


def run_planes(model: LoadedModel, planes: List[np.ndarray], plan: TilePlan, placement: Placement,
               emit: Callable[[int, List[np.ndarray]], None],
               on_tile: Optional[Callable[[], None]] = None,
               cancelled: Optional[Callable[[], bool]] = None) -> None:
    """Upscale ``planes`` (HxWxC float32, C = 1 or 3) by the model's scale, following ``plan``.

    Finished output rows are passed to ``emit(y0, [rows per plane])`` top to bottom (float32, clamped to
    [0, 1]). Raises TileOutOfMemory when the device cannot hold a tile, Cancelled when ``cancelled()`` says so.
    """
    channels = [p.shape[2] for p in planes]
    blender = BandBlender(plan, channels, emit)
    network = model.descriptor
    with torch.inference_mode():
        for row, tiles in plan.row_tiles():
            blender.start_row(row)
            for tile in tiles:
                if cancelled is not None and cancelled():
                    raise Cancelled()
                try:
                    output = network(_to_batch(planes, tile.source, placement))
                    outputs = _from_batch(output, channels)
                except Exception as error:  # noqa: BLE001 - only out-of-memory is handled here
                    if is_out_of_memory(error):
                        del error
                        placement.release_cache()
                        raise TileOutOfMemory() from None
                    raise
                blender.add(tile, outputs)
                if on_tile is not None:
                    on_tile()
    blender.finish()
