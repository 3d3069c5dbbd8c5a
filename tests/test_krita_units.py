"""The Krita plugin's pure parts, without Krita: pixel-format conversion, bounds/feather math, dialog state,
progress text, model list, error reports and the zh_CN translation."""
from __future__ import annotations

import ast
import importlib
import string
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import Answers

from krita_plugin_layout import PACKAGE, PLUGIN_SOURCE, assemble


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    """The plugin package as installed (imported from a temporary pykrita folder)."""
    pykrita = tmp_path_factory.mktemp("pykrita")
    assemble(pykrita)
    sys.path.insert(0, str(pykrita))
    try:
        modules = {name: importlib.import_module(f"{PACKAGE}.{name}") for name in (
            "pixels_krita", "settings", "progress_text", "i18n", "model_list", "reporting",
            "cover_settings", "cover_action", "export_settings", "export_action", "consent", "face_choice")}
        modules["editor"] = importlib.import_module(f"{PACKAGE}.krita_realesrgan.common.editor")
        for name in ("language", "layer_names", "messages", "models", "selection"):
            setattr(modules["editor"], name, importlib.import_module(f"{PACKAGE}.krita_realesrgan.common.editor.{name}"))
        modules["translate"] = importlib.import_module(f"{PACKAGE}.krita_realesrgan.common.translate")
        modules["cover_presets"] = importlib.import_module(f"{PACKAGE}.krita_realesrgan.common.cover_presets")
        modules["errors"] = importlib.import_module(f"{PACKAGE}.krita_realesrgan.common.errors")
        modules["geometry"] = importlib.import_module(f"{PACKAGE}.krita_realesrgan.common.geometry")
        modules["formats"] = importlib.import_module(f"{PACKAGE}.krita_realesrgan.common.formats")
        modules["run_estimate"] = importlib.import_module(f"{PACKAGE}.krita_realesrgan.common.run_estimate")
        modules["i18n"].set_language(None)
        yield type("Plugin", (), modules)
    finally:
        sys.path.remove(str(pykrita))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


DTYPES = {"U8": np.uint8, "U16": np.uint16, "F16": np.float16, "F32": np.float32}


def _random(depth, shape, seed=1):
    rng = np.random.default_rng(seed)
    if depth in ("U8", "U16"):
        info = np.iinfo(DTYPES[depth])
        return rng.integers(0, info.max + 1, shape, dtype=np.int64).astype(DTYPES[depth])
    return rng.random(shape).astype(DTYPES[depth])


# ---- pixels_krita ----

@pytest.mark.parametrize("depth", ["U8", "U16", "F16", "F32"])
def test_rgba_channel_order(plugin, depth):
    layout = plugin.pixels_krita.layout_for("RGBA", depth)
    assert layout.fmt.dtype == np.dtype(DTYPES[depth]).name and layout.fmt.channels == 4
    krita = _random(depth, (3, 5, 4))
    engine = np.frombuffer(plugin.pixels_krita.to_engine(krita.tobytes(), layout), DTYPES[depth]).reshape(3, 5, 4)
    if depth in ("U8", "U16"):   # Krita stores integer RGBA as B, G, R, A
        np.testing.assert_array_equal(engine, krita[..., [2, 1, 0, 3]])
    else:                        # and float RGBA as R, G, B, A
        np.testing.assert_array_equal(engine, krita)
    back = plugin.pixels_krita.from_engine(engine.tobytes(), layout)
    assert back == krita.tobytes()


@pytest.mark.parametrize("depth", ["U8", "U16", "F16", "F32"])
def test_graya_is_grey_then_alpha(plugin, depth):
    layout = plugin.pixels_krita.layout_for("GRAYA", depth)
    assert layout.fmt.channels == 2 and layout.fmt.has_alpha
    data = _random(depth, (4, 4, 2)).tobytes()
    assert plugin.pixels_krita.to_engine(data, layout) == data


@pytest.mark.parametrize("model,depth,convertible", [("CMYKA", "U8", True), ("LABA", "U16", True),
                                                     ("XYZA", "F32", True), ("YCbCrA", "U8", True),
                                                     ("RGBA", "F64", True), ("ALPHA", "U8", False)])
def test_unsupported_colour_models_are_refused(plugin, model, depth, convertible):
    with pytest.raises(plugin.pixels_krita.UnsupportedColourModel) as caught:
        plugin.pixels_krita.layout_for(model, depth)
    assert caught.value.kind == plugin.errors.Kind.UNSUPPORTED_FORMAT
    assert caught.value.convertible is convertible
    assert model in caught.value.message


# ---- regions and selection math (krita_realesrgan.common.regions, .editor.selection; tests/test_regions.py,
# tests/test_editor_layer.py) ----

def test_the_plugin_plans_regions_with_the_vendored_engine_module(plugin):
    g = plugin.geometry
    regions = importlib.import_module(f"{PACKAGE}.krita_realesrgan.common.regions")
    region = regions.plan_region(g.Extent(100, 80), g.Bounds(50, 0, 50, 80), g.Bounds(40, 10, 20, 10), margin=4)
    assert region.target == g.Bounds(50, 10, 10, 10)
    assert region.source == g.Bounds(46, 6, 18, 18)     # Krita reads beyond the layer (transparent there)
    with pytest.raises(plugin.errors.EngineError) as caught:
        regions.plan_region(g.Extent(100, 80), g.Bounds(200, 200, 10, 10), None)
    assert caught.value.kind == plugin.errors.Kind.BAD_INPUT


