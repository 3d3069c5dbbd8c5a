"""The Krita plugin in a real Krita 5.1: installed as a user would (installer.py into a temporary HOME), each
action driven through the plugin's own code (``tests/krita/scenarios.py`` inside ``kritarunner``), the saved
documents re-opened and dumped, and checked here against the engine's own output for the same input."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from krita_plugin_layout import PACKAGE, REPO

pytestmark = [pytest.mark.krita, pytest.mark.slow]

KRITA_TESTS = Path(__file__).resolve().parent / "krita"
SCENARIOS = ("upscale_image_rgba8", "upscale_image_merged", "enhance_selection_u16", "enhance_gray",
             "enhance_float32", "selection_to_document_rgba8", "cancel_leaves_document_unchanged",
             "failure_leaves_document_unchanged", "cmyk_offers_converted_copy", "extension_messages",
             "long_run_asks_first",
             "cover_photo_preset", "cover_cartoon_pad", "cover_cancel", "cover_extension_cmyk", "export_photo_cover",
             "export_16_and_float", "export_errors", "device_choice", "restore_faces", "engine_service")
MODEL = "realesr-animevideov3"
ONLY_ENV = "KRITA_TEST_SCENARIOS"   # e.g. "cover_cancel,cover_cartoon_pad": run only these (the rest are skipped)
KRITA_TIMEOUT_S = 720
DTYPES = {"uint8": np.uint8, "uint16": np.uint16, "float16": np.float16, "float32": np.float32}


def krita_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KRITA_REALESRGAN", "XDG_"))}
    env.update(HOME=str(home), QT_QPA_PLATFORM="offscreen", KRITA_REALESRGAN_LANG="en",
               XDG_RUNTIME_DIR=str(home / "runtime"))
    (home / "runtime").mkdir(mode=0o700, exist_ok=True)
    return env


def install_plugin(home: Path, weights: Path) -> Path:
    """Install the way a user does: installer.py with the venv's python as engine and local weights."""
    command = [sys.executable, str(REPO / "installer.py"), "--engine-python", sys.executable,
               "--weights-from", str(weights), "--models", MODEL, "--no-gimp", "--offline"]
    done = subprocess.run(command, env=krita_env(home), capture_output=True, text=True, timeout=300)
    pykrita = home / ".local" / "share" / "krita" / "pykrita"
    assert done.returncode == 0, done.stdout + done.stderr
    assert (pykrita / f"{PACKAGE}.desktop").exists() and (pykrita / PACKAGE / "krita_realesrgan" / "common" / "client.py").exists()
    assert "enable_realesrgan_upscale=true" in (home / ".config" / "kritarc").read_text()
    return pykrita


class KritaRun:
    def __init__(self, out: Path, results: dict, wall: float, startup: float):
        self.out, self.results, self.wall, self.startup = out, results, wall, startup

    def scenario(self, name: str) -> dict:
        if name not in self.results and name not in chosen_scenarios():
            pytest.skip(f"{name} is not in {ONLY_ENV}")
        result = self.results.get(name)
        assert result is not None, f"{name} did not run: {json.dumps(self.results)[:2000]}"
        assert result["ok"], result.get("error")
        return result

    def document(self, name: str, tag: str) -> dict:
        folder = self.out / name
        facts = json.loads((folder / f"{tag}.json").read_text())
        for layer in facts["layers"]:
            layer["pixels"] = read_raw(folder / layer["file"])
        return facts

    def before_after(self, name: str):
        """The scenario's notes and its source document as dumped before and after the action."""
        return self.scenario(name), self.document(name, "before"), self.document(name, "after")

    def selection(self, name: str) -> np.ndarray:
        return read_raw(self.out / name / "selection.raw")[:, :, 0]


def chosen_scenarios() -> tuple:
    only = [name for name in os.environ.get(ONLY_ENV, "").split(",") if name]
    unknown = set(only) - set(SCENARIOS)
    assert not unknown, f"{ONLY_ENV} names unknown scenarios: {sorted(unknown)}"
    return tuple(only) or SCENARIOS


def read_raw(path: Path) -> np.ndarray:
    from krita_realesrgan.common import rawimage
    fmt, extent, data = rawimage.read(path)
    return np.frombuffer(data, DTYPES[fmt.dtype]).reshape(extent.height, extent.width, fmt.channels)


def stage_face_weights(folder: Path, weights: Path) -> dict:
    """What restore_faces puts into the weights folder for its run (and takes out again): GFPGANv1.4.pth with
    random weights in the release's layout (loads and runs like the real one, which cannot be downloaded here),
    and a photo model (animevideov3's weights as a user's own file: not an anime catalog model)."""
    import torch
    import netbuilders
    folder.mkdir()
    torch.save({"params_ema": netbuilders.gfpgan()}, folder / "GFPGANv1.4.pth")
    shutil.copy(weights / f"{MODEL}.pth", folder / "photo-net.pth")
    return {"gfpgan": str(folder / "GFPGANv1.4.pth"), "photo": str(folder / "photo-net.pth")}


