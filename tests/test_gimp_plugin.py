"""The GIMP 3 plug-in in a real GIMP 3.0 (Debian trixie root, tests/gimp/build_root.sh), with the real engine.

The plug-in is installed by installer.py into a temporary GIMP profile inside the root; one gimp-console batch
session (tests/gimp/batch.py) runs every case through the PDB, as a script would, and dumps what came out. The
tests here compare that with the engine's own output (krita_realesrgan.engine.Upscaler in this venv) for the same
input pixels, within 1 level, and check that failures leave the image exactly as it was.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from data_paths import ANIMEVIDEO_PTH, IMAGES, REPO, WEIGHTS, require
from gimp import chroot

pytestmark = [pytest.mark.gimp, pytest.mark.slow]

PLUGIN_DIR_NAME = "realesrgan-upscale"
MODEL = "realesr-animevideov3"
MISSING_MODEL = "RealESRGAN_x4plus"
PROC = {"image": "plug-in-realesrgan-upscale-image", "enhance": "plug-in-realesrgan-enhance-layer",
        "selection": "plug-in-realesrgan-upscale-selection"}

CASES = [
    dict(name="upscale_rgba8", image="children-alpha.png", crop=[200, 100, 64, 48], procedure=PROC["image"],
         args={"model": MODEL, "scale": 2.0}, read_format="R'G'B'A u8"),
    dict(name="enhance_selection_rgba16", image="tree_alpha_16bit.png", crop=[100, 80, 64, 48],
         selection=[10, 8, 30, 20], procedure=PROC["enhance"], args={"model": MODEL}, read_format="R'G'B'A u16"),
    dict(name="selection_grey8", image="wolf_gray.jpg", crop=[80, 80, 48, 48], selection=[8, 8, 24, 20],
         procedure=PROC["selection"], args={"model": MODEL, "scale": 2.0}, read_format="Y' u8"),
    dict(name="enhance_float_linear", image="children-alpha.png", crop=[200, 100, 40, 32], precision="float-linear",
         procedure=PROC["enhance"], args={"model": MODEL}, read_format="RGBA float"),
    dict(name="upscale_half_perceptual_grey", image="wolf_gray.jpg", crop=[60, 60, 32, 32],
         precision="half-perceptual", procedure=PROC["image"], args={"model": MODEL, "scale": 2.0},
         read_format="Y~ half"),
    dict(name="selection_u32_linear_whole_layer", image="children-alpha.png", crop=[300, 150, 24, 20],
         precision="u32-linear", procedure=PROC["selection"], args={"model": MODEL, "scale": 2.0},
         read_format="RGBA float"),
    dict(name="indexed", image="children-alpha.png", crop=[200, 100, 32, 32], indexed=True,
         procedure=PROC["enhance"], args={"model": MODEL}, read_format="R'G'B'A u8"),
    dict(name="missing_weights", image="children-alpha.png", crop=[200, 100, 32, 32], procedure=PROC["image"],
         args={"model": MISSING_MODEL, "scale": 2.0}, read_format="R'G'B'A u8"),
]
NUMPY_TYPES = {"u8": np.uint8, "u16": np.uint16, "half": np.float16, "float": np.float32}
ENGINE_DTYPES = {"u8": "uint8", "u16": "uint16", "half": "float16", "float": "float32"}
LEVEL = {"u8": 1, "u16": 257, "half": 1 / 255, "float": 1 / 255}   # one 8-bit level in each type's units


@pytest.fixture(scope="module")
def root():
    reason = chroot.why_unusable(chroot.root_path())
    if reason:
        pytest.skip(reason)
    require(ANIMEVIDEO_PTH)
    require(IMAGES)
    return chroot.root_path()


def install_plugin(plugins: Path, config: Path, data: Path) -> None:
    """As a user would: installer.py with this venv's python as the engine, no models downloaded."""
    env = dict(os.environ, KRITA_REALESRGAN_CONFIG=str(config), KRITA_REALESRGAN_DATA=str(data))
    subprocess.run([sys.executable, str(REPO / "installer.py"), "--engine-python", sys.executable,
                    "--weights-dir", str(WEIGHTS), "--models", "none", "--no-krita", "--gimp-plugins", str(plugins)],
                   check=True, capture_output=True, text=True, env=env, timeout=300)


class Profile:
    """A temporary GIMP profile inside the root with the plug-in installed; paths on the host and inside."""

    def __init__(self, root: Path):
        self.root = root
        self.inside = Path("/tmp") / f"gimp-test-{uuid.uuid4().hex[:8]}"
        self.work = root / self.inside.relative_to("/")
        self.plugins = self.work / "home" / ".config" / "GIMP" / "3.0" / "plug-ins"

    def host(self, path_inside: str) -> Path:
        return self.root / str(path_inside).lstrip("/")

    def env(self, spec: str, home: str = "home", **extra: str) -> dict:
        return {"HOME": str(self.inside / home), "GIMP_TEST_SPEC": str(self.inside / spec),
                "KRITA_REALESRGAN_CONFIG": str(self.inside / "config.json"),
                "KRITA_REALESRGAN_DATA": str(self.inside / "data"), **extra}

    def write_spec(self, name: str, cases, choices=()) -> str:
        """The batch spec for ``cases`` (and the choice arguments whose labels to report); returns the results
        path inside the root."""
        cases = [dict(case, image=str(IMAGES / case["image"]), out=str(self.inside / case["name"]))
                 for case in cases]
        results = str(self.inside / f"{name}-results.json")
        (self.work / f"{name}.json").write_text(json.dumps({"cases": cases, "results": results,
                                                            "choices": [list(c) for c in choices]}))
        return results

    def script(self) -> str:
        return str(self.inside / "batch.py")


@pytest.fixture(scope="module")
def profile(root):
    made = Profile(root)
    started = time.monotonic()
    try:
        install_plugin(made.plugins, made.work / "config.json", made.work / "data")
        shutil.copy(REPO / "tests" / "gimp" / "batch.py", made.work / "batch.py")
        print(f"\nplug-in installed in {time.monotonic() - started:.1f} s")
        yield made
    finally:
        if os.environ.get("GIMP_TEST_KEEP"):
            print(f"kept {made.work}")
        else:
            shutil.rmtree(made.work, ignore_errors=True)