def test_the_plugin_cuts_and_feathers_with_the_vendored_editor_layer(plugin):
    g, sm, f = plugin.geometry, plugin.editor.selection, plugin.formats
    image = _random("U8", (3, 4, 4))
    cut = sm.crop(image.tobytes(), f.PixelFormat("uint8", 4), g.Extent(4, 3), g.Bounds(1, 1, 2, 2))
    np.testing.assert_array_equal(np.frombuffer(cut, np.uint8).reshape(2, 2, 4), image[1:3, 1:3])
    masked = sm.apply_mask(cut, f.PixelFormat("uint8", 4), bytes([0, 255, 255, 0]))
    assert np.frombuffer(masked, np.uint8).reshape(4, 4)[:, 3].tolist() == [0, image[1, 2, 3], image[2, 1, 3], 0]


# ---- settings ----

def test_settings_round_trip_through_krita_strings(plugin):
    s = plugin.settings
    store = {}
    choices = s.Choices(model="realesr-general-x4v3", scale=2.5, denoise=0.3, tile=256, device="cpu-openvino",
                        fast=True, use_merged=True)
    s.save(choices, lambda group, name, value: store.__setitem__((group, name), value))
    assert all(isinstance(v, str) for v in store.values()) and store[(s.GROUP, "use_merged")] == "true"
    loaded = s.load(lambda group, name, default: store.get((group, name), default))
    assert loaded == choices
    # a device remembered before backends were offered: "cpu" was PyTorch on the CPU
    assert s.load(lambda group, name, default: {"device": "cpu"}.get(name, default)).device == "cpu-torch"


def test_settings_survive_junk_and_are_clamped(plugin):
    s = plugin.settings
    junk = {"scale": "lots", "tile": "7", "device": "tpu", "denoise": "3", "use_merged": "maybe", "model": ""}
    loaded = s.load(lambda group, name, default: junk.get(name, default))
    assert loaded == s.Choices(tile=s.MIN_TILE, denoise=1.0)
    assert loaded.model == "realesr-animevideov3"
    assert s.Choices(scale=40).normalised().scale == 16 and s.Choices(scale=0.2).normalised().scale == 1


def test_choices_to_engine_options(plugin):
    s, g = plugin.settings, plugin.geometry
    plain = s.Choices(scale=3, denoise=0.2).options()
    assert plain.scale == 3 and plain.target is None and plain.denoise is None
    general = s.Choices(model="realesr-general-x4v3", denoise=0.2).options(target=g.Extent(10, 20))
    assert general.denoise == 0.2 and general.target == g.Extent(10, 20) and general.scale is None
    assert s.result_extent(g.Extent(566, 350), 2.5) == g.Extent(1415, 875)
    placed = {key: s.Choices(device=key, fast=True).options() for key in s.DEVICES}
    assert {key: (o.backend, o.device, o.fast) for key, o in placed.items()} == {
        "auto": ("auto", "auto", True), "cpu-openvino": ("openvino", "cpu", True), "cpu-torch": ("torch", "cpu", True),
        "gpu-openvino": ("openvino", "gpu", True), "cuda": ("torch", "cuda", True), "mps": ("torch", "mps", True)}
    cover = plugin.cover_settings.CoverChoices().options(s.Choices(device="gpu-openvino", fast=True, tile=128))
    assert (cover.backend, cover.device, cover.fast, cover.tile) == ("openvino", "gpu", True, 128)


def test_faces_line_of_the_floating_message(plugin):
    faces = plugin.reporting.faces_text
    assert faces("") == "" and faces("1 face restored") == "Faces: 1 face restored"
    try:
        plugin.i18n.set_language("zh_CN")
        assert faces("1 face restored") == "人脸：1 face restored"
    finally:
        plugin.i18n.set_language(None)


def test_restore_faces_is_remembered_passed_on_and_offered_for_photo_models_with_the_weights(plugin, tmp_path):
    s, faces = plugin.settings, plugin.face_choice
    store = {}
    choices = s.Choices(model="RealESRGAN_x4plus", faces=True, face_strength=0.4)
    s.save(choices, lambda group, name, value: store.__setitem__((group, name), value))
    assert s.load(lambda group, name, default: store.get((group, name), default)) == choices
    options = choices.options()
    assert options.face_enhance and options.face_strength == 0.4 and options.face_model == "GFPGANv1.4"
    assert not s.Choices().options().face_enhance
    assert s.Choices(face_strength=3).normalised().face_strength == 1.0
    installed = plugin.editor.models.faces_installed
    assert not installed(tmp_path)
    assert "python3 installer.py --models GFPGANv1.4" in faces.unavailable("RealESRGAN_x4plus", False)
    (tmp_path / "GFPGANv1.4.pth").write_bytes(b"weights")
    assert installed(tmp_path) and faces.unavailable("RealESRGAN_x4plus", True) is None
    assert faces.unavailable(str(tmp_path / "mine.pth"), True) is None      # a user's file: the user knows
    assert "anime" in faces.unavailable("realesr-animevideov3", True)
    assert not any(entry.value == "GFPGANv1.4" for entry in plugin.model_list.from_weights_folder(tmp_path))
    cover = plugin.cover_settings.CoverChoices(faces=True, face_strength=0.7)
    store = {}
    plugin.cover_settings.save(cover, lambda group, name, value: store.__setitem__(name, value))
    assert plugin.cover_settings.load(lambda group, name, default: store.get(name, default)) == cover
    cover_options = cover.options(s.Choices())
    assert cover_options.face_enhance and cover_options.face_strength == 0.7


# ---- progress text ----

def test_progress_label_has_tiles_and_time_left(plugin):
    p = plugin.progress_text
    assert p.seconds_left(0, 10, 5.0) is None
    assert p.seconds_left(2, 10, 4.0) == pytest.approx(16.0)
    label = p.progress_label("Enhance", 2, 10, 40.0)
    assert "tile 2 of 10" in label and "2 min 40 s" in label
    assert "starting" in p.progress_label("Enhance", 0, 0, 0.0)


