"""The GIMP 3 plug-in's pure parts, without GIMP: Babl transfer formats for every precision, region planning,
argument checks, layer names, the engine runner's progress and the log."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import Answers

from krita_realesrgan.common.cover_reasons import Reason
from krita_realesrgan.common.editor import layer_names, messages, models
from krita_realesrgan.common.errors import Cancelled, EngineError, Kind
from krita_realesrgan.common.formats import AUTO_TILE, PixelFormat
from krita_realesrgan.common.geometry import Bounds, Extent

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugin" / "gimp"))

from realesrgan_gimp import choices, engine_run, formats  # noqa: E402

# Every Gimp.Precision value nick of GIMP 3.0 (the integration test checks this list against the real enum).
PRECISION_NICKS = [f"{t}-{trc}" for t in ("u8", "u16", "u32", "half", "float", "double")
                   for trc in ("linear", "non-linear", "perceptual")]


@pytest.mark.parametrize("nick", PRECISION_NICKS)
@pytest.mark.parametrize("grey", [False, True])
@pytest.mark.parametrize("alpha", [False, True])
def test_every_precision_has_a_transfer_format(nick, grey, alpha):
    transfer = formats.layer_transfer(nick, grey, alpha)
    components, babl_type = transfer.babl.split(" ")
    assert transfer.fmt.channels == (1 if grey else 3) + alpha
    assert components.endswith("A") == alpha
    assert components.startswith("Y") == grey
    # the tone curve is kept: linear has no mark, non-linear ', perceptual ~
    marks = {"linear": "", "non-linear": "'", "perceptual": "~"}
    trc = nick.split("-", 1)[1]
    assert components.rstrip("A") == ("Y" + marks[trc] if grey else "R{0}G{0}B{0}".format(marks[trc]))
    # bytes per sample of the Babl type equal the engine dtype's
    assert {"u8": 1, "u16": 2, "half": 2, "float": 4}[babl_type] == transfer.fmt.bytes_per_sample


def test_transfer_examples():
    assert formats.layer_transfer("u8-non-linear", False, True) == formats.LayerTransfer(
        "R'G'B'A u8", PixelFormat("uint8", 4))
    assert formats.layer_transfer("u16-linear", False, True).babl == "RGBA u16"
    assert formats.layer_transfer("float-linear", True, True) == formats.LayerTransfer(
        "YA float", PixelFormat("float32", 2))
    assert formats.layer_transfer("half-perceptual", True, False) == formats.LayerTransfer(
        "Y~ half", PixelFormat("float16", 1))
    # widened: the engine has no uint32 or float64
    assert formats.layer_transfer("u32-non-linear", False, False) == formats.LayerTransfer(
        "R'G'B' float", PixelFormat("float32", 3))
    assert formats.layer_transfer("double-linear", False, True).babl == "RGBA float"


def test_indexed_images_get_a_clear_message():
    with pytest.raises(EngineError) as caught:
        formats.layer_transfer("u8-non-linear", False, False, indexed=True)
    assert caught.value.kind == Kind.UNSUPPORTED_FORMAT
    assert "Indexed" in caught.value.message and "Image ▸ Mode ▸ RGB" in caught.value.message


def test_unknown_precision_is_an_engine_error():
    with pytest.raises(EngineError) as caught:
        formats.layer_transfer("u64-linear", False, False)
    assert caught.value.kind == Kind.UNSUPPORTED_FORMAT and "u64-linear" in caught.value.message


def test_choices_defaults_and_options():
    default = choices.Choices()
    assert default.model == choices.model_names()[0]
    options = default.options(Extent(40, 30))
    assert options.target == Extent(40, 30) and options.tile == AUTO_TILE and options.denoise is None
    general = choices.Choices(model="realesr-general-x4v3", denoise=0.3)
    assert general.options(Extent(8, 8)).denoise == 0.3


@pytest.mark.parametrize("bad, kind", [
    (dict(model="no-such-model"), Kind.UNKNOWN_MODEL),
    (dict(scale=0.5), Kind.BAD_INPUT),
    (dict(scale=17.0), Kind.BAD_INPUT),
    (dict(denoise=1.5), Kind.BAD_INPUT),
    (dict(tile=8), Kind.BAD_INPUT),
])
def test_bad_choices_are_engine_errors(bad, kind):
    with pytest.raises(EngineError) as caught:
        choices.Choices(**bad).checked()
    assert caught.value.kind == kind


def test_restore_faces_reaches_the_engine_and_is_refused_with_an_anime_model(tmp_path):
    photo = choices.Choices(model="RealESRGAN_x4plus", faces=True, face_strength=0.3).checked()
    options = photo.options(Extent(8, 8))
    assert options.face_enhance and options.face_strength == 0.3 and options.face_model == "GFPGANv1.4"
    assert not choices.Choices().options(Extent(8, 8)).face_enhance
    for bad in (dict(model="realesr-animevideov3", faces=True), dict(face_strength=1.5)):
        with pytest.raises(EngineError) as caught:
            choices.Choices(**bad).checked()
        assert caught.value.kind == Kind.BAD_INPUT
    assert "RealESRGAN_x4plus" in choices.face_models() and "realesr-animevideov3" not in choices.face_models()
    cover = cover_choices.CoverChoices(faces=True, face_strength=0.8).checked()    # auto: skipped if anime
    assert cover.options().face_enhance and cover.options().face_strength == 0.8
    with pytest.raises(EngineError):
        cover_choices.CoverChoices(model="realesr-animevideov3", faces=True).checked()


def test_good_choices_pass_and_a_weights_file_is_a_model(tmp_path):
    weights = tmp_path / "mine.pth"
    weights.write_bytes(b"x")
    assert choices.Choices(tile=64, scale=16.0).checked().tile == 64
    checked = choices.Choices(model=str(weights)).checked()
    assert layer_names.upscaled_layer_name(checked.scale, checked.model, "Background") == \
        "Real-ESRGAN ×2 (mine) — Background"


def test_layer_names_are_english_from_the_plug_ins_choices():
    """The plug-in names its layers with the editor layer's names and no language: English, as before."""
    picked = choices.Choices(scale=2.5)
    assert layer_names.upscaled_layer_name(picked.scale, picked.model, "Ink") == \
        "Real-ESRGAN ×2.5 (realesr-animevideov3) — Ink"
    assert layer_names.enhanced_layer_name(picked.model, "Ink") == "Real-ESRGAN enhanced (realesr-animevideov3) — Ink"
    assert models.model_label(choices.model_names()[0]).startswith("realesr-animevideov3 — ")


