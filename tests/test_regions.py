"""regions.plan_region: what an editor action reads and keeps (shared by the Krita and GIMP plugins)."""
from __future__ import annotations

import pytest

from krita_realesrgan.common.errors import EngineError, Kind
from krita_realesrgan.common.geometry import Bounds, Extent
from krita_realesrgan.common.regions import Region, plan_region

CANVAS = Extent(200, 100)


def test_without_selection_everything_readable():
    layer = Bounds(-10, 20, 100, 200)                  # partly off the canvas
    assert plan_region(CANVAS, layer, None) == Region(Bounds(0, 0, 200, 100), Bounds(0, 0, 200, 100))
    only_layer = plan_region(CANVAS, layer, None, readable=layer)   # GIMP: the layer's pixels only
    assert only_layer == Region(Bounds(0, 20, 90, 80), Bounds(0, 20, 90, 80))


def test_selection_gets_a_margin_of_context_clamped_to_what_can_be_read():
    region = plan_region(CANVAS, Bounds.of(CANVAS), Bounds(5, 40, 50, 20), margin=16)
    assert region.target == Bounds(5, 40, 50, 20)
    assert region.source == Bounds(0, 24, 71, 52)      # 16 around, cut at the canvas's left edge
    assert region.inner == Bounds(5, 16, 50, 20)


def test_selection_is_cut_to_the_layer_and_context_to_the_readable_area():
    layer = Bounds(50, 0, 50, 80)
    krita = plan_region(CANVAS, layer, Bounds(40, 10, 20, 10), margin=4)
    gimp = plan_region(CANVAS, layer, Bounds(40, 10, 20, 10), readable=layer, margin=4)
    assert krita.target == gimp.target == Bounds(50, 10, 10, 10)
    assert krita.source == Bounds(46, 6, 18, 18)       # reads beyond the layer (transparent there)
    assert gimp.source == Bounds(50, 6, 14, 18)        # only the layer's pixels
    assert gimp.source.contains(gimp.target) and krita.source.contains(krita.target)


@pytest.mark.parametrize("canvas, layer, selection, words", [
    (Extent(0, 10), Bounds(0, 0, 5, 5), None, "no pixels"),
    (CANVAS, Bounds(300, 0, 30, 30), None, "outside the canvas"),
    (CANVAS, Bounds(0, 0, 0, 0), None, "layer is empty"),
    (CANVAS, Bounds(0, 0, 30, 30), Bounds(100, 50, 10, 10), "outside the layer"),
    (CANVAS, Bounds(0, 0, 30, 30), Bounds(5, 5, 0, 0), "selection is empty"),
])
def test_nothing_to_process_is_a_clear_error(canvas, layer, selection, words):
    with pytest.raises(EngineError) as caught:
        plan_region(canvas, layer, selection)
    assert caught.value.kind == Kind.BAD_INPUT and words in caught.value.message
