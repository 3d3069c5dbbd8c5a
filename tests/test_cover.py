"""Cover images: presets, crop placement (faces / saliency), model choice by content, pad fit, size-limited export,
the CLI and the worker op — on the real test pictures and, where the network matters, the real weights."""
from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from krita_realesrgan.cover import make as cover, content as cover_content, crop as cover_crop, export as cover_export, op as cover_op
from krita_realesrgan.cli import main as cli, cover as cover_cli
from krita_realesrgan.serving import worker
from krita_realesrgan import resample
from krita_realesrgan.common import cover_presets, rawimage
from krita_realesrgan.common.errors import Cancelled, EngineError, Kind
from krita_realesrgan.common.formats import PixelFormat, UpscaleOptions
from krita_realesrgan.common.geometry import Bounds, Extent
from krita_realesrgan.imagefile import read_image
from helpers import FakeUpscaler

EXPECTED_PRESETS = {  # the sizes the issue asks for
    "video-16x9": Extent(1280, 720), "video-16x9-fhd": Extent(1920, 1080), "short-9x16": Extent(1080, 1920),
    "note-3x4": Extent(1080, 1440), "article-2.35x1": Extent(900, 383), "square": Extent(1080, 1080),
}
CJK = re.compile(r"[\u4e00-\u9fff]")


# --- stand-ins: helpers.FakeUpscaler(scale=4) where the network is not what a test is about ---------------------

class CachingUpscaler:
    """The real upscaler, run once per (picture, options): many presets share one real network pass."""

    def __init__(self, real):
        self.real, self.cache, self.runs = real, {}, 0

    def model_status(self):
        return self.real.model_status()

    def upscale(self, image, fmt, options, progress=None, cancel=None):
        key = (hashlib.sha1(image.tobytes()).hexdigest(), image.shape, options)
        if key not in self.cache:
            self.runs += 1
            self.cache[key] = self.real.upscale(image, fmt, options, progress, cancel)
        return self.cache[key]


@pytest.fixture(scope="module")
def real_upscaler(upscaler):
    return CachingUpscaler(upscaler)


@pytest.fixture(scope="module")
def children(images):
    image, fmt = read_image(images / "children-alpha.png")
    assert fmt == PixelFormat("uint8", 4) and image.shape == (350, 566, 4)
    return image, fmt


@pytest.fixture(scope="module")
def cartoon(images):
    return read_image(images / "0014.jpg")  # 179x179 RGB


@pytest.fixture(scope="module")
def building(images):
    return read_image(images / "OST_009.png")  # 448x640 RGB photo


# --- presets ---------------------------------------------------------------------------------------------------

def test_presets_have_the_sizes_limits_and_chinese_names():
    found = {p.id: p for p in cover_presets.presets()}
    assert {k: p.size for k, p in found.items()} == EXPECTED_PRESETS
    for target in found.values():
        assert CJK.search(target.name_zh), target.name_zh
        assert target.name_en and not CJK.search(target.name_en)
        assert target.name("zh_CN") == target.name("zh") == target.name_zh and target.name("de_DE") == target.name_en
        assert target.max_bytes and target.max_bytes <= 5_000_000
        assert set(target.formats) <= set(cover_export.EXPORT_FORMATS) and "jpg" in target.formats
    assert found["video-16x9"].max_bytes <= 2_000_000 and found["video-16x9-fhd"].max_bytes <= 2_000_000
    assert abs(found["article-2.35x1"].aspect - 2.35) < 0.01


def test_list_presets_prints_both_languages(capsys):
    assert cli.main(["cover", "--list-presets"]) == 0
    out = capsys.readouterr().out
    for target in cover_presets.presets():
        assert target.id in out and target.name_zh in out and target.name_en in out and str(target.size) in out
    assert "--size WxH" in out


