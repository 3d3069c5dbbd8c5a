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

from .cover_settings import CoverChoices
from .document import KritaDocument, PixelSource, put_pixels
from .i18n import current_language, tr
from .krita_realesrgan.common.cover_presets import CUSTOM_ID, CoverTarget
from .krita_realesrgan.common.editor.cover_defaults import FIT_PAD
from .krita_realesrgan.common.editor.layer_names import background_layer_name, cover_layer_name
from .krita_realesrgan.common.geometry import Bounds, Extent
from .settings import Choices


# ---- pure: names, placement, what the user is told --------------------------------------------------------

def picture_bounds(canvas: Bounds, picture: Extent) -> Bounds:
    """Where the whole upscaled picture lies in the new document (the canvas is at (0, 0))."""
    return Bounds(-canvas.x, -canvas.y, picture.width, picture.height)


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
    document = KritaDocument.settled(doc)
    canvas = document.canvas
    source = document.source(node, choices.use_merged)
    pixels = source.read(Bounds.of(canvas))
    outcome = runner.cover(pixels, source.layout.fmt, canvas, choices.target(), choices.options(upscale), choices.fit,
                           choices.background_value(), tr("Make cover"))
    language = current_language()
    new_doc = document.new_document(krita, outcome.canvas.extent, cover_title(choices.target_info(), language),
                                    source)
    try:
        _fill(new_doc, outcome, source, cover_layer_name(canvas, outcome.extent, outcome.model, source.name, language))
    except BaseException:
        new_doc.close()
        raise
    return new_doc.doc, outcome


def _fill(new_doc: KritaDocument, outcome, source: PixelSource, layer_name: str) -> None:
    """The picture layer (and, in pad fit, the background below it) in a fresh document."""
    size = outcome.canvas.extent
    if outcome.fit == FIT_PAD and outcome.background is not None:
        background = new_doc.named_first_layer(background_layer_name(current_language()))
        put_pixels(background, outcome.background, source.layout, Bounds.of(size))
        picture = new_doc.add_empty_layer(background, layer_name)
    else:
        picture = new_doc.named_first_layer(layer_name)
    put_pixels(picture, outcome.pixels, source.layout, picture_bounds(outcome.canvas, outcome.extent))
    new_doc.activate(picture)
    new_doc.refresh()
