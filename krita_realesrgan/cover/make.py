"""Cover images: from a small picture to a platform cover of an exact size in one step.

    choose the model by content -> upscale by exactly the factor needed -> place the crop (faces, else saliency)
    [or, fit "pad": upscale to fit inside and lay it on a blurred or solid background]

``make_cover`` returns the whole upscaled picture plus where the cover lies in it, so an editor can keep the
full picture as a layer (the user can still move it) with the cover as the canvas; ``CoverResult.compose()``
gives the finished cover pixels (what the CLI saves). The crop is placed on the small input, before anything is
upscaled, so a caller that only wants the finished cover (the CLI) can ask for ``whole_picture=False``: then only
the part around the crop goes through the network (a 9:16 crop of a wide photo: less than half the work).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple, Union

import cv2
import numpy as np

from ..common import catalog
from . import content as cover_content, crop as cover_crop
from .. import pixels, resample
from ..common.cover_presets import AUTO_MODEL, BLUR, FITS, CoverTarget, upscaled_size
from ..common.cover_reasons import Reason
from ..common.errors import EngineError, Kind
from ..common.formats import PixelFormat, UpscaleOptions
from ..common.geometry import Bounds, Extent
from ..common.progress import Cancel, Progress
from ..upscalers import LocalUpscaler

BLUR_DIM = 0.6              # the blurred background is darkened so the picture stands out
BLUR_WORK_EDGE = 96         # the background is blurred at this small size, then enlarged (cheap, same look)
BLUR_SIGMA = 4.0            # at BLUR_WORK_EDGE
MAX_UPSCALED_PIXELS = 120_000_000  # "cover" of a panorama in a tall frame would need a gigantic picture
CROP_CONTEXT = 24           # whole_picture=False: source pixels kept around the crop, so the network sees across
                            # its edges (more than the models' receptive reach that the tiling relies on)


@dataclass(frozen=True)
class Background:
    """What fills the cover around the picture in "pad" fit: a blurred, dimmed copy or a solid colour."""

    colour: Optional[Tuple[float, float, float]] = None   # RGB 0..1; None = blurred copy

    @staticmethod
    def parse(text: str) -> "Background":
        """``blur`` or ``#rrggbb``."""
        value = (text or "").strip().lower()
        if value == BLUR:
            return Background()
        match = re.fullmatch(r"#?([0-9a-f]{6})", value)
        if not match:
            raise EngineError(Kind.BAD_INPUT, f"Background {text!r} is neither 'blur' nor a colour like #202020.")
        digits = match.group(1)
        return Background(tuple(int(digits[i:i + 2], 16) / 255.0 for i in (0, 2, 4)))

    def reason(self, size: Extent) -> Reason:
        """How the picture was fitted in "pad" fit, on this background."""
        if self.colour is None:
            return Reason("padded_on_blur", {"size": str(size)})
        return Reason("padded_on_colour", {"size": str(size),
                                           "colour": "#" + "".join(f"{round(c * 255):02x}" for c in self.colour)})


@dataclass
class CoverResult:
    image: np.ndarray          # the whole upscaled picture (whole_picture=False: the cover only), in ``fmt``
    fmt: PixelFormat
    canvas: Bounds             # the cover, in ``image``'s coordinates: inside it ("cover"),
                               # or around it with the picture centred ("pad", negative x/y)
    fit: str
    model: str                 # the model that ran ("" when the picture only had to be reduced)
    faces: Tuple[Bounds, ...]  # faces found, in ``image``'s coordinates
    reasons: List[Reason] = field(default_factory=list)
    background: Optional[np.ndarray] = None   # "pad": the canvas-size background, opaque, in ``fmt``
    seconds: float = 0.0
    placed: Optional[Bounds] = None  # where ``image`` lies in the whole upscaled picture (None: it is all of it)

    @property
    def whole_canvas(self) -> Bounds:
        """The cover in the whole upscaled picture's coordinates (``canvas`` when ``image`` is all of it)."""
        return self.canvas if self.placed is None else self.canvas.offset(self.placed.x, self.placed.y)

    @property
    def size(self) -> Extent:
        return self.canvas.extent

    def compose(self) -> np.ndarray:
        """The finished cover, canvas-size, in ``fmt``."""
        if self.background is None:
            return np.ascontiguousarray(self.image[self.canvas.slices])
        picture = pixels.split(self.image, self.fmt)
        under = pixels.split(self.background, self.fmt).colour
        place = Bounds(-self.canvas.x, -self.canvas.y, *extent_of(self.image)).slices
        alpha = picture.alpha if picture.alpha is not None else 1.0
        under[place] = picture.colour * alpha + under[place] * (1.0 - alpha)
        opaque = np.ones(under.shape[:2] + (1,), np.float32) if self.fmt.has_alpha else None
        return pixels.merge(under, opaque, self.fmt)

    def to_json(self) -> dict:
        """Everything but the pixels (for the worker's result event)."""
        return {"canvas": list(self.canvas), "fit": self.fit, "model": self.model,
                "faces": [list(face) for face in self.faces], "reasons": [reason.to_json() for reason in self.reasons],
                "seconds": round(self.seconds, 3)}


