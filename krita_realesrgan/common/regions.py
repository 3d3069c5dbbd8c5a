"""Which pixels an editor action reads and which it keeps, in image coordinates. Standard library only (vendored
into both plugins).

Without a selection the action works on everything it can read. With one, the target is the selection within
the visible layer, and ``margin`` pixels of context around it are read too (so the network sees what lies beyond
the selection's edge); the result is cut back to the target afterwards. What "can be read" is the editor's rule:
Krita reads any part of the canvas (outside a layer's pixels it gets transparency), GIMP only the layer itself.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

from .errors import EngineError, Kind
from .geometry import Bounds, Extent

CONTEXT_MARGIN = 16  # pixels of context read around a selection (the network's reach is smaller)


class Region(NamedTuple):
    source: Bounds   # what the engine gets (image coordinates)
    target: Bounds   # what the result keeps (image coordinates, inside source)

    @property
    def inner(self) -> Bounds:
        """The target in the source's coordinates."""
        return self.target.relative_to(self.source)


def visible_layer(canvas: Extent, layer: Bounds) -> Bounds:
    """The part of the layer on the canvas; EngineError(BAD_INPUT) when there is none."""
    if canvas.is_empty:
        raise EngineError(Kind.BAD_INPUT, "The image has no pixels (zero size).")
    visible = layer.clamped(canvas)
    if visible.is_empty:
        raise EngineError(Kind.BAD_INPUT, "The layer is empty or lies outside the canvas: there are no pixels "
                          "to process.", f"layer {layer}, canvas {canvas}")
    return visible


def plan_region(canvas: Extent, layer: Bounds, selection: Optional[Bounds], readable: Optional[Bounds] = None,
                margin: int = CONTEXT_MARGIN) -> Region:
    """The region to process (see the module's text). ``readable``: what the editor can read, the whole canvas
    when None; clamped to the canvas. Raises EngineError(BAD_INPUT) for an empty layer or selection, or a
    selection outside the layer."""
    visible = visible_layer(canvas, layer)
    area = Bounds.of(canvas) if readable is None else readable.clamped(canvas)
    if selection is None:
        return Region(area, area)
    target = selection.intersection(visible)
    if selection.is_empty or target.is_empty:
        raise EngineError(Kind.BAD_INPUT, "The selection is empty or lies outside the layer: there is nothing to "
                          "process. Select part of the layer, or remove the selection to process the whole layer.",
                          f"selection {selection}, layer {layer}, canvas {canvas}")
    return Region(target.padded(margin).intersection(area), target)
