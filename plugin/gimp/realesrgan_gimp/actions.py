"""The three operations on GIMP images. Each reads pixels, waits for the engine's result, and only then changes
the image, inside one undo group: a failure or cancel leaves the image exactly as it was.

``runner`` is anything with ``upscale(pixels, fmt, extent, options, label) -> (bytes, Extent)``.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Optional

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp  # noqa: E402

from krita_realesrgan.common.editor.layer_names import enhanced_layer_name, upscaled_layer_name  # noqa: E402
from krita_realesrgan.common.editor.selection import scaled_selection  # noqa: E402
from krita_realesrgan.common.errors import EngineError, Kind  # noqa: E402
from krita_realesrgan.common.geometry import Bounds, Extent  # noqa: E402
from krita_realesrgan.common.regions import Region, plan_region  # noqa: E402

from .choices import Choices  # noqa: E402
from .formats import INDEXED_MESSAGE, LayerTransfer, layer_transfer  # noqa: E402

# ---- reading the image ---------------------------------------------------------------------------------------


def canvas_extent(image) -> Extent:
    return Extent(image.get_width(), image.get_height())


def layer_bounds(layer) -> Bounds:
    x, y = layer.get_offsets()[-2:]   # GIMP 3.0 returns (success, x, y)
    return Bounds(x, y, layer.get_width(), layer.get_height())


def layer_region(canvas: Extent, layer, selection: Optional[Bounds], **margin) -> Region:
    """What an operation reads and keeps: GIMP reads only the layer's own pixels (see common.regions)."""
    bounds = layer_bounds(layer)
    return plan_region(canvas, bounds, selection, readable=bounds, **margin)


def selection_bounds(image) -> Optional[Bounds]:
    _, non_empty, x1, y1, x2, y2 = Gimp.Selection.bounds(image)
    return Bounds(x1, y1, x2 - x1, y2 - y1) if non_empty else None


def transfer_for(image, layer) -> LayerTransfer:
    return layer_transfer(image.get_precision().value_nick, layer.is_gray(), layer.has_alpha(),
                          indexed=image.get_base_type() == Gimp.ImageBaseType.INDEXED or layer.is_indexed())


def refuse_indexed(image) -> None:
    if image.get_base_type() == Gimp.ImageBaseType.INDEXED:
        raise EngineError(Kind.UNSUPPORTED_FORMAT, INDEXED_MESSAGE)


def the_layer(image, drawables) -> "Gimp.Layer":
    """The one layer to work on: the selected layer (a selected layer mask means its layer)."""
    refuse_indexed(image)
    if len(drawables) != 1:
        raise EngineError(Kind.BAD_INPUT, f"Select exactly one layer ({len(drawables)} are selected).")
    drawable = drawables[0]
    if isinstance(drawable, Gimp.LayerMask):
        drawable = Gimp.Layer.from_mask(drawable)
    if not isinstance(drawable, Gimp.Layer):
        raise EngineError(Kind.BAD_INPUT, "Select a layer: channels and paths cannot be upscaled.")
    return drawable


def read_pixels(layer, bounds: Bounds, transfer: LayerTransfer) -> bytes:
    """Engine-order pixels of ``bounds`` (image coordinates) from ``layer``."""
    ox, oy = layer_bounds(layer)[:2]
    local = bounds.offset(-ox, -oy)
    rect = Gegl.Rectangle.new(local.x, local.y, local.width, local.height)
    data = layer.get_buffer().get(rect, 1.0, transfer.babl, Gegl.AbyssPolicy.CLAMP)
    expected = transfer.fmt.byte_count(bounds.extent)
    if len(data) != expected:
        raise EngineError(Kind.INTERNAL, "GIMP returned an unexpected amount of pixel data.",
                          f"{len(data)} bytes for {bounds} in {transfer.babl}, expected {expected}")
    return bytes(data)


# ---- writing the image (only after a result arrived) ---------------------------------------------------------

_LAYER_TYPES = {(False, False): "RGB_IMAGE", (False, True): "RGBA_IMAGE",
                (True, False): "GRAY_IMAGE", (True, True): "GRAYA_IMAGE"}


def new_layer(image, name: str, transfer: LayerTransfer, pixels: bytes, at: Bounds):
    """A layer of ``image``'s precision holding ``pixels`` (engine order, ``transfer``'s format) at ``at``."""
    grey = transfer.fmt.colour_channels == 1
    layer_type = getattr(Gimp.ImageType, _LAYER_TYPES[(grey, transfer.fmt.has_alpha)])
    layer = Gimp.Layer.new(image, name, at.width, at.height, layer_type, 100.0, Gimp.LayerMode.NORMAL)
    layer.set_offsets(at.x, at.y)
    buffer = layer.get_buffer()
    buffer.set(Gegl.Rectangle.new(0, 0, at.width, at.height), transfer.babl, pixels)
    buffer.flush()
    return layer


