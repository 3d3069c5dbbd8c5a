"""A Krita document as the actions use it: its size, selection and pixels, a new layer above a node, a new
document, a converted copy. The Krita calls of the actions (actions, cover_action, export_action, extension) are
here; what they compute is the shared editor layer's.

Pixels travel in the engine's order (``pixels_krita``); ``read_pixels`` and ``converted_copy`` also take plain
Krita objects for the integration tests.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from .i18n import tr
from .krita_realesrgan.common.geometry import Bounds, Extent
from .krita_realesrgan.common.regions import visible_layer
from .pixels_krita import DEPTH_DTYPES, KritaPixelLayout, from_engine, layout_for, to_engine

SCALE_FILTER = "Bicubic"  # Krita's own filter for the other layers (Image ▸ Scale Image's default)


def read_pixels(source, bounds: Bounds, layout: KritaPixelLayout) -> bytes:
    """Engine-order pixels of ``bounds`` from a node or (merged image) a document."""
    raw = source.pixelData(bounds.x, bounds.y, bounds.width, bounds.height)
    return to_engine(bytes(raw), layout)


def node_bounds(node) -> Bounds:
    rect = node.bounds()
    return Bounds(rect.x(), rect.y(), rect.width(), rect.height())


def _colour_space(owner) -> Tuple[str, str, str]:
    return owner.colorModel(), owner.colorDepth(), owner.colorProfile()


@dataclass(frozen=True)
class PixelSource:
    """What an action reads: a node, or the document itself for its merged image; its pixels' layout, colour
    profile, and the name the new layer is named after."""

    owner: object
    layout: KritaPixelLayout
    profile: str
    name: str

    def read(self, bounds: Bounds) -> bytes:
        return read_pixels(self.owner, bounds, self.layout)


def put_pixels(node, pixels: bytes, layout: KritaPixelLayout, at: Bounds) -> None:
    """Engine-order ``pixels`` into ``node`` at ``at``."""
    node.setPixelData(from_engine(pixels, layout), at.x, at.y, at.width, at.height)


class KritaDocument:
    """One Krita ``Document`` (``doc``)."""

    def __init__(self, doc):
        self.doc = doc

    @classmethod
    def settled(cls, doc) -> "KritaDocument":
        """``doc`` once Krita is done with it (see ``settle``)."""
        document = cls(doc)
        document.settle()
        return document

    def settle(self) -> None:
        """Wait until Krita is done with the document (one still loading or filtering gives incomplete pixels)."""
        self.doc.waitForDone()

    @property
    def canvas(self) -> Extent:
        return Extent(self.doc.width(), self.doc.height())

    def selection(self) -> Optional[Bounds]:
        selection = self.doc.selection()
        if selection is None:
            return None
        return Bounds(selection.x(), selection.y(), selection.width(), selection.height())

    def selection_mask(self, bounds: Bounds) -> bytes:
        """The selection's own values (0..255, one byte a pixel) inside ``bounds``."""
        return bytes(self.doc.selection().pixelData(bounds.x, bounds.y, bounds.width, bounds.height))

    def layer(self, node) -> PixelSource:
        return PixelSource(node, layout_for(node.colorModel(), node.colorDepth()), node.colorProfile(), node.name())

    def merged(self, name: str = "") -> PixelSource:
        """The document's projection (its merged visible image) in the document's colour space."""
        return PixelSource(self.doc, layout_for(self.doc.colorModel(), self.doc.colorDepth()),
                           self.doc.colorProfile(), name)

    def source(self, node, use_merged: bool) -> PixelSource:
        """What a whole-canvas action reads: the active layer, or the merged image. Refuses an empty layer."""
        canvas = self.canvas
        if use_merged:
            visible_layer(canvas, Bounds.of(canvas))
            return self.merged(tr("merged image"))
        visible_layer(canvas, node_bounds(node))
        return self.layer(node)

    def colour_space(self) -> Tuple[str, str, str]:
        """(colour model, depth, profile) of the document."""
        return _colour_space(self.doc)

    @property
    def file_name(self) -> str:
        """The document's file ("" when it was never saved)."""
        return self.doc.fileName()

    @property
    def title(self) -> str:
        return self.doc.name()

    def refresh(self) -> None:
        self.doc.refreshProjection()

    def scale_to(self, size: Extent) -> None:
        """Scale the whole document (its layers with Krita's own filter) to ``size``."""
        self.doc.scaleImage(size.width, size.height, self.doc.resolution(), self.doc.resolution(), SCALE_FILTER)
        self.doc.waitForDone()

    def add_layer(self, above, name: str, source: PixelSource, pixels: bytes, bounds: Bounds):
        """A new paint layer right above ``above`` (top of the image when None) holding ``pixels`` (engine order,
        in ``source``'s colour space) at ``bounds``; converted to the document's colour space. Returns it."""
        doc = self.doc
        layer = doc.createNode(name, "paintlayer")
        source_space = (source.layout.color_model, source.layout.color_depth, source.profile)
        if _colour_space(layer) != source_space:
            layer.setColorSpace(*source_space)
        put_pixels(layer, pixels, source.layout, bounds)
        if _colour_space(layer) != _colour_space(doc):
            layer.setColorSpace(*_colour_space(doc))
        parent = above.parentNode() if above is not None else doc.rootNode()
        parent.addChildNode(layer, above)
        doc.refreshProjection()
        doc.setActiveNode(layer)
        return layer

    def new_document(self, krita, size: Extent, title: str, source: PixelSource) -> "KritaDocument":
        """A new document of ``size`` in ``source``'s colour space and this document's resolution (not shown)."""
        layout = source.layout
        return KritaDocument(krita.createDocument(size.width, size.height, title, layout.color_model,
                                                  layout.color_depth, source.profile, self.doc.resolution()))

    def named_first_layer(self, name: str):
        """The layer Krita creates with a new document, named ``name``."""
        layer = self.doc.rootNode().childNodes()[0]
        layer.setName(name)
        return layer

    def add_empty_layer(self, below, name: str):
        """A new empty paint layer right above ``below``."""
        layer = self.doc.createNode(name, "paintlayer")
        self.doc.rootNode().addChildNode(layer, below)
        return layer

    def activate(self, node) -> None:
        self.doc.setActiveNode(node)

    def close(self) -> None:
        self.doc.close()

    def discard(self) -> None:
        """Close without asking (a copy the user never saw)."""
        self.doc.setBatchmode(True)
        self.doc.close()


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
