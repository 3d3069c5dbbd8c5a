"""What an editor does before a run (run_question, on run_estimate): the speed it looks up without knowing the
engine's set-up, when it asks (a run of more than about a minute, a result above the pixel limit), the question in
English and Simplified Chinese, and what Yes, No, a script and a refusal by the engine lead to."""
from __future__ import annotations

import json

import numpy as np
import pytest

from krita_realesrgan.common import run_question
from krita_realesrgan.common.cover_presets import preset, upscaled_size
from krita_realesrgan.engine import Upscaler
from krita_realesrgan.common.errors import Cancelled, EngineError, Kind
from krita_realesrgan.common.formats import DEFAULT_MAX_PIXELS, PixelFormat, UpscaleOptions
from krita_realesrgan.common.geometry import Extent
from krita_realesrgan.common.run_estimate import TILE_WORKSPACE_BYTES, SpeedRecord, estimate, network_passes

RGBA8 = PixelFormat("uint8", 4)
MODEL = "realesr-animevideov3"


def speeds_file(tmp_path, entries):
    path = tmp_path / "speed.json"
    path.write_text(json.dumps(entries))
    return SpeedRecord(path)


# ---- the speed an editor looks up ----

def test_slowest_set_up_for_the_model_on_the_chosen_device(tmp_path):
    speeds = speeds_file(tmp_path, {
        f"{MODEL}|openvino CPU|fp32": 2.0, f"{MODEL}|openvino CPU|bf16": 1.0, f"{MODEL}|torch cuda:0|fp16": 0.05,
        "RealESRGAN_x4plus|torch cpu|fp32": 30.0, "junk": 5, f"{MODEL}|torch cpu|fp32": "fast",
        f"{MODEL}|torch mps|fp32": float("nan")})
    assert speeds.slowest(MODEL) == 2.0                    # any device: the slowest
    assert speeds.slowest(MODEL, "auto") == 2.0
    assert speeds.slowest(MODEL, "cuda") == 0.05           # only the CUDA set-ups
    assert speeds.slowest(MODEL, "cpu") == 2.0
    assert speeds.slowest(MODEL, "mps") == 2.0             # no usable record there: all set-ups
    assert speeds.slowest(f"/some/folder/{MODEL}.pth") is None   # a file model is keyed by its file name
    assert speeds.slowest("RealESRGAN_x2plus") is None     # never ran here
    assert speeds.slowest(None) == 30.0                    # any model (the cover's "auto")


def test_a_tiny_run_moves_the_speed_by_its_few_pixels(tmp_path):
    speeds = SpeedRecord(tmp_path / "speed.json")
    speeds.add(MODEL, "openvino CPU", "fp32", seconds=30.0, megapixels=1.0)
    assert speeds.seconds_per_megapixel(MODEL, "openvino CPU", "fp32") == pytest.approx(30.0)
    speeds.add(MODEL, "openvino CPU", "fp32", seconds=0.3, megapixels=0.002)   # 150 s/MP: mostly fixed costs
    assert speeds.seconds_per_megapixel(MODEL, "openvino CPU", "fp32") == pytest.approx(15.3 / 0.502)
    speeds.add(MODEL, "openvino CPU", "fp32", seconds=40.0, megapixels=1.0)    # a slower large run counts
    assert speeds.seconds_per_megapixel(MODEL, "openvino CPU", "fp32") == pytest.approx(47.65 / 1.251)
    # an older file's plain numbers are still read, and the next run folds into them
    old = speeds_file(tmp_path, {f"{MODEL}|torch cpu|fp32": 12.0, f"{MODEL}|torch cpu|bf16": True})
    assert old.seconds_per_megapixel(MODEL, "torch cpu", "fp32") == 12.0 and old.slowest(MODEL) == 12.0
    old.add(MODEL, "torch cpu", "fp32", seconds=20.0, megapixels=2.0)
    assert old.seconds_per_megapixel(MODEL, "torch cpu", "fp32") == pytest.approx(26.0 / 2.5)