def test_preset_lookup_and_custom_sizes():
    assert cover_presets.preset(" Square ").size == Extent(1080, 1080)
    with pytest.raises(EngineError) as error:
        cover_presets.preset("tiktok")
    assert error.value.kind == Kind.BAD_INPUT and "video-16x9" in error.value.message
    assert cover_presets.parse_size("1200x628") == Extent(1200, 628)
    assert cover_presets.parse_size("640×480") == Extent(640, 480)
    for bad in ("1200", "0x10", "axb", "99999x10"):
        with pytest.raises(EngineError):
            cover_presets.parse_size(bad)


# --- geometry --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("source", [Extent(566, 350), Extent(179, 179), Extent(448, 640), Extent(3000, 100)])
@pytest.mark.parametrize("target", list(EXPECTED_PRESETS.values()))
def test_upscaled_size_covers_or_fits_with_one_exact_side(source, target):
    covering = cover.upscaled_size(source, target, "cover")
    assert covering.width >= target.width and covering.height >= target.height
    assert covering.width == target.width or covering.height == target.height
    factor = max(target.width / source.width, target.height / source.height)  # exactly the factor needed
    assert abs(covering.width - source.width * factor) <= 1 and abs(covering.height - source.height * factor) <= 1
    fitting = cover.upscaled_size(source, target, "pad")
    assert fitting.fits_in(target) and (fitting.width == target.width or fitting.height == target.height)
    factor = min(target.width / source.width, target.height / source.height)
    assert abs(fitting.width - source.width * factor) <= 1 and abs(fitting.height - source.height * factor) <= 1


def test_crop_contains_all_faces_when_they_fit_else_the_largest():
    picture, crop = Extent(3000, 1000), Extent(1000, 1000)
    faces = [Bounds(1200, 300, 200, 200), Bounds(1700, 500, 150, 150)]
    choice = cover_crop.place_crop(picture, crop, faces, None)
    assert choice.bounds.extent == crop and all(choice.bounds.contains(f) for f in faces)
    assert Bounds.of(picture).contains(choice.bounds)
    far = faces + [Bounds(2700, 100, 250, 250)]  # does not fit with the others: the largest wins
    choice = cover_crop.place_crop(picture, crop, far, None)
    assert choice.bounds.contains(far[2]) and len(choice.kept) == 1 and "do not all fit" in str(choice.reason)
    edge = cover_crop.place_crop(picture, crop, [Bounds(0, 0, 50, 50)], None)
    assert edge.bounds.x == 0 and edge.bounds.contains(Bounds(0, 0, 50, 50))


def test_a_face_left_out_is_not_cut_in_half():
    picture, crop = Extent(3000, 800), Extent(800, 800)
    big, wide = Bounds(1000, 300, 300, 300), Bounds(1500, 300, 320, 200)   # together 820 px: only the big one fits
    centred = cover_crop.centred(picture, crop, 1150, 450)
    assert 0 < cover_crop.cut_area(centred, [wide])                     # centring on the big face cuts the other
    choice = cover_crop.place_crop(picture, crop, [big, wide], None)
    assert choice.kept == (big,) and choice.bounds.contains(big)
    assert choice.bounds.intersection(wide).is_empty and choice.bounds == Bounds(700, 0, 800, 800)  # moved 50 px
    assert cover_crop.cut_area(choice.bounds, [big, wide]) == 0


def test_salient_centre_finds_the_odd_part():
    rng = np.random.default_rng(1)
    grey = rng.integers(100, 140, (100, 300), dtype=np.uint8)  # a plain, slightly grainy backdrop
    grey[30:70, 230:270] = 250                                 # and one bright thing on it
    cx, cy = cover_crop.salient_centre(cover_crop.saliency(grey, None), Extent(100, 100))
    assert 220 <= cx <= 280
    choice = cover_crop.place_crop(Extent(300, 100), Extent(100, 100), [], (cx, cy))
    assert choice.bounds.contains(Bounds(230, 30, 40, 40)) and "salient" in str(choice.reason)


def test_saliency_prefers_the_windows_to_the_brick_wall(building):
    """The 16:9 crop of the tall building photo shows the shuttered windows (upper half), not the bare wall."""
    grey, alpha = cover_crop.grey_view(*building)
    cx, cy = cover_crop.salient_centre(cover_crop.saliency(grey, alpha), Extent(448, 252))
    assert 150 <= cy <= 320  # shutters at y 140..280 of 640


