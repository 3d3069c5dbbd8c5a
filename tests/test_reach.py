"""A network's reach (how far a cut changes its output) and tiles that equal the untiled result with real weights."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from netbuilders import rrdbnet

from krita_realesrgan.common import catalog
from krita_realesrgan.ncnn import convert as ncnn
from krita_realesrgan import engine, reach, runner
from krita_realesrgan.backends import Backend
from krita_realesrgan.backends.loader import Network
from krita_realesrgan.engine import Upscaler
from krita_realesrgan.common.formats import NO_TILING, PixelFormat, UpscaleOptions
from krita_realesrgan.common.geometry import Extent
from krita_realesrgan.imagefile import read_image
from krita_realesrgan.models import read_state_dict
from krita_realesrgan.common.paths import ENV_CACHE, cache_dir
from krita_realesrgan.tiling import TilePlan

RGB8 = PixelFormat("uint8", 3)
MiB = 1024 ** 2


def levels(a, b):
    return int(np.abs(a.astype(np.int64) - b.astype(np.int64)).max())


def box_blur(radius: int, scale: int):
    """A network whose outputs depend on exactly the input pixels within ``radius`` (zero beyond the edges)."""
    def run(batch):
        width = 2 * radius + 1
        padded = np.pad(batch, ((0, 0), (radius, radius), (radius, radius), (0, 0)))
        sums = np.cumsum(np.cumsum(np.pad(padded, ((0, 0), (1, 0), (1, 0), (0, 0))), axis=1), axis=2)
        window = (sums[:, width:, width:] - sums[:, :-width, width:] - sums[:, width:, :-width]
                  + sums[:, :-width, :-width])
        return (window / width ** 2).repeat(scale, axis=1).repeat(scale, axis=2)
    return run


def global_mean(batch):
    """Every output pixel depends on the whole picture (like global pooling or attention)."""
    return 0.9 * batch + 0.1 * batch.mean(axis=(1, 2), keepdims=True)


def spandrel_runner(path):
    import spandrel
    descriptor = spandrel.ModelLoader().load_from_state_dict(read_state_dict(path)).eval()

    def run(batch):
        with torch.inference_mode():
            return descriptor(torch.from_numpy(batch).permute(0, 3, 1, 2).contiguous()).permute(0, 2, 3, 1).numpy()
    return run, descriptor


@pytest.fixture(scope="module")
def photo(images):
    return read_image(images / "OST_009.png")[0][..., :3]   # 448x640 photograph


# ----------------------------------------------------------------------------------------------- the probe

@pytest.mark.parametrize("radius,scale", [(3, 1), (7, 2), (40, 4)])
def test_probe_measures_the_reach_of_a_known_network(radius, scale):
    assert reach.probe(box_blur(radius, scale), scale) == radius


def test_probe_finds_no_finite_reach_in_a_global_network():
    assert reach.probe(global_mean, 1) is None
    unbounded = reach.Reach(None, "probe")
    assert not unbounded.bounded and reach.tiling_of(unbounded.tile_margin) == reach.Tiling(
        reach.UNBOUNDED_MARGIN, exact=False)


def test_measured_reach_is_rounded_up_to_a_safe_margin_and_exact_structure_is_not():
    assert [reach.Reach(r, "probe").margin for r in (0, 1, 8, 9, 78)] == [0, 8, 8, 16, 80]
    assert reach.Reach(18, "structure").margin == 18
    assert reach.tiling_of(reach.Reach(78, "catalog").tile_margin) == reach.Tiling(80, exact=True)


def test_compact_reach_is_its_convolution_count_and_the_probe_stays_within_it(animevideo_pth):
    state = read_state_dict(animevideo_pth)
    found = reach.reach_of("some-compact", "Compact", state, network=None, scale=4)
    assert found == reach.Reach(18, "structure")      # 16 body convolutions + the first and the last
    run, _ = spandrel_runner(animevideo_pth)
    assert 12 <= reach.probe(run, 4) <= 18


def test_catalog_models_need_no_probe():
    def no_probe(batch):
        raise AssertionError("a catalog model must not be probed")
    for name in ("RealESRGAN_x4plus", "RealESRGAN_x4plus_anime_6B"):
        info = catalog.get(name)
        assert info.reach is not None
        assert reach.reach_of(name, "ESRGAN", {}, no_probe, 4) == reach.Reach(info.reach, "catalog")


def test_a_network_working_in_blocks_the_tiler_does_not_align_to_is_not_tiled():
    assert not reach.reach_of("x", "SwinIR", {}, None, 4, multiple_of=3 * reach.TILE_ALIGN).bounded


# ----------------------------------------------------------------------------------------------- the cache

@pytest.fixture
def tiny_rrdb(tmp_path, monkeypatch):
    """A small RRDB network ×2 (pixel-unshuffle in front, like RealESRGAN_x2plus) that no catalog entry names;
    the engine's cache starts empty."""
    monkeypatch.setenv(ENV_CACHE, str(tmp_path / "cache"))
    folder = tmp_path / "weights"
    folder.mkdir()
    state = rrdbnet(scale=2, blocks=1, features=8, seed=3)
    for name, tensor in state.items():   # unit gain per convolution, so the picture survives the network
        if name.endswith("weight"):
            tensor *= (1.0 / tensor[0].numel()) ** 0.5 / tensor.std()
    torch.save(state, folder / "tiny-x2.pth")
    return folder