def extent_of(image: np.ndarray) -> Extent:
    return Extent(image.shape[1], image.shape[0])


def _resolve_model(image: np.ndarray, fmt: PixelFormat, requested: str,
                   status: List[dict]) -> Tuple[str, List[Reason]]:
    """The model (and why): the one requested, else the best installed for the picture's content (``status``:
    the upscaler's ``model_status()``)."""
    if requested != AUTO_MODEL:
        return requested, [Reason("model_chosen", {"model": requested})]
    guess = cover_content.guess_content(image, fmt)
    return cover_content.choose_model(guess, status)


def part_around(wanted: Bounds, source: Extent, scaled: Extent) -> Bounds:
    """The part of the source picture that holds ``wanted`` (in the scaled picture) plus CROP_CONTEXT pixels."""
    fx, fy = source.width / scaled.width, source.height / scaled.height
    x0, y0 = int(np.floor(wanted.x * fx)) - CROP_CONTEXT, int(np.floor(wanted.y * fy)) - CROP_CONTEXT
    x1, y1 = int(np.ceil(wanted.right * fx)) + CROP_CONTEXT, int(np.ceil(wanted.bottom * fy)) + CROP_CONTEXT
    return Bounds(x0, y0, x1 - x0, y1 - y0).clamped(source)


def _enlarge(upscaler: LocalUpscaler, image: np.ndarray, fmt: PixelFormat, size: Extent, wanted: Bounds,
             options: UpscaleOptions, choose_model: Callable[[List[dict]], Tuple[str, List[Reason]]],
             progress: Optional[Progress], cancel: Optional[Cancel]) -> Tuple[np.ndarray, str, List[Reason]]:
    """The ``wanted`` pixels of ``image`` resized to ``size``: through the network (then resampled), or only
    resampled when it shrinks. When ``wanted`` is not all of it and the final resample interpolates (see
    ``resample.window``), only the part of ``image`` around it goes through the network. ``choose_model(status)``
    names the model (and why) when one is needed, from the upscaler's model status (listed once here)."""
    source = extent_of(image)
    if size.fits_in(source):
        reason = Reason("already_large", {"source": str(source), "size": str(size)})
        return np.ascontiguousarray(resample.to_size(image, size)[wanted.slices]), "", [reason]
    status = upscaler.model_status()
    model, reasons = choose_model(status)
    options, face_reasons = _faces_for(model, options)
    reasons += face_reasons
    scale = next((row.get("scale") for row in status if row["name"] == model), None)
    windowed = wanted != Bounds.of(size) and bool(scale) and resample.interpolates(source * scale, size)
    part = part_around(wanted, source, size) if windowed else Bounds.of(source)
    # one pass at the network's native scale, then resampled to the exact size (like the reference's
    # --outscale): a second network pass for factors above the native scale would cost 16x the time
    result = upscaler.upscale(image[part.slices], fmt, options.with_(model=model, target=None, scale=None),
                              progress, cancel)
    native_scale = result.image.shape[1] // part.width
    native = source * native_scale
    if windowed:
        pixels_out = resample.window(result.image, part.scaled(native_scale), native, size, wanted)
    else:
        pixels_out = np.ascontiguousarray(resample.to_size(result.image, size)[wanted.slices])
    factor = max(size.width / source.width, size.height / source.height)
    reasons.append(Reason("upscaled", {"source": str(source), "native": str(native), "size": str(size),
                                       "native_scale": native_scale, "factor": round(factor, 4),
                                       "device": str(result.device)}))
    if part != Bounds.of(source):
        reasons.append(Reason("upscaled_part", {"part": str(part.extent), "source": str(source)}))
    if options.face_enhance and result.faces is not None:
        reasons.append(Reason("faces_restored", {"restored": result.faces.restored, "small": result.faces.too_small,
                                                 "many": result.faces.too_many}))
    return pixels_out, model, reasons


def _faces_for(model: str, options: UpscaleOptions) -> Tuple[UpscaleOptions, List[Reason]]:
    """Faces are restored in photos only: when the content chose an anime model, they are left as upscaled."""
    info = catalog.get(model)
    if options.face_enhance and info is not None and info.kind == "anime":
        return options.with_(face_enhance=False), [Reason("faces_not_for_anime", {"model": info.name})]
    return options, []