def test_map_bounds_covers_the_scaled_box():
    mapped = cover_crop.map_bounds(Bounds(10, 11, 7, 9), Extent(100, 50), Extent(333, 167))
    assert mapped.x <= 10 * 3.33 and mapped.right >= 17 * 3.33 and mapped.bottom >= 20 * 3.34 - 1e-6


# --- faces and content on the real pictures --------------------------------------------------------------------

def test_faces_found_in_the_photo_of_five_children(children):
    grey, alpha = cover_crop.grey_view(*children)
    faces = cover_crop.detect_faces(grey)
    assert len(faces) >= 3  # the cascade finds all 5 here
    for face in faces:
        assert Bounds(0, 0, 566, 350).contains(face) and 50 <= face.width <= 100
        assert alpha[face.y + face.height // 2, face.x + face.width // 2] > 0.9  # on the picture, not on air


@pytest.mark.parametrize("name", ["0014.jpg", "OST_009.png"])
def test_no_faces_in_the_cartoon_or_the_building(images, name):
    grey, _ = cover_crop.grey_view(*read_image(images / name))
    assert cover_crop.detect_faces(grey) == []


@pytest.mark.parametrize("name, kind", [("0014.jpg", "anime"), ("OST_009.png", "photo"),
                                        ("children-alpha.png", "photo"), ("wolf_gray.jpg", "photo"),
                                        ("tree_alpha_16bit.png", "photo")])
def test_content_guess(images, name, kind):
    guess = cover_content.guess_content(*read_image(images / name))
    assert guess.kind == kind
    assert ("illustration" if kind == "anime" else "photo") in str(guess.explain())


def test_model_choice_prefers_installed_models_of_the_right_kind():
    photo = cover_content.ContentGuess("photo", 0.2, 0.1)
    rows = [{"name": "realesr-animevideov3", "available": True, "catalog": True},
            {"name": "RealESRGAN_x4plus", "available": True, "catalog": True}]
    assert cover_content.choose_model(photo, rows)[0] == "RealESRGAN_x4plus"
    anime = cover_content.ContentGuess("anime", 0.6, 0.4)
    name, reasons = cover_content.choose_model(anime, rows)
    assert name == "realesr-animevideov3" and "best installed anime model" in str(reasons[-1])
    none = [dict(row, available=False) for row in rows]
    name, reasons = cover_content.choose_model(photo, none)
    assert name == "realesr-animevideov3" and "no model is installed" in str(reasons[-1])


def test_model_choice_with_the_installed_weights_falls_back_and_says_why(upscaler):
    status = upscaler.model_status()
    assert [r["name"] for r in status if r["available"]] == ["realesr-animevideov3"]
    name, reasons = cover_content.choose_model(cover_content.ContentGuess("photo", 0.2, 0.1), status)
    assert name == "realesr-animevideov3"
    assert "no photo model is installed" in str(reasons[-1]) and "installer.py --models RealESRGAN_x4plus" in str(reasons[-1])


# --- export ----------------------------------------------------------------------------------------------------

def _noise(extent: Extent, channels=3) -> np.ndarray:
    return np.random.default_rng(7).integers(0, 256, (extent.height, extent.width, channels), dtype=np.uint8)


@pytest.mark.parametrize("fmt", ["jpg", "webp"])
def test_lossy_export_lowers_quality_until_it_fits(fmt):
    image = _noise(Extent(400, 300))
    best = cover_export.encode_within(image, fmt, None)
    assert best.quality == 95
    limit = best.size * 2 // 3
    fitted = cover_export.encode_within(image, fmt, limit)
    assert fitted.size <= limit and fitted.quality < 95 and fitted.format == fmt
    assert f"quality {fitted.quality}" in fitted.describe()
    with pytest.raises(EngineError, match="Even at quality 30"):
        cover_export.encode_within(image, fmt, 1000)


def test_export_cancelled_between_tries_writes_nothing(tmp_path):
    image, asked = _noise(Extent(400, 300)), []

    def cancel_at_the_third_try():
        asked.append(1)
        return len(asked) >= 3

    target = tmp_path / "cover.webp"
    with pytest.raises(Cancelled):
        cover_export.export(image, PixelFormat("uint8", 3), target, "webp", 1000, cancel=cancel_at_the_third_try)
    assert len(asked) == 3 and list(tmp_path.iterdir()) == []
    done = cover_export.export(image, PixelFormat("uint8", 3), target, "webp", None, cancel=lambda: False)
    assert done.quality == 95 and target.stat().st_size == done.size and done.describe().startswith("WebP quality")


def test_png_over_the_limit_is_posterised_then_refused_with_a_suggestion():
    image = _noise(Extent(300, 200))
    lossless = cover_export.encode_within(image, "png", None)
    assert lossless.quality is None and lossless.bits == 8 and "lossless" in lossless.describe()
    smaller = cover_export.encode_within(image, "png", lossless.size - 1)
    assert smaller.bits < 8 and smaller.size < lossless.size and "posterised" in smaller.describe()
    decoded = cv2.imdecode(np.frombuffer(smaller.data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert len(np.unique(decoded)) <= 2 ** smaller.bits + 1
    with pytest.raises(EngineError) as error:
        cover_export.encode_within(image, "png", 10_000)
    assert "JPEG or WebP" in error.value.message


def test_jpeg_lays_transparency_on_white_png_keeps_it():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:2, :, 3] = 255
    flat = cover_export.to_8bit(rgba, PixelFormat("uint8", 4), "jpg")
    assert flat.shape == (4, 4, 3) and (flat[2:] == 255).all() and (flat[:2, :, 0] == 200).all()
    assert cover_export.to_8bit(rgba, PixelFormat("uint8", 4), "png").shape == (4, 4, 4)
    wide = (rgba.astype(np.uint16) * 257)
    assert cover_export.to_8bit(wide, PixelFormat("uint16", 4), "webp").dtype == np.uint8


def test_export_format_from_name():
    assert cover_export.format_for(Path("a/b.JPEG")) == "jpg"
    assert cover_export.format_for(Path("b.png"), "webp") == "webp"
    with pytest.raises(EngineError):
        cover_export.format_for(Path("cover.gif"))


# --- make_cover with the stand-in (geometry of every preset, fast) ---------------------------------------------

@pytest.mark.parametrize("preset_id", list(EXPECTED_PRESETS))
def test_every_preset_with_the_stand_in(children, preset_id):
    target = cover_presets.preset(preset_id)
    result = cover.make_cover(FakeUpscaler(scale=4), *children, target)
    assert result.compose().shape == (target.size.height, target.size.width, 4)
    assert Bounds.of(cover.extent_of(result.image)).contains(result.canvas)
    kept = cover_crop.faces_to_keep(result.faces, target.size)
    assert len(result.faces) >= 3 and all(result.canvas.contains(face) for face in kept)
    assert cover_crop.cut_area(result.canvas, result.faces) == 0
    if len(kept) == len(result.faces):
        assert "around the 5 faces" in str(result.reasons[-1])


def flattened(result, fmt):
    """The cover as it is saved as JPEG (transparency on white): what the two ways of making it must agree on."""
    return cover_export.to_8bit(result.compose(), fmt, "jpg").astype(np.int16)


@pytest.mark.parametrize("name, target", [("OST_009.png", Extent(1280, 720)),     # Lanczos: exact window
                                          ("children-alpha.png", Extent(1080, 1920)),
                                          ("OST_009.png", Extent(600, 300))])      # x1.34: area averaging
def test_cover_only_runs_the_network_on_the_part_around_the_crop(images, name, target):
    image, fmt = read_image(images / name)
    whole_run, part_run = FakeUpscaler(scale=4), FakeUpscaler(scale=4)
    whole = cover.make_cover(whole_run, image, fmt, target)
    part = cover.make_cover(part_run, image, fmt, target, whole_picture=False)
    source = cover.extent_of(image)
    assert cover.extent_of(part.image) == target and part.canvas == Bounds.of(target)
    assert part.whole_canvas == whole.canvas and part.placed == whole.canvas and whole.whole_canvas == whole.canvas
    assert len(part.faces) == len(whole.faces) and not any(r.key == "upscaled_part" for r in whole.reasons)
    difference = np.abs(flattened(part, fmt) - flattened(whole, fmt))
    assert whole_run.inputs == [source]
    if resample.interpolates(source * 4, cover.upscaled_size(source, target, "cover")):
        assert part_run.inputs[0].pixel_count < 0.6 * source.pixel_count
        assert any(r.key == "upscaled_part" for r in part.reasons)
        assert difference.max() <= 5                    # the same samples (Lanczos phase in 1/32 px, hard edges)
    else:   # area averaging needs the whole picture: it all goes through the network, the crop is exact
        assert part_run.inputs == [source] and difference.max() == 0


def test_reduces_without_a_network_when_already_large_enough(building):
    stand_in = FakeUpscaler(scale=4)
    result = cover.make_cover(stand_in, *building, Extent(200, 100))
    assert stand_in.calls == [] and result.model == "" and "without a network" in str(result.reasons[0])
    assert result.compose().shape == (100, 200, 3)


def test_pad_with_a_solid_colour_keeps_the_whole_picture(cartoon):
    result = cover.make_cover(FakeUpscaler(scale=4), *cartoon, Extent(600, 300), fit="pad",
                              background=cover.Background.parse("#102030"))
    assert cover.extent_of(result.image) == Extent(300, 300)
    assert result.canvas == Bounds(-150, 0, 600, 300)
    composed = result.compose()
    assert composed.shape == (300, 600, 3)
    assert (composed[:, :150] == (0x10, 0x20, 0x30)).all() and (composed[:, 450:] == (0x10, 0x20, 0x30)).all()
    assert (composed[:, 150:450] == result.image).all()


def test_pad_with_blur_dims_and_blurs(children):
    image, fmt = children
    result = cover.make_cover(FakeUpscaler(scale=4), image, fmt, Extent(1600, 400), fit="pad")
    composed = result.compose()
    assert composed.shape == (400, 1600, 4) and (composed[..., 3] == 255).all()
    side = composed[:, :100, :3].astype(np.float32)
    assert side.std() > 1.0                               # a picture, not a flat colour
    assert np.abs(np.diff(side, axis=1)).mean() < 2.0    # but smooth (blurred)
    assert side.mean() < 0.65 * 255                      # and dimmed
    with pytest.raises(EngineError):
        cover.Background.parse("purple")


def test_bad_fit_is_a_clear_error(cartoon):
    with pytest.raises(EngineError) as error:
        cover.make_cover(FakeUpscaler(scale=4), *cartoon, Extent(10, 10), fit="stretch")
    assert error.value.kind == Kind.BAD_INPUT


def test_worker_cover_op(tmp_path, children):
    image, fmt = children
    payload = tmp_path / "in.raw"
    rawimage.write(payload, fmt, Extent(566, 350), image)
    events = io.BytesIO()
    work = worker.Worker(FakeUpscaler(scale=4), worker.EventWriter(events), handlers={"cover": cover_op.handle})
    reply = work.run_job({"id": 3, "op": "cover", "input": str(payload), "output": str(tmp_path / "out.raw"),
                          "preset": "square", "options": {"tile": 0}})
    assert reply["event"] == "result", reply
    out, out_fmt = worker.read_payload(Path(reply["output"]))
    assert out_fmt == fmt and (reply["width"], reply["height"]) == (out.shape[1], out.shape[0])
    canvas = Bounds(*reply["canvas"])
    assert canvas.extent == Extent(1080, 1080) and Bounds.of(Extent(reply["width"], reply["height"])).contains(canvas)
    assert len(reply["faces"]) >= 3 and reply["model"] == "realesr-animevideov3" and reply["reasons"]
    assert [reason["key"] for reason in reply["reasons"]][-2:] == ["upscaled", "crop_largest_faces"]
    assert "faces found" in reply["reasons"][-1]["text"]   # the English words travel too
    padded = work.run_job({"id": 4, "op": "cover", "input": str(payload), "output": str(tmp_path / "out2.raw"),
                           "target": [900, 900], "fit": "pad", "background": "#000000",
                           "background_output": str(tmp_path / "bg.raw")})
    background, _ = worker.read_payload(Path(padded["background_output"]))
    assert background.shape == (900, 900, 4) and (background[..., :3] == 0).all()
    bad = work.run_job({"id": 5, "op": "cover", "input": str(payload), "output": str(tmp_path / "x.raw")})
    assert bad["event"] == "error" and bad["error"]["kind"] == Kind.BAD_INPUT


# --- the real engine --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("preset_id", list(EXPECTED_PRESETS))
def test_children_every_preset_real_engine(real_upscaler, children, preset_id, tmp_path):
    """One real network pass (cached) for all presets: exact size, within the file limit, faces inside the crop."""
    target = cover_presets.preset(preset_id)
    cheap_alpha = UpscaleOptions(model=cover.AUTO_MODEL, alpha="resize")  # half the time; colour is what matters
    result = cover.make_cover(real_upscaler, *children, target, options=cheap_alpha)
    assert real_upscaler.runs == 1
    assert result.model == "realesr-animevideov3"
    assert any("no photo model is installed" in str(r) and "falling back to realesr-animevideov3" in str(r)
               for r in result.reasons)
    assert len(result.faces) >= 3
    kept = cover_crop.faces_to_keep(result.faces, target.size)
    assert kept and all(result.canvas.contains(face) for face in kept)
    assert cover_crop.cut_area(result.canvas, result.faces) == 0  # each child's face wholly in or wholly out
    if preset_id in ("video-16x9", "video-16x9-fhd", "article-2.35x1"):
        assert len(kept) == len(result.faces)  # wide enough for all five children
    cover_file = tmp_path / f"{preset_id}.jpg"
    encoded = cover_export.encode_within(cover_export.to_8bit(result.compose(), children[1], "jpg"), "jpg",
                                         target.max_bytes)
    cover_export.save(cover_file, encoded)
    written, fmt = read_image(cover_file)
    assert written.shape == (target.size.height, target.size.width, 3)
    assert cover_file.stat().st_size <= target.max_bytes
    assert [p.name for p in tmp_path.iterdir()] == [cover_file.name]  # no temporary file left behind
    if preset_id == "square":  # lossless PNG of this cover is about 2.1 MB: posterised to fit
        png = cover_export.encode_within(cover_export.to_8bit(result.compose(), children[1], "png"), "png",
                                         target.max_bytes)
        lossless = cover_export.encode_within(cover_export.to_8bit(result.compose(), children[1], "png"), "png",
                                              None)
        assert png.size <= target.max_bytes and (png.bits < 8) == (lossless.size > target.max_bytes)


@pytest.mark.slow
def test_cover_only_matches_the_whole_picture_with_the_real_network(upscaler, building, children):
    """The CLI's way (only the part around the crop through the network) against the editors' way (all of it)."""
    for (image, fmt), target, most in ((building, "video-16x9", 4), (children, "short-9x16", 48)):
        preset = cover_presets.preset(target)
        whole = cover.make_cover(upscaler, image, fmt, preset)
        part = cover.make_cover(upscaler, image, fmt, preset, whole_picture=False)
        assert part.whole_canvas == whole.canvas and cover.extent_of(part.image) == preset.size
        difference = np.abs(flattened(part, fmt) - flattened(whole, fmt))
        # the network sees the same pixels around the cover (CROP_CONTEXT beyond its reach): only tiles and, in
        # the cut-out photo, the colour filled in under transparent pixels differ, at the edges of the cut-out
        assert difference.mean() < 0.3 and difference.max() <= most, (target, difference.mean(), difference.max())


def test_cli_cover_of_the_cartoon(shared_weights, images, tmp_path, capsys):
    output = tmp_path / "cover.webp"
    code = cli.main(["cover", "-i", str(images / "0014.jpg"), "--preset", "video-16x9", "-o", str(output),
                     "--weights", str(shared_weights)])
    out = capsys.readouterr().out
    assert code == 0, out
    image, fmt = read_image(output)
    assert image.shape[:2] == (720, 1280) and output.stat().st_size <= 2_000_000
    assert "looks like an illustration" in out and "best installed anime model" in out
    assert re.search(r"WebP quality \d+, [\d,]+ bytes", out)
    assert "no faces found" in out


def test_cli_lowers_jpeg_quality_to_meet_a_tight_limit(shared_weights, images, tmp_path, capsys):
    output = tmp_path / "small.jpg"
    code = cli.main(["cover", "-i", str(images / "0014.jpg"), "--preset", "video-16x9", "--max-bytes", "60000",
                     "-o", str(output), "--weights", str(shared_weights)])
    out = capsys.readouterr().out
    assert code == 0, out
    quality = int(re.search(r"JPEG quality (\d+)", out).group(1))
    assert 30 <= quality < 95  # 95 makes about 170 kB here
    assert output.stat().st_size <= 60000 and read_image(output)[0].shape == (720, 1280, 3)


@pytest.mark.slow
def test_cli_pad_and_custom_size_png(shared_weights, images, tmp_path, capsys):
    output = tmp_path / "pad.png"
    code = cli.main(["cover", "-i", str(images / "OST_009.png"), "--size", "1920x1000", "--fit", "pad",
                     "--background", "#202020", "-o", str(output), "--weights", str(shared_weights)])
    out = capsys.readouterr().out
    assert code == 0, out
    image, _ = read_image(output)
    assert image.shape == (1000, 1920, 3)
    assert (image[:, :10] == 0x20).all() and (image[:, -10:] == 0x20).all()  # colour on both sides
    assert image[:, 960].std() > 10                                          # the building in the middle
    assert "PNG (lossless)" in out and "looks like a photo" in out and "no photo model is installed" in out


def test_cli_errors_are_messages_not_tracebacks(images, tmp_path, capsys):
    assert cli.main(["cover", "-i", str(tmp_path / "missing.png"), "-o", str(tmp_path / "x.jpg")]) == 1
    assert cli.main(["cover", "-i", str(images / "0014.jpg"), "--preset", "article-2.35x1",
                     "-o", str(tmp_path / "x.webp")]) == 1
    assert cli.main(["cover", "-i", str(images / "0014.jpg"), "--preset", "nope"]) == 1
    assert cli.main(["cover", "-i", str(images / "0014.jpg"), "-o", str(tmp_path / "x.gif")]) == 1
    err = capsys.readouterr().err
    assert err.count("error: ") == 4 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_default_output_name(images):
    target = cover_presets.preset("square")
    assert cover_cli.default_output(images / "0014.jpg", target, None).name == "0014_square.jpg"


def test_a_panorama_in_a_tall_cover_is_refused_not_attempted():
    strip = np.zeros((10, 2000, 3), np.uint8)
    with pytest.raises(EngineError, match="pad fit"):
        cover.make_cover(FakeUpscaler(scale=4), strip, PixelFormat("uint8", 3), Extent(1080, 1920))


def test_cancel_reaches_the_engine(upscaler, cartoon):
    from krita_realesrgan.common.errors import Cancelled
    with pytest.raises(Cancelled):
        cover.make_cover(upscaler, *cartoon, cover_presets.preset("square"),
                         options=UpscaleOptions(model="auto", tile=64), cancel=lambda: True)


def test_the_worker_registry_runs_the_cover_op(tmp_path, cartoon):
    image, fmt = cartoon
    payload = tmp_path / "in.raw"
    rawimage.write(payload, fmt, Extent(179, 179), image)
    work = worker.Worker(FakeUpscaler(scale=4), worker.EventWriter(io.BytesIO()))  # the default HANDLERS
    reply = work.run_job({"id": 1, "op": "cover", "input": str(payload), "output": str(tmp_path / "out.raw"),
                          "preset": "article-2.35x1"})
    assert reply["event"] == "result" and reply["preset"] == "article-2.35x1"
    assert Bounds(*reply["canvas"]).extent == Extent(900, 383) and reply["faces"] == []
