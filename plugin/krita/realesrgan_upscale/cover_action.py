"""Make cover from image: the whole upscaled picture as a layer of a new document whose canvas is the cover.

The engine (``cover`` op) upscales the picture by exactly the factor the cover needs and says where the cover
lies in it; here the new document gets the cover's size, the picture goes in at (-x, -y) so the chosen crop is
the canvas (the user can still move the layer), and in pad fit the engine's background is the layer below.
The source document is only read. Nothing is created before the engine's result has arrived, and a document
that fails half-way is closed, so a cancel or an error leaves no new document behind.

``runner`` is anything with ``cover(pixels, fmt, extent, target, options, fit, background, action)`` returning a
``CoverOutcome``: the ``EngineSession`` in Krita and in the integration tests.
"""
from __future__ import annotations

from .actions import canvas_extent, image_source, read_pixels, scaled_layer_name
from .cover_settings import FIT_PAD, CoverChoices
from .i18n import current_language, tr
from .krita_realesrgan.common.cover_presets import CUSTOM_ID, CoverTarget
from .krita_realesrgan.common.geometry import Bounds, Extent
from .model_list import display_name
from .pixels_krita import KritaPixelLayout, from_engine
from .settings import Choices


# ---- pure: names, placement, what the user is told --------------------------------------------------------

def picture_bounds(canvas: Bounds, picture: Extent) -> Bounds:
    """Where the whole upscaled picture lies in the new document (the canvas is at (0, 0))."""
    return Bounds(-canvas.x, -canvas.y, picture.width, picture.height)


def cover_factor(source: Extent, picture: Extent) -> float:
    """The upscale factor of the picture (the larger of the two, as the engine fits one side exactly)."""
    return max(picture.width / source.width, picture.height / source.height)


def factor_text(factor: float) -> str:
    return f"{factor:.2f}".rstrip("0").rstrip(".")


def cover_layer_name(source: Extent, picture: Extent, model: str, source_name: str) -> str:
    """E.g. "Real-ESRGAN ×2.26 (realesr-animevideov3) — Background"; no model when it was only reduced."""
    return scaled_layer_name(factor_text(cover_factor(source, picture)),
                             display_name(model) if model else tr("resampled"), source_name)


def preset_label(target: CoverTarget, language: str) -> str:
    """The preset as the user sees it: localized name and size."""
    name = tr("Custom size") if target.id == CUSTOM_ID else target.name(language)
    return tr("{name}, {w} × {h} px").format(name=name, w=target.size.width, h=target.size.height)


def cover_title(target: CoverTarget, language: str) -> str:
    return tr("Cover — {preset}").format(preset=preset_label(target, language))


def cover_summary(outcome, target: CoverTarget, language: str) -> str:
    """What the user is told after a cover was made: the preset, the model, the faces and the engine's reasons."""
    lines = [tr("Cover made: {preset}").format(preset=preset_label(target, language))]
    if outcome.faces:
        lines.append(tr("Faces found: {n}").format(n=len(outcome.faces)))
    lines += [f"• {reason.text(language)}" for reason in outcome.reasons]
    return "\n".join(lines)


# ---- Krita ------------------------------------------------------------------------------------------------

def make_cover(krita, doc, node, choices: CoverChoices, upscale: Choices, runner):
    """The new cover document (not yet shown) and the engine's ``CoverOutcome``; ``doc`` is only read."""
    doc.waitForDone()
    canvas = canvas_extent(doc)
    source, layout, profile, name = image_source(doc, node, choices.use_merged)
    pixels = read_pixels(source, Bounds.of(canvas), layout)
    outcome = runner.cover(pixels, layout.fmt, canvas, choices.target(), choices.options(upscale), choices.fit,
                           choices.background_value(), tr("Make cover"))
    target = choices.target_info()
    size = outcome.canvas.extent
    new_doc = krita.createDocument(size.width, size.height, cover_title(target, current_language()),
                                   layout.color_model, layout.color_depth, profile, doc.resolution())
    try:
        _fill(new_doc, outcome, layout, cover_layer_name(canvas, outcome.extent, outcome.model, name))
    except BaseException:
        new_doc.close()
        raise
    return new_doc, outcome


def _fill(new_doc, outcome, layout: KritaPixelLayout, layer_name: str) -> None:
    """The picture layer (and, in pad fit, the background below it) in a fresh document."""
    first = new_doc.rootNode().childNodes()[0]   # the layer Krita creates with the document
    size = outcome.canvas.extent
    if outcome.fit == FIT_PAD and outcome.background is not None:
        first.setName(tr("Background"))
        first.setPixelData(from_engine(outcome.background, layout), 0, 0, size.width, size.height)
        picture = new_doc.createNode(layer_name, "paintlayer")
        new_doc.rootNode().addChildNode(picture, first)
    else:
        picture = first
        picture.setName(layer_name)
    place = picture_bounds(outcome.canvas, outcome.extent)
    picture.setPixelData(from_engine(outcome.pixels, layout), place.x, place.y, place.width, place.height)
    new_doc.setActiveNode(picture)
    new_doc.refreshProjection()

