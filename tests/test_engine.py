"""The engine on real weights and real images: tiling, pixel formats, alpha, scales, progress, cancel, OOM."""
from __future__ import annotations

import numpy as np
import pytest

from krita_realesrgan import runner
from krita_realesrgan.engine import network_passes
from krita_realesrgan.common.errors import Cancelled, EngineError, Kind
from krita_realesrgan.common.formats import NO_TILING, PixelFormat, UpscaleOptions
from krita_realesrgan.common.geometry import Extent
from krita_realesrgan.imagefile import read_image
from krita_realesrgan.pixels import from_float, to_float

REFERENCE = dict(model="realesr-animevideov3", precision="fp32", fill_transparent=False)


@pytest.fixture(scope="module")
def cartoon(images):
    return read_image(images / "0014.jpg")[0]  # 179x179 RGB uint8


@pytest.fixture(scope="module")
def small_rgba(images):
    image, fmt = read_image(images / "children-alpha.png")
    assert fmt == PixelFormat("uint8", 4)
    return np.ascontiguousarray(image[100:164, 200:280])  # 80x64, edges of the cut-out included


def levels(a, b):
    return np.abs(a.astype(np.int64) - b.astype(np.int64)).max()


@pytest.mark.parametrize("tile", [64, 128, 256])
def test_tiled_equals_untiled(upscaler, cartoon, tile):
    fmt = PixelFormat("uint8", 3)
    whole = upscaler.upscale(cartoon, fmt, UpscaleOptions(tile=NO_TILING, **REFERENCE))
    tiled = upscaler.upscale(cartoon, fmt, UpscaleOptions(tile=tile, **REFERENCE))
    assert whole.tile == 0
    assert tiled.tile == (tile if tile < 179 else 0)
    assert levels(whole.image, tiled.image) <= 1


def test_tiled_equals_untiled_16bit_alpha(upscaler, images):
    image, fmt = read_image(images / "tree_alpha_16bit.png")
    image = np.ascontiguousarray(image[:120, :150])
    whole = upscaler.upscale(image, fmt, UpscaleOptions(tile=NO_TILING, **REFERENCE))
    tiled = upscaler.upscale(image, fmt, UpscaleOptions(tile=64, **REFERENCE))
    assert levels(whole.image, tiled.image) <= 257


