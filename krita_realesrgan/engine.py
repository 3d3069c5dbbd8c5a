"""The engine's front door: ``Upscaler`` keeps models warm and runs the pipeline.

    normalise (dtype, channels, alpha) -> plan tiles -> run model -> blend -> restore dtype -> resample

Arrays are numpy, HxW (grey) or HxWxC, channel order grey[A]/RGB[A], with the dtype named by a ``PixelFormat``
(never guessed from the values). The output has the input's dtype and channel layout.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np

from .common import run_estimate
from . import pixels, reach, resample
from .common.errors import EngineError, Kind
from .common.formats import MAX_SCALE, MIN_TILE, PixelFormat, TilePolicy, UpscaleOptions
from .common.geometry import Extent
from .common.progress import Cancel, Progress   # progress: (tiles done, tiles total), over all network passes
from .common.run_estimate import network_passes   # one rule for the engine and the estimates before a run
from .backends import choice as backend_choice
from .backends.budget import host_tile_budget
from .backends.loader import Network, NetworkStore
from .faces.paste import FaceReport
from .faces.step import Faces
from .models import ModelStore
from .runner import TileOutOfMemory, run_planes
from .tiling import TilePlan

log = logging.getLogger(__name__)

_TILE_STEP = 16
OVERLAP_SHARE = 0.5    # the most of a CPU tile's work the overlap may take before the tile grows past the ceiling


@dataclass
class UpscaleResult:
    image: np.ndarray
    device: str        # "cpu", "cuda:0", "mps" (torch); "cpu", "gpu" (OpenVINO)
    precision: str     # "fp32", "fp16", "bf16"
    tile: int          # the input tile edge finally used (after any out-of-memory halving); 0 = whole image
    seconds: float
    backend: str = "torch"          # "torch" | "openvino"
    notes: Tuple[str, ...] = ()     # said once per process (e.g. a model OpenVINO could not convert)
    faces: Optional[FaceReport] = None   # with options.face_enhance: how many faces were restored or skipped


@dataclass(frozen=True)
class ModelFacts:
    scale: int         # the network's native scale
    device: str
    precision: str
    bytes_per_pixel: float   # the network's working memory per input pixel
    backend: str = "torch"

    @property
    def speed_key(self) -> str:
        """Where this computer's measured speed for the set-up is kept (run_estimate.SpeedRecord)."""
        return f"{self.backend} {self.device}"