class LoopbackService:
    """``krita-realesrgan serve --listen 127.0.0.1:PORT --token-file`` started by the test (for engine_service);
    ``spec`` is what the scenario reads from ``KRITA_TEST_SERVICE``. It stops itself after the default idle
    timeout should the test not get to ``stop``."""

    def __init__(self, folder: Path, weights: Path):
        import secrets
        import socket
        folder.mkdir()
        token = folder / "token"
        token.write_text(secrets.token_urlsafe(16) + "\n")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.errors = folder / "service.err"
        with open(self.errors, "wb") as errors:
            self.popen = subprocess.Popen([sys.executable, "-m", "krita_realesrgan", "serve", "--listen",
                                           f"127.0.0.1:{port}", "--token-file", str(token), "--weights-dir",
                                           str(weights), "--log", str(folder / "service.log")],
                                          cwd=REPO, stdin=subprocess.DEVNULL, stderr=errors)
        self.spec = {"address": f"127.0.0.1:{port}", "token_file": str(token), "pid": self.popen.pid}
        deadline = time.monotonic() + 180
        while "listening on" not in self.errors.read_text(errors="replace"):
            assert self.popen.poll() is None and time.monotonic() < deadline, self.errors.read_text()
            time.sleep(0.2)

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


@pytest.fixture(scope="module")
def krita_run(tmp_path_factory, images, shared_weights):
    if not shutil.which("kritarunner"):
        pytest.skip("Krita is not installed (apt-get install -y krita)")
    home = tmp_path_factory.mktemp("krita-home")
    pykrita = install_plugin(home, shared_weights)
    out = tmp_path_factory.mktemp("krita-out")
    spec = out / "spec.json"
    faces = stage_face_weights(out / "faces-staged", shared_weights) if "restore_faces" in chosen_scenarios() else None
    spec.write_text(json.dumps({"pykrita": str(pykrita), "images": str(images), "out": str(out),
                                "scenarios": list(chosen_scenarios()), "faces": faces}))
    env = dict(krita_env(home), KRITA_SCENARIOS=str(spec), PYTHONPATH=str(KRITA_TESTS))
    service = LoopbackService(out / "service", shared_weights) if "engine_service" in chosen_scenarios() else None
    if service is not None:
        env["KRITA_TEST_SERVICE"] = json.dumps(service.spec)
    started = time.time()
    try:   # a hung Krita must not hang the suite; scenarios that finished are still checked
        done = subprocess.run(["kritarunner", "-s", "scenarios", "-f", "main"], env=env, capture_output=True,
                              text=True, timeout=KRITA_TIMEOUT_S)
        log = f"kritarunner rc={done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    except subprocess.TimeoutExpired as expired:
        log = f"kritarunner ran past {KRITA_TIMEOUT_S} s\n{expired.stdout and expired.stdout[-4000:]}"
    wall = time.time() - started
    if service is not None:
        service.stop()
    results_file = out / "results.json"
    assert results_file.exists(), log
    results = json.loads(results_file.read_text())
    run = KritaRun(out, results, wall, results["main_entered_at"] - started)
    run.service_pid = service.spec["pid"] if service is not None else None
    timings = {name: results[name]["seconds"] for name in SCENARIOS if name in results}
    print(f"\nKrita start-up (fresh profile): {run.startup:.1f} s; whole run {wall:.1f} s; per scenario: {timings}")
    return run


def engine_output(upscaler, image: np.ndarray, target) -> np.ndarray:
    from krita_realesrgan.common.formats import PixelFormat, UpscaleOptions
    from krita_realesrgan.common.geometry import Extent
    fmt = PixelFormat(image.dtype.name, image.shape[2])
    result = upscaler.upscale(np.ascontiguousarray(image), fmt, UpscaleOptions(model=MODEL, target=Extent(*target)))
    out = result.image
    return out.reshape(out.shape[0], out.shape[1], -1)


def level(dtype) -> float:
    """One 8-bit level in the units of ``dtype``."""
    return {np.uint8: 1, np.uint16: 257}.get(np.dtype(dtype).type, 1 / 255)


def assert_close(actual: np.ndarray, expected: np.ndarray, what: str):
    assert actual.shape == expected.shape, f"{what}: {actual.shape} != {expected.shape}"
    diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    tolerance = level(actual.dtype) * (1 + 1e-6)
    assert diff.max() <= tolerance, f"{what}: max difference {diff.max()} > {tolerance} at " \
                                    f"{np.unravel_index(diff.argmax(), diff.shape)}"


def layer_names(doc: dict):
    return [layer["name"] for layer in doc["layers"]]


def assert_same_document(a: dict, b: dict):
    assert (a["width"], a["height"], a["colorModel"], a["colorDepth"]) == \
           (b["width"], b["height"], b["colorModel"], b["colorDepth"])
    assert layer_names(a) == layer_names(b)
    for x, y in zip(a["layers"], b["layers"]):
        assert x["bounds"] == y["bounds"]
        np.testing.assert_array_equal(x["pixels"], y["pixels"])