def test_installer_puts_an_executable_plugin_with_its_engine_client(profile):
    folder = profile.plugins / PLUGIN_DIR_NAME
    assert os.access(folder / f"{PLUGIN_DIR_NAME}.py", os.X_OK)
    assert (folder / "krita_realesrgan" / "common" / "client.py").is_file()
    assert (folder / "realesrgan_gimp" / "actions.py").is_file()


def gimp_session(profile, name, cases, choices=(), home="home", **env):
    """``cases`` in one GIMP session: the parsed results (the raw pixels stay in the profile)."""
    results_path = profile.write_spec(name, cases, choices)
    started = time.monotonic()
    with chroot.mounted(profile.root, services_of=str(profile.inside)):
        finished = chroot.run_gimp(profile.root, profile.script(), profile.env(f"{name}.json", home, **env))
    results_file = profile.host(results_path)
    assert results_file.exists(), f"GIMP wrote no results:\n{finished.stdout[-3000:]}\n{finished.stderr[-3000:]}"
    print(f"\nGIMP session {name} with {len(cases)} cases: {time.monotonic() - started:.1f} s")
    return json.loads(results_file.read_text())


@pytest.fixture(scope="module")
def gimp_results(profile):
    return gimp_session(profile, "cases", CASES), profile


# ---- helpers -------------------------------------------------------------------------------------------------


def format_parts(babl: str):
    components, sample = babl.split(" ")
    return components.count("A") + (1 if components.startswith("Y") else 3), sample


def load_raw(path: str, width: int, height: int, babl: str, root_dir: Path) -> np.ndarray:
    channels, sample = format_parts(babl)
    data = np.fromfile(root_dir / path.lstrip("/"), dtype=NUMPY_TYPES[sample])
    return data.reshape(height, width, channels)


def layer_pixels(results, case_name, which, index, root_dir):
    case = next(c for c in CASES + COVER_CASES if c["name"] == case_name)
    layer = results[case_name][which]["layers"][index]
    return layer, load_raw(layer["raw"], layer["width"], layer["height"], case["read_format"], root_dir)


def engine_output(upscaler, pixels: np.ndarray, babl: str, target) -> np.ndarray:
    from krita_realesrgan.common.formats import PixelFormat, UpscaleOptions
    from krita_realesrgan.common.geometry import Extent
    channels, sample = format_parts(babl)
    fmt = PixelFormat(ENGINE_DTYPES[sample], channels)
    image = pixels[:, :, 0] if channels == 1 else pixels
    result = upscaler.upscale(np.ascontiguousarray(image), fmt, UpscaleOptions(model=MODEL, target=Extent(*target)))
    out = result.image
    return out.reshape(out.shape[0], out.shape[1], -1)


def assert_close(actual: np.ndarray, expected: np.ndarray, babl: str):
    assert actual.shape == expected.shape
    difference = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    level = LEVEL[format_parts(babl)[1]]
    assert difference.max() <= level + 1e-6, f"max difference {difference.max()} > {level}"


def succeeded(results, name):
    case = results[name]
    assert case["status"] == "success", case.get("message")
    return case


# ---- the tests -----------------------------------------------------------------------------------------------


def test_gimp_knows_exactly_the_precisions_the_plugin_maps(gimp_results):
    from test_gimp_units import PRECISION_NICKS
    results, profile = gimp_results
    assert results["precision_nicks"] == sorted(PRECISION_NICKS)


def test_upscale_image_rgba8(gimp_results, upscaler):
    results, profile = gimp_results
    case = succeeded(results, "upscale_rgba8")
    assert case["before"]["size"] == [64, 48] and case["after"]["size"] == [128, 96]
    names = [layer["name"] for layer in case["after"]["layers"]]
    assert len(names) == 2 and names[0] == f"Real-ESRGAN ×2 ({MODEL}) — {names[1]}"
    new, got = layer_pixels(results, "upscale_rgba8", "after", 0, profile.root)
    assert (new["x"], new["y"], new["width"], new["height"]) == (0, 0, 128, 96)
    original = case["after"]["layers"][1]
    assert (original["width"], original["height"]) == (128, 96)      # scaled by GIMP
    _, source = layer_pixels(results, "upscale_rgba8", "before", 0, profile.root)
    assert_close(got, engine_output(upscaler, source, "R'G'B'A u8", (128, 96)), "R'G'B'A u8")
    assert case["undo_dirty_after"]


def test_enhance_selection_rgba16_is_masked_by_the_selection(gimp_results, upscaler):
    results, profile = gimp_results
    root_dir = profile.root
    case = succeeded(results, "enhance_selection_rgba16")
    assert case["after"]["size"] == [64, 48] and len(case["after"]["layers"]) == 2
    new, got = layer_pixels(results, "enhance_selection_rgba16", "after", 0, root_dir)
    assert (new["x"], new["y"], new["width"], new["height"]) == (10, 8, 30, 20)
    assert new["has_mask"] and new["name"].startswith(f"Real-ESRGAN enhanced ({MODEL})")
    mask = np.fromfile(root_dir / new["raw"].lstrip("/").replace(".raw", "-mask.raw"), dtype=np.uint8)
    assert mask.min() == 255                       # a rectangular selection: fully selected inside
    _, source = layer_pixels(results, "enhance_selection_rgba16", "before", 0, root_dir)
    # the plug-in sends the selection plus 16 px of context, clamped to the image
    region = source[0:44, 0:56]
    expected = engine_output(upscaler, region, "R'G'B'A u16", (56, 44))[8:28, 10:40]
    assert_close(got, expected, "R'G'B'A u16")
    assert not np.array_equal(got, source[8:28, 10:40])   # the network did change the pixels