def test_probe_runs_once_per_model_and_is_found_again_by_its_weights(tiny_rrdb, monkeypatch):
    calls = []
    real_probe = reach.probe
    monkeypatch.setattr(reach, "probe", lambda network, scale: calls.append(scale) or real_probe(network, scale))
    first = Upscaler(tiny_rrdb).network(UpscaleOptions(model="tiny-x2", backend="torch"))
    assert calls == [2] and first.margin > 0
    (digest, entry), = json.loads((cache_dir() / reach.CACHE_FILE).read_text()).items()
    assert len(digest) == 64 and entry["probe"] == reach.PROBE_VERSION
    assert first.margin == reach.Reach(entry["reach"], "probe").margin
    # a renamed copy in a new process (a new Upscaler) is the same network: no probe
    (tiny_rrdb / "tiny-x2.pth").rename(tiny_rrdb / "renamed.pth")
    monkeypatch.setattr(reach, "probe", lambda network, scale: pytest.fail("probed again"))
    again = Upscaler(tiny_rrdb).network(UpscaleOptions(model="renamed", backend="torch"))
    assert again.margin == first.margin


def test_a_damaged_cache_file_means_probing_again(tiny_rrdb):
    (cache_dir() / reach.CACHE_FILE).parent.mkdir(parents=True, exist_ok=True)
    (cache_dir() / reach.CACHE_FILE).write_text("{not json")
    assert Upscaler(tiny_rrdb).network(UpscaleOptions(model="tiny-x2", backend="torch")).margin > 0
    assert json.loads((cache_dir() / reach.CACHE_FILE).read_text())


# ------------------------------------------------------------------------------------- exact tiles, real data

def test_pixel_unshuffle_network_tiles_exactly(tiny_rrdb, photo):
    """×2 RRDB sees its input in 2x2 blocks: tiles start on the block grid, so they equal the whole picture."""
    upscaler = Upscaler(tiny_rrdb)
    crop = np.ascontiguousarray(photo[200:301, 100:231])           # odd sizes on purpose
    options = UpscaleOptions(model="tiny-x2", backend="torch", precision="fp32")
    whole = upscaler.upscale(crop, RGB8, options.with_(tile=NO_TILING))
    tiled = upscaler.upscale(crop, RGB8, options.with_(tile=32))
    assert tiled.tile > 0 and whole.tile == 0 and whole.image.std() > 10   # a picture, not a blank
    assert levels(whole.image, tiled.image) <= 1                          # (tiles off the grid: 185 levels)


def test_animevideov3_tiles_equal_the_whole_picture(shared_weights, photo):
    upscaler = Upscaler(shared_weights)
    crop = np.ascontiguousarray(photo[300:396, 150:246])           # 96x96: 2x2 tiles of 67 px
    options = UpscaleOptions(model="realesr-animevideov3", backend="torch", precision="fp32")
    whole = upscaler.upscale(crop, RGB8, options.with_(tile=NO_TILING))
    tiled = upscaler.upscale(crop, RGB8, options.with_(tile=32))
    assert tiled.tile > 0
    assert levels(whole.image, tiled.image) <= 1


@pytest.fixture(scope="module")
def x4plus_weights(ncnn_models_dir, tmp_path_factory):
    """RealESRGAN_x4plus converted from the ncnn model pack (the same network as the release .pth)."""
    folder = tmp_path_factory.mktemp("x4plus")
    ncnn.convert_to_file(ncnn_models_dir, "RealESRGAN_x4plus", folder)
    return folder


@pytest.mark.slow
def test_x4plus_tiles_equal_the_whole_picture(x4plus_weights, photo):
    """The margin from x4plus's measured reach makes its tiles exact (a 24 px margin was off by 63 levels)."""
    upscaler = Upscaler(x4plus_weights)
    crop = np.ascontiguousarray(photo[96:136, 40:264])              # 40x224: two tiles side by side
    options = UpscaleOptions(model="RealESRGAN_x4plus", backend="torch", precision="fp32")
    model = upscaler.network(options)
    assert reach.tiling_of(model.margin) == reach.Tiling(reach.Reach(catalog.get(model.name).reach,
                                                                     "catalog").margin, exact=True)
    whole = upscaler.upscale(crop, RGB8, options.with_(tile=NO_TILING))
    tiled = upscaler.upscale(crop, RGB8, options.with_(tile=32))   # raised to the smallest tile the margin allows
    assert tiled.tile > 0
    assert levels(whole.image, tiled.image) <= 1


# ------------------------------------------------------------------------------- no finite reach: one piece

