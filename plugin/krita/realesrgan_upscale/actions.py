"""The three actions, on Krita documents. Each one reads pixels, waits for the engine's result, and only then
changes the document, so a cancel or a failure leaves it exactly as it was.

The Krita calls are the document wrapper's (``document``); the names, the selection math and the regions are the
shared editor layer's. ``runner`` is anything with ``upscale(pixels, fmt, extent, options, action) -> (bytes,
Extent)``: the ``EngineSession`` in Krita, the same session in the integration tests.
"""
from __future__ import annotations

from .document import KritaDocument, node_bounds, put_pixels
from .i18n import current_language, tr
from .krita_realesrgan.common.editor.layer_names import enhanced_layer_name, upscaled_layer_name
from .krita_realesrgan.common.editor.selection import apply_mask, crop, scaled_selection
from .krita_realesrgan.common.geometry import Bounds
from .krita_realesrgan.common.regions import plan_region
from .settings import Choices


def upscale_image(doc, node, choices: Choices, runner):
    """Scale the whole document by ``choices.scale`` (other layers with Krita's filter) and add the AI-upscaled
    active layer (or merged image) above the active layer. Returns the new layer."""
    document = KritaDocument.settled(doc)
    canvas = document.canvas
    source = document.source(node, choices.use_merged)
    target = canvas.scaled(choices.scale)
    pixels = source.read(Bounds.of(canvas))
    result, extent = runner.upscale(pixels, source.layout.fmt, canvas, choices.options(target), tr("Upscale image"))
    document.scale_to(extent)
    name = upscaled_layer_name(choices.scale, choices.model, source.name, current_language())
    return document.add_layer(node, name, source, result, Bounds.of(extent))


def enhance_layer(doc, node, choices: Choices, runner):
    """Upscale and resample back to the same size, as a new layer above ``node``; with a selection only its
    bounds (plus context) are processed and the layer is limited to the selection, feathered by its softness."""
    document = KritaDocument.settled(doc)
    source = document.layer(node)
    selection = document.selection()
    region = plan_region(document.canvas, node_bounds(node), selection)
    pixels = source.read(region.source)
    options = choices.options(target=region.source.extent)
    result, extent = runner.upscale(pixels, source.layout.fmt, region.source.extent, options, tr("Enhance"))
    result = crop(result, source.layout.fmt, extent, region.inner)
    if selection is not None:
        result = apply_mask(result, source.layout.fmt, document.selection_mask(region.target))
    name = enhanced_layer_name(choices.model, source.name, current_language())
    return document.add_layer(node, name, source, result, region.target)


def selection_to_document(krita, doc, node, choices: Choices, runner):
    """The selection's bounds (the whole layer without one), upscaled, as a new document. Returns it."""
    document = KritaDocument.settled(doc)
    source = document.layer(node)
    region = plan_region(document.canvas, node_bounds(node), document.selection())
    pixels = source.read(region.source)
    scaled = scaled_selection(region, choices.scale)
    result, extent = runner.upscale(pixels, source.layout.fmt, region.source.extent, choices.options(scaled.whole),
                                    tr("Upscale selection"))
    result = crop(result, source.layout.fmt, extent, scaled.selection)
    title = upscaled_layer_name(choices.scale, choices.model, source.name, current_language())
    new_doc = document.new_document(krita, scaled.selection.extent, title, source)
    put_pixels(new_doc.named_first_layer(title), result, source.layout, Bounds.of(scaled.selection.extent))
    new_doc.refresh()
    return new_doc.doc