def masked(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = image.copy()
    alpha = image[..., -1].astype(np.float64) * mask / 255.0
    out[..., -1] = np.floor(alpha + 0.5).astype(image.dtype) if image.dtype.kind == "u" else alpha
    return out


# ---- the actions ----

def test_upscale_image_scales_the_document_and_adds_the_ai_layer(krita_run, upscaler):
    krita_run.scenario("upscale_image_rgba8")
    before = krita_run.document("upscale_image_rgba8", "before")
    after = krita_run.document("upscale_image_rgba8", "after")
    assert (before["width"], before["height"]) == (256, 160)
    assert (after["width"], after["height"]) == (512, 320)
    assert layer_names(after) == ["Background", f"Real-ESRGAN ×2 ({MODEL}) — Background", "marker"]
    new = after["layers"][1]
    assert (new["colorModel"], new["colorDepth"]) == ("RGBA", "U8")
    expected = engine_output(upscaler, before["layers"][0]["pixels"], (512, 320))
    assert_close(new["pixels"], expected, "AI layer vs engine")
    # the other layers are scaled by Krita's own filter
    marker = after["layers"][2]
    assert marker["bounds"] == [20, 20, 80, 60]
    assert marker["pixels"][50, 60].tolist() == [200, 60, 30, 255]
    import cv2
    scaled = after["layers"][0]["pixels"].astype(int)
    reference = cv2.resize(before["layers"][0]["pixels"], (512, 320), interpolation=cv2.INTER_CUBIC).astype(int)
    assert np.abs(scaled[..., 3] - reference[..., 3]).mean() < 1
    opaque = (scaled[..., 3] == 255) & (reference[..., 3] == 255)   # colour under transparency is undefined
    assert opaque.mean() > 0.3 and np.abs(scaled[opaque][:, :3] - reference[opaque][:, :3]).mean() < 2


def test_upscale_image_from_the_merged_image(krita_run, upscaler):
    krita_run.scenario("upscale_image_merged")
    before = krita_run.document("upscale_image_merged", "before")
    after = krita_run.document("upscale_image_merged", "after")
    assert (after["width"], after["height"]) == (192, 144)
    assert layer_names(after) == ["Background", f"Real-ESRGAN ×1.5 ({MODEL}) — merged image"]
    assert after["layers"][1]["colorModel"] == "GRAYA"
    expected = engine_output(upscaler, before["layers"][0]["pixels"], (192, 144))
    assert_close(after["layers"][1]["pixels"], expected, "merged AI layer vs engine")


def enhanced_selection(upscaler, image: np.ndarray, selection, mask=None, margin: int = 16) -> np.ndarray:
    """What Enhance should give for ``selection`` (x, y, w, h) of ``image``: the engine run on the selection plus
    ``margin`` of context (clamped to the image), cut back to the selection, on an otherwise empty layer."""
    x, y, w, h = selection
    x0, y0 = max(0, x - margin), max(0, y - margin)
    x1, y1 = min(image.shape[1], x + w + margin), min(image.shape[0], y + h + margin)
    enhanced = engine_output(upscaler, image[y0:y1, x0:x1], (x1 - x0, y1 - y0))[y - y0:y - y0 + h, x - x0:x - x0 + w]
    expected = np.zeros_like(image)
    expected[y:y + h, x:x + w] = enhanced if mask is None else masked(enhanced, mask[y:y + h, x:x + w])
    return expected


def test_enhance_a_feathered_selection_in_16_bit(krita_run, upscaler):
    notes, before, after = krita_run.before_after("enhance_selection_u16")
    mask = krita_run.selection("enhance_selection_u16")
    assert notes["selection"] == [100, 60, 120, 90]
    assert 0 < mask[60, 100] < 255 and mask[100, 150] == 255 and mask[59, 100] == 0  # soft edges
    assert layer_names(after) == ["Background", f"Real-ESRGAN enhanced ({MODEL}) — Background"]
    assert (after["width"], after["height"], after["layers"][1]["colorDepth"]) == (342, 256, "U16")
    expected = enhanced_selection(upscaler, before["layers"][0]["pixels"], notes["selection"], mask)
    assert_close(after["layers"][1]["pixels"], expected, "enhanced selection vs engine")
    np.testing.assert_array_equal(after["layers"][0]["pixels"], before["layers"][0]["pixels"])


def test_enhance_a_grey_layer(krita_run, upscaler):
    krita_run.scenario("enhance_gray")
    before = krita_run.document("enhance_gray", "before")
    after = krita_run.document("enhance_gray", "after")
    assert layer_names(after) == ["Background", f"Real-ESRGAN enhanced ({MODEL}) — Background"]
    assert (after["layers"][1]["colorModel"], after["layers"][1]["colorDepth"]) == ("GRAYA", "U8")
    expected = engine_output(upscaler, before["layers"][0]["pixels"], (236, 236))
    assert_close(after["layers"][1]["pixels"], expected, "enhanced grey layer vs engine")


def test_enhance_in_32_bit_float(krita_run, upscaler):
    notes, before, after = krita_run.before_after("enhance_float32")
    assert notes["selection"] == [40, 30, 96, 64]
    assert after["layers"][1]["colorDepth"] == "F32"
    expected = enhanced_selection(upscaler, before["layers"][0]["pixels"], notes["selection"])
    assert_close(after["layers"][1]["pixels"], expected, "float enhanced selection vs engine")


def test_selection_to_new_document(krita_run, upscaler):
    notes = krita_run.scenario("selection_to_document_rgba8")
    before = krita_run.document("selection_to_document_rgba8", "before")
    after = krita_run.document("selection_to_document_rgba8", "after")
    new = krita_run.document("selection_to_document_rgba8", "new")
    assert notes["selection"] == [40, 30, 100, 70]
    assert (new["width"], new["height"], new["colorModel"], new["colorDepth"]) == (200, 140, "RGBA", "U8")
    assert layer_names(new) == [f"Real-ESRGAN ×2 ({MODEL}) — Background"]
    source = before["layers"][0]["pixels"][14:116, 24:156]           # selection + 16 px of context
    expected = engine_output(upscaler, source, (264, 204))[32:172, 32:232]
    assert_close(new["layers"][0]["pixels"], expected, "new document vs engine")
    assert_same_document(before, after)


def test_the_device_list_and_fast_mode(krita_run, upscaler):
    """Backend and device chosen together reach the engine (PyTorch on the CPU gives the OpenVINO result within a
    level); fast where this CPU refuses it is one clear line and the dialog greys it with that reason."""
    from krita_realesrgan.common import device_offers
    from krita_realesrgan.backends import choice
    notes = krita_run.scenario("device_choice")
    report = choice.device_report(choice.probe())
    assert notes["labels"] == [device_offers.label(offer.key) for offer in report.offers]
    assert notes["labels"][:3] == ["Automatic", "CPU — OpenVINO", "CPU — PyTorch"]
    assert notes["chosen"] == "cpu-openvino"
    before = krita_run.document("device_choice", "before")
    after = krita_run.document("device_choice", "after")
    assert layer_names(after) == ["Background", f"Real-ESRGAN ×2 ({MODEL}) — Background"]
    assert_close(after["layers"][1]["pixels"], engine_output(upscaler, before["layers"][0]["pixels"], (128, 96)),
                 "PyTorch on the CPU vs the engine's automatic choice")
    refused = report.fast_refused("cpu-openvino")
    if refused:
        assert notes["fast_outcome"] == "device" and report.cpu in notes["fast_message"], notes
        assert "\n" not in notes["fast_message"]
        assert not notes["fast_enabled"] and notes["fast_hint"] == refused
    else:
        assert notes["fast_outcome"] == "finished" and notes["fast_enabled"], notes


def test_krita_upscales_on_a_service_started_by_the_test(krita_run, upscaler):
    """The "On another computer" setting with a token (a loopback service the test started): Krita's upscale runs
    on that service (its pid in the ready event) with the engine's own result, and "On this computer" is stored
    again afterwards."""
    notes, before, after = krita_run.before_after("engine_service")
    assert notes["pid"] == krita_run.service_pid and notes["stored_after"] == "this"
    assert layer_names(after) == ["Background", f"Real-ESRGAN ×2 ({MODEL}) — Background"]
    assert_close(after["layers"][1]["pixels"], engine_output(upscaler, before["layers"][0]["pixels"], (128, 96)),
                 "the service's upscale vs the engine's")


def test_cancel_leaves_the_saved_document_identical(krita_run):
    notes = krita_run.scenario("cancel_leaves_document_unchanged")
    assert notes["outcome"] == "cancelled", notes
    assert notes["clicked_at"] is not None and notes["clicked_at"][0] < notes["clicked_at"][1]
    assert_same_document(krita_run.document("cancel_leaves_document_unchanged", "before"),
                         krita_run.document("cancel_leaves_document_unchanged", "after"))
    print(f"\ncancel: clicked at tile {notes['clicked_at']}, action ended after {notes['seconds_to_cancel']:.2f} s")


def test_missing_weights_is_a_clear_error_and_leaves_the_document(krita_run):
    notes = krita_run.scenario("failure_leaves_document_unchanged")
    assert notes["outcome"] == "weights_missing", notes
    assert "installer.py --models RealESRGAN_x4plus" in notes["message"]
    assert "krita-realesrgan.log" in notes["message"]
    assert_same_document(krita_run.document("failure_leaves_document_unchanged", "before"),
                         krita_run.document("failure_leaves_document_unchanged", "after"))


def test_cmyk_is_refused_and_a_converted_copy_works(krita_run):
    notes = krita_run.scenario("cmyk_offers_converted_copy")
    assert notes["refused"] and notes["refused"]["convertible"] and "CMYKA" in notes["refused"]["message"]
    assert notes["original_layers"] == ["Background"] and notes["original_model"] == "CMYKA"
    copy = krita_run.document("cmyk_offers_converted_copy", "copy")
    assert copy["colorModel"] == "RGBA"
    assert layer_names(copy) == ["Background", f"Real-ESRGAN enhanced ({MODEL}) — Background"]
    enhanced, converted = copy["layers"][1]["pixels"].astype(int), copy["layers"][0]["pixels"].astype(int)
    assert enhanced[..., 3].min() >= 254                                   # opaque stays opaque
    assert converted[..., :3].reshape(-1, 3).std(axis=0).max() == 0        # the converted copy is flat
    colour = np.abs(enhanced[..., :3] - converted[..., :3])                # and so is its enhanced layer
    assert colour.mean() < 4 and colour.max() <= 8                        # (the network shifts it a little)


def test_extension_reports_errors_and_offers_a_converted_copy(krita_run):
    notes = krita_run.scenario("extension_messages")
    missing = notes["engine_missing"]
    assert len(missing["boxes"]) == 1, missing
    assert "engine" in missing["boxes"][0] and "installer.py" in missing["boxes"][0]
    assert "krita-realesrgan.log" in missing["boxes"][0]
    assert missing["layers"] == ["Background"]
    cmyk = notes["cmyk"]
    assert len(cmyk["boxes"]) == 1 and "CMYKA" in cmyk["boxes"][0] and "converted" in cmyk["boxes"][0]
    assert cmyk["original_layers"] == ["Background"]
    assert cmyk["copies"] == [{"model": "RGBA",
                               "layers": ["Background", f"Real-ESRGAN enhanced ({MODEL}) — Background"]}]


def test_a_long_run_asks_first_and_no_leaves_the_document_unchanged(krita_run):
    notes, before, after = krita_run.before_after("long_run_asks_first")
    asked = notes["no"]["boxes"]
    assert len(asked) == 1, asked
    assert asked[0].startswith("Enhance: 236x236 → 236x236 pixels (55,696 pixels).") and "about 9 min" in asked[0]
    assert asked[0].endswith("Start it?")
    assert notes["no"]["layers"] == ["Background"]
    assert [layer["name"] for layer in after["layers"]] == [layer["name"] for layer in before["layers"]]
    for was, now in zip(before["layers"], after["layers"]):
        assert np.array_equal(was["pixels"], now["pixels"])
    assert len(notes["yes"]["boxes"]) == 1
    assert notes["yes"]["layers"] == ["Background", f"Real-ESRGAN enhanced ({MODEL}) — Background"]


def test_restore_faces_greyed_without_the_face_model_and_changing_only_the_face_with_it(krita_run):
    """The dialog's "Restore faces": greyed with the install command while GFPGANv1.4.pth is missing, offered for a
    photo model once it is there, greyed for the anime model. On one child's face, the new layer with faces differs
    from the one without only inside the face's feathered mask (within a level outside it), the rest of the
    document is the same, and the floating message says the face was restored."""
    from krita_realesrgan.common.formats import PixelFormat
    from krita_realesrgan.common.geometry import Extent
    from test_faces import face_weight, faces_in
    name = "restore_faces"
    notes = krita_run.scenario(name)
    missing, installed, anime = notes["missing"], notes["installed"], notes["anime"]
    assert not missing["enabled"] and missing["hint_shown"] and not missing["faces"], missing
    assert missing["hint"] == "Restoring faces needs the face model. Get it with: " \
                              "python3 installer.py --models GFPGANv1.4"
    assert installed["enabled"] and not installed["hint_shown"] and installed["faces"], installed
    assert installed["model"].endswith("photo-net.pth")
    assert not anime["enabled"] and anime["hint_shown"] and "anime" in anime["hint"] and not anime["faces"], anime
    before, plain, faces = (krita_run.document(name, tag) for tag in ("before", "plain", "faces"))
    assert (before["width"], before["height"]) == (100, 90)
    layer = "Real-ESRGAN ×2 (photo-net) — Background"
    assert layer_names(plain) == layer_names(faces) == ["Background", layer]
    assert (faces["width"], faces["height"]) == (plain["width"], plain["height"]) == (200, 180)
    np.testing.assert_array_equal(faces["layers"][0]["pixels"], plain["layers"][0]["pixels"])   # Krita's scaling
    source = before["layers"][0]["pixels"]
    fmt = PixelFormat("uint8", 4)
    (face,) = faces_in(source, fmt)
    weight = face_weight(face, 2.0, Extent(200, 180))
    restored, upscaled = faces["layers"][1]["pixels"].astype(int), plain["layers"][1]["pixels"].astype(int)
    outside, inside = weight == 0, weight > 0.99
    assert outside.sum() > 3000 and inside.sum() > 3000, (outside.sum(), inside.sum())   # the face fills the crop
    assert np.abs(restored[outside] - upscaled[outside]).max() <= 1
    assert np.abs(restored[inside][:, :3] - upscaled[inside][:, :3]).mean() > 20     # the network's face
    np.testing.assert_array_equal(restored[..., 3], upscaled[..., 3])
    assert notes["faces_messages"] == ["Faces: 1 face restored"], notes["faces_messages"]
    assert not any("Faces" in text for text in notes["plain_messages"]), notes["plain_messages"]
    print(f"\nrestore faces in Krita: {notes['seconds']:.1f} s for the scenario (two upscales, one with a face)")


# ---- Make cover from image ----

def engine_cover(upscaler, image: np.ndarray, target, fit: str = "cover", background: str = "blur"):
    """The engine's own make_cover for the same input, model chosen by content as the plugin asks."""
    from krita_realesrgan.cover import make as cover
    from krita_realesrgan.common.formats import PixelFormat, UpscaleOptions
    fmt = PixelFormat(image.dtype.name, image.shape[2])
    return cover.make_cover(upscaler, np.ascontiguousarray(image), fmt, target, fit,
                            cover.Background.parse(background), UpscaleOptions(model="auto"))


def cover_run(krita_run, name: str):
    """Notes, source before/after, the new document over its canvas and over the whole picture's bounds."""
    notes, before, after = krita_run.before_after(name)
    assert notes["new_documents"] == 1, notes
    assert_same_document(before, after)                     # the source is only read
    return notes, before, krita_run.document(name, "cover"), krita_run.document(name, "picture")


def test_cover_from_a_photo_with_faces(krita_run, upscaler):
    from krita_realesrgan.common import cover_presets
    from krita_realesrgan.common.geometry import Bounds, Extent
    notes, before, cover, picture = cover_run(krita_run, "cover_photo_preset")
    canvas, extent = Bounds(*notes["canvas"]), Extent(*notes["extent"])
    assert (cover["width"], cover["height"], cover["colorModel"], cover["colorDepth"], cover["resolution"]) == \
        (1280, 720, "RGBA", "U8", 150)
    assert notes["title"] == "Cover — Video thumbnail 16:9 (HD), 1280 × 720 px"
    assert canvas.extent == Extent(1280, 720) and extent == Extent(1280, 792)   # 566x350 by 1280/566 = x2.26
    name = f"Real-ESRGAN ×2.26 ({MODEL}) — Background"
    assert layer_names(cover) == [name]
    # the whole picture is the layer, placed so the chosen crop is the canvas; it reaches below the canvas
    assert cover["layers"][0]["bounds"] == [-canvas.x, -canvas.y, *extent]
    faces = [Bounds(*face) for face in notes["faces"]]
    assert len(faces) >= 3 and all(canvas.contains(face) for face in faces), (canvas, faces)
    assert any(f"falling back to {MODEL}" in reason for reason in notes["reasons"])    # auto, no photo model
    assert f"Faces found: {len(faces)}" in notes["summary"] and notes["reasons"][-1] in notes["summary"]
    expected = engine_cover(upscaler, before["layers"][0]["pixels"], cover_presets.preset("video-16x9"))
    assert expected.canvas == canvas and list(expected.faces) == faces and expected.model == MODEL
    whole = picture["layers"][0]["pixels"]
    assert_close(whole, expected.image, "cover layer vs engine make_cover")
    np.testing.assert_array_equal(cover["layers"][0]["pixels"], whole[canvas.slices])


def test_cover_of_a_cartoon_with_padding_on_a_colour(krita_run, upscaler):
    from krita_realesrgan.common.geometry import Extent
    notes, before, cover, picture = cover_run(krita_run, "cover_cartoon_pad")
    assert (cover["width"], cover["height"]) == (640, 360)
    assert notes["title"] == "Cover — Custom size, 640 × 360 px"
    assert layer_names(cover) == ["Background", f"Real-ESRGAN ×2.01 ({MODEL}) — Background"]
    assert notes["canvas"] == [-140, 0, 640, 360] and notes["extent"] == [360, 360]
    assert cover["layers"][1]["bounds"] == [140, 0, 360, 360]                  # centred: 140 px either side
    assert (cover["layers"][0]["pixels"] == (0x33, 0x66, 0xCC, 255)).all()    # the background layer
    layer = cover["layers"][1]["pixels"]
    assert layer[:, 140:500, 3].min() >= 250 and not layer[:, :140].any() and not layer[:, 500:].any()
    expected = engine_cover(upscaler, before["layers"][0]["pixels"], Extent(640, 360), "pad", "#3366cc")
    assert_close(picture["layers"][1]["pixels"], expected.image, "padded cover layer vs engine make_cover")
    assert any("illustration" in reason for reason in notes["reasons"]) and not notes["faces"]


def test_cover_cancel_leaves_no_new_document(krita_run):
    notes, before, after = krita_run.before_after("cover_cancel")
    assert notes["outcome"] == "cancelled", notes
    assert notes["clicked_at"] is not None and notes["clicked_at"][0] < notes["clicked_at"][1]
    assert notes["open_after"] == notes["open_before"]
    assert_same_document(before, after)


def test_cover_action_on_cmyk_works_on_a_closed_copy_and_tells_why(krita_run):
    notes = krita_run.scenario("cover_extension_cmyk")
    assert len(notes["boxes"]) == 1 and "CMYKA" in notes["boxes"][0] and "converted" in notes["boxes"][0]
    assert notes["original_model"] == "CMYKA" and notes["original_layers"] == ["Background"]
    assert notes["open_after"] == notes["open_before"] + 1            # the cover; the converted copy was closed
    shown = notes["shown"]
    assert len(shown) == 1 and (shown[0]["size"], shown[0]["model"]) == ([90, 90], "RGBA")
    assert shown[0]["layers"] == [f"Real-ESRGAN ×2.25 ({MODEL}) — Background"]     # 60x40 -> 135x90
    (x, y, width, height), = shown[0]["bounds"]      # a flat picture: the crop is centred, the layer reaches out
    assert (width, height, y) == (135, 90, 0) and -23 <= x <= -22                  # on both sides of the canvas
    assert len(notes["messages"]) == 1
    message = notes["messages"][0]["text"]
    assert message.startswith("Cover made: Custom size, 90 × 90 px") and "135x90" in message


# ---- Export cover ----

def decode_rgba(path: Path) -> np.ndarray:
    """A saved cover as 8-bit RGB or RGBA (channel order as the engine's)."""
    import cv2
    image = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None and image.dtype == np.uint8, path
    return cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA if image.shape[2] == 4 else cv2.COLOR_BGR2RGB)


