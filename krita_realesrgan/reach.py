"""How far a network looks around each pixel (its reach), and the tile margin that makes tiles exact.

Cut the input where a tile ends and the outputs near the cut change, because the network no longer sees what
lies beyond it. The *reach* is how far from a cut (in input pixels) outputs still change by more than
``PROBE_LEVELS``; a tile that discards ``margin >= reach`` pixels next to each inner edge gives the untiled
result within a level (see ``tiling``).

Where a model's reach comes from, the first that knows wins:

* the catalog (``ModelInfo.reach``, measured with this very probe), for the catalog's models;
* the structure, where it is exact: a Compact (SRVGGNet) network reaches one pixel per 3x3 convolution;
* the cache file ``reach.json`` in the engine's cache folder, by the SHA-256 of the weights, so a model is
  probed once per computer, not once per process;
* the probe (``probe``): a cut test on a strip of pink noise (the 1/f spectrum of natural pictures), a few
  network runs on a few thousand pixels, widened only while the change has not died out.

A network whose output still changes at the far end of the widest probe (global pooling or attention) has no
finite reach: it runs as one piece unless memory forces tiles, and then the user is told (``Tiling.exact``).
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional

import numpy as np

from .common import catalog, paths
from .tiling import TILE_ALIGN

log = logging.getLogger(__name__)

PROBE_LEVELS = 0.1             # a change smaller than this (in levels of 255) is no change
PROBE_ROWS = 32                # height of the probe strip
PROBE_CUTS = (64, 128, 256)    # probe widths tried in turn; a reach must die out within 3/4 of one of them
PROBE_VERSION = 1              # of the probe's method; a cached result of another version is probed again
MARGIN_STEP = 8                # a measured reach is rounded up to a multiple of this
UNBOUNDED_MARGIN = 32          # the margin used when memory forces tiles on a network without finite reach
CACHE_FILE = "reach.json"

Network = Callable[["np.ndarray"], "np.ndarray"]   # N×h×w×3 float32 in [0, 1] -> N×(h·s)×(w·s)×3


@dataclass(frozen=True)
class Reach:
    """How far (input pixels) a network's output depends on its input; ``pixels`` None = no finite reach."""

    pixels: Optional[int]
    source: str                # "catalog" | "structure" | "cache" | "probe"

    @property
    def bounded(self) -> bool:
        return self.pixels is not None

    @property
    def margin(self) -> int:
        """The tile margin: an exact (structural) reach as it is, a measured one rounded up to MARGIN_STEP."""
        if self.pixels is None:
            return UNBOUNDED_MARGIN
        if self.source == "structure":
            return self.pixels
        return int(math.ceil(self.pixels / MARGIN_STEP)) * MARGIN_STEP

    @property
    def tile_margin(self) -> int:
        """The margin as networks carry it to the tiler (``LoadedModel.margin``, ``backends.loader.Network``):
        the margin, negated for a network without finite reach. ``tiling_of`` reads it back."""
        return self.margin if self.bounded else -self.margin


@dataclass(frozen=True)
class Tiling:
    """What the tiler needs to know of a network's reach."""

    margin: int       # input pixels discarded next to each inner tile edge
    exact: bool       # tiles give the untiled result (within a level); False: tile only when memory forces it


def tiling_of(tile_margin: int) -> Tiling:
    return Tiling(abs(tile_margin), tile_margin >= 0)


# ------------------------------------------------------------------------------------------------ the probe

def pink_noise(rows: int, columns: int, seed: int = 0) -> np.ndarray:
    """A rows×columns×3 float32 picture in [0, 1] with the 1/f amplitude spectrum of natural photographs."""
    rng = np.random.default_rng(seed)
    fy, fx = np.fft.fftfreq(rows)[:, None], np.fft.fftfreq(columns)[None, :]
    amplitude = 1.0 / np.maximum(np.hypot(fy, fx), 1.0 / max(rows, columns))
    planes = [np.fft.ifft2(amplitude * np.exp(2j * np.pi * rng.random((rows, columns)))).real for _ in range(3)]
    picture = np.stack(planes, axis=2)
    picture -= picture.min()
    return (picture / picture.max()).astype(np.float32)