def test_selection_to_new_grey_image(gimp_results, upscaler):
    results, profile = gimp_results
    root_dir = profile.root
    case = succeeded(results, "selection_grey8")
    assert case["fingerprint_after"] == case["fingerprint_before"]     # the source image is untouched
    new_image = case["new_image"]
    assert new_image["size"] == [48, 40] and new_image["base_type"] == "gray"
    layer = new_image["layers"][0]
    got = load_raw(layer["raw"], layer["width"], layer["height"], "Y' u8", root_dir)
    _, source = layer_pixels(results, "selection_grey8", "before", 0, root_dir)
    region = source[0:44, 0:48]                     # selection 24x20+8+8 plus 16 px context, clamped
    expected = engine_output(upscaler, region, "Y' u8", (96, 88))[16:56, 16:64]
    assert_close(got, expected, "Y' u8")


def test_enhance_float_linear_keeps_linear_light(gimp_results, upscaler):
    results, profile = gimp_results
    root_dir = profile.root
    case = succeeded(results, "enhance_float_linear")
    assert case["after"]["precision"] == "float-linear"
    new, got = layer_pixels(results, "enhance_float_linear", "after", 0, root_dir)
    _, source = layer_pixels(results, "enhance_float_linear", "before", 0, root_dir)
    assert (new["width"], new["height"]) == (40, 32)
    assert_close(got, engine_output(upscaler, source, "RGBA float", (40, 32)), "RGBA float")


def test_upscale_half_perceptual_grey_without_alpha(gimp_results, upscaler):
    results, profile = gimp_results
    root_dir = profile.root
    case = succeeded(results, "upscale_half_perceptual_grey")
    assert case["after"]["size"] == [64, 64] and case["after"]["precision"] == "half-perceptual"
    new, got = layer_pixels(results, "upscale_half_perceptual_grey", "after", 0, root_dir)
    assert not new["has_alpha"]
    _, source = layer_pixels(results, "upscale_half_perceptual_grey", "before", 0, root_dir)
    assert_close(got, engine_output(upscaler, source, "Y~ half", (64, 64)), "Y~ half")


def test_u32_is_widened_to_float_and_without_selection_the_whole_layer_becomes_the_new_image(gimp_results, upscaler):
    results, profile = gimp_results
    case = succeeded(results, "selection_u32_linear_whole_layer")
    assert case["fingerprint_after"] == case["fingerprint_before"]
    new_image = case["new_image"]
    assert new_image["size"] == [48, 40] and new_image["precision"] == "u32-linear"
    layer = new_image["layers"][0]
    got = load_raw(layer["raw"], layer["width"], layer["height"], "RGBA float", profile.root)
    _, source = layer_pixels(results, "selection_u32_linear_whole_layer", "before", 0, profile.root)
    assert_close(got, engine_output(upscaler, source, "RGBA float", (48, 40)), "RGBA float")


def test_indexed_image_gets_a_clear_message_and_stays_unchanged(gimp_results):
    results, profile = gimp_results
    case = results["indexed"]
    assert case["status"] == "execution-error"
    assert "Indexed images cannot be upscaled" in case["message"] and "Image ▸ Mode ▸ RGB" in case["message"]
    assert "Traceback" not in case["message"]
    assert case["fingerprint_after"] == case["fingerprint_before"]


def test_failure_leaves_the_image_unchanged(gimp_results):
    results, profile = gimp_results
    case = results["missing_weights"]
    assert case["status"] == "execution-error"
    assert MISSING_MODEL in case["message"] and "installer.py" in case["message"]
    assert "Traceback" not in case["message"]
    assert case["fingerprint_after"] == case["fingerprint_before"]
    assert not case["undo_dirty_after"]


LIMIT_CASES = [   # a script is never asked: above max-pixels it fails before the engine starts
    dict(name="limit_upscale", image="children-alpha.png", crop=[200, 100, 64, 48], procedure=PROC["image"],
         args={"model": MODEL, "scale": 2.0, "max-pixels": 12287}, read_format="R'G'B'A u8"),   # 128x96 = 12288
    dict(name="limit_cover", image="children-alpha.png", crop=[200, 100, 64, 48], procedure="plug-in-realesrgan-cover",
         args={"preset": "video-16x9", "model": "auto", "max-pixels": 1000}, read_format="R'G'B'A u8"),
]


def test_a_script_above_max_pixels_is_refused_with_the_argument_named_and_nothing_changes(profile):
    results = gimp_session(profile, "limit", LIMIT_CASES)
    upscale, cover = results["limit_upscale"], results["limit_cover"]
    refused(upscale, ["128x96 pixels (12,288 pixels)", "limit of 12,287 pixels", "max-pixels argument"])
    refused(cover, ["256x192 pixels (49,152 pixels)", "limit of 1,000 pixels", "max-pixels argument"])
    assert upscale["seconds"] < 10 and cover["seconds"] < 10    # refused before the engine started (it takes longer)


DEVICE_CASES = [   # backend and device chosen together, and fast where this CPU refuses it
    dict(name="device_cpu_torch", image="children-alpha.png", crop=[200, 100, 64, 48], procedure=PROC["image"],
         args={"model": MODEL, "scale": 2.0, "device": "cpu-torch"}, read_format="R'G'B'A u8"),
    dict(name="device_fast", image="children-alpha.png", crop=[200, 100, 64, 48], procedure=PROC["image"],
         args={"model": MODEL, "scale": 2.0, "device": "cpu-openvino", "fast": True}, read_format="R'G'B'A u8"),
]


def test_the_device_argument_reaches_the_engine_and_fast_is_refused_where_the_cpu_would_be_slower(profile, upscaler):
    from krita_realesrgan.backends import choice
    results = gimp_session(profile, "device", DEVICE_CASES)
    case = succeeded(results, "device_cpu_torch")
    assert case["after"]["size"] == [128, 96]
    layer = case["after"]["layers"][0]
    got = load_raw(layer["raw"], layer["width"], layer["height"], "R'G'B'A u8", profile.root)
    before = case["before"]["layers"][0]
    source = load_raw(before["raw"], before["width"], before["height"], "R'G'B'A u8", profile.root)
    assert_close(got, engine_output(upscaler, source, "R'G'B'A u8", (128, 96)), "R'G'B'A u8")   # vs OpenVINO
    report = choice.device_report(choice.probe())
    if report.fast_refused("cpu-openvino"):
        refused(results["device_fast"], [report.cpu, "bfloat16"])
    else:
        succeeded(results, "device_fast")