def blurred_background(image: np.ndarray, fmt: PixelFormat, size: Extent) -> np.ndarray:
    """A dimmed, heavily blurred copy of the picture covering ``size`` (opaque), in ``fmt``."""
    planes = pixels.split(image, fmt)
    colour = planes.colour
    if planes.alpha is not None:  # transparent parts show as mid grey
        colour = colour * planes.alpha + 0.5 * (1.0 - planes.alpha)
    reduce = BLUR_WORK_EDGE / max(size)
    small_target = Extent(max(1, round(size.width * reduce)), max(1, round(size.height * reduce)))
    small_cover = upscaled_size(extent_of(colour), small_target, "cover")
    small = cv2.resize(colour, tuple(small_cover), interpolation=cv2.INTER_AREA)
    small = small.reshape(small_cover.height, small_cover.width, -1)
    crop = cover_crop.centred(small_cover, small_target, small_cover.width / 2, small_cover.height / 2)
    small = cv2.GaussianBlur(np.ascontiguousarray(small[crop.slices]), (0, 0), BLUR_SIGMA,
                             borderType=cv2.BORDER_REFLECT)
    large = cv2.resize(small, tuple(size), interpolation=cv2.INTER_LINEAR).reshape(size.height, size.width, -1)
    opaque = np.ones(large.shape[:2] + (1,), np.float32) if fmt.has_alpha else None
    return pixels.merge(large * BLUR_DIM, opaque, fmt)


def solid_background(colour: Tuple[float, float, float], fmt: PixelFormat, size: Extent) -> np.ndarray:
    rgb = np.asarray(colour, np.float32)
    value = rgb if fmt.colour_channels == 3 else np.asarray([rgb @ pixels.LUMA], np.float32)
    plane = np.broadcast_to(value, (size.height, size.width, value.shape[0])).copy()
    opaque = np.ones(plane.shape[:2] + (1,), np.float32) if fmt.has_alpha else None
    return pixels.merge(plane, opaque, fmt)


def _target_size(target: Union[CoverTarget, Extent]) -> Extent:
    size = target.size if isinstance(target, CoverTarget) else Extent(*target)
    if size.is_empty:
        raise EngineError(Kind.BAD_INPUT, f"The cover size {size} is empty.")
    return size


def make_cover(upscaler: LocalUpscaler, image: np.ndarray, fmt: PixelFormat, target: Union[CoverTarget, Extent],
               fit: str = "cover", background: Background = Background(),
               options: Optional[UpscaleOptions] = None, progress: Optional[Progress] = None,
               cancel: Optional[Cancel] = None, whole_picture: bool = True) -> CoverResult:
    """Upscale ``image`` for a cover of ``target`` and decide where the cover lies (see the module docstring).

    ``options.model`` may be ``"auto"`` (pick by content); ``options.scale``/``target`` are ignored (the cover
    decides them); tile, device, precision, denoise and alpha handling are passed on to the engine.
    ``whole_picture=False`` ("cover" fit): only the cover's pixels are made (``image`` is the cover) and, where the
    final resample interpolates (the cover needs at least half the network's scale, as small pictures do), only
    the part of the picture around them goes through the network: the same pixels within a few levels.
    """
    started = time.perf_counter()
    if fit not in FITS:
        raise EngineError(Kind.BAD_INPUT, f"Fit must be one of {', '.join(FITS)}, not {fit!r}.")
    options = options or UpscaleOptions(model=AUTO_MODEL)
    source = pixels.check_image(image, fmt)
    size = _target_size(target)
    scaled = upscaled_size(source, size, fit)
    if scaled.pixel_count > MAX_UPSCALED_PIXELS:
        raise EngineError(Kind.BAD_INPUT, f"To fill {size}, this {source} picture would have to become {scaled} "
                          "(its shape is too different from the cover's). Use the pad fit instead.")

    grey, alpha = cover_crop.grey_view(image, fmt)
    faces = tuple(cover_crop.map_bounds(face, source, scaled) for face in cover_crop.detect_faces(grey))
    salient = None
    if fit == "cover" and not faces:
        window = Extent(round(size.width * source.width / scaled.width),
                        round(size.height * source.height / scaled.height))
        cx, cy = cover_crop.salient_centre(cover_crop.saliency(grey, alpha), window)
        salient = (cx * scaled.width / source.width, cy * scaled.height / source.height)

    def choose_model(status: List[dict]) -> Tuple[str, List[Reason]]:   # by the whole picture, also when a part runs
        return _resolve_model(image, fmt, options.model, status)

    if fit == "cover":
        choice = cover_crop.place_crop(scaled, size, faces, salient)
        wanted = Bounds.of(scaled) if whole_picture else choice.bounds
        enlarged, model, reasons = _enlarge(upscaler, image, fmt, scaled, wanted, options, choose_model, progress,
                                            cancel)
        canvas, extra = choice.bounds.relative_to(wanted), [choice.reason]
        faces = tuple(face.relative_to(wanted) for face in faces)
        result_background, placed = None, (None if whole_picture else wanted)
    else:
        enlarged, model, reasons = _enlarge(upscaler, image, fmt, scaled, Bounds.of(scaled), options, choose_model,
                                            progress, cancel)
        canvas = Bounds(-((size.width - scaled.width) // 2), -((size.height - scaled.height) // 2), *size)
        result_background = (solid_background(background.colour, fmt, size) if background.colour is not None
                             else blurred_background(image, fmt, size))
        extra, placed = [background.reason(size)], None
    return CoverResult(enlarged, fmt, canvas, fit, model, faces, reasons + extra, result_background,
                       time.perf_counter() - started, placed)
