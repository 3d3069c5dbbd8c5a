"""Make cover from image: the picture (one selected layer, else the visible image; a selection narrows it) sent
to the engine's ``cover`` op, and a NEW image of the cover's size built from the outcome:

    the whole upscaled picture as a layer at (-canvas.x, -canvas.y): the user can still move it under the canvas
    pad fit: the engine's background as the layer below it, named "Background"

The source image is only read (the visible image is merged in a temporary duplicate). The new image is built
after the result arrived and deleted again if building it fails, so a cancel or failure leaves no image behind.

``runner`` is anything with ``cover(pixels, fmt, extent, target, options, fit, background) -> CoverOutcome``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp  # noqa: E402

from krita_realesrgan.common.job_outcomes import CoverOutcome  # noqa: E402
from krita_realesrgan.common.editor.layer_names import background_layer_name, cover_layer_name_by_model  # noqa: E402
from krita_realesrgan.common.errors import EngineError, Kind  # noqa: E402
from krita_realesrgan.common.geometry import Bounds  # noqa: E402

from .actions import (canvas_extent, deleted_on_failure, layer_region, new_image_like, new_layer,  # noqa: E402
                      read_pixels, refuse_indexed, selection_bounds, the_layer, transfer_for)
from .cover_choices import CoverChoices  # noqa: E402
from .formats import LayerTransfer  # noqa: E402

VISIBLE_NAME = "Visible"


@dataclass(frozen=True)
class Picture:
    """What the cover is made from: engine-order pixels of ``bounds`` and how they travel."""

    pixels: bytes
    transfer: LayerTransfer
    bounds: Bounds
    name: str


def _read(image, layer, name: str, selection: Optional[Bounds]) -> Picture:
    transfer = transfer_for(image, layer)
    region = layer_region(canvas_extent(image), layer, selection, margin=0)
    return Picture(read_pixels(layer, region.target, transfer), transfer, region.target, name)


def read_picture(image, drawables) -> Picture:
    """The one selected layer; with none or several selected, the visible image (merged in a duplicate).
    A selection narrows either to its bounds."""
    selection = selection_bounds(image)
    if len(drawables) == 1:
        layer = the_layer(image, drawables)
        return _read(image, layer, layer.get_name(), selection)
    return with_visible_merged(image, lambda copy, merged: _read(copy, merged, VISIBLE_NAME, selection),
                               "or select the layer to make the cover from")


def with_visible_merged(image, read, alternative: str = ""):
    """``read(copy, merged_layer)`` on a temporary duplicate of ``image`` whose visible layers are merged into
    one (clipped to the image); the duplicate is deleted afterwards, so ``image`` is only read. Indexed images
    and images with nothing visible are refused (``alternative`` adds what else the user can do)."""
    refuse_indexed(image)
    if not any(layer.get_visible() for layer in image.get_layers()):
        raise EngineError(Kind.BAD_INPUT, "Nothing is visible: show a layer" + (f", {alternative}." if alternative
                                                                                   else "."))
    copy = image.duplicate()
    try:
        copy.undo_disable()
        merged = copy.merge_visible_layers(Gimp.MergeType.CLIP_TO_IMAGE)
        return read(copy, merged)
    finally:
        copy.delete()


def _new_image(source, picture: Picture, outcome: CoverOutcome):
    canvas = outcome.canvas
    image = new_image_like(source, canvas.extent)
    with deleted_on_failure(image):
        if outcome.background is not None:
            image.insert_layer(new_layer(image, background_layer_name(), picture.transfer, outcome.background,
                                         Bounds.of(canvas.extent)), None, 0)
        layer = new_layer(image, cover_layer_name_by_model(outcome.model, picture.name), picture.transfer,
                          outcome.pixels, Bounds(-canvas.x, -canvas.y, *outcome.extent))
        image.insert_layer(layer, None, 0)
        image.undo_enable()
    return image


def make_cover(image, drawables, choices: CoverChoices, runner):
    """The cover as a new image (see the module docstring). Returns (new image, CoverOutcome)."""
    picture = read_picture(image, drawables)
    outcome = runner.cover(picture.pixels, picture.transfer.fmt, picture.bounds.extent, choices.target(),
                           choices.options(), choices.fit,
                           choices.background_spec(picture.transfer.linear_light))
    return _new_image(image, picture, outcome), outcome