def test_a_network_without_finite_reach_runs_as_one_piece_and_says_so_when_memory_forces_tiles(
        tiny_rrdb, photo, monkeypatch):
    monkeypatch.setattr(reach, "probe", lambda network, scale: None)
    monkeypatch.setattr(reach, "UNBOUNDED_MARGIN", 8)   # small tiles, so the forced tiling stays cheap here
    upscaler = Upscaler(tiny_rrdb)
    crop = np.ascontiguousarray(photo[200:296, 100:196])
    options = UpscaleOptions(model="tiny-x2", backend="torch")
    asked = upscaler.upscale(crop, RGB8, options.with_(tile=48))
    assert asked.tile == 0 and any("one piece" in note for note in asked.notes)

    real_run = runner.run_planes

    def short_of_memory(backend, planes, plan, *args, **kwargs):
        if max(plan.tile_extent) > 64:
            raise runner.TileOutOfMemory()
        return real_run(backend, planes, plan, *args, **kwargs)
    monkeypatch.setattr("krita_realesrgan.engine.run_planes", short_of_memory)
    forced = upscaler.upscale(crop, RGB8, options)
    assert 0 < forced.tile <= 64
    assert any("borders may show" in note for note in forced.notes)
    assert levels(forced.image, asked.image) < 255    # still the picture, only its tile borders differ


# --------------------------------------------------------------------------------- the CPU tile, overlap counted

class _Budget(Backend):
    def __init__(self, device: str, budget: int):
        self.device, self.budget = device, budget

    def tile_budget_bytes(self) -> int:
        return self.budget


def _network(margin: int, bytes_per_pixel: float, device: str = "cpu", budget: int = 512 * MiB) -> Network:
    return Network("net", "ESRGAN", 4, margin, bytes_per_pixel, _Budget(device, budget))


PHOTO = _network(reach.Reach(90, "catalog").tile_margin, 12_000)       # RealESRGAN_x4plus on the CPU
COMPACT = _network(18, 2_000)                                           # realesr-animevideov3


def test_a_wide_margin_grows_cpu_tiles_until_overlap_is_half_the_work(monkeypatch):
    monkeypatch.setattr(engine, "host_tile_budget", lambda cap: 8 * 1024 * MiB)
    big = Extent(2000, 2000)
    within_ceiling = _edge(512 * MiB, 12_000)                             # 206: 96 px margins leave ~0 work
    edge = engine.auto_tile(PHOTO, big, 1)
    assert edge >= TilePlan.efficient_edge(96) - engine._TILE_STEP > 3 * within_ceiling
    plan = TilePlan.make(big, 4, edge, 96)
    useful = (plan.columns[1].start - plan.columns[0].start) ** 2 / plan.tile_extent.width ** 2
    assert useful > 0.45                                                  # was under 1% at the ceiling's edge
    assert engine.auto_tile(PHOTO, Extent(256, 256), 1) == 0             # a small photo runs as one piece
    assert engine.auto_tile(COMPACT, big, 1) == _edge(512 * MiB, 2_000) // 16 * 16   # narrow margin: as before


def test_cpu_tiles_grow_only_as_far_as_free_memory_and_never_on_a_gpu(monkeypatch):
    monkeypatch.setattr(engine, "host_tile_budget", lambda cap: 1024 * MiB)
    big = Extent(2000, 2000)
    assert engine.auto_tile(PHOTO, big, 1) == _edge(1024 * MiB, 12_000) // 16 * 16
    monkeypatch.setattr(engine, "host_tile_budget", lambda cap: 256 * MiB)
    assert engine.auto_tile(PHOTO, big, 1) == _edge(512 * MiB, 12_000) // 16 * 16   # never below the budget
    gpu = _network(PHOTO.margin, 6_000, device="cuda:0", budget=512 * MiB)
    assert engine.auto_tile(gpu, big, 1) == _edge(512 * MiB, 6_000) // 16 * 16


def _edge(budget: int, bytes_per_pixel: float) -> int:
    return int((budget / bytes_per_pixel) ** 0.5)


def test_a_network_the_probe_cannot_run_is_untiled_and_probed_again_next_time(tmp_path):
    def broken(batch):
        raise RuntimeError("needs square pictures")
    cache = reach.ReachCache(tmp_path)
    found = reach.reach_of("odd", "SomeArch", {"w": torch.ones(2, 2)}, broken, 4, cache=cache)
    assert found == reach.Reach(None, "probe")
    assert not (tmp_path / reach.CACHE_FILE).exists()


def test_cached_reaches_of_another_probe_version_or_damaged_are_not_used(tmp_path):
    cache = reach.ReachCache(tmp_path)
    cache.put("a" * 64, reach.Reach(40, "probe"))
    cache.put("b" * 64, reach.Reach(None, "probe"))
    assert cache.get("a" * 64) == reach.Reach(40, "cache") and cache.get("b" * 64) == reach.Reach(None, "cache")
    stored = json.loads((tmp_path / reach.CACHE_FILE).read_text())
    stored["a" * 64]["probe"] = reach.PROBE_VERSION - 1
    stored["b" * 64]["reach"] = -3
    (tmp_path / reach.CACHE_FILE).write_text(json.dumps(stored))
    assert cache.get("a" * 64) is None and cache.get("b" * 64) is None and cache.get("c" * 64) is None
