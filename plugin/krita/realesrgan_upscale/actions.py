"""The three actions, on Krita documents. Each one reads pixels, waits for the engine's result, and only then
changes the document, so a cancel or a failure leaves it exactly as it was.

``runner`` is anything with ``upscale(pixels, fmt, extent, options, action) -> (bytes, Extent)``: the
``EngineSession`` in Krita, the same session in the integration tests.
"""
from __future__ import annotations

from typing import Optional, Tuple

from .i18n import tr
from .krita_realesrgan.common.geometry import Bounds, Extent
from .model_list import display_name
from .pixels_krita import DEPTH_DTYPES, KritaPixelLayout, from_engine, layout_for, to_engine
from .krita_realesrgan.common.regions import Region, plan_region, visible_layer
from .selection_math import apply_mask, crop
from .settings import Choices

SCALE_FILTER = "Bicubic"  # Krita's own filter for the other layers (Image ▸ Scale Image's default)


# ---- reading the document ----------------------------------------------------------------------------------

def canvas_extent(doc) -> Extent:
    return Extent(doc.width(), doc.height())


def node_bounds(node) -> Bounds:
    rect = node.bounds()
    return Bounds(rect.x(), rect.y(), rect.width(), rect.height())


def selection_bounds(doc) -> Optional[Bounds]:
    selection = doc.selection()
    if selection is None:
        return None
    return Bounds(selection.x(), selection.y(), selection.width(), selection.height())


def node_layout(node) -> KritaPixelLayout:
    return layout_for(node.colorModel(), node.colorDepth())


def read_pixels(source, bounds: Bounds, layout: KritaPixelLayout) -> bytes:
    """Engine-order pixels of ``bounds`` from a node or (merged image) a document."""
    raw = source.pixelData(bounds.x, bounds.y, bounds.width, bounds.height)
    return to_engine(bytes(raw), layout)


def image_source(doc, node, use_merged: bool) -> Tuple[object, KritaPixelLayout, str, str]:
    """What a whole-canvas action reads: (pixel source, its layout, colour profile, name for the new layer):
    the active layer, or the document's projection in the document's colour space. Refuses an empty layer."""
    canvas = canvas_extent(doc)
    if use_merged:
        visible_layer(canvas, Bounds.of(canvas))
        return doc, layout_for(doc.colorModel(), doc.colorDepth()), doc.colorProfile(), tr("merged image")
    visible_layer(canvas, node_bounds(node))
    return node, node_layout(node), node.colorProfile(), node.name()


# ---- writing the document (only after a result has arrived) ------------------------------------------------

def _colour_space(owner) -> Tuple[str, str, str]:
    return owner.colorModel(), owner.colorDepth(), owner.colorProfile()


def add_layer(doc, above, name: str, layout: KritaPixelLayout, profile: str, pixels: bytes, bounds: Bounds):
    """A new paint layer right above ``above`` (top of the image when None) holding ``pixels`` (engine order,
    in ``layout``'s colour space) at ``bounds``; converted to the document's colour space."""
    layer = doc.createNode(name, "paintlayer")
    source_space = (layout.color_model, layout.color_depth, profile)
    if _colour_space(layer) != source_space:
        layer.setColorSpace(*source_space)
    layer.setPixelData(from_engine(pixels, layout), bounds.x, bounds.y, bounds.width, bounds.height)
    if _colour_space(layer) != _colour_space(doc):
        layer.setColorSpace(*_colour_space(doc))
    parent = above.parentNode() if above is not None else doc.rootNode()
    parent.addChildNode(layer, above)
    doc.refreshProjection()
    doc.setActiveNode(layer)
    return layer


def scaled_layer_name(scale: str, model: str, source_name: str) -> str:
    return tr("Real-ESRGAN ×{scale} ({model}) — {layer}").format(scale=scale, model=model, layer=source_name)


def upscaled_layer_name(choices: Choices, source_name: str) -> str:
    return scaled_layer_name(f"{choices.scale:g}", display_name(choices.model), source_name)


def enhanced_layer_name(choices: Choices, source_name: str) -> str:
    return tr("Real-ESRGAN enhanced ({model}) — {layer}").format(
        model=display_name(choices.model), layer=source_name)


# ---- the actions -------------------------------------------------------------------------------------------