PHOTO_MODEL = "RealESRGAN_x4plus"
ONE_FACE = [320, 110, 100, 90]   # one child of children-alpha.png (the face near 340,116)
FACE_CASES = [   # the same call without and with restore-faces, and faces asked with the anime model
    dict(name="faces_off", image="children-alpha.png", crop=ONE_FACE, procedure=PROC["image"],
         args={"model": PHOTO_MODEL, "scale": 2.0, "restore-faces": False}, read_format="R'G'B'A u8"),
    dict(name="faces_on", image="children-alpha.png", crop=ONE_FACE, procedure=PROC["image"],
         args={"model": PHOTO_MODEL, "scale": 2.0, "restore-faces": True}, read_format="R'G'B'A u8"),
    dict(name="faces_anime", image="children-alpha.png", crop=ONE_FACE, procedure=PROC["image"],
         args={"model": MODEL, "scale": 2.0, "restore-faces": True}, read_format="R'G'B'A u8"),
]


def face_weights_folder(profile) -> str:
    """A weights folder inside the root with a face restorer and a photo model; its path inside. GFPGANv1.4.pth
    holds random weights in the release's layout (loads and runs like the real one, which cannot be downloaded
    here); RealESRGAN_x4plus.pth is animevideov3's network under the photo model's name (the engine reads any
    Real-ESRGAN network; the catalog checks hashes only at install time)."""
    import torch
    import netbuilders
    folder = profile.work / "face-weights"
    folder.mkdir()
    torch.save({"params_ema": netbuilders.gfpgan()}, folder / "GFPGANv1.4.pth")
    shutil.copy(ANIMEVIDEO_PTH, folder / ANIMEVIDEO_PTH.name)
    shutil.copy(ANIMEVIDEO_PTH, folder / f"{PHOTO_MODEL}.pth")
    return str(profile.inside / "face-weights")


def test_restore_faces_changes_only_the_face_and_is_refused_with_an_anime_model(profile):
    """A script's call with restore-faces on one child's face: the new layer differs from the same call without
    it only inside the face's feathered mask (within a level outside it), GIMP's scaled layer is the same; asked
    with the anime model, the call fails with the reason and the image stays as it was."""
    from krita_realesrgan.common.formats import PixelFormat
    from krita_realesrgan.common.geometry import Extent
    from test_faces import face_weight, faces_in
    results = gimp_session(profile, "faces", FACE_CASES, KRITA_REALESRGAN_WEIGHTS=face_weights_folder(profile))
    off, on = succeeded(results, "faces_off"), succeeded(results, "faces_on")
    for case in (off, on):
        assert case["before"]["size"] == [100, 90] and case["after"]["size"] == [200, 180]
        assert case["after"]["layers"][0]["name"].startswith(f"Real-ESRGAN ×2 ({PHOTO_MODEL}) — ")
    layers = {name: [load_raw(layer["raw"], layer["width"], layer["height"], "R'G'B'A u8", profile.root)
                     for layer in results[name]["after"]["layers"]] for name in ("faces_off", "faces_on")}
    np.testing.assert_array_equal(layers["faces_on"][1], layers["faces_off"][1])     # scaled by GIMP, the same
    before = on["before"]["layers"][0]
    source = load_raw(before["raw"], before["width"], before["height"], "R'G'B'A u8", profile.root)
    (face,) = faces_in(source, PixelFormat("uint8", 4))
    weight = face_weight(face, 2.0, Extent(200, 180))
    restored, plain = layers["faces_on"][0].astype(int), layers["faces_off"][0].astype(int)
    outside, inside = weight == 0, weight > 0.99
    assert outside.sum() > 3000 and inside.sum() > 3000, (outside.sum(), inside.sum())   # the face fills the crop
    assert np.abs(restored[outside] - plain[outside]).max() <= 1
    assert np.abs(restored[inside][:, :3] - plain[inside][:, :3]).mean() > 20     # the network's face
    np.testing.assert_array_equal(restored[..., 3], plain[..., 3])
    refused(results["faces_anime"], ["Restoring faces is for photos of real people",
                                     f"{MODEL} is an anime model", "leave restore-faces off"])
    print(f"\nrestore faces in GIMP: {on['seconds']:.1f} s with the face, {off['seconds']:.1f} s without")


CANCEL_CASES = [
    dict(name="cancel", image="children-alpha.png", procedure=PROC["image"],
         args={"model": MODEL, "scale": 4.0}, read_format="R'G'B'A u8"),
    dict(name="cancel_cover", image="children-alpha.png", procedure="plug-in-realesrgan-cover",
         args={"preset": "video-16x9-fhd", "model": MODEL}, read_format="R'G'B'A u8"),
]


