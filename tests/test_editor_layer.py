"""The editor layer both plugins share (``krita_realesrgan/common/editor``): which language the user reads, the
one translation scheme, model labels and rules, layer names, selection math, the cover defaults, the notes
message and the log file."""
from __future__ import annotations

import string

import numpy as np
import pytest

from krita_realesrgan.common import catalog, cover_presets, log_file, translate
from krita_realesrgan.common.editor import cover_defaults, language, layer_names, messages, models, selection
from krita_realesrgan.common.formats import PixelFormat
from krita_realesrgan.common.geometry import Bounds, Extent
from krita_realesrgan.common.regions import plan_region

# ---- language ----


@pytest.mark.parametrize("env, found", [
    ({"LANGUAGE": "zh_CN:en", "LANG": "en_US.UTF-8"}, "zh_CN"),     # GIMP's own language setting wins
    ({"LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": "zh_TW.UTF-8", "LANG": "en_GB.UTF-8"}, "zh_TW.UTF-8"),
    ({"LANG": "zh_CN.UTF-8"}, "zh_CN.UTF-8"),
    ({"LANG": "de_DE.UTF-8"}, "de_DE.UTF-8"),
    ({"LANG": "C.UTF-8"}, ""),
    ({"LANGUAGE": "zh_CN", "LANG": "C.UTF-8"}, ""),                 # gettext ignores LANGUAGE in the C locale
    ({"LC_ALL": "POSIX", "LANG": "zh_CN.UTF-8"}, ""),               # LC_ALL overrides LANG
    ({}, ""),
])
def test_gettext_language_follows_gettexts_order(env, found):
    assert language.gettext_language(env) == found


def test_environment_candidates_list_language_then_the_first_locale():
    env = {"LANGUAGE": "zh_TW:zh_CN", "LC_MESSAGES": "de_DE.UTF-8", "LANG": "fr_FR.UTF-8"}
    assert language.environment_candidates(env) == ["zh_TW", "zh_CN", "de_DE.UTF-8"]
    assert language.environment_candidates({"LANG": "zh_CN.UTF-8"}) == ["zh_CN.UTF-8"]
    assert language.environment_candidates({}) == []
    assert language.pick_language(language.environment_candidates(env)) == "zh_CN"   # zh_TW has no table


@pytest.mark.parametrize("candidates, expected", [
    (["zh_CN.UTF-8"], "zh_CN"), (["zh-Hans-CN"], "zh_CN"), (["zh"], "zh_CN"), (["zh_TW", "en_US"], None),
    (["C", "zh_CN"], "zh_CN"), (["en_GB", "zh_CN"], None), ([], None)])
def test_pick_language_takes_the_first_with_a_table(candidates, expected):
    assert language.pick_language(candidates) == expected


# ---- translate ----

def test_translate_looks_up_the_english_text_in_the_readers_table():
    assert translate.translate("Scale:", "zh_CN") == "放大倍数："
    assert translate.translate("Scale:", "zh_CN.UTF-8") == translate.translate("Scale:", "zh-Hans") == "放大倍数："
    assert translate.translate("Scale:", "en_US.UTF-8") == translate.translate("Scale:", "") == "Scale:"
    assert translate.translate("untranslated thing", "zh_CN") == "untranslated thing"
    assert (translate.table_name("zh_TW"), translate.table_name("de_DE")) == ("zh_CN", "")


def test_every_translation_keeps_the_fields_of_its_english_text():
    table = translate.TABLES["zh_CN"]
    assert len(table) > 100
    fields = lambda text: sorted(f for _, f, _, _ in string.Formatter().parse(text) if f)   # noqa: E731
    for english, chinese in table.items():
        assert fields(english) == fields(chinese), english
        assert chinese != english or english in ("Real-ESRGAN", "CPU", "CPU — OpenVINO", "CPU — PyTorch"), english


# ---- models ----

def test_model_names_labels_and_rules():
    assert models.display_name("realesr-animevideov3") == "realesr-animevideov3"
    assert models.display_name("/w/4x-Mine.safetensors") == "4x-Mine"
    assert models.display_name("realesr-animevideov3.pth") == "realesr-animevideov3"
    info = catalog.get("RealESRGAN_x4plus")
    assert models.model_label("RealESRGAN_x4plus") == f"RealESRGAN_x4plus — {info.purpose}"
    assert models.model_label("/w/mine.pth") == "/w/mine.pth"
    assert models.uses_denoise("realesr-general-x4v3") and not models.uses_denoise("realesr-animevideov3")
    assert not models.uses_denoise("/w/mine.pth")
    assert models.is_anime("realesr-animevideov3") and not models.is_anime("RealESRGAN_x4plus")
    assert not models.is_anime("/w/anime-looking-name.pth")       # a user's file: the user knows