def assert_unchanged(notes: dict):
    """The document exactly as before the export: layers, pixels, colour space, modified flag, file name."""
    assert notes["after"] == notes["before"], (notes["before"], notes["after"])


def on_white(rgba: np.ndarray) -> np.ndarray:
    alpha = rgba[..., 3:].astype(np.float64) / 255
    return rgba[..., :3] * alpha + 255 * (1 - alpha)


def test_export_a_cover_within_its_size_limit(krita_run):
    """The 1280x720 cover with a title band, saved as JPEG under 60% of its size at quality 95: the engine lowers
    the quality until it fits; the file is the document's merged image; the document is untouched."""
    notes = krita_run.scenario("export_photo_cover")
    folder = krita_run.out / "export_photo_cover"
    free_quality, free_bytes, _ = notes["free"]
    assert free_quality == 95 and (folder / "free.jpg").stat().st_size == free_bytes
    path, limit = folder / "cover.jpg", notes["limit"]
    size = path.stat().st_size
    assert size <= limit < free_bytes
    assert notes["boxes"] == [] and len(notes["messages"]) == 1, notes
    message = notes["messages"][0]
    quality = int(message.split("JPEG quality ")[1].split(",")[0])
    assert 30 <= quality < 95
    assert message == f"Saved {path}: JPEG quality {quality}, {size:,} bytes (limit {limit:,})"
    assert_unchanged(notes)
    assert [layer[0] for layer in notes["after"]["layers"]][-1] == "title" and notes["after"]["documents"] ==         notes["before"]["documents"]
    saved = decode_rgba(path).astype(np.float64)
    projection = read_raw(folder / "projection.raw")
    assert saved.shape == (720, 1280, 3) and projection.shape == (720, 1280, 4)
    expected = on_white(projection)                     # JPEG has no alpha: laid on white, like the engine
    error = np.abs(saved - expected).mean()
    shifted = np.abs(saved - np.roll(expected, 6, axis=1)).mean()
    flipped = np.abs(saved - expected[::-1]).mean()
    assert error < 3 and shifted > 3 * error and flipped > 10 * error, (error, shifted, flipped)
    band = saved[570:640, 360:920]                      # the title layer is in the file
    assert np.abs(band - (220, 40, 40)).max() < 24
    print(f"\nexport 1280x720 JPEG in Krita: {notes['export_seconds']:.2f} s under {limit:,} bytes -> quality {quality}, "
          f"{size:,} bytes (no limit: quality 95, {free_bytes:,} bytes, {notes['free_seconds']:.2f} s); "
          f"mean error {error:.2f} levels (shifted 6 px: {shifted:.2f}, flipped: {flipped:.2f})")