def test_user_message_names_the_log_only_when_there_is_more(tmp_path):
    log = tmp_path / "x.log"
    assert choices.user_message(EngineError(Kind.BAD_INPUT, "Bad."), log) == "Bad."
    text = choices.user_message(EngineError(Kind.INTERNAL, "Broke.", "Traceback ..."), log)
    assert text.startswith("Broke.") and str(log) in text


class FakeJob:
    def __init__(self, extent, notes=()):
        self.extent = extent
        self.info = {"event": "result", "notes": list(notes)}   # the final event, as the client's Job keeps it

    def wait(self, on_progress=None, is_cancelled=None):
        for done in (1, 2, 3):
            on_progress(done, 3)
        return b"\x00" * 3 * self.extent.pixel_count, self.extent


class FakeClient:
    def __init__(self):
        self.calls = []

    def start(self):
        self.calls.append("start")

    def submit(self, pixels, fmt, extent, options):
        self.calls.append(("submit", len(pixels), fmt, extent, options.target))
        return FakeJob(options.target)


class Recorder:
    def __init__(self):
        self.events = []

    def started(self, text):
        self.events.append(("started", text))

    def advanced(self, done, total):
        self.events.append(("advanced", done, total))


NOTE = "mine.pth does not convert to OpenVINO (unsupported op); it runs with PyTorch on the CPU instead."