def cut_profile(network: Network, scale: int, cut: int, rows: int = PROBE_ROWS) -> np.ndarray:
    """Per input column of a strip ``cut`` wide, counted from the cut: the largest change (levels) of its outputs
    when the strip is cut there, against the same strip with ``cut`` more columns of context beyond it."""
    strip = pink_noise(rows, 2 * cut)
    whole = np.clip(network(strip[None]), 0.0, 1.0)[0, :, :cut * scale]
    part = np.clip(network(np.ascontiguousarray(strip[None, :, :cut])), 0.0, 1.0)[0]
    change = np.abs(whole - part).max(axis=(0, 2)) * 255.0              # per output column
    return change[::-1].reshape(cut, scale).max(axis=1)                # per input column, nearest the cut first


def probe(network: Network, scale: int, cuts=PROBE_CUTS) -> Optional[int]:
    """The measured reach of ``network`` (input pixels), or None when it has not died out within the widest cut."""
    for cut in cuts:
        changed = np.nonzero(cut_profile(network, scale, cut) > PROBE_LEVELS)[0]
        reach = int(changed.max()) + 1 if changed.size else 0
        if reach <= cut * 3 // 4:
            return reach
    return None


# ------------------------------------------------------------------------------------------------ the cache

def weights_digest(state: Dict[str, "object"]) -> str:
    """SHA-256 of a network's weights (names, shapes and float32 values), whatever file they came from."""
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().to("cpu").float().contiguous()
        digest.update(f"{name}{tuple(tensor.shape)}".encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


class ReachCache:
    """Measured reaches by weights digest, in one small JSON file; a damaged or foreign file is ignored."""

    def __init__(self, folder: Optional[Path] = None):
        self.path = Path(folder if folder is not None else paths.cache_dir()) / CACHE_FILE

    def _read(self) -> dict:
        return paths.read_json_object(self.path) or {}

    def get(self, digest: str) -> Optional[Reach]:
        entry = self._read().get(digest)
        if not isinstance(entry, dict) or entry.get("probe") != PROBE_VERSION:
            return None
        pixels = entry.get("reach")
        if pixels is not None and not (isinstance(pixels, int) and pixels >= 0):
            return None
        return Reach(pixels, "cache")

    def put(self, digest: str, reach: Reach) -> None:
        data = self._read()
        data[digest] = {"reach": reach.pixels, "probe": PROBE_VERSION}
        try:
            paths.atomic_write_bytes(self.path, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())
        except OSError as error:  # a read-only cache only costs a probe next time
            log.warning("cannot store the measured reach in %s: %s", self.path, error)


# ------------------------------------------------------------------------------------------------ deciding

def compact_reach(state: Dict[str, "object"]) -> int:
    """A Compact network's exact reach: one input pixel per 3x3 convolution (all run at input resolution)."""
    return sum(1 for k, v in state.items() if k.endswith("weight") and getattr(v, "ndim", 0) == 4)


def reach_of(name: str, arch: str, state: Dict[str, "object"], network: Network, scale: int,
             multiple_of: int = 1, cache: Optional[ReachCache] = None) -> Reach:
    """The reach of a loaded network (see the module's docstring for the order); probes and stores it if unknown.

    ``network`` runs the model in float32 (a probe in half precision would measure its rounding noise).
    ``multiple_of``: the input size the network works in blocks of; tiles start on multiples of
    ``tiling.TILE_ALIGN``, so a network whose blocks do not divide that cannot be tiled exactly."""
    if TILE_ALIGN % multiple_of:
        return Reach(None, "structure")
    info = catalog.get(name)
    if info is not None and info.reach is not None and info.arch == arch:
        return Reach(info.reach, "catalog")
    if arch == "Compact":
        return Reach(compact_reach(state), "structure")
    cache = cache if cache is not None else ReachCache()
    digest = weights_digest(state)
    known = cache.get(digest)
    if known is not None:
        return known
    log.info("measuring how far %s (%s) looks around each pixel, once for this model", name, arch)
    try:
        reach = Reach(probe(network, scale), "probe")
    except Exception as error:  # noqa: BLE001 - a network that cannot run the strip: not tiled, probed next time
        log.warning("could not measure the reach of %s (%s: %s); it runs untiled unless memory forces tiles",
                    name, type(error).__name__, error)
        return Reach(None, "probe")
    log.info("%s reaches %s input pixels: tile margin %d%s", name, reach.pixels, reach.margin,
             "" if reach.bounded else " (no finite reach: runs untiled unless memory forces tiles)")
    cache.put(digest, reach)
    return reach
