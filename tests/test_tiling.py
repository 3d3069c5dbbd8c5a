"""Tile planning and blending windows (pure numpy, no network)."""
from __future__ import annotations

import numpy as np
import pytest

from krita_realesrgan.common.errors import EngineError, Kind
from krita_realesrgan.common.formats import AUTO_TILE, MIN_TILE, NO_TILING, TilePolicy, UpscaleOptions
from krita_realesrgan.common.geometry import Bounds, Extent
from krita_realesrgan.tiling import TILE_ALIGN, BandBlender, TilePlan, axis_windows, even_spans


@pytest.mark.parametrize("length,tile,overlap", [(179, 64, 44), (1000, 256, 44), (257, 256, 44), (50, 64, 44),
                                                 (2000, 512, 56), (97, 45, 44)])
def test_spans_are_even_cover_and_overlap(length, tile, overlap):
    spans = even_spans(length, tile, overlap)
    assert spans[0].start == 0 and spans[-1].stop == length
    assert len({s.length for s in spans}) == 1, "all tiles have the same size"
    assert all(s.length <= max(tile, 1) or len(spans) == 1 for s in spans)
    for a, b in zip(spans, spans[1:]):
        assert b.start > a.start
        assert a.stop - b.start >= overlap - 1  # rounding of the start positions may take one pixel
    # fewest tiles: one tile fewer could not cover the length with that overlap
    n = len(spans)
    if n > 1:
        assert (n - 1) * tile - (n - 2) * overlap < length


def test_single_span_when_tile_covers_everything():
    (span,) = even_spans(100, 100, 10)
    assert (span.start, span.stop, span.fade_in, span.fade_out) == (0, 100, False, False)


@pytest.mark.parametrize("scale", [1, 2, 4])
def test_windows_sum_to_one_and_skip_the_margin(scale):
    margin, ramp = 6, 8
    spans = even_spans(200, 60, 2 * margin + ramp)
    windows = axis_windows(spans, scale, margin, ramp)
    total = np.zeros(200 * scale)
    for span, w in zip(spans, windows):
        total[span.start * scale:span.stop * scale] += w
        if span.fade_in:  # the margin next to an inner edge never contributes
            assert np.all(w[:margin * scale] == 0)
        if span.fade_out:
            assert np.all(w[-margin * scale:] == 0)
    np.testing.assert_allclose(total, 1.0, atol=1e-6)


def test_band_blender_reassembles_an_image_exactly():
    """Blending tiles cut from a known image (scale 2, tiles = nearest-upscaled crops) gives that image back."""
    rng = np.random.default_rng(1)
    source = rng.random((70, 90, 3), dtype=np.float32)
    target = source.repeat(2, axis=0).repeat(2, axis=1)
    plan = TilePlan.make(Extent(90, 70), scale=2, tile=32, margin=4, ramp=6)
    assert plan.count > 4
    out = np.full_like(target, np.nan)

    def emit(y0, rows):
        assert np.all(np.isnan(out[y0:y0 + rows[0].shape[0]])), "each row is emitted once"
        out[y0:y0 + rows[0].shape[0]] = rows[0]

    blender = BandBlender(plan, [3], emit)
    for row, tiles in plan.row_tiles():
        blender.start_row(row)
        for tile in tiles:
            blender.add(tile, [target[tile.target.slices]])
    blender.finish()
    np.testing.assert_allclose(out, target, atol=1e-5)


def test_bounds_helpers():
    b = Bounds(10, 20, 30, 40)
    assert b.scaled(2) == Bounds(20, 40, 60, 80)
    assert b.padded(5) == Bounds(5, 15, 40, 50)
    assert b.padded(15).clamped(Extent(50, 50)) == Bounds(0, 5, 50, 45)
    assert b.intersection(Bounds(100, 100, 5, 5)).is_empty
    assert Bounds(0, 0, 100, 100).contains(b) and not b.contains(Bounds(0, 0, 100, 100))
    assert Extent(179, 100).scaled(0.5) == Extent(89, 50)