# ---- model list ----

def test_model_list_from_the_weights_folder(plugin, tmp_path):
    ml = plugin.model_list
    (tmp_path / "realesr-animevideov3.pth").write_bytes(b"x")
    (tmp_path / "realesr-general-x4v3.pth").write_bytes(b"x")   # its denoise twin is missing
    (tmp_path / "4x-MyOwn.safetensors").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not weights")
    entries = {e.label: e for e in ml.from_weights_folder(tmp_path)}
    assert entries["realesr-animevideov3"].available
    assert not entries["realesr-general-x4v3"].available
    assert "installer.py --models realesr-general-x4v3" in entries["realesr-general-x4v3"].description
    assert not entries["RealESRGAN_x4plus"].available
    assert entries["4x-MyOwn"].available and entries["4x-MyOwn"].value == str(tmp_path / "4x-MyOwn.safetensors")
    assert "realesr-general-wdn-x4v3" not in entries and "notes" not in entries
    assert entries["realesr-general-x4v3"].uses_denoise and not entries["realesr-animevideov3"].uses_denoise


def test_model_list_from_the_worker(plugin):
    ml = plugin.model_list
    entries = ml.from_worker([
        {"name": "realesr-animevideov3", "available": True},
        {"name": "realesr-general-wdn-x4v3", "available": True},
        {"name": "mine", "available": True, "path": "/w/mine.pth"}])
    assert [(e.value, e.available) for e in entries] == [("realesr-animevideov3", True), ("/w/mine.pth", True)]


# ---- reporting ----

def test_error_report_names_the_log_and_what_to_do(plugin, tmp_path):
    r, e = plugin.reporting, plugin.errors
    error = e.EngineError(e.Kind.WEIGHTS_MISSING, "The weights of RealESRGAN_x4plus are missing.",
                          "looked in /somewhere")
    log = r.write_log(error, "test", tmp_path / "logs" / "x.log")
    assert "looked in /somewhere" in log.read_text()
    text = r.user_text(error, log, "RealESRGAN_x4plus")
    assert "missing" in text and "installer.py --models RealESRGAN_x4plus" in text and str(log) in text
    told = e.EngineError(e.Kind.WEIGHTS_MISSING, "Missing. Get them with: python3 installer.py --models x")
    assert r.user_text(told, log, "x").count("installer.py") == 1
    try:
        raise RuntimeError("boom")
    except RuntimeError as bug:
        r.write_log(bug, "test", log)
    assert "Traceback" in log.read_text() and "RuntimeError: boom" in log.read_text()


# ---- translation ----

# dicts of UI strings that are passed to tr() or translate() where they are used, not as literals (the plugin's, the
# editor layer's and those of common/'s device_offers, run_question and cover_reasons)
TRANSLATED_TABLES = ("TITLES", "HINTS", "FIT_LABELS", "BACKGROUND_LABELS", "PLACE_LABELS", "LABELS", "FAST_REFUSED",
                     "TEXTS", "TEMPLATES", "KINDS")
# where the Krita plugin's words are: its own modules, the editor layer it shares with GIMP and common/'s modules
COMMON = Path(__file__).resolve().parents[1] / "krita_realesrgan" / "common"


def _source_strings():
    """Every literal passed to tr() or common's translate(), plus the tables of strings that are translated where
    they are used."""
    found = set()
    for path in [*(PLUGIN_SOURCE / PACKAGE).glob("*.py"), *COMMON.glob("*.py"), *(COMMON / "editor").glob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("tr", "translate") and node.args and \
                    isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
                node, ast.AnnAssign) else []
            if any(getattr(t, "id", "") in TRANSLATED_TABLES for t in targets):
                found.update(v.value for v in node.value.values if isinstance(v, ast.Constant))
    return found - {"English text", "{text}"}   # i18n's example; cover_reasons' reason that is only words


def test_every_ui_string_has_a_zh_cn_translation(plugin):
    table = plugin.translate.TABLES["zh_CN"]
    from krita_realesrgan.common import catalog
    from krita_realesrgan.common import engine_setting
    wanted = _source_strings() | {m.purpose for m in catalog.listed()} | {
        engine_setting.ADDRESS_NEEDED, engine_setting.TOKEN_NEEDED, engine_setting.TOKEN_UNREADABLE}
    assert len(wanted) > 40 and {"Background", "Real-ESRGAN enhanced ({model}) — {layer}", "On this computer"} <= wanted
    assert {"Fast", "NVIDIA GPU — CUDA", "Start it?", "{n} megapixels", "crop centred", "anime"} <= wanted   # common/'s
    missing = sorted(wanted - set(table))
    assert not missing, f"untranslated: {missing}"
    for english, chinese in table.items():
        fields = lambda text: sorted(f for _, f, _, _ in string.Formatter().parse(text) if f)
        assert fields(english) == fields(chinese), english
        assert chinese != english or english in ("Real-ESRGAN", "CPU", "CPU — OpenVINO", "CPU — PyTorch"), english