def test_engine_runner_keeps_the_notes_of_the_last_job_for_the_message():
    class NotingClient(FakeClient):
        def submit(self, pixels, fmt, extent, options):
            return FakeJob(options.target, [NOTE] if options.model.endswith(".pth") else [])

    runner = engine_run.EngineRunner(NotingClient(), Recorder())
    job = dict(pixels=b"\x01" * 12, fmt=PixelFormat("uint8", 3), extent=Extent(2, 2), label="Enhance")
    runner.upscale(options=choices.Choices(model="mine.pth").options(Extent(4, 4)), **job)
    assert runner.notes == (NOTE,)
    assert messages.notes_text(runner.notes, "en_US.UTF-8") == "Note: " + NOTE
    assert messages.notes_text(runner.notes, "zh_CN") == "提示：" + NOTE
    runner.upscale(options=choices.Choices().options(Extent(4, 4)), **job)
    assert runner.notes == () and messages.notes_text(runner.notes, "") == ""


def test_the_device_argument_offers_backend_and_device_together_and_reaches_the_engine():
    from krita_realesrgan.common import device_offers
    entries = choices.device_entries("")
    assert [(nick, label) for nick, label, _ in entries] == [
        ("auto", "Automatic"), ("cpu-openvino", "CPU — OpenVINO"), ("cpu-torch", "CPU — PyTorch"),
        ("gpu-openvino", "Intel GPU — OpenVINO"), ("cuda", "NVIDIA GPU — CUDA"), ("mps", "Apple GPU")]
    assert [label for _, label, _ in choices.device_entries("zh_CN")][3:] == [
        "英特尔显卡 — OpenVINO", "NVIDIA 显卡 — CUDA", "苹果显卡"]
    options = choices.Choices(device="gpu-openvino", fast=True).checked().options(Extent(4, 4))
    assert (options.backend, options.device, options.fast) == ("openvino", "gpu", True)
    default = choices.Choices().options(Extent(4, 4))
    assert (default.backend, default.device, default.fast) == ("auto", "auto", False)
    with pytest.raises(EngineError) as caught:
        choices.Choices(device="tpu").checked()
    assert caught.value.kind == Kind.BAD_INPUT and "cpu-openvino" in caught.value.message
    # a CPU with bf16 but no AMX and an Intel GPU: fast only on the GPU; the argument's help says why
    report = device_offers.DeviceReport((device_offers.Offer("auto"), device_offers.Offer("cpu-openvino", "no_amx"),
                                         device_offers.Offer("gpu-openvino")), "Test Xeon")
    assert choices.fast_devices(report) == ("auto", "gpu-openvino")
    assert "Test Xeon computes bfloat16 without AMX" in choices.fast_blurb(report, "")
    assert "没有 AMX" in choices.fast_blurb(report, "zh_CN")
    plain = device_offers.default_report("linux")
    assert choices.fast_blurb(plain, "") == device_offers.fast_help("")


def test_engine_runner_starts_submits_and_reports_progress():
    client, progress = FakeClient(), Recorder()
    runner = engine_run.EngineRunner(client, progress)
    data, extent = runner.upscale(b"\x01" * 12, PixelFormat("uint8", 3), Extent(2, 2),
                                  choices.Choices().options(Extent(4, 4)), "Enhance")
    assert extent == Extent(4, 4) and len(data) == 48
    assert client.calls == ["start", ("submit", 12, PixelFormat("uint8", 3), Extent(2, 2), Extent(4, 4))]
    assert progress.events[0] == ("started", "Enhance: starting the engine…")
    assert [e for e in progress.events if e[0] == "advanced"] == [("advanced", d, 3) for d in (1, 2, 3)]


# ---- asking before a long or very large run (engine_run on the vendored run_question) ----

def slow_speeds(tmp_path, seconds_per_megapixel):
    from krita_realesrgan.common.run_estimate import SpeedRecord
    speeds = SpeedRecord(tmp_path / "speed.json")
    speeds.add(choices.Choices().model, "openvino CPU", "fp32", seconds_per_megapixel, 1.0)
    return speeds