def wait_for(condition, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    return None


@pytest.mark.parametrize("cancel_case", CANCEL_CASES, ids=[case["name"] for case in CANCEL_CASES])
def test_cancel_ends_the_plugin_and_leaves_the_image_unchanged(profile, cancel_case):
    """GIMP's Cancel on a plug-in's progress ends the plug-in process (gimp_plug_in_close with kill). Do exactly
    that while the engine works on the image: the image must be unchanged, no new image may be left (the cover)
    and the worker must stop too. The worker-per-call path (the config's ``engine: worker``, and the fallback when
    the service cannot start); a client that goes away from the service cancels its jobs there (test_service)."""
    results_path = profile.write_spec(cancel_case["name"], [cancel_case])

    def payloads():
        return set((profile.root / "tmp").glob("krita-realesrgan-*/job*-in.raw"))

    earlier = payloads()
    with chroot.mounted(profile.root, services_of=str(profile.inside)):
        gimp = subprocess.Popen(chroot.gimp_command(profile.root, profile.script(),
                                                    profile.env(f"{cancel_case['name']}.json",
                                                                KRITA_REALESRGAN_ENGINE="worker")),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            submitted = wait_for(lambda: sorted(payloads() - earlier), 300)
            assert submitted, "the plug-in never submitted a job"
            workers = chroot.processes_in(profile.root, "krita_realesrgan.serving.worker")
            assert workers, "no engine worker is running"
            plugins = {chroot.parent_of(pid) for pid in workers}
            for pid in plugins:
                os.kill(pid, 9)                  # what GIMP does when the user presses Cancel
            output, _ = gimp.communicate(timeout=300)
            # the ended plug-in could not remove its payload folder (see the report in the plug-in's engine_run)
            shutil.rmtree(submitted[0].parent, ignore_errors=True)
        finally:
            if gimp.poll() is None:
                gimp.kill()
                gimp.wait()
        stopped = wait_for(lambda: not any(chroot.running(pid) for pid in workers), 30)
    results = json.loads(profile.host(results_path).read_text())
    case = results[cancel_case["name"]]
    assert case["status"] != "success", output[-2000:]
    assert case["fingerprint_after"] == case["fingerprint_before"]
    assert case["images_after"] == case["images_before"]
    assert not case["undo_dirty_after"]
    assert stopped, "the engine worker kept running after its plug-in ended"


WARM_CASES = [dict(CASES[0], name=f"warm_{which}") for which in ("first", "second")]
SERVICE_CLOSES = re.compile(r"worker\[(\d+)\] INFO connection .* closed")


def test_a_second_filter_call_finds_the_service_the_first_one_started(profile, upscaler):
    """GIMP ends the plug-in's process after every call. The first call starts this user's engine service, the
    second finds it warm: one service process, alive after GIMP quit (waiting for the next call), answered both
    calls' connections (its log), and nothing fell back to a worker."""
    log = profile.work / "data" / "logs" / "krita-realesrgan.log"
    before = len(log.read_text(encoding="utf-8")) if log.exists() else 0
    results_path = profile.write_spec("warm", WARM_CASES)
    with chroot.mounted(profile.root, services_of=str(profile.inside)):
        finished = chroot.run_gimp(profile.root, profile.script(), profile.env("warm.json"))
        services = chroot.stop_services(profile.root, str(profile.inside))
    results = json.loads(profile.host(results_path).read_text())
    written = log.read_text(encoding="utf-8")[before:]
    print(f"\nfirst call {results['warm_first'].get('seconds', 0):.2f} s, "
          f"second {results['warm_second'].get('seconds', 0):.2f} s")
    for name in ("warm_first", "warm_second"):
        case = succeeded(results, name)
        layer = case["after"]["layers"][0]
        got = load_raw(layer["raw"], layer["width"], layer["height"], "R'G'B'A u8", profile.root)
        source = case["before"]["layers"][0]
        source = load_raw(source["raw"], source["width"], source["height"], "R'G'B'A u8", profile.root)
        assert_close(got, engine_output(upscaler, source, "R'G'B'A u8", (128, 96)), "R'G'B'A u8")
    assert len(services) == 1, f"engine services after GIMP quit: {services}\n{finished.stderr[-2000:]}"
    closes = [int(pid) for pid in SERVICE_CLOSES.findall(written)]
    assert closes == [services[0]] * 2, written[-3000:]
    assert "could not be used" not in written


ENGINE = "plug-in-realesrgan-engine-settings"
UNREACHABLE = "127.0.0.1:9"          # the discard port: nothing listens there
SMALL = dict(image="children-alpha.png", crop=[200, 100, 32, 24], read_format="R'G'B'A u8")


def test_engine_settings_store_another_computer_in_the_config_and_the_upscale_goes_there(profile):
    """Engine Settings… writes the config file (which Krita reads too): another computer's address and token
    file, and the next upscale tries that computer; back on this computer the upscale runs here; an address
    without a port is refused in one line and the file stays as it was."""
    config = profile.work / "engine-config.json"
    shutil.copy(profile.work / "config.json", config)
    (profile.work / "engine-token").write_text("t0ken\n")
    token = str(profile.inside / "engine-token")
    cases = [
        dict(SMALL, name="engine_other", procedure=ENGINE,
             args={"engine": "other", "address": UNREACHABLE, "token-file": token}),
        dict(SMALL, name="engine_upscale_remote", procedure=PROC["image"], args={"model": MODEL, "scale": 2.0}),
        dict(SMALL, name="engine_bad_address", procedure=ENGINE,
             args={"engine": "other", "address": "gpu-box", "token-file": token}),
        dict(SMALL, name="engine_this", procedure=ENGINE, args={"engine": "this"}),
        dict(SMALL, name="engine_upscale_here", procedure=PROC["image"], args={"model": MODEL, "scale": 2.0}),
    ]
    results_path = profile.write_spec("engine", cases)
    with chroot.mounted(profile.root, services_of=str(profile.inside)):
        chroot.run_gimp(profile.root, profile.script(),
                        profile.env("engine.json", KRITA_REALESRGAN_CONFIG=str(profile.inside / "engine-config.json")))
    results = json.loads(profile.host(results_path).read_text())
    succeeded(results, "engine_other")
    remote = results["engine_upscale_remote"]
    refused(remote, [f"Cannot reach the engine at {UNREACHABLE}"])
    assert remote["fingerprint_after"] == remote["fingerprint_before"]
    refused(results["engine_bad_address"], ["HOST:PORT"])
    succeeded(results, "engine_this")
    assert succeeded(results, "engine_upscale_here")["after"]["size"] == [64, 48]
    stored = json.loads(config.read_text())
    assert "engine" not in stored and stored["engine_token_file"] == token and stored["python"]


# ---- Make cover from image -----------------------------------------------------------------------------------

COVER = "plug-in-realesrgan-cover"
PAD_COLOUR = "#3366cc"
COVER_CASES = [
    # a photo with faces to a platform preset, model chosen by content (only animevideov3 is installed)
    dict(name="cover_children_video", image="children-alpha.png", procedure=COVER,
         args={"preset": "video-16x9", "fit": "cover", "model": "auto"}, read_format="R'G'B'A u8"),
    # a square cartoon in a 16:9 cover: the crop cuts the picture's height (a negative y offset)
    dict(name="cover_cartoon_video", image="0014.jpg", procedure=COVER,
         args={"preset": "video-16x9", "fit": "cover", "model": MODEL}, read_format="R'G'B' u8"),
    # pad fit on a solid colour, custom size, from the visible image (no layer selected)
    dict(name="cover_cartoon_pad", image="0014.jpg", procedure=COVER, no_drawables=True,
         args={"preset": "custom", "width": 480, "height": 270, "fit": "pad", "background": "color",
               "color": PAD_COLOUR, "model": MODEL}, read_format="R'G'B' u8"),
    # 16-bit, a selection narrows the picture, pad fit on the blurred picture
    dict(name="cover_u16_selection_blur", image="tree_alpha_16bit.png", procedure=COVER, selection=[40, 30, 200, 150],
         args={"preset": "custom", "width": 400, "height": 200, "fit": "pad", "background": "blur", "model": MODEL},
         read_format="R'G'B'A u16"),
    # a linear-light float image: the solid colour is the same colour in linear light, not the sRGB numbers
    dict(name="cover_float_linear_pad", image="0014.jpg", procedure=COVER, crop=[40, 40, 64, 48],
         precision="float-linear", args={"preset": "custom", "width": 160, "height": 80, "fit": "pad",
                                         "background": "color", "color": PAD_COLOUR, "model": MODEL},
         read_format="RGB float"),
    dict(name="cover_nothing_visible", image="0014.jpg", procedure=COVER, no_drawables=True, hidden=True,
         args={"model": MODEL}, read_format="R'G'B' u8"),
    dict(name="cover_bad_size", image="0014.jpg", procedure=COVER,
         args={"preset": "custom", "width": 0, "height": 720, "model": MODEL}, read_format="R'G'B' u8"),
    # a size the picture cannot cover without becoming gigantic: the engine refuses, the plug-in says why
    dict(name="cover_too_elongated", image="children-alpha.png", procedure=COVER,
         args={"preset": "custom", "width": 16000, "height": 40, "fit": "cover", "model": MODEL},
         read_format="R'G'B'A u8"),
]
COVER_CHOICES = [(COVER, "preset"), (COVER, "model")]


@pytest.fixture(scope="module")
def cover_results(profile):
    return gimp_session(profile, "cover", COVER_CASES, COVER_CHOICES), profile


@pytest.fixture(scope="module")
def chinese_labels(profile):
    """The cover's preset labels as GIMP registered them for a user whose locale is Simplified Chinese (a fresh
    profile, so that the plug-in is queried in that locale; no case is run)."""
    home = "home-zh"
    shutil.copytree(profile.plugins, profile.work / home / profile.plugins.relative_to(profile.work / "home"))
    results = gimp_session(profile, "zh", [], [(COVER, "preset")], home=home, LANG="zh_CN.UTF-8")
    return results["choices"][f"{COVER}:preset"]


def engine_cover(upscaler, pixels: np.ndarray, babl: str, target, fit="cover", background="blur", model=MODEL):
    """The engine's own cover of the same pixels (what the plug-in's worker computes)."""
    from krita_realesrgan.common import cover_presets
    from krita_realesrgan.cover import make as cover
    from krita_realesrgan.common.formats import PixelFormat, UpscaleOptions
    channels, sample = format_parts(babl)
    goal = cover_presets.preset(target) if isinstance(target, str) else target
    return cover.make_cover(upscaler, np.ascontiguousarray(pixels), PixelFormat(ENGINE_DTYPES[sample], channels),
                            goal, fit, cover.Background.parse(background), UpscaleOptions(model=model))


def new_cover_image(results, name, size):
    case = succeeded(results, name)
    assert case["fingerprint_after"] == case["fingerprint_before"]     # the source image is untouched
    assert case["images_after"] == case["images_before"] + 1
    new_image = case["new_image"]
    assert new_image["size"] == list(size) and new_image["precision"] == case["before"]["precision"]
    return case, new_image


def test_cover_of_a_photo_keeps_the_whole_upscaled_picture_with_the_faces_in_the_canvas(cover_results, upscaler):
    from krita_realesrgan.common.geometry import Bounds
    results, profile = cover_results
    case, new_image = new_cover_image(results, "cover_children_video", (1280, 720))
    assert case["before"]["size"] == [566, 350]
    _, source = layer_pixels(results, "cover_children_video", "before", 0, profile.root)
    expected = engine_cover(upscaler, source, "R'G'B'A u8", "video-16x9", model="auto")
    assert len(new_image["layers"]) == 1
    layer, got = layer_pixels(results, "cover_children_video", "new_image", 0, profile.root)
    # the whole upscaled picture (566x350 scaled to cover 1280x720: 1280x792), placed so the canvas is the crop
    assert (layer["width"], layer["height"]) == (1280, 792) == expected.image.shape[1::-1]
    assert (layer["x"], layer["y"]) == (-expected.canvas.x, -expected.canvas.y)
    assert layer["x"] <= 0 and layer["y"] <= 0 and layer["x"] + 1280 >= 1280 and layer["y"] + 792 >= 720
    assert layer["name"] == f"Real-ESRGAN cover ({MODEL}) — {case['before']['layers'][0]['name']}"
    assert layer["has_alpha"]
    assert len(expected.faces) >= 3
    canvas = Bounds(0, 0, 1280, 720)
    for face in expected.faces:                        # in the picture's coordinates -> in the new image's
        assert canvas.contains(face.offset(layer["x"], layer["y"])), face
    assert_close(got, expected.image, "R'G'B'A u8")
    reasons = case["strings"][0]
    assert f"{len(expected.faces)} faces" in reasons and "no photo model is installed" in reasons


def test_cover_of_a_square_cartoon_crops_its_height(cover_results, upscaler):
    results, profile = cover_results
    case, new_image = new_cover_image(results, "cover_cartoon_video", (1280, 720))
    _, source = layer_pixels(results, "cover_cartoon_video", "before", 0, profile.root)
    expected = engine_cover(upscaler, source, "R'G'B' u8", "video-16x9")
    layer, got = layer_pixels(results, "cover_cartoon_video", "new_image", 0, profile.root)
    assert (layer["width"], layer["height"]) == (1280, 1280)
    assert layer["x"] == 0 and -560 <= layer["y"] < 0 and layer["y"] == -expected.canvas.y
    assert_close(got, expected.image, "R'G'B' u8")


def test_pad_cover_lays_the_centred_picture_on_a_solid_background_layer(cover_results, upscaler):
    from krita_realesrgan.common.geometry import Extent
    results, profile = cover_results
    case, new_image = new_cover_image(results, "cover_cartoon_pad", (480, 270))
    names = [layer["name"] for layer in new_image["layers"]]
    assert names == [f"Real-ESRGAN cover ({MODEL}) — Visible", "Background"]   # picture above its background
    background, under = layer_pixels(results, "cover_cartoon_pad", "new_image", 1, profile.root)
    assert (background["x"], background["y"], background["width"], background["height"]) == (0, 0, 480, 270)
    colour = [int(PAD_COLOUR[i:i + 2], 16) for i in (1, 3, 5)]
    assert (under == np.array(colour, np.uint8)).all()
    picture, got = layer_pixels(results, "cover_cartoon_pad", "new_image", 0, profile.root)
    assert (picture["x"], picture["y"], picture["width"], picture["height"]) == (105, 0, 270, 270)   # centred
    _, source = layer_pixels(results, "cover_cartoon_pad", "before", 0, profile.root)
    expected = engine_cover(upscaler, source, "R'G'B' u8", Extent(480, 270), fit="pad", background=PAD_COLOUR)
    assert tuple(expected.canvas) == (-105, 0, 480, 270)
    assert_close(got, expected.image, "R'G'B' u8")
    assert "fitted inside 480x270" in case["strings"][0]


def test_cover_of_a_16_bit_selection_padded_on_its_blurred_copy(cover_results, upscaler):
    from krita_realesrgan.common.geometry import Extent
    results, profile = cover_results
    case, new_image = new_cover_image(results, "cover_u16_selection_blur", (400, 200))
    assert new_image["precision"] == "u16-non-linear"
    _, source = layer_pixels(results, "cover_u16_selection_blur", "before", 0, profile.root)
    expected = engine_cover(upscaler, source[30:180, 40:240], "R'G'B'A u16", Extent(400, 200), fit="pad")
    assert tuple(expected.canvas) == (-66, 0, 400, 200)
    picture, got = layer_pixels(results, "cover_u16_selection_blur", "new_image", 0, profile.root)
    assert (picture["x"], picture["y"], picture["width"], picture["height"]) == (66, 0, 267, 200)
    assert_close(got, expected.image, "R'G'B'A u16")
    background, under = layer_pixels(results, "cover_u16_selection_blur", "new_image", 1, profile.root)
    assert background["name"] == "Background" and (background["width"], background["height"]) == (400, 200)
    assert_close(under, expected.background, "R'G'B'A u16")
    assert under[:, :, 3].min() == 65535 and under[:, :, :3].std() > 500       # opaque, and not a flat colour


def test_cover_of_a_linear_image_gets_the_colour_in_linear_light(cover_results, upscaler):
    from krita_realesrgan.common.geometry import Extent
    from test_gimp_units import srgb_to_linear
    results, profile = cover_results
    case, new_image = new_cover_image(results, "cover_float_linear_pad", (160, 80))
    assert new_image["precision"] == "float-linear"
    background, under = layer_pixels(results, "cover_float_linear_pad", "new_image", 1, profile.root)
    linear = [srgb_to_linear(int(PAD_COLOUR[i:i + 2], 16)) for i in (1, 3, 5)]     # about 0.033, 0.133, 0.604
    assert np.abs(under - np.array(linear, np.float32)).max() <= 0.5 / 255 + 1e-6
    picture, got = layer_pixels(results, "cover_float_linear_pad", "new_image", 0, profile.root)
    assert (picture["x"], picture["y"], picture["width"], picture["height"]) == (26, 0, 107, 80)
    _, source = layer_pixels(results, "cover_float_linear_pad", "before", 0, profile.root)
    expected = engine_cover(upscaler, source, "RGB float", Extent(160, 80), fit="pad")
    assert_close(got[:, :, :3], expected.image, "RGB float")


@pytest.mark.parametrize("name, words", [
    ("cover_bad_size", ["custom cover size 0x720", "from 1 to 16384"]),
    ("cover_too_elongated", ["16000x40", "pad fit"]),
    ("cover_nothing_visible", ["Nothing is visible"]),
])
def test_a_bad_cover_request_gets_a_clear_message_and_no_image(cover_results, name, words):
    results, profile = cover_results
    refused(results[name], words)


def refused(case, words):
    """A clear message with ``words`` (no traceback), no new image, and the image exactly as it was."""
    assert case["status"] == "execution-error"
    assert all(word in case["message"] for word in words), case["message"]
    assert "Traceback" not in case["message"]
    assert case["images_after"] == case["images_before"]
    assert case["fingerprint_after"] == case["fingerprint_before"] and not case["undo_dirty_after"]


def test_cover_arguments_offer_every_preset_and_the_installed_models(cover_results):
    from krita_realesrgan.common import cover_presets
    results, profile = cover_results
    presets = results["choices"][f"{COVER}:preset"]
    assert list(presets) == [t.id for t in cover_presets.presets()] + ["custom"]
    assert presets["video-16x9"] == "Video thumbnail 16:9 (HD) — 1280x720"
    models = results["choices"][f"{COVER}:model"]
    assert list(models)[:2] == ["auto", MODEL]


def test_preset_labels_are_chinese_for_a_chinese_locale(chinese_labels):
    assert chinese_labels["video-16x9"] == "视频封面 16:9（高清） — 1280x720"
    assert chinese_labels["square"].startswith("方形头像")
    assert chinese_labels["custom"].startswith("自定义尺寸")


# ---- Export cover ---------------------------------------------------------------------------------------------

EXPORT = "plug-in-realesrgan-export-cover"
TITLE = [100, 500, 600, 120, "#ff3300"]   # x, y, width, height, colour of a 70% opaque band over the photo
EXPORT_CASES = [
    # a photo scaled to the 16:9 preset's size with a title band (the band layer is the one selected); the
    # preset is found from the size, the limit (250 KB) is low enough to force a quality well below 95
    dict(name="export_video_jpg", image="OST_009.png", scale=[1280, 720], title=TITLE, procedure=EXPORT,
         args={"file": "{out}/cover.jpg", "max-kb": 250}, read_format="R'G'B' u8", visible_format="R'G'B' u8"),
    # 16-bit with alpha turned linear-light float: the file must look as the image does (sRGB), losslessly
    dict(name="export_float_linear_png", image="tree_alpha_16bit.png", precision="float-linear", procedure=EXPORT,
         no_drawables=True, args={"file": "{out}/tree.png"}, read_format="RGBA float",
         visible_format="R'G'B'A u8"),
    dict(name="export_impossible_limit", image="OST_009.png", scale=[1280, 720], procedure=EXPORT,
         args={"file": "{out}/tiny.jpg", "max-kb": 1}, read_format="R'G'B' u8"),
    dict(name="export_unwritable", image="0014.jpg", procedure=EXPORT, blocker="{out}/blocker",
         args={"file": "{out}/blocker/cover.jpg", "preset": "square"}, read_format="R'G'B' u8"),
]
EXPORT_CHOICES = [(EXPORT, "preset"), (EXPORT, "format")]


@pytest.fixture(scope="module")
def export_results(profile):
    return gimp_session(profile, "export", EXPORT_CASES, EXPORT_CHOICES), profile


def decoded(profile, path_inside: str) -> np.ndarray:
    """The written file decoded by OpenCV, channels in RGB(A) order."""
    import cv2
    image = cv2.imread(str(profile.host(path_inside)), cv2.IMREAD_UNCHANGED)
    assert image is not None, f"{path_inside} does not decode"
    return cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA if image.shape[2] == 4 else cv2.COLOR_BGR2RGB)


def visible_pixels(results, name, profile, babl) -> np.ndarray:
    visible = results[name]["visible"]
    return load_raw(visible["raw"], visible["width"], visible["height"], babl, profile.root)


def exported(results, name):
    """The successful case; the image it exported from is exactly as it was (no layer left, still clean)."""
    case = succeeded(results, name)
    assert case["fingerprint_after"] == case["fingerprint_before"]
    assert case["images_after"] == case["images_before"] and not case["undo_dirty_after"]
    return case


def mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean())