def upscale_image(doc, node, choices: Choices, runner):
    """Scale the whole document by ``choices.scale`` (other layers with Krita's filter) and add the AI-upscaled
    active layer (or merged image) above the active layer. Returns the new layer."""
    doc.waitForDone()  # a document still loading or filtering would give incomplete pixels
    canvas = canvas_extent(doc)
    source, layout, profile, name = image_source(doc, node, choices.use_merged)
    target = canvas.scaled(choices.scale)
    pixels = read_pixels(source, Bounds.of(canvas), layout)
    result, extent = runner.upscale(pixels, layout.fmt, canvas, choices.options(target), tr("Upscale image"))
    doc.scaleImage(extent.width, extent.height, doc.resolution(), doc.resolution(), SCALE_FILTER)
    doc.waitForDone()
    return add_layer(doc, node, upscaled_layer_name(choices, name), layout, profile, result, Bounds.of(extent))


def enhance_layer(doc, node, choices: Choices, runner):
    """Upscale and resample back to the same size, as a new layer above ``node``; with a selection only its
    bounds (plus context) are processed and the layer is limited to the selection, feathered by its softness."""
    doc.waitForDone()
    layout = node_layout(node)
    selection = selection_bounds(doc)
    region = plan_region(canvas_extent(doc), node_bounds(node), selection)
    pixels = read_pixels(node, region.source, layout)
    options = choices.options(target=region.source.extent)
    result, extent = runner.upscale(pixels, layout.fmt, region.source.extent, options, tr("Enhance"))
    result = crop(result, layout.fmt, extent, region.inner)
    if selection is not None:
        target = region.target
        mask = bytes(doc.selection().pixelData(target.x, target.y, target.width, target.height))
        result = apply_mask(result, layout.fmt, mask)
    return add_layer(doc, node, enhanced_layer_name(choices, node.name()), layout, node.colorProfile(), result,
                     region.target)


def selection_output(region: Region, scale: float) -> Tuple[Extent, Bounds]:
    """For a selection upscaled to a new document: the engine's output size for the whole source region, and
    the part of it that is the selection."""
    whole = Bounds.of(region.source.extent).scaled(scale)
    return whole.extent, region.inner.scaled(scale).clamped(whole.extent)


def selection_to_document(krita, doc, node, choices: Choices, runner):
    """The selection's bounds (the whole layer without one), upscaled, as a new document. Returns it."""
    doc.waitForDone()
    layout = node_layout(node)
    region = plan_region(canvas_extent(doc), node_bounds(node), selection_bounds(doc))
    pixels = read_pixels(node, region.source, layout)
    output, inner = selection_output(region, choices.scale)
    result, extent = runner.upscale(pixels, layout.fmt, region.source.extent, choices.options(output),
                                    tr("Upscale selection"))
    result = crop(result, layout.fmt, extent, inner)
    title = upscaled_layer_name(choices, node.name())
    new_doc = krita.createDocument(inner.width, inner.height, title, layout.color_model, layout.color_depth,
                                   node.colorProfile(), doc.resolution())
    layer = new_doc.rootNode().childNodes()[0]
    layer.setName(title)
    layer.setPixelData(from_engine(result, layout), 0, 0, inner.width, inner.height)
    new_doc.refreshProjection()
    return new_doc


def converted_copy(doc, node, depth: Optional[str] = None):
    """A copy of ``doc`` converted to RGBA with the default profile of that depth (sRGB for 8/16-bit integer),
    and the copy of ``node`` (None: None) in it; for colour models the engine cannot take (CMYK, Lab, XYZ,
    YCbCr), or (``depth`` "U8") for an 8-bit sRGB file. The depth is ``depth``, else the document's when the
    engine takes it, else 16-bit. The caller closes the copy (or shows it)."""
    path = []
    current = node
    while current is not None and current.parentNode() is not None:
        path.insert(0, _index_in_parent(current))
        current = current.parentNode()
    copy = doc.clone()
    depth = depth or (doc.colorDepth() if doc.colorDepth() in DEPTH_DTYPES else "U16")
    copy.setColorSpace("RGBA", depth, "")
    copy.waitForDone()
    copied = copy.rootNode()
    for index in path:
        copied = copied.childNodes()[index]
    return copy, (copied if path else None)


def _index_in_parent(node) -> int:
    siblings = node.parentNode().childNodes()
    for index, sibling in enumerate(siblings):
        if sibling.uniqueId() == node.uniqueId():
            return index
    raise ValueError("node not found in its parent")