def test_a_script_above_the_limit_fails_naming_max_pixels_before_the_engine_starts():
    client, progress = FakeClient(), Recorder()
    runner = engine_run.EngineRunner(client, progress, ask=None, max_pixels=1000)
    with pytest.raises(EngineError) as caught:
        runner.upscale(b"\x01" * 12, PixelFormat("uint8", 3), Extent(20, 20), choices.Choices().options(Extent(40, 40)),
                       "Upscale image")
    assert caught.value.kind == Kind.TOO_LARGE and client.calls == [] and progress.events == []
    assert caught.value.message == ("The result would be 40x40 pixels (1,600 pixels), above the limit of 1,000 pixels. "
                                    "Choose a smaller scale or a smaller picture, or pass a larger max-pixels argument "
                                    "(0 = no limit).")
    runner.max_pixels = 0                     # the argument raised: runs
    runner.upscale(b"\x01" * 1200, PixelFormat("uint8", 3), Extent(20, 20),
                   choices.Choices().options(Extent(40, 40)), "Upscale image")
    assert client.calls[0] == "start"


def test_a_script_is_not_asked_about_a_long_run(tmp_path):
    client = FakeClient()
    runner = engine_run.EngineRunner(client, Recorder(), ask=None, speeds=slow_speeds(tmp_path, 1e6))
    runner.upscale(b"\x01" * 12, PixelFormat("uint8", 3), Extent(2, 2), choices.Choices().options(Extent(4, 4)),
                   "Enhance")
    assert client.calls[0] == "start"


def test_a_user_says_no_to_a_long_run_and_nothing_starts(tmp_path):
    client, ask = FakeClient(), Answers(False)
    runner = engine_run.EngineRunner(client, Recorder(), ask=ask, speeds=slow_speeds(tmp_path, 120.0))
    with pytest.raises(Cancelled):
        runner.upscale(b"\x01" * 3, PixelFormat("uint8", 3), Extent(1000, 1000),
                       choices.Choices().options(Extent(2000, 2000)), "Upscale image")
    assert client.calls == []
    assert ask.questions[0].split("\n\n")[0] == "Upscale image: 1000x1000 → 2000x2000 pixels (4.0 megapixels)."
    assert "takes about 2 min" in ask.questions[0] and "limit" not in ask.questions[0]


def test_a_user_says_yes_above_the_limit_in_chinese_and_it_runs_without_it(tmp_path):
    client, ask = FakeClient(), Answers(True)
    runner = engine_run.EngineRunner(client, Recorder(), ask=ask, max_pixels=10, language="zh_CN.UTF-8",
                                     speeds=slow_speeds(tmp_path, 1.0))
    runner.upscale(b"\x01" * 12, PixelFormat("uint8", 3), Extent(2, 2), choices.Choices().options(Extent(4, 4)),
                   "Upscale image")
    assert ask.questions[0].startswith("放大图像：2x2 → 4x4 像素（16 像素）。")
    assert "超过了单个结果 10 像素 的上限" in ask.questions[0]
    assert client.calls == ["start", ("submit", 12, PixelFormat("uint8", 3), Extent(2, 2), Extent(4, 4))]


def test_append_log_writes_one_stamped_line_an_entry_and_never_raises(tmp_path):
    import os
    log = tmp_path / "logs" / "x.log"
    engine_run.append_log(log, "first\n")
    engine_run.append_log(log, "second")
    lines = log.read_text().splitlines()
    assert len(lines) == 2 and lines[0].endswith(f"[gimp pid {os.getpid()}] first") and "[gimp pid" in lines[1]
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    engine_run.append_log(blocker / "cannot" / "be.log", "ignored")   # a file in the way: no exception
    assert blocker.read_text() == ""
    engine_run.append_log(None, "ignored")


def _imports(path: Path):
    import ast
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_plugin_imports_only_what_gimps_python_has():
    """GIMP's Python has the standard library and gi, not numpy; engine modules must be the vendored ones."""
    from krita_realesrgan import common
    plugin = Path(__file__).resolve().parents[1] / "plugin" / "gimp"
    vendored = {"krita_realesrgan." + name[:-3].replace("/", ".").replace(".__init__", "")
                for name in common.vendored_files() if name.endswith(".py")} | {"krita_realesrgan"}
    files = [plugin / "realesrgan-upscale.py", *sorted((plugin / "realesrgan_gimp").glob("*.py"))]
    for path in files:
        for module in _imports(path):
            top = module.split(".")[0]
            if top == "krita_realesrgan":
                assert module in vendored, f"{path.name} imports {module}, which is not vendored into plug-ins"
            else:
                assert top in sys.stdlib_module_names or top in ("gi", "realesrgan_gimp"), \
                    f"{path.name} imports {module}, which GIMP's Python may not have"