def test_export_16_bit_other_profiles_and_linear_float(krita_run):
    """16-bit sRGB RGBA with transparency: the PNG holds the projection in 8 bits with its alpha. The same image
    in Adobe RGB (as the file opens) and in 32-bit float linear light is exported from an sRGB copy, so the files
    show the same picture (and not the document's own samples written unconverted)."""
    notes = krita_run.scenario("export_16_and_float")
    folder = krita_run.out / "export_16_and_float"
    for tag in ("adobe", "u16", "f32"):
        assert notes[tag]["boxes"] == [] and notes[tag]["exists"], notes[tag]
        assert notes[tag]["messages"][0].startswith(f"Saved {folder / (tag + '.png')}: PNG (lossless), ")
        assert_unchanged(notes[tag])
    assert [notes[tag]["before"]["space"] for tag in ("adobe", "u16", "f32")] == [
        ["RGBA", "U16", "Adobe RGB (1998)"], ["RGBA", "U16", "sRGB-elle-V2-srgbtrc.icc"],
        ["RGBA", "F32", "sRGB-elle-V2-g10.icc"]]
    files = {tag: decode_rgba(folder / f"{tag}.png").astype(int) for tag in ("adobe", "u16", "f32")}
    u16 = files["u16"]
    projection = read_raw(folder / "u16.raw").astype(np.float64)
    assert u16.shape == projection.shape == (256, 342, 4)
    assert np.abs(u16 - np.round(projection / 257)).max() <= 1              # 16 -> 8 bits, alpha kept
    assert (u16[..., 3] == 0).mean() > 0.2 and (u16[..., 3] == 255).mean() > 0.2   # both kinds of pixel
    seen = u16[..., 3] > 0                                                  # colour under alpha 0 is undefined
    unconverted = {"adobe": np.round(read_raw(folder / "adobe.raw")[..., :3] / 257),
                   "f32": np.round(read_raw(folder / "f32.raw")[..., :3].clip(0, 1) * 255)}
    for tag in ("adobe", "f32"):
        assert np.abs(files[tag][..., 3] - u16[..., 3]).max() <= 1
        difference = np.abs(files[tag][seen][:, :3] - u16[seen][:, :3])
        assert difference.mean() < 1 and difference.max() <= 3, (tag, difference.mean(), difference.max())
        raw = np.abs(unconverted[tag][seen] - u16[seen][:, :3]).mean()
        assert raw > 3 and raw > 5 * difference.mean(), (tag, raw, difference.mean())