@contextmanager
def deleted_on_failure(image) -> Iterator[None]:
    """Delete the new ``image`` when the block fails (a cancel or an error leaves no image behind)."""
    try:
        yield
    except BaseException:
        image.delete()
        raise


def new_image_like(source, size: Extent):
    """A new image of ``size`` with ``source``'s base type, precision and colour profile, its undo off while the
    caller fills it (``undo_enable`` when done); deleted again if setting it up fails."""
    image = Gimp.Image.new_with_precision(size.width, size.height, source.get_base_type(), source.get_precision())
    with deleted_on_failure(image):
        image.undo_disable()
        profile = source.get_color_profile()
        if profile is not None:
            image.set_color_profile(profile)
    return image


def insert_above(image, layer, above) -> None:
    image.insert_layer(layer, above.get_parent(), image.get_item_position(above))
    layer.update(0, 0, layer.get_width(), layer.get_height())


class UndoGroup:
    def __init__(self, image):
        self.image = image

    def __enter__(self):
        self.image.undo_group_start()
        return self

    def __exit__(self, *exc):
        self.image.undo_group_end()
        return False


# ---- the operations ------------------------------------------------------------------------------------------


def upscale_image(image, layer, choices: Choices, runner):
    """Scale the image by ``choices.scale`` (other layers with GIMP's interpolation) and add the AI-upscaled
    layer right above ``layer``. Returns the new layer."""
    canvas = canvas_extent(image)
    transfer = transfer_for(image, layer)
    region = layer_region(canvas, layer, None)
    new_canvas = canvas.scaled(choices.scale)
    target = region.source.scaled(choices.scale).clamped(new_canvas)
    pixels = read_pixels(layer, region.source, transfer)
    result, extent = runner.upscale(pixels, transfer.fmt, region.source.extent, choices.options(target.extent),
                                    "Upscale image")
    with UndoGroup(image):
        image.scale(new_canvas.width, new_canvas.height)
        upscaled = new_layer(image, upscaled_layer_name(choices.scale, choices.model, layer.get_name()), transfer,
                             result, Bounds(target.x, target.y, extent.width, extent.height))
        insert_above(image, upscaled, layer)
    return upscaled


def enhance_layer(image, layer, choices: Choices, runner):
    """Upscale and resample back to the same size, as a new layer above ``layer``; with a selection only its
    bounds (plus context) are processed and the selection becomes the new layer's mask. Returns the layer."""
    transfer = transfer_for(image, layer)
    selection = selection_bounds(image)
    region = layer_region(canvas_extent(image), layer, selection)
    pixels = read_pixels(layer, region.source, transfer)
    result, extent = runner.upscale(pixels, transfer.fmt, region.source.extent,
                                    choices.options(region.source.extent), "Enhance")
    with UndoGroup(image):
        enhanced = new_layer(image, enhanced_layer_name(choices.model, layer.get_name()), transfer, result,
                             Bounds(region.source.x, region.source.y, extent.width, extent.height))
        insert_above(image, enhanced, layer)
        if selection is not None:
            inner = region.inner
            enhanced.resize(inner.width, inner.height, -inner.x, -inner.y)
            enhanced.add_mask(enhanced.create_mask(Gimp.AddMaskType.SELECTION))
    return enhanced


def selection_to_image(image, layer, choices: Choices, runner):
    """The selection's bounds (the whole visible layer without one), upscaled, as a new image. Returns it."""
    transfer = transfer_for(image, layer)
    region = layer_region(canvas_extent(image), layer, selection_bounds(image))
    scaled = scaled_selection(region, choices.scale)
    inner = scaled.selection
    pixels = read_pixels(layer, region.source, transfer)
    result, extent = runner.upscale(pixels, transfer.fmt, region.source.extent, choices.options(scaled.whole),
                                    "Upscale selection")
    new_image = new_image_like(image, extent)
    upscaled = new_layer(new_image, upscaled_layer_name(choices.scale, choices.model, layer.get_name()), transfer,
                         result, Bounds.of(extent))
    new_image.insert_layer(upscaled, None, 0)
    if inner != Bounds.of(extent):
        new_image.crop(inner.width, inner.height, inner.x, inner.y)
    new_image.undo_enable()
    return new_image