# ---- the cover procedure's pure parts ------------------------------------------------------------------------

from realesrgan_gimp import cover_choices  # noqa: E402


def test_the_plug_in_reads_the_language_as_gettext_does(monkeypatch):
    """The procedures' labels follow the environment GIMP hands its plug-ins (editor.language.gettext_language;
    its cases are in tests/test_editor_layer.py)."""
    from krita_realesrgan.common.editor.language import gettext_language
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANGUAGE", "zh_CN:en")
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert dict(cover_choices.preset_entries(gettext_language()))["custom"].startswith("自定义尺寸")
    monkeypatch.setenv("LANG", "C.UTF-8")          # gettext ignores LANGUAGE in the C locale
    assert dict(cover_choices.preset_entries(gettext_language()))["custom"].startswith("Custom size")


def test_preset_labels_in_english_and_chinese():
    english = dict(cover_choices.preset_entries("en_US.UTF-8"))
    chinese = dict(cover_choices.preset_entries("zh_CN"))
    assert list(english) == list(chinese)
    assert list(english)[0] == "video-16x9" and list(english)[-1] == cover_choices.CUSTOM
    assert english["video-16x9"] == "Video thumbnail 16:9 (HD) — 1280x720"
    assert chinese["video-16x9"] == "视频封面 16:9（高清） — 1280x720"
    assert chinese["article-2.35x1"] == "公众号文章头图 2.35:1 — 900x383"
    assert english["custom"].startswith("Custom size") and chinese["custom"].startswith("自定义尺寸")
    assert dict(cover_choices.preset_entries(""))["square"] == "Square avatar / post 1:1 — 1080x1080"


def test_cover_targets_preset_or_custom_size():
    assert cover_choices.CoverChoices().target() == "video-16x9"
    assert cover_choices.CoverChoices(preset="SQUARE").target() == "square"    # as the engine spells it
    assert cover_choices.CoverChoices(preset="custom", width=640, height=360).target() == Extent(640, 360)


@pytest.mark.parametrize("bad, kind, words", [
    (dict(preset="custom", width=0, height=720), Kind.BAD_INPUT, "custom cover size 0x720"),
    (dict(preset="custom", width=20000, height=720), Kind.BAD_INPUT, "from 1 to 16384"),
    (dict(preset="poster"), Kind.BAD_INPUT, "Unknown cover preset 'poster'"),
    (dict(fit="stretch"), Kind.BAD_INPUT, "Fit must be one of cover, pad"),
    (dict(background="gradient"), Kind.BAD_INPUT, "Background must be blur or color"),
    (dict(model="no-such-model"), Kind.UNKNOWN_MODEL, "choose one of auto, realesr-animevideov3"),
])
def test_bad_cover_choices_are_engine_errors(bad, kind, words):
    with pytest.raises(EngineError) as caught:
        cover_choices.CoverChoices(**bad).checked()
    assert caught.value.kind == kind and words in caught.value.message


def test_cover_choices_for_the_engine():
    blue = cover_choices.linear_from_hex("#3366cc")
    pad = cover_choices.CoverChoices(fit="pad", background="color", colour=blue, model="auto").checked()
    assert pad.background_spec(linear_light=False) == "#3366cc" and pad.options().model == "auto"
    assert pad.background_spec(linear_light=True) == "#08229a"        # the same colour in linear light
    assert cover_choices.CoverChoices(fit="pad", colour=blue).background_spec(False) == "blur"
    assert cover_choices.model_choices()[:2] == ("auto", "realesr-animevideov3")