def test_device_labels_and_why_fast_is_refused_in_both_languages():
    """The device list's words come from the vendored device_offers (both plugins use them)."""
    from krita_realesrgan.common import device_offers as d
    assert [d.label(key) for key in d.KEYS] == ["Automatic", "CPU — OpenVINO", "CPU — PyTorch",
                                                "Intel GPU — OpenVINO", "NVIDIA GPU — CUDA", "Apple GPU"]
    assert [d.label(key, "zh_CN") for key in d.KEYS] == ["自动", "CPU — OpenVINO", "CPU — PyTorch",
                                                         "英特尔显卡 — OpenVINO", "NVIDIA 显卡 — CUDA", "苹果显卡"]
    assert (d.fast_label(), d.fast_label("zh_CN.UTF-8")) == ("Fast", "快速")
    report = d.DeviceReport((d.Offer("auto", d.NO_BF16), d.Offer("cpu-torch", d.NO_AMX), d.Offer("cuda")), "Core i5")
    assert report.fast_refused("auto") == ("Core i5 has no native bfloat16, so fast mode would be slower than exact "
                                           "here.")
    assert report.fast_refused("auto", "zh_CN").startswith("Core i5 不支持原生 bfloat16")
    assert "AMX" in report.fast_refused("cpu-torch", "zh_CN") and report.fast_refused("cuda") == ""
    assert report.fast_refused("mps") == ""     # not offered here: nothing to refuse


@pytest.mark.parametrize("env,expected", [
    ({"KRITA_REALESRGAN_LANG": "zh_CN", "LANG": "en_US.UTF-8"}, "zh_CN"),     # the plugin's own variable first
    ({"LANGUAGE": "zh_TW:zh_CN", "LANG": "en_US.UTF-8"}, "zh_CN"),            # then the environment's, in order
    ({"LANGUAGE": "en_GB:zh_CN"}, ""), ({"LC_ALL": "zh_CN.UTF-8"}, "zh_CN")])
def test_language_choice(plugin, tmp_path, env, expected):
    """Krita's language sources (the env variable, Krita's override file, the environment) on the shared rule;
    Qt's UI languages come last, so a candidate before them decides."""
    candidates = plugin.i18n.language_candidates(dict(env, HOME=str(tmp_path)))
    assert plugin.editor.language.pick_language(candidates) == (expected or None)
    (tmp_path / ".config").mkdir()
    (tmp_path / ".config" / "klanguageoverridesrc").write_text("[Language]\nkrita=zh_CN\n")
    overridden = plugin.i18n.language_candidates({"HOME": str(tmp_path), "LANG": "en_US.UTF-8"})
    assert overridden[:2] == ["zh_CN", "en_US.UTF-8"]


def test_tr_uses_the_chosen_language(plugin):
    i18n = plugin.i18n
    try:
        i18n.set_language("zh_CN")
        assert i18n.tr("Scale:") == "放大倍数：" and i18n.tr("untranslated thing") == "untranslated thing"
    finally:
        i18n.set_language(None)
    assert i18n.tr("Scale:") == "Scale:"


# ---- the dialog, with Krita's own Python and PyQt5 (no Krita needed) ----

SYSTEM_PYTHON = "/usr/bin/python3"


def run_dialog_script(tmp_path: Path, script: str, language: str = "en", *args: str, env=None) -> dict:
    """Run ``tests/krita/<script>`` with Krita's Python and PyQt5 (offscreen) on the assembled plugin; its JSON."""
    import json
    import os
    import subprocess
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import PyQt5.QtWidgets"], capture_output=True) \
        if os.path.exists(SYSTEM_PYTHON) else None
    if probe is None or probe.returncode != 0:
        pytest.skip("no system python3 with PyQt5 (Krita's Python; apt-get install -y krita or python3-pyqt5)")
    assemble(tmp_path)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KRITA_REALESRGAN_LANG=language, HOME=str(tmp_path),
               **(env or {}))
    command = [SYSTEM_PYTHON, str(Path(__file__).resolve().parent / "krita" / script), str(tmp_path), *args]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_dialog_state(tmp_path):
    report = run_dialog_script(tmp_path, "dialog_check.py")
    start = report["start"]
    # the remembered model is not installed: the first installed one is chosen, the missing one is greyed
    assert start["model"] == "realesr-animevideov3" and start["ok"]
    assert not start["missing_enabled"] and "not installed" in start["missing_text"]
    assert start["size"] == "1415 × 875 px (from 566 × 350 px)" and not start["denoise_visible"]
    general = report["general"]
    assert general["denoise_visible"] and general["size"].startswith("1698 × 1050 px")
    assert (general["model"], general["scale"], general["denoise"], general["tile"], general["device"]) == \
        ("realesr-general-x4v3", 3.0, 0.3, 256, "cpu-openvino")
    devices = report["devices"]   # as the worker reported them: backend and device together
    assert devices["labels"] == ["Automatic", "CPU — OpenVINO", "CPU — PyTorch", "Intel GPU — OpenVINO",
                                 "NVIDIA GPU — CUDA"]
    # fast was remembered, but this CPU has bf16 without AMX: greyed, with the reason, and not passed on
    assert devices["key"] == "cpu-openvino" and not devices["fast_enabled"] and devices["hint_shown"]
    assert devices["fast_tip"] == devices["hint"] and "Test Xeon" in devices["hint"] and "AMX" in devices["hint"]
    assert devices["chosen"] == ["cpu-openvino", False]
    gpu = report["intel_gpu"]
    assert gpu["fast_enabled"] and not gpu["hint_shown"] and "fp16" in gpu["fast_tip"]
    assert gpu["options"] == ["openvino", "gpu", True]
    # before any worker reported: the usual list (no Intel GPU to offer), fast left to the engine
    assert report["no_report"] == {"labels": ["Automatic", "CPU — OpenVINO", "CPU — PyTorch", "NVIDIA GPU — CUDA"],
                                   "key": "auto", "fast_enabled": True}
    assert not report["missing_selected"]["ok"] and "Get it with" in report["missing_selected"]["hint"]
    enhance = report["enhance"]
    assert not enhance["scale_enabled"] and enhance["scale_shown"] == 1.0 and enhance["kept_scale"] == 2.5
    assert enhance["size"] == "236 × 236 px (from 236 × 236 px)" and not enhance["merged_visible"]


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_engine_rows_say_what_an_other_computer_needs_and_keep_ok_greyed_until_then(tmp_path, language):
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    report = run_dialog_script(tmp_path, "engine_row_check.py", language, str(token))
    zh = language == "zh_CN"
    assert report["this"]["labels"] == (["在这台电脑上", "在另一台电脑上"] if zh else
                                        ["On this computer", "On another computer"])
    this = report["this"]
    assert this["place"] == "this" and this["ok"] and not this["address_shown"] and not this["token_shown"]
    assert not this["hint_shown"]
    bad = report["bad_address"]
    assert bad["address_shown"] and bad["token_shown"] and not bad["ok"] and bad["hint_shown"]
    assert bad["hint"] == ("请以 主机:端口 的形式填写另一台电脑的地址（例如 192.168.1.20:7860）。" if zh else
                           "Give the other computer's address as HOST:PORT (e.g. 192.168.1.20:7860).")
    assert bad["label"] == ("地址：" if zh else "Address:")
    assert not report["no_token"]["ok"] and ("令牌" if zh else "token") in report["no_token"]["hint"]
    unreadable = report["unreadable_token"]
    assert not unreadable["ok"] and f"{token}.missing" in unreadable["hint"]
    ready = report["ready"]
    assert ready["ok"] and not ready["hint_shown"] and ready["setting"] == ["other", "gpu-box:7860", str(token)]
    back = report["back_to_this"]
    assert back["ok"] and not back["address_shown"] and back["setting"][0] == "this"