def test_installed_models_and_face_models_are_read_from_the_weights_folder(tmp_path):
    assert not models.model_installed(tmp_path, "realesr-animevideov3")
    (tmp_path / "realesr-animevideov3.pth").write_bytes(b"x")
    assert models.model_installed(tmp_path, "realesr-animevideov3")
    (tmp_path / "realesr-general-x4v3.pth").write_bytes(b"x")
    assert not models.model_installed(tmp_path, "realesr-general-x4v3")     # needs its denoise twin too
    (tmp_path / "realesr-general-wdn-x4v3.converted.safetensors").write_bytes(b"x")
    assert models.model_installed(tmp_path, "realesr-general-x4v3")
    assert not models.model_installed(None, "realesr-animevideov3") and not models.model_installed(tmp_path, "x")
    assert not models.faces_installed(tmp_path) and not models.faces_installed(None)
    (tmp_path / "GFPGANv1.4.pth").write_bytes(b"weights")
    assert models.faces_installed(tmp_path) and models.faces_installed(str(tmp_path))


# ---- layer names ----

def test_layer_names_in_english_and_chinese():
    assert layer_names.upscaled_layer_name(2.5, "realesr-animevideov3", "Ink") == \
        "Real-ESRGAN ×2.5 (realesr-animevideov3) — Ink"
    assert layer_names.upscaled_layer_name(2.0, "/w/mine.pth", "Background") == "Real-ESRGAN ×2 (mine) — Background"
    assert layer_names.enhanced_layer_name("realesr-animevideov3", "Ink") == \
        "Real-ESRGAN enhanced (realesr-animevideov3) — Ink"
    assert layer_names.upscaled_layer_name(4, "RealESRGAN_x4plus", "图层", "zh_CN") == \
        "Real-ESRGAN ×4（RealESRGAN_x4plus）— 图层"
    assert layer_names.enhanced_layer_name("RealESRGAN_x4plus", "图层", "zh_CN") == \
        "Real-ESRGAN 增强（RealESRGAN_x4plus）— 图层"
    assert (layer_names.background_layer_name(), layer_names.background_layer_name("zh_CN")) == ("Background", "背景")


def test_cover_layer_names():
    assert layer_names.cover_factor(Extent(566, 350), Extent(1280, 792)) == pytest.approx(792 / 350)  # as the engine
    assert [layer_names.factor_text(f) for f in (2.2615, 2.0, 0.5, 2.005)] == ["2.26", "2", "0.5", "2"]
    assert layer_names.cover_layer_name(Extent(566, 350), Extent(1280, 792), "realesr-animevideov3", "kids") == \
        "Real-ESRGAN ×2.26 (realesr-animevideov3) — kids"
    assert layer_names.cover_layer_name(Extent(4000, 3000), Extent(1280, 960), "", "big") == \
        "Real-ESRGAN ×0.32 (resampled) — big"
    assert layer_names.cover_layer_name(Extent(4000, 3000), Extent(1280, 960), "", "big", "zh_CN") == \
        "Real-ESRGAN ×0.32（仅缩放）— big"
    assert layer_names.cover_layer_name_by_model("realesr-animevideov3", "Kids") == \
        "Real-ESRGAN cover (realesr-animevideov3) — Kids"
    assert layer_names.cover_layer_name_by_model("", "Kids") == "Cover (resized) — Kids"


# ---- selection ----

def _random(dtype, shape, seed=1):
    rng = np.random.default_rng(seed)
    if np.issubdtype(dtype, np.integer):
        return rng.integers(0, np.iinfo(dtype).max + 1, shape, dtype=np.int64).astype(dtype)
    return rng.random(shape).astype(dtype)