def srgb_to_linear(byte):   # independent of the plug-in: sRGB byte -> linear, as GEGL stores "#rrggbb"
    value = byte / 255
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def test_colour_hex_in_the_pictures_tone_curve():
    for red, green, blue in [(0x33, 0x66, 0xcc), (0, 0, 0), (255, 255, 255), (1, 2, 3), (0x20, 0x20, 0x20)]:
        linear = (srgb_to_linear(red), srgb_to_linear(green), srgb_to_linear(blue))
        assert cover_choices.colour_hex(linear, linear_light=False) == f"#{red:02x}{green:02x}{blue:02x}"
        assert cover_choices.linear_from_hex(f"#{red:02x}{green:02x}{blue:02x}") == pytest.approx(linear)
        assert cover_choices.colour_hex(linear, linear_light=True) == \
            "#" + "".join(f"{round(v * 255):02x}" for v in linear)
    assert cover_choices.colour_hex((0.5, 0.5, 0.5), linear_light=True) == "#808080"
    assert cover_choices.colour_hex((0.5, 0.5, 0.5), linear_light=False) == "#bcbcbc"
    assert cover_choices.colour_hex((-0.1, 1.5, 0.5), linear_light=False) == "#00ffbc"    # clamped


def test_transfer_says_whether_values_are_linear_light():
    assert formats.layer_transfer("float-linear", False, True).linear_light
    assert formats.layer_transfer("u16-linear", True, False).linear_light
    assert not formats.layer_transfer("u8-non-linear", False, True).linear_light
    assert not formats.layer_transfer("half-perceptual", True, True).linear_light


def test_installed_models_are_read_from_the_weights_folder(tmp_path):
    assert cover_choices.is_installed("auto", None)
    assert not cover_choices.is_installed("realesr-animevideov3", tmp_path)
    (tmp_path / "realesr-animevideov3.pth").write_bytes(b"x")
    assert cover_choices.is_installed("realesr-animevideov3", tmp_path)
    (tmp_path / "realesr-general-x4v3.pth").write_bytes(b"x")
    assert not cover_choices.is_installed("realesr-general-x4v3", tmp_path)    # needs its denoise twin too
    (tmp_path / "realesr-general-wdn-x4v3.converted.safetensors").write_bytes(b"x")
    assert cover_choices.is_installed("realesr-general-x4v3", tmp_path)
    assert not cover_choices.is_installed("realesr-animevideov3", None)


def test_cover_summary():
    reasons = (Reason("model_chosen", {"model": "realesr-animevideov3"}), Reason("crop_all_faces", {"faces": 5}))
    text = cover_choices.summary(Extent(1280, 720), "video-16x9", reasons, "en_US.UTF-8")
    assert text == ("Cover 1280x720 (video-16x9):\n• using realesr-animevideov3 (chosen by you)\n"
                    "• crop placed around the 5 faces found")
    assert cover_choices.summary(Extent(480, 270), "custom", reasons[:1]).startswith("Cover 480x270:")
    assert cover_choices.summary(Extent(1280, 720), "video-16x9", reasons, "zh_CN.UTF-8").splitlines() == [
        "封面 1280x720 (video-16x9):", "• 使用 realesr-animevideov3（你的选择）", "• 裁剪框围绕找到的 5 张人脸"]


class FakeCoverJob(FakeJob):
    def final_event(self, timeout=None):
        return {"event": "result", "canvas": [0, -10, 4, 4], "model": "m", "faces": [[1, 1, 2, 2]],
                "reasons": [Reason("crop_centred").to_json(), "an older engine's words"], "fit": "pad", "preset": ""}

    def result(self, timeout=None):
        return b"\x00" * 3 * self.extent.pixel_count, self.extent

    extra_payloads = {"background_output": (b"\x07" * 48, Extent(4, 4))}


class FakeCoverClient(FakeClient):
    def submit_cover(self, pixels, fmt, extent, target, options, fit, background):
        self.calls.append(("submit_cover", len(pixels), extent, target, options.model, fit, background))
        return FakeCoverJob(Extent(4, 2))