def test_engine_session_offers_the_reported_devices_and_keeps_a_runs_notes(tmp_path):
    """Before the worker runs, the device list is the one the last worker kept in the engine's cache (the usual
    list when none ever ran); once it runs, its ready event's; a run's notes are kept for the floating message."""
    report = run_dialog_script(tmp_path, "session_check.py", "en", env={"KRITA_REALESRGAN_CACHE": str(tmp_path)})
    assert report["before"] == ["auto", "cpu-openvino", "cpu-torch", "cuda"]
    assert report["stored"] == ["auto", "gpu-openvino"]
    assert report["running"] == ["auto", "cpu-torch", "mps"]
    assert report["notes"] == ["mine.pth does not convert to OpenVINO (unsupported op); it runs with PyTorch on the "
                               "CPU instead."]
    assert report["notes_after_a_quiet_run"] == []


def test_cover_dialog_in_chinese(tmp_path):
    """The cover dialog under zh_CN: Chinese preset names with sizes, the remembered custom size, pad fit and
    colour shown; the missing model is greyed and not chosen; the controls follow preset and fit."""
    screenshot = tmp_path / "cover-dialog-zh_CN.png"
    report = run_dialog_script(tmp_path, "cover_dialog_check.py", "zh_CN", str(screenshot))
    start = report["remembered"]
    assert start["title"] == "用图片制作封面"
    assert start["presets"] == ["视频封面 16:9（高清），1280 × 720 像素", "视频封面 16:9（全高清），1920 × 1080 像素",
                                "竖版短视频封面 9:16，1080 × 1920 像素", "笔记封面 3:4，1080 × 1440 像素",
                                "公众号文章头图 2.35:1，900 × 383 像素", "方形头像 / 帖子 1:1，1080 × 1080 像素",
                                "自定义尺寸"]
    assert (start["preset"], start["custom_enabled"], start["size"]) == ("custom", True, [800, 600])
    assert start["fit"] == "完整放入并留边（不裁剪）" and start["background_enabled"]
    assert start["colour_shown"] and start["colour"] == "#3366cc"
    assert start["model"] == "auto" and start["models"][0] == "自动（按图片内容选择）"
    assert not start["missing_enabled"] and "未安装" in start["models"][2]
    assert "800 × 600" in start["summary"] and "566 × 350" in start["summary"] and start["ok"]
    assert "preset='custom', width=800, height=600, fit='pad', background='solid', colour='#3366cc'" \
           in start["choices"] and "use_merged=True" in start["choices"]
    crop = report["preset_crop"]
    assert crop["preset"] == "video-16x9" and not crop["custom_enabled"] and not crop["background_enabled"]
    assert not crop["colour_shown"] and "1280 × 720" in crop["summary"] and crop["fit"] == "裁剪填满（裁剪区域跟随人脸）"
    blur = report["pad_blur"]
    assert blur["background_enabled"] and not blur["colour_shown"] and "background='blur'" in blur["choices"]
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---- cover choices and the cover document's names ----

def test_cover_settings_round_trip_and_junk(plugin):
    cs = plugin.cover_settings
    store = {}
    choices = cs.CoverChoices(preset="custom", width=800, height=600, fit="pad", background="solid",
                              colour="#3366cc", model="realesr-animevideov3", use_merged=True)
    cs.save(choices, lambda group, name, value: store.__setitem__((group, name), value))
    assert {group for group, _ in store} == {cs.GROUP} and store[(cs.GROUP, "use_merged")] == "true"
    assert cs.load(lambda group, name, default: store.get((group, name), default)) == choices
    junk = {"preset": "tiktok-giant", "width": "0", "height": "99999", "fit": "stretch", "background": "plaid",
            "colour": "red", "model": "", "use_merged": "perhaps"}
    loaded = cs.load(lambda group, name, default: junk.get(name, default))
    assert loaded == cs.CoverChoices(width=1, height=plugin.cover_presets.MAX_EDGE)
    assert loaded.preset == "video-16x9" and loaded.model == "auto" and loaded.background_value() == "blur"


