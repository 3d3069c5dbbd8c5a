"""Face restoration (krita_realesrgan/faces/): detection, the geometry of align / warp back / blend, the report,
the refusals, and a GFPGAN built from spandrel's own architecture with random weights through the engine.

The real GFPGANv1.4 weights cannot be downloaded here; random weights cost the same to run (seconds a face on
the CPU), so only one face goes through GFPGAN.
"""
from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

import netbuilders

from krita_realesrgan.common import catalog
from krita_realesrgan import pixels
from krita_realesrgan.engine import Upscaler
from krita_realesrgan.common.errors import Cancelled, EngineError, Kind
from krita_realesrgan.faces import align as align_mod
from krita_realesrgan.faces.detect import Face, detect
from krita_realesrgan.faces.mask import template_mask
from krita_realesrgan.faces.paste import MAX_FACES, MIN_FACE, choose, restore_faces
from krita_realesrgan.faces.restorer import Restorer
from krita_realesrgan.faces.step import FaceStep
from krita_realesrgan.common.formats import PixelFormat, UpscaleOptions
from krita_realesrgan.common.geometry import Bounds, Extent

CHILDREN = 5


def read_rgba(path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    order = [2, 1, 0, 3] if image.shape[2] == 4 else [2, 1, 0]
    return np.ascontiguousarray(image[:, :, order])


@pytest.fixture(scope="module")
def children(images) -> np.ndarray:
    return read_rgba(images / "children-alpha.png")


def faces_in(image: np.ndarray, fmt: PixelFormat):
    return detect(pixels.split(image, fmt).colour)


def restorer(run, batch: int = 2) -> Restorer:
    return Restorer("test", "test", "cpu", batch, run)


def identity(faces: np.ndarray) -> np.ndarray:
    return faces


def inverted(faces: np.ndarray) -> np.ndarray:
    return 1.0 - faces


def face_weight(face: Face, scale: float, extent) -> np.ndarray:
    """Where (and how strongly) a face's mask reaches in the upscaled picture: H×W float."""
    alignment = align_mod.align(align_mod.output_points(face.landmarks, (scale, scale)), extent)
    weight = np.zeros((extent.height, extent.width), np.float32)
    weight[alignment.region.slices] = np.clip(alignment.back(template_mask())[:, :, 0], 0, 1)
    return weight


# -- detection ----------------------------------------------------------------------------------------------------

def test_finds_the_five_children_with_landmarks_in_colour_grey_and_16_bit(children):
    grey = cv2.cvtColor(np.ascontiguousarray(children[:, :, :3]), cv2.COLOR_RGB2GRAY)
    deep = children.astype(np.uint16) * 257
    for image, fmt in ((children, PixelFormat("uint8", 4)), (grey, PixelFormat("uint8", 1)),
                       (deep, PixelFormat("uint16", 4))):
        found = faces_in(image, fmt)
        assert len(found) == CHILDREN, fmt
        for face in found:
            assert face.confidence > 0.5 and 40 <= face.size <= 90
            (lx, ly), (rx, ry), (nx, ny), (mlx, mly), (mrx, mry) = face.landmarks
            assert lx < nx < rx and mlx < mrx                     # left eye, nose, right eye as seen
            assert max(ly, ry) < ny < min(mly, mry)                # eyes above the nose above the mouth
            box = face.box
            assert all(box.x <= x <= box.right and box.y <= y <= box.bottom for x, y in face.landmarks)
    centres = sorted((f.box.x + f.box.width // 2, f.box.y + f.box.height // 2) for f in faces_in(*(
        children, PixelFormat("uint8", 4))))
    assert len({(x // 40, y // 40) for x, y in centres}) == CHILDREN   # five different places


def test_without_yuface_haar_boxes_with_guessed_landmarks_are_restored_and_said_to_be_rough(children,
                                                                                           monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "yuface", None)     # as where yuface has no wheel: importing it fails
    fmt = PixelFormat("uint8", 4)
    found = faces_in(children, fmt)
    assert len(found) == CHILDREN and all(face.confidence == 0.0 for face in found)
    plain = cv2.resize(children, None, fx=2, fy=2, interpolation=cv2.INTER_LANCZOS4)
    out, report = FaceStep(restorer(identity), 1.0).run(children, fmt, plain.copy())
    assert report.summary() == "5 faces restored, aligned roughly (without yuface the landmarks are guessed)"
    assert np.abs(out.astype(int) - plain.astype(int)).max() <= 3
    monkeypatch.delitem(sys.modules, "yuface")
    assert all(face.confidence > 0.5 for face in faces_in(children, fmt))


def test_no_faces_in_a_picture_without_people(images):
    photo = read_rgba(images / "0014.jpg")
    assert faces_in(photo, PixelFormat("uint8", 3)) == []


def test_a_large_picture_is_reduced_for_detection_and_the_faces_scaled_back(children):
    rgb = np.ascontiguousarray(children[:, :, :3])
    large = cv2.resize(rgb, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)   # 1698 px: detected at 960
    small, big = faces_in(rgb, PixelFormat("uint8", 3)), faces_in(large, PixelFormat("uint8", 3))
    assert len(big) == CHILDREN
    by_place = sorted(small, key=lambda f: f.box.x), sorted(big, key=lambda f: f.box.x)
    offsets = np.array([(np.array(b.landmarks) + 0.5) / 3 - 0.5 - np.array(s.landmarks) for s, b in zip(*by_place)])
    # in the small picture's pixels: YuNet's landmarks move a few pixels between scales, but not all one way
    assert np.abs(offsets).max() < 5 and np.abs(offsets.mean(axis=(0, 1))).max() < 2


# -- which faces, and the report ----------------------------------------------------------------------------------

def fake_face(size: int) -> Face:
    return Face(Bounds(0, 0, size, size), 0.9, ((1, 1), (3, 1), (2, 2), (1, 3), (3, 3)))


def test_small_faces_and_a_crowd_are_counted_not_restored():
    kept, report = choose([fake_face(s) for s in (40, 10, 60, 12, 50)])
    assert [f.size for f in kept] == [60, 50, 40]
    assert report.summary() == f"3 faces restored, 2 too small (under {MIN_FACE} px)"
    crowd, report = choose([fake_face(20 + i) for i in range(MAX_FACES + 3)])
    assert len(crowd) == MAX_FACES and min(f.size for f in crowd) == 23
    assert report.summary() == f"{MAX_FACES} faces restored, 3 more not restored (at most {MAX_FACES})"
    assert choose([])[1].summary() == "no faces found"


# -- geometry: align, warp back, blend ----------------------------------------------------------------------------

def test_an_identity_restorer_leaves_the_plain_upscale(children):
    fmt = PixelFormat("uint8", 4)
    plain = cv2.resize(children, None, fx=2, fy=2, interpolation=cv2.INTER_LANCZOS4)
    out, report = FaceStep(restorer(identity), 1.0).run(children, fmt, plain.copy())
    assert report.summary() == "5 faces restored"
    difference = np.abs(out.astype(int) - plain.astype(int))
    assert difference.max() <= 3 and difference.mean() < 0.05
    assert np.array_equal(out[:, :, 3], plain[:, :, 3])          # alpha is the plain upscale's


def test_a_restorer_that_inverts_changes_exactly_the_feathered_faces(children):
    fmt = PixelFormat("uint8", 4)
    plain = cv2.resize(children, None, fx=2, fy=2, interpolation=cv2.INTER_LANCZOS4)
    found = faces_in(children, fmt)
    out, _ = FaceStep(restorer(inverted), 1.0).run(children, fmt, plain.copy())
    extent = pixels.check_image(plain, fmt)
    weight = np.max([face_weight(face, 2.0, extent) for face in found], axis=0)
    colour, before = out[:, :, :3].astype(int), plain[:, :, :3].astype(int)
    assert np.array_equal(colour[weight == 0], before[weight == 0])       # not one level outside the faces
    core = weight > 0.99
    assert np.abs(colour[core] - (255 - before[core])).max() <= 3          # inverted where the mask is full
    for face in found:   # each nose, in the upscaled picture, is inverted
        x, y = (round((c + 0.5) * 2 - 0.5) for c in face.landmarks[2])
        assert abs(int(out[y, x, 0]) - (255 - int(plain[y, x, 0]))) <= 3
    assert 0.05 < (weight > 0).mean() < 0.6


@pytest.mark.parametrize("dtype", ["uint16", "float32"])
def test_16_bit_and_float_keep_their_precision_outside_the_faces(children, dtype):
    fmt = PixelFormat(dtype, 4)
    image = pixels.merge(*_planes(children), fmt)
    plain = cv2.resize(image, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)
    if dtype == "float32":
        plain[:, :, :3] += np.float32(1e-5)          # values no 8-bit picture holds
    found = faces_in(image, fmt)
    out, _ = FaceStep(restorer(identity), 1.0).run(image, fmt, plain.copy())
    weight = np.max([face_weight(face, 2.0, pixels.check_image(plain, fmt)) for face in found], axis=0)
    assert np.array_equal(out[weight == 0], plain[weight == 0])
    assert np.array_equal(out[:, :, 3], plain[:, :, 3])
    top = 65535 if dtype == "uint16" else 1.0
    assert np.abs(out.astype(np.float64) - plain).max() <= 3 / 255 * top   # the identity round trip
    assert out.dtype == plain.dtype


@pytest.mark.parametrize("channels", [1, 2])
def test_grey_pictures_are_restored_as_luma_and_keep_their_layout(children, channels):
    grey = cv2.cvtColor(np.ascontiguousarray(children[:, :, :3]), cv2.COLOR_RGB2GRAY)
    image = grey if channels == 1 else np.ascontiguousarray(np.dstack([grey, children[:, :, 3]]))
    fmt = PixelFormat("uint8", channels)
    plain = cv2.resize(image, None, fx=2, fy=2, interpolation=cv2.INTER_LANCZOS4)
    out, report = FaceStep(restorer(identity), 1.0).run(image, fmt, plain.copy())
    assert report.restored == CHILDREN and out.shape == plain.shape
    assert np.abs(out.astype(int) - plain.astype(int)).max() <= 3
    inverted_out, _ = FaceStep(restorer(inverted), 1.0).run(image, fmt, plain.copy())
    assert np.abs(inverted_out.astype(int) - plain.astype(int)).max() > 200
    if channels == 2:
        assert np.array_equal(inverted_out[:, :, 1], plain[:, :, 1])


def _planes(image):
    planes = pixels.split(image, PixelFormat("uint8", 4))
    return planes.colour, planes.alpha


def test_strength_mixes_restored_and_plain(children):
    fmt = PixelFormat("uint8", 4)
    plain = cv2.resize(children, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)
    nothing, _ = FaceStep(restorer(inverted), 0.0).run(children, fmt, plain.copy())
    assert np.array_equal(nothing, plain)
    half, _ = FaceStep(restorer(inverted), 0.5).run(children, fmt, plain.copy())
    full, _ = FaceStep(restorer(inverted), 1.0).run(children, fmt, plain.copy())
    middle = (plain.astype(int) + full.astype(int)) / 2
    assert np.abs(half - middle).max() <= 1.5


def test_progress_counts_faces_and_cancel_stops_between_them(children):
    fmt = PixelFormat("uint8", 4)
    plain = cv2.resize(children, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)
    found = faces_in(children, fmt)
    ticks = []
    restore_faces(plain.copy(), fmt, found, (2.0, 2.0), restorer(identity, batch=1), 1.0,
                  lambda done, total: ticks.append((done, total)))
    assert ticks == [(i, CHILDREN) for i in range(1, CHILDREN + 1)]
    calls = []

    def counting(faces):
        calls.append(len(faces))
        return faces
    with pytest.raises(Cancelled):
        restore_faces(plain.copy(), fmt, found, (2.0, 2.0), restorer(counting, batch=1), 1.0,
                      cancel=lambda: len(calls) >= 2)
    assert calls == [1, 1]


# -- refusals, before any upscaling -------------------------------------------------------------------------------

def test_refusals_come_before_the_upscale(tmp_path, children, animevideo_pth):
    engine = Upscaler(tmp_path)
    fmt = PixelFormat("uint8", 4)
    anime = UpscaleOptions(model="RealESRGAN_x4plus_anime_6B", face_enhance=True)
    with pytest.raises(EngineError) as error:
        engine.upscale(children, fmt, anime)
    assert error.value.kind == Kind.BAD_INPUT and "anime model" in error.value.message
    shutil.copy(animevideo_pth, tmp_path / "net.pth")
    missing = UpscaleOptions(model=str(tmp_path / "net.pth"), face_enhance=True)
    with pytest.raises(EngineError) as error:
        engine.upscale(children, fmt, missing)
    assert error.value.kind == Kind.WEIGHTS_MISSING
    assert "python3 installer.py --models GFPGANv1.4" in error.value.message and "\n" not in error.value.message
    for wrong in (UpscaleOptions(model="GFPGANv1.4"), UpscaleOptions(model=str(tmp_path / "net.pth"),
                                                                        face_enhance=True, face_model="RealESRGAN_x4plus")):
        with pytest.raises(EngineError) as error:
            engine.upscale(children, fmt, wrong)
        assert error.value.kind in (Kind.BAD_INPUT, Kind.WEIGHTS_MISSING), wrong
    with pytest.raises(EngineError) as error:     # an upscaler's file given as the face model
        engine.upscale(children, fmt, missing.with_(face_model=str(tmp_path / "net.pth")))
    assert error.value.kind == Kind.BAD_WEIGHTS and "not a face restorer" in error.value.message
    with pytest.raises(EngineError):
        UpscaleOptions(face_strength=1.5)


def test_face_models_are_not_upscalers_in_any_list(tmp_path):
    assert catalog.get("GFPGANv1.4").kind == catalog.FACE
    assert all(m.kind != catalog.FACE for m in catalog.listed())
    (tmp_path / "GFPGANv1.4.pth").write_bytes(b"x")
    rows = Upscaler(tmp_path).model_status()
    assert not any("GFPGAN" in row["name"] for row in rows)


# -- GFPGAN from spandrel's own class, random weights, through the catalog path ----------------------------------

@pytest.fixture(scope="module")
def gfpgan_weights(tmp_path_factory, animevideo_pth):
    """A weights folder with a random GFPGANv1.4.pth (as the installer names it) and a photo-like upscaler."""
    import torch
    folder = tmp_path_factory.mktemp("face-weights")
    torch.save({"params_ema": netbuilders.gfpgan()}, folder / "GFPGANv1.4.pth")
    shutil.copy(animevideo_pth, folder / "net.pth")    # given as a path: not an anime catalog model
    return folder


@pytest.mark.slow
def test_random_gfpgan_loads_by_catalog_name_and_changes_only_the_face(gfpgan_weights, children):
    one = np.ascontiguousarray(children[110:200, 320:420])     # one child (the face at 340,116), 100x90
    fmt = PixelFormat("uint8", 4)
    engine = Upscaler(gfpgan_weights)
    plain_options = UpscaleOptions(model=str(gfpgan_weights / "net.pth"), scale=2, backend="torch", device="cpu")
    plain = engine.upscale(one, fmt, plain_options).image
    ticks = []
    result = engine.upscale(one, fmt, plain_options.with_(face_enhance=True), lambda d, t: ticks.append((d, t)))
    assert result.faces is not None and result.faces.summary() == "1 face restored"
    assert ticks[-1] == (1, 1)
    (face,) = faces_in(one, fmt)
    weight = face_weight(face, 2.0, pixels.check_image(plain, fmt))
    out = result.image.astype(int)
    assert np.abs(out[weight == 0] - plain[weight == 0]).max() <= 1
    assert np.abs(out[weight > 0.99][:, :3] - plain[weight > 0.99][:, :3]).mean() > 20   # the network's face
    assert np.array_equal(result.image[:, :, 3], plain[:, :, 3])


# -- the installer takes a face restorer only byte-identical to the release -----------------------------------------

def face_fetcher(tmp_path, folder):
    import io
    import sys
    from types import SimpleNamespace

    from data_paths import REPO
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))   # as installer.py does: install_steps sits beside it, not installed
    from install_steps.console import Console
    from install_steps.manifest import Manifest
    from install_steps.weights import WeightFetcher
    args = SimpleNamespace(mirror=None, weights_from=str(folder), ncnn_pack=None, offline=True)
    weights = tmp_path / "weights"
    weights.mkdir(parents=True)
    console = Console(stream=io.StringIO())
    return WeightFetcher(weights, args, console, Manifest(tmp_path / "manifest.json"), sys.executable), weights, console


def test_the_installer_takes_gfpgan_from_a_folder_only_with_the_release_hash(tmp_path):
    import dataclasses
    import hashlib
    release = catalog.MODELS["GFPGANv1.4"]
    folder = tmp_path / "given"
    folder.mkdir()
    random_bytes = np.random.default_rng(15).bytes(4096)
    (folder / "GFPGANv1.4.pth").write_bytes(random_bytes)
    fetch, weights, console = face_fetcher(tmp_path / "wrong", folder)
    fetch.install_one(release)
    assert list(weights.iterdir()) == [] and console.failures
    assert "not the release file" in console.failures[0] and release.url in console.failures[0]
    # the same bytes when they are the release (a catalog entry with their size and hash): taken, verified
    published = dataclasses.replace(release, bytes=len(random_bytes), sha256=hashlib.sha256(random_bytes).hexdigest())
    fetch, weights, console = face_fetcher(tmp_path / "right", folder)
    fetch.install_one(published)
    assert (weights / "GFPGANv1.4.pth").read_bytes() == random_bytes and not console.failures
    assert "sha256 verified" in console.stream.getvalue()
    from install_steps.weights import model_names
    assert model_names("GFPGANv1.4") == ["GFPGANv1.4"] and "GFPGANv1.4" not in model_names("all")


# -- the command line -------------------------------------------------------------------------------------------------

def one_child(children) -> np.ndarray:
    return np.ascontiguousarray(children[110:200, 320:420])     # the child whose face is at 340,116 (100x90)


def write_png(path, rgba) -> str:
    assert cv2.imwrite(str(path), np.ascontiguousarray(rgba[:, :, [2, 1, 0, 3]]))
    return str(path)


def test_the_cli_refuses_anime_models_and_names_the_install_command(tmp_path, children, animevideo_pth, capsys):
    from krita_realesrgan.cli.main import main
    source = write_png(tmp_path / "kid.png", one_child(children))
    shutil.copy(animevideo_pth, tmp_path / "net.pth")
    common = ["-i", source, "-o", str(tmp_path / "out"), "--weights-dir", str(tmp_path), "--face-enhance"]
    assert main(common + ["-n", "RealESRGAN_x4plus_anime_6B"]) != 0
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: Face restoration is for photos") and "\n" not in error
    assert main(common + ["-n", str(tmp_path / "net.pth")]) != 0
    error = capsys.readouterr().err.strip()
    assert error == ("error: The weights of GFPGANv1.4 are not installed. Get them with: "
                     "python3 installer.py --models GFPGANv1.4")
    assert main(["cover", "-i", source, "--size", "200x200", "-o", str(tmp_path / "c.png"), "--weights",
                 str(tmp_path), "--face-enhance"]) != 0
    assert "python3 installer.py --models GFPGANv1.4" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() and not (tmp_path / "c.png").exists()


def test_a_cover_restores_faces_of_a_photo_and_says_so(tmp_path, children, animevideo_pth):
    from krita_realesrgan.cover import make as cover
    engine = Upscaler(tmp_path)
    engine.faces.restorers.get = lambda model, device: restorer(inverted)   # the weights are tested above
    shutil.copy(animevideo_pth, tmp_path / "net.pth")
    fmt = PixelFormat("uint8", 4)
    options = UpscaleOptions(model=str(tmp_path / "net.pth"), face_enhance=True, backend="torch", device="cpu")
    made = cover.make_cover(engine, one_child(children), fmt, Extent(300, 300), "pad", options=options)
    assert any(r.key == "faces_restored" and r.args["restored"] == 1 for r in made.reasons)
    assert "faces: 1 restored" in " ".join(r.text() for r in made.reasons)
    anime = options.with_(model="realesr-animevideov3")
    shutil.copy(animevideo_pth, tmp_path / "realesr-animevideov3.pth")
    made = cover.make_cover(engine, one_child(children), fmt, Extent(300, 300), "pad", options=anime)
    assert [r.key for r in made.reasons if r.key.startswith("faces")] == ["faces_not_for_anime"]


def test_the_cli_says_how_many_faces_it_restored(tmp_path, children, animevideo_pth, capsys, monkeypatch):
    from krita_realesrgan.cli.main import main
    from krita_realesrgan.faces.restorer import RestorerStore
    monkeypatch.setattr(RestorerStore, "get", lambda self, model, device: restorer(inverted))
    (tmp_path / "GFPGANv1.4.pth").write_bytes(b"present")   # found by name; the network is the stand-in above
    shutil.copy(animevideo_pth, tmp_path / "net.pth")
    source = write_png(tmp_path / "kid.png", one_child(children))
    code = main(["-i", source, "-o", str(tmp_path / "out"), "--weights-dir", str(tmp_path), "-n",
                 str(tmp_path / "net.pth"), "--face-enhance", "--face-strength", "0.5", "-s", "2",
                 "--backend", "torch"])
    assert code == 0, capsys.readouterr().err
    assert "1 face restored)" in capsys.readouterr().out
    written = cv2.imread(str(tmp_path / "out" / "kid_out.png"), cv2.IMREAD_UNCHANGED)
    assert written.shape == (180, 200, 4)


def test_the_worker_passes_the_face_options_and_reports_the_faces(tmp_path, children, animevideo_pth, monkeypatch):
    from krita_realesrgan.common import rawimage
    from krita_realesrgan.serving import worker
    from krita_realesrgan.faces.restorer import RestorerStore
    monkeypatch.setattr(RestorerStore, "get", lambda self, model, device: restorer(inverted))
    shutil.copy(animevideo_pth, tmp_path / "net.pth")
    kid = one_child(children)
    rawimage.write(tmp_path / "in.raw", PixelFormat("uint8", 4), Extent(kid.shape[1], kid.shape[0]), kid)
    sent = []
    serving = worker.Worker(Upscaler(tmp_path), type("Events", (), {"send": lambda self, e: sent.append(e)})())
    options = UpscaleOptions(model=str(tmp_path / "net.pth"), scale=2, backend="torch", face_enhance=True,
                             face_strength=0.5).to_json()
    reply = serving.run_job({"id": 1, "op": "upscale", "input": str(tmp_path / "in.raw"),
                             "output": str(tmp_path / "out.raw"), "options": options})
    assert reply["event"] == "result" and reply["faces"] == "1 face restored", reply
    anime = dict(options, model="realesr-animevideov3")
    reply = serving.run_job({"id": 2, "op": "upscale", "input": str(tmp_path / "in.raw"),
                             "output": str(tmp_path / "out.raw"), "options": anime})
    assert reply["event"] == "error" and reply["error"]["kind"] == Kind.BAD_INPUT