def test_engine_runner_cover_waits_with_progress_and_reads_the_outcome():
    client, progress = FakeCoverClient(), Recorder()
    runner = engine_run.EngineRunner(client, progress)
    choice = cover_choices.CoverChoices(preset="custom", width=4, height=4, fit="pad", background="color",
                                        colour=cover_choices.linear_from_hex("#070707"))
    outcome = runner.cover(b"\x01" * 12, PixelFormat("uint8", 3), Extent(2, 2), choice.target(), choice.options(),
                           choice.fit, choice.background_spec(linear_light=False))
    assert client.calls == ["start", ("submit_cover", 12, Extent(2, 2), Extent(4, 4), "auto", "pad", "#070707")]
    assert outcome.extent == Extent(4, 2) and outcome.canvas == Bounds(0, -10, 4, 4)
    assert outcome.background == b"\x07" * 48 and outcome.faces == (Bounds(1, 1, 2, 2),)
    assert [r.text("zh_CN") for r in outcome.reasons] == ["裁剪框居中", "an older engine's words"]
    assert progress.events[0] == ("started", "Make cover: starting the engine…")
    assert progress.events[1] == ("started", "Make cover (2x2 → 4x4, pad, auto)…")
    assert [e for e in progress.events if e[0] == "advanced"] == [("advanced", d, 3) for d in (1, 2, 3)]


# ---- the export procedure's pure parts -----------------------------------------------------------------------

from realesrgan_gimp import export_choices  # noqa: E402
from realesrgan_gimp.export_choices import ExportChoices, ExportRequest  # noqa: E402


@pytest.mark.parametrize("size, preset", [
    (Extent(1280, 720), "video-16x9"), (Extent(1920, 1080), "video-16x9-fhd"), (Extent(1080, 1920), "short-9x16"),
    (Extent(900, 383), "article-2.35x1"), (Extent(1080, 1080), "square"),
    (Extent(720, 1280), "custom"), (Extent(1280, 721), "custom"), (Extent(1, 1), "custom"),
])
def test_the_preset_of_the_image_size(size, preset):
    assert export_choices.preset_for_size(size) == preset


def test_preset_limits_in_kb():
    assert export_choices.preset_limit_kb("video-16x9") == 2000
    assert export_choices.preset_limit_kb("note-3x4") == 5000
    assert export_choices.preset_limit_kb("custom") == 0


def test_defaults_follow_the_image_size_and_the_file_name(tmp_path):
    hd = Extent(1280, 720)
    assert ExportChoices(tmp_path / "c.jpg").resolved(hd) == ExportRequest(tmp_path / "c.jpg", "video-16x9",
                                                                           2_000_000, "jpg")
    assert ExportChoices(tmp_path / "c.WEBP").resolved(hd).format == "webp"
    assert ExportChoices(tmp_path / "c.jpeg").resolved(hd).format == "jpg"
    # an odd size: custom, no limit; a name without an export extension gets the format's
    odd = ExportChoices(tmp_path / "cover").resolved(Extent(640, 480))
    assert odd == ExportRequest(tmp_path / "cover.jpg", "custom", None, "jpg")
    assert ExportChoices(tmp_path / "cover.v2", format="png").resolved(hd).path == tmp_path / "cover.v2.png"
    # the article preset takes jpg and png: its first format
    assert ExportChoices(tmp_path / "head", preset="ARTICLE-2.35x1").resolved(hd) == ExportRequest(
        tmp_path / "head.jpg", "article-2.35x1", 2_000_000, "jpg")
    # a limit the user gave wins over the preset's; 0 is none
    assert ExportChoices(tmp_path / "c.jpg", max_kb=150).resolved(hd).max_bytes == 150_000
    assert ExportChoices(tmp_path / "c.jpg", max_kb=0).resolved(hd).max_bytes is None
    assert ExportChoices(tmp_path / "c.png", preset="square").resolved(hd) == ExportRequest(
        tmp_path / "c.png", "square", 2_000_000, "png")


@pytest.mark.parametrize("path, other, words", [
    (None, {}, "Choose the file"),
    ("c.png", {"format": "jpg"}, "'c.png' says PNG but the format is JPEG"),
    ("c.jpg", {"format": "gif"}, "not 'gif'"),
    ("c.jpg", {"preset": "poster"}, "Unknown cover preset 'poster'"),
    ("c.jpg", {"max_kb": -2}, "0 (none) to 1,000,000 KB"),
    ("c.jpg", {"max_kb": 1_000_001}, "not 1000001"),
])
def test_bad_export_choices_are_engine_errors(tmp_path, path, other, words):
    with pytest.raises(EngineError) as caught:
        ExportChoices(tmp_path / path if path else None, **other).resolved(Extent(1280, 720))
    assert caught.value.kind == Kind.BAD_INPUT and words in caught.value.message