def test_export_fits_the_limit_with_a_lower_quality_and_looks_like_the_merged_image(export_results):
    import cv2
    results, profile = export_results
    case = exported(results, "export_video_jpg")
    assert case["fingerprint_before"]["layers"] == 2
    path, quality, size, description = case["values"]
    assert path == f"{profile.inside}/export_video_jpg/cover.jpg"
    written = profile.host(path)
    assert written.stat().st_size == size <= 250_000
    assert 30 <= quality < 95 and description == f"JPEG quality {quality}, {size:,} bytes"
    got = decoded(profile, path)
    assert got.shape == (720, 1280, 3)
    visible = visible_pixels(results, "export_video_jpg", profile, "R'G'B' u8")
    assert cv2.imencode(".jpg", visible[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])[1].size > 250_000  # needed
    # a detailed photo: even quality 95 is about 5 levels off on average; upside down it is about 70
    close, flipped = mean_difference(got, visible), mean_difference(got, visible[::-1])
    assert close < 8.0 and flipped > 5 * close, (close, flipped)
    # the title band is in the file: the merged image, not the photo layer alone
    x, y, w, h, _ = TITLE
    photo = load_raw(case["before"]["layers"][1]["raw"], 1280, 720, "R'G'B' u8", profile.root)
    band = np.s_[y:y + h, x:x + w]
    assert mean_difference(got[band], visible[band]) < 8.0 < 20 < mean_difference(got[band], photo[band])
    print(f"\nexport 1280x720 with a 250 KB limit: {description} in {case['seconds']:.1f} s")