def test_export_errors_leave_no_file_and_the_document(krita_run):
    notes = krita_run.scenario("export_errors")
    assert notes["no_document"] == {"active": False, "boxes": ["Open an image first."]}
    small = notes["too_small"]
    assert small["messages"] == [] and len(small["boxes"]) == 1 and not small["exists"]
    assert "over the limit of 500 bytes" in small["boxes"][0] and "krita-realesrgan.log" in small["boxes"][0]
    unwritable = notes["unwritable"]
    assert unwritable["messages"] == [] and len(unwritable["boxes"]) == 1 and not unwritable["exists"]
    assert unwritable["boxes"][0].startswith("Could not save the cover as ") and "not-a-folder" in unwritable["boxes"][0]
    assert_unchanged(small)
    assert_unchanged(unwritable)
    assert notes["files"] == ["not-a-folder"]                  # no file, no temporary file left behind


# ---- the menu path in the full Krita under Xvfb ----

MENU_DRIVER = KRITA_TESTS / "menu_driver"


def run_menu_driver(home: Path, out: Path, image: Path, action: str, language: str = "en",
                    timeout: int = 300) -> dict:
    """Start the full Krita under Xvfb with the test driver plugin, which triggers ``action`` from Krita's own
    action collection, screenshots and accepts the plugin's dialog, saves ``out/result.kra`` and exits."""
    pykrita = home / ".local" / "share" / "krita" / "pykrita"
    shutil.copy2(MENU_DRIVER / "realesrgan_test_driver.desktop", pykrita)
    shutil.copytree(MENU_DRIVER / "realesrgan_test_driver", pykrita / "realesrgan_test_driver", dirs_exist_ok=True)
    kritarc = home / ".config" / "kritarc"
    text = kritarc.read_text()
    if "enable_realesrgan_test_driver" not in text:
        text = text.replace("[python]\n", "[python]\nenable_realesrgan_test_driver=true\n", 1)
    kritarc.write_text(text)
    spec = out / "menu-spec.json"
    spec.write_text(json.dumps({"image": str(image), "out": str(out), "action": action}))
    env = dict(krita_env(home), KRITA_MENU_SPEC=str(spec), KRITA_REALESRGAN_LANG=language)
    env.pop("QT_QPA_PLATFORM")
    started = time.time()
    try:
        subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", "krita", "--nosplash"], env=env,
                       capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    report_file = out / "menu.json"
    assert report_file.exists(), "Krita under Xvfb did not report (see tests/krita/menu_driver)"
    report = json.loads(report_file.read_text())
    report["wall_seconds"] = time.time() - started
    return report