def test_cover_choices_to_engine_request(plugin):
    cs, g, s = plugin.cover_settings, plugin.geometry, plugin.settings
    preset = cs.CoverChoices(preset="square")
    assert preset.target() == "square" and preset.target_info().size == g.Extent(1080, 1080)
    custom = cs.CoverChoices(preset="custom", width=640, height=360, fit="pad", background="solid", colour="#102030")
    assert custom.target() == g.Extent(640, 360) and custom.target_info().id == "custom"
    assert custom.background_value() == "#102030" and cs.CoverChoices(colour="#102030").background_value() == "blur"
    options = custom.options(s.Choices(model="RealESRGAN_x4plus", tile=256, device="cpu", denoise=0.3))
    assert (options.model, options.tile, options.device, options.denoise, options.scale, options.target) == \
        ("auto", 256, "cpu", None, None, None)
    general = cs.CoverChoices(model="realesr-general-x4v3").options(s.Choices(denoise=0.3))
    assert general.model == "realesr-general-x4v3" and general.denoise == 0.3


def test_cover_document_placement_and_names(plugin):
    ca, g, i18n = plugin.cover_action, plugin.geometry, plugin.i18n
    assert ca.picture_bounds(g.Bounds(0, 36, 1280, 720), g.Extent(1280, 792)) == g.Bounds(0, -36, 1280, 792)
    assert ca.picture_bounds(g.Bounds(-140, 0, 640, 360), g.Extent(360, 360)) == g.Bounds(140, 0, 360, 360)
    video = plugin.cover_presets.preset("video-16x9")
    assert ca.cover_title(video, "en") == "Cover — Video thumbnail 16:9 (HD), 1280 × 720 px"
    reasons = importlib.import_module(f"{PACKAGE}.krita_realesrgan.common.cover_reasons")
    outcome = type("Outcome", (), {"faces": (g.Bounds(1, 2, 3, 4),) * 2, "reasons": (
        reasons.Reason("model_best_installed", {"model": "RealESRGAN_x4plus", "kind": "photo"}),
        reasons.Reason("crop_all_faces", {"faces": 2}))})
    assert ca.cover_summary(outcome, video, "en").splitlines() == [
        "Cover made: Video thumbnail 16:9 (HD), 1280 × 720 px", "Faces found: 2",
        "• using RealESRGAN_x4plus, the best installed photo model", "• crop placed around the 2 faces found"]
    try:
        i18n.set_language("zh_CN")
        assert ca.cover_title(video, "zh_CN") == "封面 — 视频封面 16:9（高清），1280 × 720 像素"
        assert ca.cover_summary(outcome, video, "zh_CN").splitlines()[2:] == [
            "• 使用 RealESRGAN_x4plus，已安装的最合适的照片模型", "• 裁剪框围绕找到的 2 张人脸"]
        custom = plugin.cover_presets.custom(g.Extent(640, 360))
        assert ca.preset_label(custom, "zh_CN") == "自定义尺寸，640 × 360 像素"
    finally:
        i18n.set_language(None)


# ---- asking before a long or very large run (consent, on the vendored run_question) ----

class Submissions:
    """The session's submit: records the options each job was sent with."""

    def __init__(self):
        self.options = []

    def __call__(self, options):
        self.options.append(options)
        return "result"


def test_a_huge_upscale_asks_and_no_leaves_it_unsubmitted(plugin, tmp_path):
    c, g, f, s = plugin.consent, plugin.geometry, plugin.formats, plugin.settings
    layer = g.Extent(5000, 5000)
    options = s.Choices(scale=4).options(s.result_extent(layer, 4))
    submit, ask = Submissions(), Answers(False)
    speeds = plugin.run_estimate.SpeedRecord(tmp_path / "speed.json")   # nothing measured yet
    with pytest.raises(plugin.errors.Cancelled):
        c.upscale(ask, speeds, f.PixelFormat("uint16", 4), layer, options, "Upscale image", submit)
    assert submit.options == []
    question = ask.questions[0].split("\n\n")
    assert question[0] == "Upscale image: 5000x5000 → 20000x20000 pixels (400 megapixels)."
    assert "GB of memory" in question[1] and "not known yet" in question[1]
    assert question[2:] == ["That is above the limit of 268 megapixels for one result.", "Start it?"]
    yes = Answers(True)
    assert c.upscale(yes, speeds, f.PixelFormat("uint16", 4), layer, options, "Upscale image", submit) == "result"
    assert [o.max_pixels for o in submit.options] == [0] and submit.options[0].target == g.Extent(20000, 20000)


def test_a_run_of_minutes_asks_in_the_users_language(plugin, tmp_path):
    c, g, f, s, i18n = plugin.consent, plugin.geometry, plugin.formats, plugin.settings, plugin.i18n
    speeds = plugin.run_estimate.SpeedRecord(tmp_path / "speed.json")
    speeds.add("realesr-animevideov3", "openvino CPU", "fp32", seconds=30.0, megapixels=1.0)
    layer = g.Extent(2000, 1500)   # 3 megapixels through the network: about 90 s
    options = s.Choices(scale=2, device="cpu").options(s.result_extent(layer, 2))
    ask, submit = Answers(True), Submissions()
    try:
        i18n.set_language("zh_CN")
        c.upscale(ask, speeds, f.PixelFormat("uint8", 4), layer, options, i18n.tr("Upscale image"), submit)
    finally:
        i18n.set_language(None)
    assert ask.questions[0].startswith("放大图像：2000x1500 → 4000x3000 像素（12 百万像素）。")
    assert "耗时约 2 分钟" in ask.questions[0] and "上限" not in ask.questions[0]
    assert [o.max_pixels for o in submit.options] == [options.max_pixels]    # within the limit: kept
    small = g.Extent(400, 300)     # 0.12 megapixels: seconds, not asked
    c.upscale(ask, speeds, f.PixelFormat("uint8", 4), small, s.Choices(scale=2).options(s.result_extent(small, 2)),
              "Enhance", submit)
    assert len(ask.questions) == 1 and len(submit.options) == 2