def test_export_choice_labels_in_english_and_chinese():
    english, chinese = dict(export_choices.preset_choices("en_US")), dict(export_choices.preset_choices("zh_CN"))
    assert list(english) == ["auto"] + [nick for nick, _ in cover_choices.preset_entries("")]
    assert english["auto"].startswith("The preset of the image's size") and chinese["auto"].startswith("与图像尺寸")
    assert chinese["video-16x9"] == "视频封面 16:9（高清） — 1280x720"
    assert english["custom"].startswith("Custom (no preset") and chinese["custom"].startswith("自定义（无预设")
    assert [nick for nick, _ in export_choices.format_choices("")] == ["auto", "jpg", "png", "webp"]
    assert dict(export_choices.format_choices("zh_CN"))["auto"].startswith("按文件扩展名")


def test_saved_message():
    path = Path("/covers/cover.jpg")
    assert export_choices.saved_message(path, "jpg", 85, 8, 1_912_334, 2_000_000, "en_US.UTF-8") == \
        "Saved /covers/cover.jpg: JPEG quality 85, 1,912,334 bytes (limit 2,000,000)"
    assert export_choices.saved_message(path, "jpg", 85, 8, 1_912_334, 2_000_000, "zh_CN") == \
        "已保存 /covers/cover.jpg：JPEG 质量 85，1,912,334 字节（上限 2,000,000）"
    assert export_choices.saved_message(Path("c.png"), "png", None, 8, 5000, None) == \
        "Saved c.png: PNG (lossless), 5,000 bytes (no size limit)"
    assert export_choices.saved_message(Path("c.png"), "png", None, 6, 5000, 6000) == \
        "Saved c.png: PNG posterised to 6 bits a channel, 5,000 bytes (limit 6,000)"
    assert export_choices.saved_message(Path("c.webp"), "webp", 40, 8, 10, None) == \
        "Saved c.webp: WebP quality 40, 10 bytes (no size limit)"


@pytest.mark.parametrize("nick, babl", [
    ("u8-linear", "R'G'B'A u8"), ("u16-linear", "R'G'B'A u16"), ("float-linear", "R'G'B'A float"),
    ("half-perceptual", "R'G'B'A half"), ("u32-linear", "R'G'B'A float"), ("u8-non-linear", "R'G'B'A u8"),
])
def test_export_reads_every_precision_in_the_srgb_tone_curve(nick, babl):
    transfer = formats.export_transfer(nick, False, True)
    assert transfer.babl == babl and not transfer.linear_light
    assert formats.export_transfer(nick, True, False).babl == "Y' " + babl.split(" ")[1]


class FakeExportJob:
    def wait(self, on_progress=None, is_cancelled=None):
        on_progress(1, 1)
        return b"", Extent(0, 0)

    def result(self, timeout=None):
        return b"", Extent(0, 0)

    def final_event(self, timeout=None):
        return {"event": "result", "path": "/out/c.jpg", "format": "jpg", "quality": 80, "bits": 8,
                "bytes": 1234, "description": "JPEG quality 80, 1,234 bytes"}


class FakeExportClient(FakeClient):
    def submit_export(self, pixels, fmt, extent, path, max_bytes=None, export_format=None):
        self.calls.append(("submit_export", len(pixels), fmt, extent, path, max_bytes, export_format))
        return FakeExportJob()


def test_engine_runner_export_waits_with_progress_and_reads_the_outcome():
    client, progress = FakeExportClient(), Recorder()
    runner = engine_run.EngineRunner(client, progress)
    outcome = runner.export(b"\x01" * 12, PixelFormat("uint8", 3), Extent(2, 2), Path("/out/c.jpg"), 5000, "jpg")
    assert client.calls == ["start", ("submit_export", 12, PixelFormat("uint8", 3), Extent(2, 2),
                                      Path("/out/c.jpg"), 5000, "jpg")]
    assert (outcome.path, outcome.format, outcome.quality, outcome.bytes) == (Path("/out/c.jpg"), "jpg", 80, 1234)
    assert progress.events == [("started", "Export cover: starting the engine…"),
                               ("started", "Export cover (2x2 → c.jpg)…"), ("advanced", 1, 1)]