def test_export_of_a_linear_float_image_is_written_in_the_srgb_tone_curve(export_results):
    results, profile = export_results
    case = exported(results, "export_float_linear_png")
    assert case["before"]["precision"] == "float-linear"
    path, quality, size, description = case["values"]
    assert path.endswith("/tree.png") and quality == 0 and description == f"PNG (lossless), {size:,} bytes"
    got = decoded(profile, path)
    visible = visible_pixels(results, "export_float_linear_png", profile, "R'G'B'A u8")
    assert got.shape == visible.shape == (256, 342, 4) and got.dtype == np.uint8
    seen = visible[:, :, 3] > 0
    assert 0 < seen.sum() < seen.size                       # partly transparent: alpha is really compared
    difference = np.abs(got.astype(int) - visible.astype(int))
    assert difference[:, :, 3].max() <= 1 and difference[seen][:, :3].max() <= 1
    # read in linear light instead, the mid-tones would be far darker
    linear = load_raw(case["before"]["layers"][0]["raw"], 342, 256, "RGBA float", profile.root)
    assert mean_difference(got[seen][:, :3], np.round(linear[seen][:, :3] * 255)) > 20


@pytest.mark.parametrize("name, words", [
    ("export_impossible_limit", ["over the limit of 1,000 bytes"]),
    ("export_unwritable", ["Could not save the cover"]),
])
def test_a_failed_export_says_why_and_leaves_no_file_and_the_image_unchanged(export_results, name, words):
    results, profile = export_results
    refused(results[name], words)
    out = profile.host(f"{profile.inside}/{name}")
    assert sorted(p.name for p in out.iterdir() if not p.name.endswith(".raw")) == \
        (["blocker"] if name == "export_unwritable" else [])        # no cover, no half-written part


def test_export_arguments_offer_auto_every_preset_and_the_formats(export_results):
    from krita_realesrgan.common import cover_presets
    results, profile = export_results
    presets = results["choices"][f"{EXPORT}:preset"]
    assert list(presets) == ["auto"] + [t.id for t in cover_presets.presets()] + ["custom"]
    assert list(results["choices"][f"{EXPORT}:format"]) == ["auto", "jpg", "png", "webp"]