def test_a_cover_asks_with_the_slowest_model_for_auto(plugin, tmp_path):
    c, g, f, s, cs = plugin.consent, plugin.geometry, plugin.formats, plugin.settings, plugin.cover_settings
    speeds = plugin.run_estimate.SpeedRecord(tmp_path / "speed.json")
    speeds.add("realesr-animevideov3", "openvino CPU", "fp32", seconds=1.0, megapixels=1.0)
    speeds.add("RealESRGAN_x4plus", "torch cpu", "fp32", seconds=300.0, megapixels=1.0)
    choices = cs.CoverChoices(preset="video-16x9")             # 1280x720, model auto
    options = choices.options(s.Choices())
    ask, submit = Answers(False), Submissions()
    with pytest.raises(plugin.errors.Cancelled):
        c.cover(ask, speeds, f.PixelFormat("uint8", 4), g.Extent(640, 360), choices.target(), choices.fit, options,
                "Make cover", submit)
    assert ask.questions[0].startswith("Make cover: 640x360 → 2560x1440 pixels (3.7 megapixels) through the "
                                       "network, then resized to 1280x720.") and submit.options == []
    # the same picture made only smaller: no network, no question
    c.cover(ask, speeds, f.PixelFormat("uint8", 4), g.Extent(2560, 1440), choices.target(), choices.fit, options,
            "Make cover", submit)
    assert len(ask.questions) == 1 and len(submit.options) == 1


# ---- what the plugin may import ----