def menu_session(tmp_path_factory, shared_weights, remembered: str, image: Path, action: str):
    """A fresh profile with the plugin installed and ``remembered`` appended to kritarc (choices from an earlier
    session), then ``run_menu_driver`` on ``action``."""
    if not (shutil.which("krita") and shutil.which("xvfb-run")):
        pytest.skip("needs krita and xvfb (apt-get install -y krita xvfb)")
    home = tmp_path_factory.mktemp("krita-xvfb-home")
    install_plugin(home, shared_weights)
    with open(home / ".config" / "kritarc", "a") as kritarc:
        kritarc.write(remembered)
    out = tmp_path_factory.mktemp("krita-xvfb-out")
    report = run_menu_driver(home, out, image, action)
    print(f"\nfull Krita under Xvfb ({action}): window after {report['window_at'] - report['started_at']:.1f} s "
          f"(plugin loaded), action {report.get('action_seconds', float('nan')):.1f} s, "
          f"whole run {report['wall_seconds']:.1f} s")
    return home, out, report


@pytest.fixture(scope="module")
def menu_run(tmp_path_factory, images, shared_weights):
    return menu_session(tmp_path_factory, shared_weights, "\n[realesrgan_upscale]\nscale=2\ntile=0\n",
                        images / "wolf_gray.jpg", "realesrgan_upscale_image")