def test_slowest_reads_what_the_engine_records(tmp_path, shared_weights):
    """A real run writes the record an editor then finds, whatever the backend chose."""
    upscaler = Upscaler(shared_weights)
    upscaler.speeds = SpeedRecord(tmp_path / "speed.json")
    assert upscaler.speeds.slowest(MODEL, "cpu") is None
    image = np.random.default_rng(3).integers(0, 256, (48, 40, 3), dtype=np.uint8)
    upscaler.upscale(image, PixelFormat("uint8", 3), UpscaleOptions(model=MODEL, device="cpu"))
    measured = upscaler.speeds.slowest(MODEL, "cpu")
    assert measured is not None and 0 < measured < 1000   # seconds per megapixel: loading is not counted
    plan = run_question.plan_upscale(Extent(40, 48), PixelFormat("uint8", 3),
                                     UpscaleOptions(model=MODEL, device="cpu", scale=4), upscaler.speeds)
    assert plan.estimate.seconds == pytest.approx(measured * 40 * 48 / 1e6)


def test_network_passes_is_one_rule():
    assert network_passes(Extent(30, 24), Extent(240, 192), 4) == 2
    assert network_passes(Extent(30, 24), Extent(120, 96), 4) == 1
    assert network_passes(Extent(10, 10), Extent(10, 10), 4) == 1


def test_unknown_network_memory_counts_the_whole_tile_budget():
    known = estimate(Extent(100, 100), Extent(400, 400), 3, 1, None, network_bytes_per_pixel=2000)
    unknown = estimate(Extent(100, 100), Extent(400, 400), 3, 1, None, network_bytes_per_pixel=None)
    assert unknown.memory_bytes - known.memory_bytes == TILE_WORKSPACE_BYTES - 2000 * 100 * 100


# ---- when an editor asks ----

def plan_for(tmp_path, source, scale=4.0, seconds_per_megapixel=None, model=MODEL, max_pixels=DEFAULT_MAX_PIXELS):
    entries = {f"{model}|openvino CPU|fp32": seconds_per_megapixel} if seconds_per_megapixel else {}
    options = UpscaleOptions(model=model, target=source.scaled(scale), max_pixels=max_pixels)
    return run_question.plan_upscale(source, RGBA8, options, speeds_file(tmp_path, entries))


def test_a_run_of_more_than_about_a_minute_asks(tmp_path):
    source = Extent(1000, 1000)   # 1 megapixel through the network
    assert not plan_for(tmp_path, source, seconds_per_megapixel=59.0).needs_consent
    long = plan_for(tmp_path, source, seconds_per_megapixel=61.0)
    assert long.long and long.needs_consent and not long.over_limit
    # x16 with a x4 network: two passes, the second on 16 megapixels
    two_passes = plan_for(tmp_path, source, scale=16, seconds_per_megapixel=3.6)
    assert two_passes.estimate.seconds == pytest.approx(3.6 * 17) and two_passes.long


def test_an_unknown_speed_asks_only_above_the_limit(tmp_path):
    assert not plan_for(tmp_path, Extent(4000, 4000)).needs_consent   # 16000x16000: minutes, but not measured
    big = plan_for(tmp_path, Extent(4100, 4100))                      # 16400x16400: above 16384x16384
    assert big.estimate.seconds is None and big.over_limit and big.needs_consent


def test_the_limit(tmp_path):
    source = Extent(5000, 5000)   # x4: 20000x20000 = 400 MP
    assert plan_for(tmp_path, source).over_limit
    assert not plan_for(tmp_path, source, max_pixels=0).over_limit              # 0 = no limit
    assert not plan_for(tmp_path, Extent(100, 100), max_pixels=160_000).over_limit   # exactly the limit
    assert plan_for(tmp_path, Extent(100, 100), max_pixels=159_999).over_limit
    x2 = plan_for(tmp_path, Extent(100, 100), scale=2, model="RealESRGAN_x2plus", max_pixels=40_000)
    assert x2.estimate.result == Extent(200, 200) and not x2.over_limit