def _as_format(rgba8: np.ndarray, fmt: PixelFormat) -> np.ndarray:
    """The same picture in another pixel format (grey = luma)."""
    values = to_float(rgba8, "uint8")
    colour = values[..., :3]
    if fmt.colour_channels == 1:
        colour = (colour @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
    planes = [colour] + ([values[..., 3:]] if fmt.has_alpha else [])
    out = from_float(np.concatenate(planes, axis=2), fmt.dtype)
    return out[..., 0] if fmt.channels == 1 else out


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float16", "float32"])
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_every_pixel_format(upscaler, small_rgba, dtype, channels):
    fmt = PixelFormat(dtype, channels)
    image = _as_format(small_rgba, fmt)
    result = upscaler.upscale(image, fmt, UpscaleOptions(scale=2))
    assert result.image.dtype == np.dtype(dtype)
    expected_shape = (128, 160) if channels == 1 else (128, 160, channels)
    assert result.image.shape == expected_shape
    # the same picture as 8-bit gives the same result (within quantisation of the input)
    fmt8 = PixelFormat("uint8", channels)
    result8 = upscaler.upscale(_as_format(small_rgba, fmt8), fmt8, UpscaleOptions(scale=2)).image
    as8 = from_float(to_float(result.image, dtype), "uint8")
    assert levels(as8, result8) <= 3


def test_transparent_colour_does_not_bleed(upscaler):
    """A white disc on fully transparent black: with the fill, the visible edge stays white (no dark fringe)."""
    yy, xx = np.mgrid[:64, :64]
    inside = (yy - 32) ** 2 + (xx - 32) ** 2 < 20 ** 2
    image = np.zeros((64, 64, 4), np.uint8)
    image[inside] = (255, 255, 255, 255)
    fmt = PixelFormat("uint8", 4)
    filled = upscaler.upscale(image, fmt, UpscaleOptions(scale=4)).image
    raw = upscaler.upscale(image, fmt, UpscaleOptions(scale=4, fill_transparent=False)).image
    visible = filled[..., 3] > 128
    assert visible.sum() > 0.8 * inside.sum() * 16
    assert filled[visible][:, :3].min() >= 235, "visible pixels stay white"
    assert raw[raw[..., 3] > 128][:, :3].min() < 200, "without the fill the black leaks in (the test can fail)"


def test_cheap_alpha_is_a_bilinear_resize(upscaler, small_rgba):
    import cv2
    fmt = PixelFormat("uint8", 4)
    result = upscaler.upscale(small_rgba, fmt, UpscaleOptions(alpha="resize")).image
    alpha = cv2.resize(small_rgba[..., 3].astype(np.float32) / 255, (320, 256), interpolation=cv2.INTER_LINEAR)
    assert levels(result[..., 3], np.round(alpha * 255)) <= 1


@pytest.mark.parametrize("scale,size", [(1, (179, 179)), (0.5, (89, 89)), (2.5, (447, 447)), (3, (537, 537))])
def test_any_scale(upscaler, cartoon, scale, size):
    result = upscaler.upscale(cartoon, PixelFormat("uint8", 3), UpscaleOptions(scale=scale))
    assert result.image.shape == (size[1], size[0], 3)


def test_scale_above_native_runs_the_network_twice(upscaler, cartoon):
    crop = np.ascontiguousarray(cartoon[:24, :30])
    calls = []
    result = upscaler.upscale(crop, PixelFormat("uint8", 3), UpscaleOptions(scale=8),
                              progress=lambda done, total: calls.append((done, total)))
    assert result.image.shape == (192, 240, 3)
    assert network_passes(Extent(30, 24), Extent(240, 192), 4) == 2
    assert len(calls) >= 2
    # sharper than a plain Lanczos x8 would be: compare edge energy against a bicubic enlargement
    import cv2
    plain = cv2.resize(crop, (240, 192), interpolation=cv2.INTER_CUBIC)
    energy = lambda im: np.abs(np.diff(im.astype(np.float32), axis=1)).mean()  # noqa: E731
    assert energy(result.image) > energy(plain)


def test_explicit_target_size(upscaler, cartoon):
    result = upscaler.upscale(cartoon, PixelFormat("uint8", 3), UpscaleOptions(target=Extent(300, 200)))
    assert result.image.shape == (200, 300, 3)


def test_progress_reaches_total_and_cancel_stops_between_tiles(upscaler, cartoon):
    fmt = PixelFormat("uint8", 3)
    seen = []
    upscaler.upscale(cartoon, fmt, UpscaleOptions(tile=96), progress=lambda d, t: seen.append((d, t)))
    assert [d for d, _ in seen] == list(range(1, len(seen) + 1))
    assert seen[-1][0] == seen[-1][1] and len(seen) > 1

    ticks = []
    with pytest.raises(Cancelled):
        upscaler.upscale(cartoon, fmt, UpscaleOptions(tile=64), progress=lambda d, t: ticks.append(d),
                         cancel=lambda: len(ticks) >= 2)
    assert len(ticks) == 2


def test_out_of_memory_halves_the_tile(upscaler, cartoon, monkeypatch):
    fmt = PixelFormat("uint8", 3)
    expected = upscaler.upscale(cartoon, fmt, UpscaleOptions(tile=NO_TILING)).image
    real = runner._to_batch

    def fussy(planes, source, placement):
        if max(source.width, source.height) > 100:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(planes, source, placement)

    monkeypatch.setattr(runner, "_to_batch", fussy)
    result = upscaler.upscale(cartoon, fmt, UpscaleOptions(tile=0))
    assert 0 < result.tile <= 100
    assert levels(result.image, expected) <= 1

    with pytest.raises(EngineError) as error:
        upscaler.upscale(cartoon, fmt, UpscaleOptions(tile=NO_TILING))
    assert error.value.kind == Kind.OUT_OF_MEMORY

    monkeypatch.setattr(runner, "_to_batch", lambda *a: (_ for _ in ()).throw(MemoryError()))
    with pytest.raises(EngineError) as error:
        upscaler.upscale(cartoon, fmt, UpscaleOptions(tile=0))
    assert error.value.kind == Kind.OUT_OF_MEMORY and "memory" in error.value.message


@pytest.mark.parametrize("image,fmt", [
    (np.zeros((0, 10, 3), np.uint8), PixelFormat("uint8", 3)),
    (np.zeros((10, 10, 3), np.uint16), PixelFormat("uint8", 3)),
    (np.zeros((10, 10, 3), np.uint8), PixelFormat("uint8", 4)),
    (np.zeros((10,), np.uint8), PixelFormat("uint8", 1)),
])
def test_bad_arrays_are_refused_clearly(upscaler, image, fmt):
    with pytest.raises(EngineError) as error:
        upscaler.upscale(image, fmt, UpscaleOptions())
    assert error.value.kind == Kind.BAD_INPUT


def test_nan_and_out_of_range_floats_are_clamped(upscaler):
    image = np.full((16, 16, 3), 0.5, np.float32)
    image[0, 0] = np.nan
    image[1, 1] = 7.0
    result = upscaler.upscale(image, PixelFormat("float32", 3), UpscaleOptions()).image
    assert np.isfinite(result).all() and result.min() >= 0 and result.max() <= 1


def test_bfloat16_close_to_float32(upscaler, cartoon, monkeypatch):
    from krita_realesrgan import devices
    if not devices.cpu_has_bfloat16():
        with pytest.raises(EngineError) as error:
            devices.choose("cpu", "bf16")
        assert error.value.kind == Kind.DEVICE and "bfloat16" in error.value.message
        monkeypatch.setattr(devices, "cpu_has_bfloat16", lambda: True)  # still check the numbers (slowly)
    fmt = PixelFormat("uint8", 3)
    crop = np.ascontiguousarray(cartoon[:64, :64])
    fp32 = upscaler.upscale(crop, fmt, UpscaleOptions(precision="fp32")).image
    bf16 = upscaler.upscale(crop, fmt, UpscaleOptions(precision="bf16"))
    assert bf16.precision == "bf16"
    difference = np.abs(bf16.image.astype(np.int64) - fp32.astype(np.int64))
    assert difference.mean() < 2.0 and difference.max() < 40


@pytest.mark.parametrize("device,precision", [("cpu", "fp16"), ("cuda:0", "auto"), ("tpu", "auto")])
def test_impossible_devices_are_refused(upscaler, cartoon, device, precision):
    import torch
    if device.startswith("cuda") and torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(EngineError) as error:
        upscaler.upscale(cartoon, PixelFormat("uint8", 3), UpscaleOptions(device=device, precision=precision))
    assert error.value.kind == Kind.DEVICE


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32"])
def test_a_window_of_a_resample_from_a_part_of_the_picture(images, dtype):
    """resample.window: the pixels to_size gives, from a part of the picture only (what a cover crop needs)."""
    import cv2
    from krita_realesrgan import resample
    from krita_realesrgan.common.geometry import Bounds
    photo, _ = read_image(images / "OST_009.png")                         # 448x640
    picture = cv2.resize(photo, (1792, 2560), interpolation=cv2.INTER_CUBIC)   # smooth, like a network's output
    picture = {"uint8": picture, "uint16": picture.astype(np.uint16) * 257,
               "float32": picture.astype(np.float32) / 255}[dtype]
    size, wanted = Extent(1280, 1829), Bounds(100, 394, 900, 720)
    full = resample.to_size(picture, size)[wanted.slices]
    where = Bounds(96, 496, 1400, 1120)                                  # around the window, plus Lanczos' reach
    part = resample.window(picture[where.slices], where, Extent(1792, 2560), size, wanted)
    assert part.shape == full.shape and part.dtype == full.dtype
    level = {"uint8": 1, "uint16": 257, "float32": 1 / 255}[dtype]
    assert np.abs(part.astype(np.float64) - full).max() <= 2 * level
    edge = Bounds(0, 0, 1280, 100)                                       # at the picture's edge: same edge rule
    assert np.abs(resample.window(picture[:200], Bounds(0, 0, 1792, 200), Extent(1792, 2560), size, edge)
                  .astype(np.float64) - resample.to_size(picture, size)[edge.slices]).max() <= 2 * level
    with pytest.raises(ValueError):                                      # a 3x reduction averages areas
        resample.window(picture, Bounds(0, 0, 1792, 2560), Extent(1792, 2560), Extent(597, 853), wanted)
