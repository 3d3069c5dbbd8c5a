"""cover_reasons: every reason has English and Chinese words, travels as JSON, and survives an unknown key."""
from __future__ import annotations

import json
import re
import string

import pytest

from krita_realesrgan.cover import content as cover_content
from krita_realesrgan.common.cover_reasons import KINDS, TEMPLATES, TEXT, Reason
from krita_realesrgan.common.translate import translate

SAMPLE = {"text": "words", "palette": 0.5312, "flat": 0.2911, "colours": 16, "model": "RealESRGAN_x4plus",
          "kind": "photo", "best": "RealESRGAN_x4plus", "hint": "python3 installer.py --models RealESRGAN_x4plus",
          "source": "566x350", "size": "1280x720", "native": "2264x1400", "native_scale": 4, "factor": 2.0571,
          "device": "cpu", "faces": 5, "kept": 3, "colour": "#3366cc", "format": "JPEG", "quality": 85,
          "bits": 6, "bytes": 1912334, "part": "448x276", "restored": 3, "small": 2, "many": 0}


def _fields(template: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_both_languages_take_the_same_arguments_and_chinese_is_chinese(key):
    english = TEMPLATES[key]
    assert _fields(english) == _fields(translate(english, "zh_CN"))
    reason = Reason(key, {name: SAMPLE[name] for name in _fields(english)})
    assert reason.text("en") == str(reason) and reason.text("") == str(reason)
    if key != TEXT:
        assert re.search(r"[\u4e00-\u9fff]", reason.text("zh_CN")), reason.text("zh_CN")
        # the Chinese text has no English words beyond the arguments' own values
        rest = reason.text("zh_CN")
        for value in sorted(map(str, reason.args.values()), key=len, reverse=True):
            rest = rest.replace(value, "")
        assert not re.search(r"[A-Za-z]{3,}", rest), rest
    assert reason.text("zh-Hans") == reason.text("zh_CN.UTF-8")


def test_json_round_trip_and_fallbacks():
    reason = Reason("crop_largest_faces", {"faces": 5, "kept": 3})
    wire = json.loads(json.dumps(reason.to_json()))
    assert wire["text"] == "5 faces found but they do not all fit; crop placed around the 3 largest"
    assert Reason.from_json(wire) == reason
    assert Reason.from_json(wire).text("zh_CN") == "找到 5 张人脸，但放不下全部；裁剪框围绕最大的 3 张"
    newer = {"key": "something_new", "args": {"x": 1}, "text": "a newer engine's reason"}
    assert Reason.from_json(newer).text("zh_CN") == "a newer engine's reason"
    changed = {"key": "crop_all_faces", "args": {"count": 2}, "text": "crop placed around 2 faces"}
    assert Reason.from_json(changed).text("zh_CN") == "crop placed around 2 faces"
    assert Reason.from_json("plain words").text("zh_CN") == "plain words"
    # what another engine (the service may be another computer's) sends is words at worst, never an exception
    for odd in ({"key": ["crop_all_faces"], "text": "odd key"}, {"key": "model_best_installed", "text": "odd kind",
                "args": {"kind": ["photo"], "model": "x"}}, {"key": "crop_all_faces", "args": [1, 2], "text": "odd"}):
        assert Reason.from_json(odd).text("zh_CN") == odd["text"]


def test_content_kinds_are_translated_and_match_the_model_preferences():
    assert set(KINDS) == set(cover_content.PREFERRED)
    guess = cover_content.ContentGuess("anime", 0.53, 0.29)
    assert guess.explain().text("en").startswith("looks like an illustration (53% of the pixels")
    _, reasons = cover_content.choose_model(guess, [{"name": "realesr-animevideov3", "available": True}])
    assert reasons[-1].text("zh_CN") == "使用 realesr-animevideov3，已安装的最合适的动漫/插画模型"