@pytest.fixture(scope="module")
def cover_menu_run(tmp_path_factory, images, shared_weights):
    remembered = "\n[realesrgan_cover]\npreset=custom\nwidth=480\nheight=270\nfit=pad\nbackground=solid\n" \
                 "colour=#3366cc\n"
    return menu_session(tmp_path_factory, shared_weights, remembered, images / "0014.jpg", "realesrgan_make_cover")


def test_menu_action_runs_from_krita_menu(menu_run):
    home, out, report = menu_run
    assert "error" not in report, report.get("error")
    titles = [t.replace("&", "") for t in report["menu"]]
    for title in ("Upscale image with AI…", "Enhance layer / selection with AI…",
                  "Upscale selection to new document…", "Make cover from image…", "Export cover…"):
        assert title in titles, titles
    assert report["dialog_title"] == "Upscale image with AI"
    assert report["dialog_model"] == MODEL
    assert report["layers"] == ["Background", f"Real-ESRGAN ×2 ({MODEL}) — Background"]
    assert report["saved"] and (out / "result.kra").stat().st_size > 0
    screenshot = (out / "dialog.png").read_bytes()
    assert screenshot[:8] == b"\x89PNG\r\n\x1a\n" and len(screenshot) > 5000
    settings = (home / ".config" / "kritarc").read_text()
    assert "[realesrgan_upscale]" in settings and f"model={MODEL}" in settings


def test_cover_action_runs_from_krita_menu(cover_menu_run):
    """Tools ▸ Scripts ▸ Make cover from image…: the dialog with the remembered choices, a new document shown in a
    view with the picture on its background, Krita's floating message with the reasons, the source unchanged."""
    home, out, report = cover_menu_run
    assert "error" not in report, report.get("error")
    assert report["dialog_title"] == "Make cover from image"
    assert report["dialog_model"] == "Automatic (chosen by the picture's content)"
    assert report["layers"] == ["Background"] and report["documents"] == 2
    assert report["active_document"] == {"name": "Cover — Custom size, 480 × 270 px", "size": [480, 270],
                                         "layers": ["Background", f"Real-ESRGAN ×1.51 ({MODEL}) — Background"]}
    # Krita shows a floating message only on the current view; under Xvfb without a window manager the new view
    # is sometimes briefly not current and Krita drops the message, so it is reported, not asserted (the call
    # itself is checked in test_cover_action_on_cmyk_works_on_a_closed_copy_and_tells_why)
    print(f"\nfloating message on screen: {report['floating_messages'] or 'none this time'} (see {out}/screen.png)")
    settings = (home / ".config" / "kritarc").read_text()
    assert "[realesrgan_cover]" in settings and "model=auto" in settings and "colour=#3366cc" in settings