# ---- the question ----

def test_the_question_says_size_memory_time_and_the_limit(tmp_path):
    plan = plan_for(tmp_path, Extent(5000, 5000), seconds_per_megapixel=12.0)   # 25 MP in: 300 s
    text = plan.question("Upscale image")
    lines = text.split("\n\n")
    assert lines[0] == "Upscale image: 5000x5000 → 20000x20000 pixels (400 megapixels)."
    memory = plan.estimate.memory_bytes / 1024 ** 3
    assert 400e6 * 20 < plan.estimate.memory_bytes < 425e6 * 20 + 1024 ** 3    # float RGBA + RGBA8 out, and more
    assert lines[1] == f"It needs about {memory:.1f} GB of memory and takes about 5 min."
    assert lines[2] == "That is above the limit of 268 megapixels for one result."
    assert lines[3] == "Start it?"


def test_the_question_in_simplified_chinese(tmp_path):
    plan = plan_for(tmp_path, Extent(1000, 1000), seconds_per_megapixel=7200.0)   # two hours
    text = plan.question("放大图像", "zh_CN")
    assert text.startswith("放大图像：1000x1000 → 4000x4000 像素（16 百万像素）。")
    assert "耗时约 2.0 小时" in text and "上限" not in text and text.endswith("要开始吗？")


def test_pixel_counts_in_words():
    assert [run_question.pixels_text(n) for n in (1600, 99_999, 250_000, 7_200_000, 400_000_000, 1_296_000_000)] == [
        "1,600 pixels", "99,999 pixels", "0.2 megapixels", "7.2 megapixels", "400 megapixels", "1.3 gigapixels"]
    assert run_question.pixels_text(16, "zh_CN") == "16 像素"
    assert run_question.duration_text(5400, "zh") == "1.5 小时" and run_question.duration_text(89.6) == "90 s"


def test_the_question_without_a_measured_time(tmp_path):
    text = plan_for(tmp_path, Extent(9000, 9000), scale=2).question("Enhance")
    assert "not known yet" in text and "above the limit of 268 megapixels" in text
    assert "324 megapixels" in text


def test_the_cover_question_names_the_final_size(tmp_path):
    speeds = speeds_file(tmp_path, {"RealESRGAN_x4plus|torch cpu|fp32": 40.0, f"{MODEL}|torch cpu|fp32": 1.0})
    options = UpscaleOptions(model="auto")
    plan = run_question.plan_cover(Extent(900, 500), RGBA8, "video-16x9-fhd", "cover", options, speeds)
    assert plan.estimate.result == Extent(3600, 2000) and plan.final == upscaled_size(
        Extent(900, 500), preset("video-16x9-fhd").size, "cover")
    assert plan.estimate.seconds == pytest.approx(40.0 * 0.45)    # auto: the slowest model recorded
    assert plan.question("Make cover").startswith(
        f"Make cover: 900x500 → 3600x2000 pixels (7.2 megapixels) through the network, then resized to "
        f"{plan.final}.")
    # a picture already large enough is only reduced: nothing to ask
    assert run_question.plan_cover(Extent(4000, 3000), RGBA8, Extent(1280, 720), "cover", options, speeds) is None
    pad = run_question.plan_cover(Extent(900, 500), RGBA8, Extent(4000, 4000), "pad", options.with_(
        model=MODEL, max_pixels=1_000_000), speeds)
    assert pad.estimate.result == Extent(3600, 2000) and pad.over_limit and pad.final == Extent(4000, 2222)


# ---- what the answers lead to ----