def test_crop_matches_numpy_slicing():
    image = _random(np.uint16, (9, 11, 4))
    fmt = PixelFormat("uint16", 4)
    out = selection.crop(image.tobytes(), fmt, Extent(11, 9), Bounds(3, 2, 5, 6))
    np.testing.assert_array_equal(np.frombuffer(out, np.uint16).reshape(6, 5, 4), image[2:8, 3:8])
    assert selection.crop(image.tobytes(), fmt, Extent(11, 9), Bounds(0, 0, 11, 9)) == image.tobytes()
    with pytest.raises(ValueError):
        selection.crop(image.tobytes(), fmt, Extent(11, 9), Bounds(8, 0, 5, 1))


@pytest.mark.parametrize("dtype,channels", [(np.uint8, 4), (np.uint16, 4), (np.float16, 4), (np.float32, 4),
                                            (np.uint8, 2), (np.float32, 2)])
def test_mask_feathers_alpha_only(dtype, channels):
    image = _random(dtype, (6, 7, channels), seed=3)
    mask = np.random.default_rng(4).integers(0, 256, (6, 7)).astype(np.uint8)
    mask[0, 0], mask[0, 1] = 0, 255
    fmt = PixelFormat(np.dtype(dtype).name, channels)
    out = np.frombuffer(selection.apply_mask(image.tobytes(), fmt, mask.tobytes()), dtype).reshape(image.shape)
    np.testing.assert_array_equal(out[..., :-1], image[..., :-1])
    expected = image[..., -1].astype(np.float64) * mask / 255.0
    if np.issubdtype(dtype, np.integer):
        np.testing.assert_array_equal(out[..., -1], np.floor(expected + 0.5 - 1e-9).astype(dtype))
    else:
        np.testing.assert_allclose(out[..., -1].astype(np.float64), expected, rtol=1e-3, atol=1e-6)
    assert out[0, 0, -1] == 0 and out[0, 1, -1] == image[0, 1, -1]
    with pytest.raises(ValueError):
        selection.apply_mask(image.tobytes(), fmt, mask.tobytes()[:-1])
    rgb = _random(np.uint8, (2, 2, 3))
    assert selection.apply_mask(rgb.tobytes(), PixelFormat("uint8", 3), bytes(4)) == rgb.tobytes()   # no alpha


def test_a_selection_scaled_to_a_new_image():
    region = plan_region(Extent(100, 80), Bounds(0, 0, 100, 80), Bounds(40, 10, 20, 10), margin=4)
    scaled = selection.scaled_selection(region, 2.0)
    assert scaled.whole == Extent(region.source.width * 2, region.source.height * 2)
    assert scaled.selection == Bounds(8, 8, 40, 20)     # the selection's 20x10 inside the 28x18 read, doubled
    whole = selection.scaled_selection(plan_region(Extent(10, 10), Bounds(0, 0, 10, 10), None), 1.5)
    assert whole.whole == Extent(15, 15) and whole.selection == Bounds(0, 0, 15, 15)


# ---- cover defaults ----

def test_cover_defaults_are_the_engines_values():
    assert cover_presets.preset(cover_defaults.DEFAULT_PRESET).id == cover_defaults.DEFAULT_PRESET
    assert cover_defaults.FITS == (cover_defaults.FIT_COVER, cover_defaults.FIT_PAD) == ("cover", "pad")
    assert (cover_defaults.AUTO_MODEL, cover_defaults.BLUR) == ("auto", "blur")
    assert max(cover_defaults.DEFAULT_CUSTOM_SIZE) <= cover_presets.MAX_EDGE
    assert cover_defaults.DEFAULT_COLOUR == "#202020"


# ---- what the user is told, and the log ----

NOTE = "mine.pth does not convert to OpenVINO (unsupported op); it runs with PyTorch on the CPU instead."


def test_notes_of_a_run():
    assert messages.notes_text((), "zh_CN") == ""
    assert messages.notes_text([NOTE, "Second."], "en_US.UTF-8") == f"Note: {NOTE}\nNote: Second."
    assert messages.notes_text([NOTE], "zh_CN") == "提示：" + NOTE
    assert messages.notes_text(["a {brace}"], "") == "Note: a {brace}"     # the note is not a template


def test_the_log_is_appended_to_and_never_raises(tmp_path):
    log = tmp_path / "logs" / "plugin.log"
    log_file.append(log, "first\n")
    log_file.append(log, f"[{log_file.stamp()}] second\n")
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "first" and lines[1].startswith("[20") and lines[1].endswith("] second")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    log_file.append(blocker / "cannot" / "be.log", "ignored")   # a file in the way: no exception
    assert blocker.read_text() == ""
    log_file.append(None, "ignored")
