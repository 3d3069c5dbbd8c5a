"""Seam-free tiling: plan evenly sized overlapping tiles, and blend their outputs with smooth windows.

Along each axis the image is cut into the fewest equal spans of at most ``tile`` pixels that overlap by
``overlap = 2 * margin + ramp``. Near an inner tile edge the network sees zero padding instead of the real
neighbourhood, so the ``margin`` pixels nearest to it are discarded (weight 0); over the next ``ramp`` pixels
the tile fades out while its neighbour fades in (raised cosine, the two weights sum to 1); beyond that the tile
alone is used. With ``margin`` at least the network's receptive reach, every output pixel is computed from its
full neighbourhood, so the tiled result equals the untiled one up to float rounding.

Tiles start on multiples of ``TILE_ALIGN`` (and all have the same size, so the last one, which ends at the
picture's edge, starts on one too): networks that work in blocks (pixel-unshuffle in front of RealESRGAN_x2plus,
attention windows) then see the same blocks in a tile as in the whole picture.

Windows are separable, so they are normalised per axis and the blend needs no weight image: each tile's
output is added to the result multiplied by ``wx[x] * wy[y]``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, List, Tuple

import numpy as np

from .common.geometry import Bounds, Extent

DEFAULT_RAMP = 8
TILE_ALIGN = 8  # tile starts are multiples of this (see the module's docstring)
MIN_STEP = 16  # a tile always advances at least this far past its neighbour (else tiny tiles mean countless tiles)


@dataclass(frozen=True)
class Span:
    start: int
    stop: int
    fade_in: bool   # a neighbour overlaps on the low side
    fade_out: bool  # ... on the high side

    @property
    def length(self) -> int:
        return self.stop - self.start


def even_spans(length: int, tile: int, overlap: int, align: int = 1) -> Tuple[Span, ...]:
    """The fewest equal spans of at most ``tile`` covering ``length``, neighbours overlapping by >= ``overlap``.

    With ``align`` > 1 every span starts on a multiple of ``align``; spans may then be up to ``align - 1``
    longer than ``tile``."""
    if length <= 0:
        raise ValueError("cannot tile an empty axis")
    if tile >= length:
        return (Span(0, length, False, False),)
    if overlap >= tile:
        raise ValueError(f"tile {tile} must be larger than the overlap {overlap}")
    if align == 1:
        count = math.ceil((length - overlap) / (tile - overlap))
        size = min(length, math.ceil((length + (count - 1) * overlap) / count))
        starts = [round(i * (length - size) / (count - 1)) for i in range(count)]
    else:
        needed = overlap + align - 1   # flooring the starts to ``align`` may take that much from an overlap
        if tile - needed < 2 * align:
            raise ValueError(f"tile {tile} is too small for the overlap {overlap} on a {align} px grid")
        count = math.ceil((length - needed) / max(tile - needed, 1))
        size = min(length, math.ceil((length + (count - 1) * needed) / count))
        size = min(length, size + (length - size) % align)   # so the last start, length - size, is aligned
        if count == 1 or size == length:
            return (Span(0, length, False, False),)
        starts = [(i * (length - size) // (count - 1)) // align * align for i in range(count)]
    return tuple(Span(s, s + size, i > 0, i < count - 1) for i, s in enumerate(starts))


def _ramp(length: int, margin: int, ramp: int) -> np.ndarray:
    """Weights rising from 0 (the first ``margin`` pixels) to 1 over ``ramp`` pixels (raised cosine)."""
    d = np.arange(length, dtype=np.float64) + 0.5 - margin
    t = np.clip(d / max(ramp, 1), 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * t)


def axis_windows(spans: Tuple[Span, ...], scale: int, margin: int, ramp: int) -> List[np.ndarray]:
    """Per span, its normalised blend weights at output resolution (length ``span.length * scale``)."""
    length = spans[-1].stop * scale
    raw = []
    for span in spans:
        w = np.ones(span.length * scale, dtype=np.float64)
        edge = _ramp(w.size, margin * scale, ramp * scale)
        if span.fade_in:
            w *= edge
        if span.fade_out:
            w *= edge[::-1]
        raw.append(w)
    total = np.zeros(length, dtype=np.float64)
    for span, w in zip(spans, raw):
        total[span.start * scale:span.stop * scale] += w
    if (total <= 0).any():
        raise ValueError("tiles do not cover the axis with positive weight; overlap too small")
    return [(w / total[s.start * scale:s.stop * scale]).astype(np.float32) for s, w in zip(spans, raw)]


@dataclass(frozen=True)
class Tile:
    source: Bounds   # input pixels the network reads
    target: Bounds   # output pixels it contributes to (source scaled)
    wx: np.ndarray   # normalised weights along x, length target.width
    wy: np.ndarray   # ... along y, length target.height


@dataclass(frozen=True)
class TilePlan:
    extent: Extent
    scale: int
    tile: int        # tile edge asked for (0 = whole image)
    columns: Tuple[Span, ...]
    rows: Tuple[Span, ...]
    margin: int
    ramp: int

    @staticmethod
    def make(extent: Extent, scale: int, tile: int, margin: int, ramp: int = DEFAULT_RAMP) -> "TilePlan":
        """A plan for ``extent``; ``tile`` <= 0 or >= the image size means one tile."""
        overlap = 2 * margin + ramp
        edge = max(tile if tile > 0 else max(extent), TilePlan.smallest_edge(margin, ramp))
        return TilePlan(extent, scale, tile, even_spans(extent.width, edge, overlap, TILE_ALIGN),
                        even_spans(extent.height, edge, overlap, TILE_ALIGN), margin, ramp)

    @staticmethod
    def smallest_edge(margin: int, ramp: int = DEFAULT_RAMP) -> int:
        return 2 * margin + ramp + TILE_ALIGN - 1 + MIN_STEP

    @staticmethod
    def efficient_edge(margin: int, overlap_share: float = 0.5, ramp: int = DEFAULT_RAMP) -> int:
        """The smallest tile edge that spends at most ``overlap_share`` of its work on the overlap with its
        neighbours (a tile of edge T computes T² pixels to keep about (T - overlap)² of them)."""
        overlap = 2 * margin + ramp + TILE_ALIGN - 1
        return math.ceil(overlap / (1.0 - math.sqrt(1.0 - overlap_share)))

    @property
    def count(self) -> int:
        return len(self.columns) * len(self.rows)

    @property
    def tile_extent(self) -> Extent:
        return Extent(self.columns[0].length, self.rows[0].length)

    def row_tiles(self) -> Iterator[Tuple[Span, List[Tile]]]:
        """Tile rows, top to bottom, each with its tiles left to right."""
        wxs = axis_windows(self.columns, self.scale, self.margin, self.ramp)
        wys = axis_windows(self.rows, self.scale, self.margin, self.ramp)
        for row, wy in zip(self.rows, wys):
            tiles = []
            for column, wx in zip(self.columns, wxs):
                source = Bounds(column.start, row.start, column.length, row.length)
                tiles.append(Tile(source, source.scaled(self.scale), wx, wy))
            yield row, tiles


class BandBlender:
    """Accumulates weighted tile outputs for one tile row at a time and hands out rows as they are final.

    Only a band of about one tile row of float output is held; finished rows go to ``emit(y0, planes)``.
    """

    def __init__(self, plan: TilePlan, channels: List[int], emit):
        self.plan = plan
        self.channels = channels
        self.emit = emit
        self.width = plan.extent.width * plan.scale
        self.top = 0                # first output row not yet emitted
        self.band: List[np.ndarray] = []
        self.band_top = 0

    def start_row(self, row: Span) -> None:
        s = self.plan.scale
        new_top, new_bottom = row.start * s, row.stop * s
        if self.band:
            # rows above the new band are final: emit them, keep the overlapping part
            done = new_top - self.band_top
            if done > 0:
                self.emit(self.band_top, [b[:done] for b in self.band])
            kept = [b[max(done, 0):] for b in self.band]
        else:
            kept = [np.zeros((0, self.width, c), np.float32) for c in self.channels]
        height = new_bottom - new_top
        self.band = []
        for k, c in zip(kept, self.channels):
            band = np.zeros((height, self.width, c), np.float32)
            band[:k.shape[0]] = k
            self.band.append(band)
        self.band_top = new_top

    def add(self, tile: Tile, outputs: List[np.ndarray]) -> None:
        t = tile.target
        weights = tile.wy[:, None, None] * tile.wx[None, :, None]
        y0 = t.y - self.band_top
        for band, out in zip(self.band, outputs):
            band[y0:y0 + t.height, t.x:t.right] += out * weights

    def finish(self) -> None:
        if self.band:
            self.emit(self.band_top, self.band)
            self.band = []