class Submissions:
    def __init__(self, refuse_first=False):
        self.options, self.refuse_first = [], refuse_first

    def __call__(self, options):
        self.options.append(options)
        if self.refuse_first and len(self.options) == 1:
            raise EngineError(Kind.TOO_LARGE, "The result would be too large.")
        return "done"


class Answers:
    def __init__(self, *answers):
        self.answers, self.asked = list(answers), []

    def __call__(self, plan):
        self.asked.append(plan)
        return self.answers.pop(0)


def options_for(plan):
    return UpscaleOptions(model=MODEL, target=plan.estimate.result, max_pixels=plan.max_pixels)


def test_no_submits_nothing(tmp_path):
    plan = plan_for(tmp_path, Extent(5000, 5000))
    submit, ask = Submissions(), Answers(False)
    with pytest.raises(Cancelled):
        run_question.run_with_consent(plan, options_for(plan), submit, ask)
    assert submit.options == [] and ask.asked == [plan]


def test_yes_above_the_limit_runs_without_it(tmp_path):
    plan = plan_for(tmp_path, Extent(5000, 5000))
    submit = Submissions()
    assert run_question.run_with_consent(plan, options_for(plan), submit, Answers(True)) == "done"
    assert [o.max_pixels for o in submit.options] == [0]


def test_yes_to_a_long_run_keeps_the_limit(tmp_path):
    plan = plan_for(tmp_path, Extent(1000, 1000), seconds_per_megapixel=100.0)
    submit = Submissions()
    run_question.run_with_consent(plan, options_for(plan), submit, Answers(True))
    assert [o.max_pixels for o in submit.options] == [DEFAULT_MAX_PIXELS]


def test_a_short_run_is_not_asked_about(tmp_path):
    plan = plan_for(tmp_path, Extent(100, 100), seconds_per_megapixel=100.0)
    submit, ask = Submissions(), Answers()
    run_question.run_with_consent(plan, options_for(plan), submit, ask)
    assert ask.asked == [] and len(submit.options) == 1


def test_a_script_is_never_asked(tmp_path):
    over = plan_for(tmp_path, Extent(100, 100), max_pixels=1000)
    submit = Submissions()
    with pytest.raises(EngineError) as caught:
        run_question.run_with_consent(over, options_for(over), submit, None, "pass a larger max-pixels argument")
    assert caught.value.kind == Kind.TOO_LARGE and submit.options == []
    assert caught.value.message == ("The result would be 400x400 pixels (160,000 pixels), above the limit of "
                                    "1,000 pixels. Choose a smaller scale or a smaller picture, or pass a larger "
                                    "max-pixels argument.")
    long = plan_for(tmp_path, Extent(1000, 1000), seconds_per_megapixel=100.0)
    assert run_question.run_with_consent(long, options_for(long), submit, None) == "done"


def test_the_engines_refusal_asks_the_same_question_then_runs_without_the_limit(tmp_path):
    plan = plan_for(tmp_path, Extent(100, 100))        # the plan saw nothing to ask about
    submit, ask = Submissions(refuse_first=True), Answers(True)
    assert run_question.run_with_consent(plan, options_for(plan), submit, ask) == "done"
    assert [o.max_pixels for o in submit.options] == [DEFAULT_MAX_PIXELS, 0]
    assert len(ask.asked) == 1 and ask.asked[0].over_limit
    assert "above the limit of 268 megapixels" in ask.asked[0].question("Enhance")


def test_no_to_the_engines_refusal_and_a_script_keep_the_refusal(tmp_path):
    plan = plan_for(tmp_path, Extent(100, 100))
    submit = Submissions(refuse_first=True)
    with pytest.raises(Cancelled):
        run_question.run_with_consent(plan, options_for(plan), submit, Answers(False))
    assert len(submit.options) == 1
    with pytest.raises(EngineError) as caught:
        run_question.run_with_consent(plan, options_for(plan), Submissions(refuse_first=True), None)
    assert caught.value.kind == Kind.TOO_LARGE