def auto_tile(model: Network, extent: Extent, batch: int) -> int:
    """The largest tile edge whose activations fit the device's memory budget; 0 when the whole image fits.

    On the CPU the budget has a ceiling (memory stays low, and bigger tiles of a small-margin network gain
    little), but a network with a wide margin would spend most of such a tile's work on the overlap with its
    neighbours (RealESRGAN_x4plus: 96 px each side); its tiles grow past the ceiling, up to the edge where the
    overlap is at most half the work, as far as free memory allows."""
    per_pixel = model.bytes_per_pixel * batch
    edge = _edge_fitting(model.backend.tile_budget_bytes(), per_pixel)
    wanted = TilePlan.efficient_edge(reach.tiling_of(model.margin).margin, OVERLAP_SHARE)
    if edge < wanted and model.backend.device == "cpu":
        edge = max(edge, min(wanted, _edge_fitting(host_tile_budget(cap=0), per_pixel)))
    if edge >= max(extent):
        return 0
    return max(MIN_TILE * 2, edge // _TILE_STEP * _TILE_STEP)


def _edge_fitting(budget_bytes: int, bytes_per_pixel: float) -> int:
    return int(math.sqrt(max(budget_bytes / bytes_per_pixel, 0)))


def _say_once(notes: List[str], note: str) -> None:
    if note not in notes:
        notes.append(note)
        log.info("%s", note)


class _Counter:
    def __init__(self, callback: Optional[Progress]):
        self.callback, self.done, self.total = callback, 0, 0

    def tick(self) -> None:
        self.done += 1
        if self.callback is not None:
            self.callback(self.done, max(self.total, self.done))


class _FloatSink:
    """Collects whole float planes (between network passes)."""

    def __init__(self, extent: Extent, channels: List[int]):
        self.planes = [np.empty((extent.height, extent.width, c), np.float32) for c in channels]

    def __call__(self, y0: int, rows: List[np.ndarray]) -> None:
        for plane, part in zip(self.planes, rows):
            plane[y0:y0 + part.shape[0]] = part


class _FormatSink:
    """Stores finished rows straight in the output format, so no full-size float image is ever held."""

    def __init__(self, extent: Extent, fmt: PixelFormat, alpha: Optional[np.ndarray]):
        self.fmt, self.alpha = fmt, alpha  # alpha: an already upscaled float plane (cheap alpha mode)
        self.image = np.empty((extent.height, extent.width, fmt.channels), fmt.dtype)

    def __call__(self, y0: int, rows: List[np.ndarray]) -> None:
        height = rows[0].shape[0]
        alpha = rows[1] if len(rows) > 1 else (self.alpha[y0:y0 + height] if self.alpha is not None else None)
        values = rows[0] if alpha is None else np.concatenate([rows[0], alpha], axis=2)
        self.image[y0:y0 + height] = pixels.from_float(values, self.fmt.dtype)

    @property
    def planes(self):
        return self.image


class Upscaler:
    """Runs upscales; keeps recently used models loaded. One instance per process (the worker, the CLI)."""

    def __init__(self, weights_dir: Optional[Path] = None):
        self.models = ModelStore(weights_dir)
        self.networks = NetworkStore(self.models)
        self.faces = Faces(self.models.dirs)
        self.speeds = run_estimate.SpeedRecord()   # every run teaches the next estimate on this computer
        self._said: set = set()

    def model_status(self) -> List[dict]:
        """Every listed catalog model plus any extra weight files found: name, file, path, available, scale,
        purpose, kind. For the plugins' model list (greyed when unavailable)."""
        return self.models.status()

    def model_facts(self, options: UpscaleOptions) -> ModelFacts:
        """Load the model ``options`` name (if not loaded yet) and say what a run would use."""
        model = self.network(options)
        backend = model.backend
        return ModelFacts(model.scale, backend.device, backend.precision, model.bytes_per_pixel, backend.name)

    def network(self, options: UpscaleOptions) -> Network:
        """The network ``options`` ask for, on the backend, device and precision they resolve to."""
        choice = backend_choice.choose(options.backend, options.device, options.precision, options.fast,
                                       backend_choice.probe())
        return self.networks.get(options.model, options.denoise, choice)

    def upscale(self, image: np.ndarray, fmt: PixelFormat, options: UpscaleOptions,
                progress: Optional[Progress] = None, cancel: Optional[Cancel] = None) -> UpscaleResult:
        started = time.perf_counter()
        extent = pixels.check_image(image, fmt)
        face_step = self.faces.prepare(options)   # refusals and missing face weights before the long part
        model = self.network(options)
        loaded = time.perf_counter()   # the speed record leaves out loading (a first run converts the model)
        notes = tuple(note for note in model.notes if note not in self._said)
        self._said.update(notes)
        for note in notes:
            log.info("%s", note)   # the worker's log; the CLI prints result.notes
        target = options.output_extent(extent, model.scale)
        run_estimate.check_limit(target, options.max_pixels, run_estimate.HOW_TO_RAISE)
        factor = max(target.width / extent.width, target.height / extent.height)
        if factor > MAX_SCALE:   # e.g. 8x8 -> 1000000x1: the network would run nine passes on 8x8 -> 2097152x2097152
            raise EngineError(Kind.BAD_INPUT, f"{extent} -> {target} is a scale of {factor:g}; the most is "
                              f"{MAX_SCALE}.")
        passes = network_passes(extent, target, model.scale)
        native = extent * (model.scale ** passes)
        run_estimate.check_limit(native, options.max_pixels, run_estimate.HOW_TO_RAISE,
                                 f"Before its final resize to {target}, the network would make")

        planes = pixels.split(image, fmt)
        if planes.alpha is not None and options.fill_transparent:
            planes.colour = pixels.fill_transparent(planes.colour, planes.alpha)
        through_network = [planes.colour]
        cheap_alpha = None
        if planes.alpha is not None:
            if options.alpha == "network":
                through_network.append(planes.alpha)
            else:
                cheap_alpha = resample.linear(planes.alpha, native)

        counter = _Counter(progress)
        tile = options.tile   # then the edge each pass used (0 = whole image), which the result reports
        notes = list(notes)
        for index in range(passes):
            last = index == passes - 1
            size = extent * (model.scale ** (index + 1))
            make_sink = (lambda: _FormatSink(size, fmt, cheap_alpha)) if last else (
                lambda: _FloatSink(size, [p.shape[2] for p in through_network]))
            # a later pass starts from the edge the one before used (0: it ran whole, so automatic again)
            policy = TilePolicy.parse(tile)
            through_network, tile = self._run_pass(model, through_network, policy, make_sink, counter, cancel,
                                                   remaining_passes=passes - index - 1, notes=notes)
        output = resample.to_size(through_network, target)
        if fmt.channels == 1:
            output = output[:, :, 0]
        backend = model.backend
        finished = time.perf_counter()
        self.speeds.add(options.model, f"{backend.name} {backend.device}", backend.precision, finished - loaded,
                        run_estimate.network_pixels(extent, model.scale, passes) / 1e6)
        faces = None
        if face_step is not None:   # progress now counts faces, cancel is polled between them
            output, faces = face_step.run(image, fmt, np.ascontiguousarray(output), progress, cancel)
        seconds = time.perf_counter() - started
        return UpscaleResult(np.ascontiguousarray(output), backend.device, backend.precision, tile,
                             seconds, backend.name, tuple(notes), faces)

    def _run_pass(self, model: Network, planes: List[np.ndarray], policy: TilePolicy, make_sink,
                  counter: _Counter, cancel: Optional[Cancel], remaining_passes: int, notes: List[str]):
        """One network pass over ``planes``; returns the output planes and the tile edge used (0 = whole image)."""
        extent = Extent(planes[0].shape[1], planes[0].shape[0])
        tiling = reach.tiling_of(model.margin)
        if policy.is_whole or not tiling.exact:
            edge = 0   # a network without finite reach runs as one piece unless memory forces tiles
        elif policy.is_auto:
            edge = auto_tile(model, extent, len(planes))
        else:
            edge = policy.edge
        done_before = counter.done
        while True:
            plan = TilePlan.make(extent, model.scale, edge, tiling.margin)
            # later passes run on bigger images: a rough count keeps the progress total honest
            counter.total = done_before + plan.count * (1 + remaining_passes * model.scale ** 2)
            sink = make_sink()
            try:
                run_planes(model.backend, planes, plan, sink, counter.tick, cancel)
                if plan.count > 1 and not tiling.exact:
                    _say_once(notes, f"{model.name} looks at the whole picture, so it runs as one piece; there "
                              f"was not memory enough for that, so it ran in tiles of {max(plan.tile_extent)} px "
                              "and their borders may show.")
                elif policy.is_fixed and not tiling.exact:
                    _say_once(notes, f"{model.name} looks at the whole picture, so it runs as one piece "
                              "(the tile size is not used).")
                return sink.planes, (edge if plan.count > 1 else 0)
            except TileOutOfMemory:
                counter.done = done_before
                current = max(plan.tile_extent)
                edge = current // 2 // _TILE_STEP * _TILE_STEP
                if policy.is_whole or edge < max(MIN_TILE, TilePlan.smallest_edge(tiling.margin)):
                    raise EngineError(
                        Kind.OUT_OF_MEMORY,
                        "Not enough memory to upscale this image, even in small tiles. Close other programs, "
                        "use a smaller model, or choose the CPU (more memory) instead of the GPU.",
                        f"out of memory at tile {current} on {model.backend.describe()}") from None
