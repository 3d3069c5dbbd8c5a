"""Model files: catalog resolution, safe loading, architectures through spandrel, denoise-strength blending."""
from __future__ import annotations

import os
import pickle
import shutil

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from krita_realesrgan.common import catalog
from krita_realesrgan.devices import choose
from krita_realesrgan.engine import Upscaler
from krita_realesrgan.common.errors import EngineError, Kind
from krita_realesrgan.common.formats import PixelFormat, UpscaleOptions
from krita_realesrgan.models import ModelStore, blend, read_state_dict, resolve

from netbuilders import compact, rrdbnet

SMALL = np.random.default_rng(3).integers(0, 256, (20, 24, 3), dtype=np.uint8)
RGB8 = PixelFormat("uint8", 3)


def run(path, **options):
    return Upscaler(path.parent).upscale(SMALL, RGB8, UpscaleOptions(model=str(path), **options)).image


@pytest.mark.parametrize("builder,scale", [(rrdbnet, 4), (rrdbnet, 2), (rrdbnet, 1), (compact, 4), (compact, 2)])
@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_architectures_are_detected_from_the_file(tmp_path, builder, scale, suffix):
    state = builder(scale=scale)
    path = tmp_path / f"net{suffix}"
    if suffix == ".pth":
        torch.save({"params": state}, path)
    else:
        save_file(state, str(path))
    store = ModelStore(tmp_path)
    loaded = store.get(str(path), None, choose("cpu", "fp32"))
    assert loaded.arch == ("ESRGAN" if builder is rrdbnet else "Compact")
    assert loaded.scale == scale
    assert run(path).shape == (20 * scale, 24 * scale, 3)


def test_params_ema_is_preferred(tmp_path):
    good, other = compact(seed=1), compact(seed=2)
    torch.save({"params": other, "params_ema": good}, tmp_path / "both.pth")
    torch.save({"params": good}, tmp_path / "good.pth")
    torch.save({"params": other}, tmp_path / "other.pth")
    assert np.array_equal(run(tmp_path / "both.pth"), run(tmp_path / "good.pth"))
    assert not np.array_equal(run(tmp_path / "both.pth"), run(tmp_path / "other.pth"))


class _Exploit:
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickle_that_runs_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    _Exploit.marker = marker
    path = tmp_path / "evil.pth"
    with open(path, "wb") as handle:
        pickle.dump({"params": _Exploit()}, handle)
    torch.save({"params": {"w": _Exploit()}}, tmp_path / "evil_zip.pth")
    for file in (path, tmp_path / "evil_zip.pth"):
        with pytest.raises(EngineError) as error:
            read_state_dict(file)
        assert error.value.kind == Kind.UNSAFE_FILE
        assert "refused" in error.value.message
    assert not marker.exists()


@pytest.mark.parametrize("content,kind", [
    (b"this is not a model", Kind.BAD_WEIGHTS),
    (None, Kind.BAD_WEIGHTS),  # truncated real file
])
def test_damaged_files(tmp_path, animevideo_pth, content, kind):
    path = tmp_path / "damaged.pth"
    path.write_bytes(content if content is not None else animevideo_pth.read_bytes()[:100_000])
    with pytest.raises(EngineError) as error:
        run(path)
    assert error.value.kind == kind


def test_wrong_architecture_is_refused(tmp_path):
    torch.save({"params": {"encoder.layer.0.weight": torch.zeros(4, 4)}}, tmp_path / "text.pth")
    with pytest.raises(EngineError) as error:
        run(tmp_path / "text.pth")
    assert error.value.kind == Kind.BAD_WEIGHTS
    assert "not an upscaling network" in error.value.message


def test_missing_and_unknown_models(tmp_path):
    with pytest.raises(EngineError) as error:
        resolve("RealESRGAN_x4plus", [tmp_path])
    assert error.value.kind == Kind.WEIGHTS_MISSING
    assert "installer.py --models RealESRGAN_x4plus" in error.value.message
    with pytest.raises(EngineError) as error:
        resolve("no-such-model", [tmp_path])
    assert error.value.kind == Kind.UNKNOWN_MODEL


def test_catalog_names_find_release_and_converted_files(tmp_path, animevideo_pth):
    shutil.copy(animevideo_pth, tmp_path / "realesr-animevideov3.pth")
    assert resolve("realesr-animevideov3", [tmp_path])[1].name == "realesr-animevideov3.pth"
    assert resolve("REALESR-animevideov3.pth", [tmp_path])[0] == "realesr-animevideov3"
    save_file(rrdbnet(), str(tmp_path / catalog.converted_file_name("RealESRGAN_x4plus")))
    assert resolve("RealESRGAN_x4plus", [tmp_path])[1].name == "RealESRGAN_x4plus.converted.safetensors"
    status = {row["name"]: row for row in ModelStore(tmp_path).status()}
    assert status["realesr-animevideov3"]["available"] and status["RealESRGAN_x4plus"]["available"]
    assert not status["realesr-general-x4v3"]["available"]
    assert "realesr-general-wdn-x4v3" not in status  # a helper file, not offered on its own


def test_denoise_strength_blends_the_two_general_models(tmp_path):
    strong, weak = compact(seed=5), compact(seed=6)
    torch.save({"params": strong}, tmp_path / "realesr-general-x4v3.pth")
    torch.save({"params": weak}, tmp_path / "realesr-general-wdn-x4v3.pth")
    mixed = blend(strong, weak, 0.3)
    key = "body.0.weight"
    torch.testing.assert_close(mixed[key], 0.3 * strong[key] + 0.7 * weak[key])
    torch.save({"params": mixed}, tmp_path / "manual.pth")

    upscaler = Upscaler(tmp_path)
    def general(denoise):
        return upscaler.upscale(SMALL, RGB8, UpscaleOptions(model="realesr-general-x4v3", denoise=denoise)).image
    manual = upscaler.upscale(SMALL, RGB8, UpscaleOptions(model=str(tmp_path / "manual.pth"))).image
    assert np.abs(general(0.3).astype(int) - manual.astype(int)).max() <= 1
    assert np.array_equal(general(1.0), general(None))
    assert not np.array_equal(general(0.0), general(1.0))
    (tmp_path / "realesr-general-wdn-x4v3.pth").unlink()
    with pytest.raises(EngineError) as error:
        general(0.5)
    assert error.value.kind == Kind.WEIGHTS_MISSING


def test_catalog_is_consistent():
    for info in catalog.MODELS.values():
        assert info.url.endswith("/" + info.file) and info.bytes and info.sha256 and len(info.sha256) == 64
        if info.kind == catalog.FACE:   # face restorers: 512x512 faces in and out, never listed as upscalers
            assert info.url.startswith("https://github.com/TencentARC/") and info.arch == "GFPGAN"
            assert info.scale == 1 and not info.listed
            continue
        assert info.url.startswith("https://github.com/xinntao/")
        assert info.arch in ("ESRGAN", "Compact") and info.scale in (2, 4)
        if info.denoise_partner:
            assert catalog.MODELS[info.denoise_partner].arch == info.arch
    assert catalog.DEFAULT_MODEL in catalog.MODELS
    assert set(catalog.DEFAULT_INSTALL) <= set(catalog.MODELS)
    assert catalog.MODELS[catalog.DEFAULT_FACE_MODEL].kind == catalog.FACE
    assert not set(catalog.DEFAULT_INSTALL) & {m.name for m in catalog.face_models()}   # not by default