def test_bounds_scaled_by_any_factor_keeps_neighbours_adjacent():
    left, right = Bounds(0, 0, 33, 10), Bounds(33, 0, 34, 10)
    for factor in (1.5, 2.0, 2.5, 2.7, 3.3, 4.0):
        a, b = left.scaled(factor), right.scaled(factor)
        assert a.right == b.x and b.right == round(67 * factor)
        assert Bounds(0, 0, 67, 10).scaled(factor).width == a.width + b.width
    assert Bounds(3, 4, 10, 20).scaled(2) == Bounds(6, 8, 20, 40)
    assert Bounds(5, 5, 1, 1).scaled(0.1).extent == Extent(1, 1)   # a pixel never vanishes
    assert Bounds(5, 5, 0, 3).scaled(2).is_empty                   # nor does an empty one grow


def test_tiny_tiles_still_advance():
    """A tile smaller than twice the margin is raised to the smallest useful edge, not cut into countless tiles."""
    plan = TilePlan.make(Extent(342, 256), scale=4, tile=32, margin=18)
    assert max(plan.tile_extent) >= TilePlan.smallest_edge(18)
    assert plan.count < 400


@pytest.mark.parametrize("length,tile,overlap,align", [(2000, 512, 56, 8), (179, 67, 44, 8), (101, 40, 8, 4),
                                                       (1001, 300, 200, 8), (333, 120, 44, 2)])
def test_aligned_spans_start_on_the_grid_and_are_equal(length, tile, overlap, align):
    """Tiles start on multiples of ``align`` (the last one too, so it ends at the edge), and still overlap enough."""
    spans = even_spans(length, tile, overlap, align)
    assert len(spans) > 1
    assert spans[0].start == 0 and spans[-1].stop == length
    assert len({s.length for s in spans}) == 1 and spans[0].length < tile + align
    assert all(s.start % align == 0 for s in spans)
    assert all(a.stop - b.start >= overlap and b.start > a.start for a, b in zip(spans, spans[1:]))


def test_plans_are_aligned_for_networks_that_work_in_blocks():
    plan = TilePlan.make(Extent(333, 251), scale=2, tile=100, margin=10)
    assert plan.count > 4
    assert all(s.start % TILE_ALIGN == 0 for s in plan.columns + plan.rows)


def test_tile_policy_reads_the_int_form_and_gives_it_back():
    """The wire, the settings and the CLI say 0 (automatic), -1 (never tile) or an edge; the engine reads a policy."""
    auto, whole, fixed = TilePolicy.parse(AUTO_TILE), TilePolicy.parse(NO_TILING), TilePolicy.parse(96)
    assert (auto, whole, fixed) == (TilePolicy.auto(), TilePolicy.whole(), TilePolicy.fixed(96))
    assert [(p.is_auto, p.is_whole, p.is_fixed) for p in (auto, whole, fixed)] == [
        (True, False, False), (False, True, False), (False, False, True)]
    assert [p.to_int() for p in (auto, whole, fixed)] == [0, -1, 96] and fixed.edge == 96
    assert [str(p) for p in (auto, whole, fixed)] == ["automatic", "whole", "96 px"]
    assert UpscaleOptions().tile_policy == auto and UpscaleOptions(tile=96).tile_policy == fixed
    assert UpscaleOptions(tile=NO_TILING).tile_policy == whole
    with pytest.raises(ValueError):
        auto.edge


@pytest.mark.parametrize("bad", [-2, 1, MIN_TILE - 1])
def test_a_tile_below_the_minimum_is_refused_in_one_line(bad):
    message = f"Tile size {bad} is too small (use 0 for automatic, or {MIN_TILE} and more)."
    for make in (TilePolicy.parse, lambda tile: UpscaleOptions(tile=tile)):
        with pytest.raises(EngineError) as caught:
            make(bad)
        assert caught.value.kind == Kind.BAD_INPUT and caught.value.message == message
    with pytest.raises(EngineError, match=f"must be {MIN_TILE} or more, not 0"):
        TilePolicy.fixed(0)
