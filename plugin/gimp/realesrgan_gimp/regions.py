"""Which pixels an operation reads and where its result goes, in image coordinates. Pure Python.

With a selection, its bounds (within the layer and the canvas) are the target and a margin of context around
them is sent to the engine; GIMP itself then crops the result to the target and masks it with the selection.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from krita_realesrgan.errors import EngineError, Kind
from krita_realesrgan.geometry import Bounds, Extent

CONTEXT_MARGIN = 16  # pixels of context read around a selection (the network's reach is smaller)


@dataclass(frozen=True)
class Region:
    source: Bounds   # what the engine gets (image coordinates)
    target: Bounds   # what the result keeps (image coordinates, inside source)

    @property
    def inner(self) -> Bounds:
        """The target in the source's coordinates."""
        return self.target.relative_to(self.source)


def plan_region(canvas: Extent, layer: Bounds, selection: Optional[Bounds],
                margin: int = CONTEXT_MARGIN) -> Region:
    """The visible part of the layer, or the selection within it plus ``margin`` of context.

    Raises EngineError(BAD_INPUT) for a layer outside the canvas or a selection outside the layer."""
    visible = layer.clamped(canvas)
    if visible.is_empty:
        raise EngineError(Kind.BAD_INPUT, "The layer lies outside the canvas: there are no pixels to upscale.",
                          f"layer {layer}, canvas {canvas}")
    if selection is None:
        return Region(visible, visible)
    target = selection.intersection(visible)
    if target.is_empty:
        raise EngineError(Kind.BAD_INPUT, "The selection lies outside the layer: there is nothing to process. "
                          "Select part of the layer, or use Select ▸ None to process the whole layer.",
                          f"selection {selection}, layer {layer}, canvas {canvas}")
    return Region(target.padded(margin).intersection(visible), target)