def test_plugin_imports_only_stdlib_qt_krita_and_vendored_modules():
    """Krita's Python has no numpy or torch: the plugin takes the standard library, PyQt5, krita, its own modules
    and the vendored engine modules (``krita_realesrgan/common``), nothing else."""
    from krita_realesrgan import common
    allowed = set(sys.stdlib_module_names) | {"PyQt5", "krita"}
    files = [name[:-3].replace("/", ".") for name in common.vendored_files() if name.endswith(".py")]
    packages = {"krita_realesrgan." + name[:-len(".__init__")] for name in files if name.endswith("__init__")}
    vendored = {"krita_realesrgan." + name for name in files if not name.endswith("__init__")} | packages
    found = []
    for path in sorted((PLUGIN_SOURCE / PACKAGE).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(path.name, alias.name, alias.name.split(".")[0] in allowed) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                found.append((path.name, node.module, node.module.split(".")[0] in allowed))
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("krita_realesrgan"):
                # from .krita_realesrgan.common.client import X; from .krita_realesrgan.common import catalog, paths
                names = ([f"{node.module}.{alias.name}" for alias in node.names] if node.module in packages
                         else [node.module])
                found += [(path.name, name, name in vendored) for name in names]
    assert len(found) > 40 and any(name == "cover_dialog.py" for name, _, _ in found)
    refused = [(name, module) for name, module, ok in found if not ok]
    assert not refused, refused


# ---- export cover: presets, names, limits, colour spaces, what the user is told ----

def test_export_preset_matching_and_default_format(plugin):
    es, g, cp = plugin.export_settings, plugin.geometry, plugin.cover_presets
    assert cp.preset_of_size(g.Extent(1280, 720)).id == "video-16x9"      # the vendored copy
    assert cp.preset_of_size(g.Extent(1080, 1920)).id == "short-9x16"
    assert cp.preset_of_size(g.Extent(720, 1280)) is None          # turned round is not the same
    assert cp.preset_of_size(g.Extent(1281, 720)) is None
    assert [cp.export_format_of(n) for n in ("a.JPEG", "b.jpg", "c.webp", "d.png", "e.tif", "f")] == [
        "jpg", "jpg", "webp", "png", None, None]
    article = cp.preset("article-2.35x1")
    assert es.default_format(article, "png") == "png" and es.default_format(article, "webp") == "jpg"
    assert es.default_format(None, "webp") == "webp" and es.default_format(None, "tiff") == "jpg"


def test_export_limit_in_kb_or_mb(plugin):
    es = plugin.export_settings
    assert es.limit_bytes(2, es.MB) == 2_000_000 and es.limit_bytes(1.5, es.MB) == 1_500_000
    assert es.limit_bytes(350, es.KB) == 350_000 and es.limit_bytes(0.3, es.KB) == 300
    assert es.limit_bytes(0, es.MB) is None and es.limit_bytes(None, es.KB) is None
    assert es.limit_shown(2_000_000) == (2.0, es.MB) and es.limit_shown(1_500_000) == (1500.0, es.KB)
    assert es.limit_shown(None) == (0.0, es.MB)
    for limit in (2_000_000, 5_000_000, 1_500_000, 123_000):                     # shown, then read back
        assert es.limit_bytes(*es.limit_shown(limit)) == limit


def test_export_memory_round_trip_and_junk(plugin):
    es = plugin.export_settings
    store = {}
    es.save(es.ExportMemory("/home/me/covers", "webp"), lambda group, name, value: store.__setitem__((group, name), value))
    assert store == {(es.GROUP, "folder"): "/home/me/covers", (es.GROUP, "format"): "webp"}
    assert es.load(lambda group, name, default: store.get((group, name), default)) == es.ExportMemory("/home/me/covers", "webp")
    assert es.load(lambda group, name, default: {"format": "TIFF"}.get(name, default)) == es.ExportMemory("", "jpg")
    assert es.load(lambda group, name, default: {"format": "PNG"}.get(name, default)).format == "png"


def test_export_default_file_name(plugin):
    ea = plugin.export_action
    # the document's own folder and file stem, then the preset
    assert ea.default_path("/photos/trip/beach.kra", "beach", "/last", "video-16x9", "jpg", "/home/me") == \
        "/photos/trip/beach_video-16x9.jpg"
    # never the source picture's own name, even without a preset
    assert ea.default_path("/photos/beach.jpg", "beach", "", "none", "jpg", "/home/me") == "/photos/beach_cover.jpg"
    # an unsaved document: the last folder used (else home) and its title, made fit for a file name
    assert ea.default_path("", "Cover — Video thumbnail 16:9 (HD), 1280 × 720 px", "/last", "video-16x9", "webp",
                           "/home/me") == "/last/Cover — Video thumbnail 16_9 (HD), 1280 × 720 px_video-16x9.webp"
    assert ea.default_path("", "a/b: c?", "", "square", "png", "/home/me") == "/home/me/a_b_ c_square.png"
    assert ea.default_path("", "  ", "", "square", "png", "/home/me") == "/home/me/cover_square.png"


def test_export_extension_follows_the_format(plugin):
    ea = plugin.export_action
    assert ea.with_extension("/x/cover.jpg", "jpg") == "/x/cover.jpg"
    assert ea.with_extension("/x/cover.JPEG", "jpg") == "/x/cover.JPEG"
    assert ea.with_extension("/x/cover.jpg", "png") == "/x/cover.png"
    assert ea.with_extension("/x/cover.webp", "jpg") == "/x/cover.jpg"
    assert ea.with_extension("/x/cover", "webp") == "/x/cover.webp"
    assert ea.with_extension("/x/cover.v2", "png") == "/x/cover.v2.png"     # not a picture extension: kept
    assert ea.file_filter("jpg") == "JPEG (*.jpg *.jpeg)" and ea.file_filter("webp") == "WebP (*.webp)"


@pytest.mark.parametrize("model,depth,profile,converted", [
    ("RGBA", "U8", "sRGB-elle-V2-srgbtrc.icc", False), ("RGBA", "U16", "sRGB built-in", False),
    ("GRAYA", "U8", "Gray-D50-elle-V2-srgbtrc.icc", False), ("RGBA", "F32", "sRGB-elle-V2-srgbtrc.icc", False),
    ("RGBA", "F32", "sRGB-elle-V2-g10.icc", True), ("RGBA", "F16", "scRGB (linear)", True),
    ("GRAYA", "U16", "Gray-D50-elle-V2-g10.icc", True), ("RGBA", "U8", "Adobe RGB (1998)", True),
    ("CMYKA", "U8", "Chemical proof", True), ("LABA", "U16", "Lab identity built-in", True),
    ("RGBA", "U32", "sRGB-elle-V2-srgbtrc.icc", True)])
def test_export_converts_what_is_not_srgb(plugin, model, depth, profile, converted):
    assert plugin.export_action.needs_srgb_copy(model, depth, profile) is converted


def test_export_summary(plugin):
    ea, i18n = plugin.export_action, plugin.i18n
    outcome = lambda fmt, quality, bits, size: type("Outcome", (), {"path": "/c/cover." + fmt, "format": fmt,
                                                                   "quality": quality, "bits": bits, "bytes": size})
    jpeg = outcome("jpg", 85, 8, 1912334)
    assert ea.export_summary(jpeg, 2_000_000) == \
        "Saved /c/cover.jpg: JPEG quality 85, 1,912,334 bytes (limit 2,000,000)"
    assert ea.export_summary(outcome("webp", 95, 8, 812), None) == "Saved /c/cover.webp: WebP quality 95, 812 bytes"
    assert ea.export_summary(outcome("png", None, 8, 4000), None) == "Saved /c/cover.png: PNG (lossless), 4,000 bytes"
    assert ea.export_summary(outcome("png", None, 6, 4000), 5000) == \
        "Saved /c/cover.png: PNG posterised to 6 bits a channel, 4,000 bytes (limit 5,000)"
    try:
        i18n.set_language("zh_CN")
        assert ea.export_summary(jpeg, 2_000_000) == \
            "已保存 /c/cover.jpg：JPEG 质量 85，1,912,334 字节（上限 2,000,000）"
    finally:
        i18n.set_language(None)


def test_export_dialog(tmp_path):
    """The real ExportDialog: the preset matching the image's size with its limit and the remembered format when
    the preset takes it; another preset brings its own limit and first format; edits reach the choices."""
    report = run_dialog_script(tmp_path, "export_dialog_check.py", "en")
    video = report["video"]
    assert (video["title"], video["preset"], video["limit"], video["unit"], video["format"], video["summary"]) == \
        ("Export cover", "video-16x9", 2.0, "MB", "webp", "")
    assert video["choices"] == ["video-16x9", "webp", 2_000_000]
    article = report["article"]
    assert article["choices"] == ["article-2.35x1", "jpg", 2_000_000]
    assert article["summary"] == "This image is 1280 × 720 px; the preset asks for 900 × 383 px."
    assert report["edited"]["choices"] == ["article-2.35x1", "jpg", 350_000]
    assert report["no_limit"]["choices"] == ["article-2.35x1", "jpg", None] and report["no_limit"]["limit_text"] == "No limit"
    odd = report["odd_size"]
    assert (odd["preset"], odd["preset_text"], odd["format"], odd["choices"][2]) == \
        ("none", "No preset (custom)", "png", None)


def test_export_dialog_in_chinese(tmp_path):
    report = run_dialog_script(tmp_path, "export_dialog_check.py", "zh_CN")
    assert report["video"]["title"] == "导出封面"
    assert report["video"]["preset_text"] == "视频封面 16:9（高清），1280 × 720 像素"
    assert report["odd_size"]["preset_text"] == "无预设（自定义）" and report["no_limit"]["limit_text"] == "不限"
