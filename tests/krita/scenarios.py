"""Runs inside a real Krita (``kritarunner -s scenarios -f main``): drives the installed plugin's own actions on
real images, saves the documents, re-opens the saved files and dumps their layers for the pytest side.

Input: the JSON file named by ``KRITA_SCENARIOS``: {"pykrita": folder, "images": folder, "out": folder,
"scenarios": [names]}. Output in "out": per scenario a folder with ``<tag>.json`` (document and layer facts) and
``<tag>-<n>.raw`` (each layer over the whole canvas, engine channel order, ``rawimage`` format), and
``results.json`` (ok/error, seconds, notes per scenario).
"""
import hashlib
import json
import os
import sys
import time
import traceback
from pathlib import Path

from krita import Krita, Selection
from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QApplication, QProgressDialog, QPushButton

CROP = (150, 80, 256, 160)  # a part of children-alpha.png with faces and transparent background


class Context:
    def __init__(self, spec):
        self.krita = Krita.instance()
        self.spec = spec
        self.images = Path(spec["images"])
        sys.path.insert(0, spec["pykrita"])
        import realesrgan_upscale  # noqa: F401  (registers the extension, as Krita does at start)
        from realesrgan_upscale import (actions, cover_action, cover_settings, document, engine_session,
                                        export_action, export_settings, pixels_krita, reporting, settings)
        from realesrgan_upscale.krita_realesrgan.common import errors, geometry, rawimage
        self.actions, self.settings, self.pixels, self.reporting = actions, settings, pixels_krita, reporting
        self.document = document
        self.cover_action, self.cover_settings = cover_action, cover_settings
        self.export_action, self.export_settings = export_action, export_settings
        self.errors, self.geometry, self.rawimage = errors, geometry, rawimage
        # a run the measured speed calls long would ask, and no one would answer: say Yes, and note the question
        # (long_run_asks_first shows the real message box)
        self.questions = []
        self.session = engine_session.EngineSession(ask=lambda text: self.questions.append(text) or True)

    # ---- documents ----

    def open(self, name):
        doc = self.krita.openDocument(str(self.images / name))
        doc.setBatchmode(True)
        doc.waitForDone()
        return doc

    def layer(self, doc, index=0):
        return doc.rootNode().childNodes()[index]

    def dump(self, doc, folder, tag, region=None):
        """Save ``doc`` as ``tag``.kra, re-open the saved file, and dump what it holds: each layer's pixels over
        the canvas, or over ``region`` (a Bounds, may reach outside the canvas)."""
        path = folder / f"{tag}.kra"
        doc.waitForDone()  # saving while Krita still processes the image can hang kritarunner
        assert doc.saveAs(str(path)), f"saving {path} failed"
        saved = self.krita.openDocument(str(path))
        saved.setBatchmode(True)
        saved.waitForDone()
        try:
            self._dump_open(saved, folder, tag, region)
        finally:
            saved.close()

    def _dump_open(self, doc, folder, tag, region=None):
        canvas = self.geometry.Extent(doc.width(), doc.height())
        region = region or self.geometry.Bounds.of(canvas)
        facts = {"width": doc.width(), "height": doc.height(), "colorModel": doc.colorModel(),
                 "colorDepth": doc.colorDepth(), "resolution": doc.resolution(), "region": list(region),
                 "layers": []}
        layers = [n for n in doc.rootNode().childNodes() if n.type().endswith("layer")]  # not selection masks
        for index, node in enumerate(layers):
            rect = node.bounds()
            layer = {"name": node.name(), "type": node.type(), "colorModel": node.colorModel(),
                     "colorDepth": node.colorDepth(), "bounds": [rect.x(), rect.y(), rect.width(), rect.height()]}
            layout = self.pixels.layout_for(node.colorModel(), node.colorDepth())
            data = self.document.read_pixels(node, region, layout)
            layer["file"] = f"{tag}-{index}.raw"
            self.rawimage.write(folder / layer["file"], layout.fmt, region.extent, data)
            facts["layers"].append(layer)
        (folder / f"{tag}.json").write_text(json.dumps(facts, indent=1))

    def dump_selection(self, doc, folder):
        selection = doc.selection()
        canvas = self.geometry.Extent(doc.width(), doc.height())
        from realesrgan_upscale.krita_realesrgan.common.formats import PixelFormat
        self.rawimage.write(folder / "selection.raw", PixelFormat("uint8", 1), canvas,
                            bytes(selection.pixelData(0, 0, canvas.width, canvas.height)))
        return [selection.x(), selection.y(), selection.width(), selection.height()]


def rectangle_selection(x, y, width, height):
    selection = Selection()
    selection.select(x, y, width, height, 255)
    return selection


def feathered_selection(x, y, width, height, ramp):
    """A rectangular selection whose edges fade over ``ramp`` pixels (the selection's own softness)."""
    values = bytearray()
    for row in range(height):
        for col in range(width):
            edge = min(row, col, height - 1 - row, width - 1 - col)
            values.append(255 if edge >= ramp else (edge + 1) * 255 // (ramp + 1))
    selection = rectangle_selection(x, y, width, height)
    selection.setPixelData(bytes(values), x, y, width, height)
    return selection


def press_cancel_after_first_tile(state):
    """Clicks the progress dialog's Cancel button, as a user would, once a tile is done."""
    timer = QTimer()
    timer.setInterval(20)

    def check():
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QProgressDialog) and widget.isVisible() and widget.value() >= 1:
                button = widget.findChild(QPushButton)
                if button is not None and "clicked_at" not in state:
                    state["clicked_at"] = [widget.value(), widget.maximum()]
                    button.click()

    timer.timeout.connect(check)
    timer.start()
    return timer


# ---- scenarios: each returns notes for results.json ----

def upscale_image_rgba8(ctx, folder):
    doc = ctx.open("children-alpha.png")
    doc.crop(*CROP)
    doc.waitForDone()
    marker = doc.createNode("marker", "paintlayer")
    marker.setPixelData(bytes([30, 60, 200, 255]) * (40 * 30), 10, 10, 40, 30)
    doc.rootNode().addChildNode(marker, None)
    ctx.dump(doc, folder, "before")
    choices = ctx.settings.Choices(scale=2)
    ctx.actions.upscale_image(doc, ctx.layer(doc), choices, ctx.session)
    ctx.dump(doc, folder, "after")
    doc.close()


def upscale_image_merged(ctx, folder):
    doc = ctx.open("wolf_gray.jpg")
    doc.crop(40, 40, 128, 96)
    doc.waitForDone()
    ctx.dump(doc, folder, "before")
    ctx.actions.upscale_image(doc, ctx.layer(doc), ctx.settings.Choices(scale=1.5, use_merged=True), ctx.session)
    ctx.dump(doc, folder, "after")
    doc.close()


def enhance_selected(ctx, folder, doc, selection):
    """Enhance the active layer of ``doc`` within ``selection``; dumps before, the selection, after."""
    doc.setSelection(selection)
    ctx.dump(doc, folder, "before")
    bounds = ctx.dump_selection(doc, folder)
    ctx.actions.enhance_layer(doc, ctx.layer(doc), ctx.settings.Choices(), ctx.session)
    ctx.dump(doc, folder, "after")
    doc.close()
    return {"selection": bounds}


def enhance_selection_u16(ctx, folder):
    return enhance_selected(ctx, folder, ctx.open("tree_alpha_16bit.png"),
                            feathered_selection(100, 60, 120, 90, ramp=8))


def enhance_gray(ctx, folder):
    doc = ctx.open("wolf_gray.jpg")
    ctx.dump(doc, folder, "before")
    ctx.actions.enhance_layer(doc, ctx.layer(doc), ctx.settings.Choices(), ctx.session)
    ctx.dump(doc, folder, "after")
    doc.close()


def enhance_float32(ctx, folder):
    doc = ctx.open("tree_alpha_16bit.png")
    assert doc.setColorSpace("RGBA", "F32", "")
    doc.waitForDone()
    return enhance_selected(ctx, folder, doc, rectangle_selection(40, 30, 96, 64))


def selection_to_document_rgba8(ctx, folder):
    doc = ctx.open("children-alpha.png")
    doc.crop(*CROP)
    doc.waitForDone()
    doc.setSelection(rectangle_selection(40, 30, 100, 70))
    ctx.dump(doc, folder, "before")
    bounds = ctx.dump_selection(doc, folder)
    new_doc = ctx.actions.selection_to_document(ctx.krita, doc, ctx.layer(doc), ctx.settings.Choices(scale=2),
                                                ctx.session)
    new_doc.setBatchmode(True)
    ctx.dump(new_doc, folder, "new")
    ctx.dump(doc, folder, "after")
    new_doc.close()
    doc.close()
    return {"selection": bounds}


def cancel_leaves_document_unchanged(ctx, folder):
    doc = ctx.open("tree_alpha_16bit.png")
    ctx.dump(doc, folder, "before")
    state = {}
    timer = press_cancel_after_first_tile(state)
    started = time.monotonic()
    try:
        ctx.actions.upscale_image(doc, ctx.layer(doc), ctx.settings.Choices(scale=4, tile=64), ctx.session)
        outcome = "finished"
    except ctx.errors.Cancelled:
        outcome = "cancelled"
    finally:
        timer.stop()
    seconds = time.monotonic() - started
    ctx.dump(doc, folder, "after")
    doc.close()
    return {"outcome": outcome, "clicked_at": state.get("clicked_at"), "seconds_to_cancel": seconds}


def failure_leaves_document_unchanged(ctx, folder):
    doc = ctx.open("children-alpha.png")
    doc.crop(*CROP)
    doc.waitForDone()
    ctx.dump(doc, folder, "before")
    try:
        ctx.actions.upscale_image(doc, ctx.layer(doc), ctx.settings.Choices(model="RealESRGAN_x4plus"),
                                  ctx.session)
        outcome, message = "finished", ""
    except ctx.errors.EngineError as error:
        log = ctx.reporting.write_log(error, "scenario")
        outcome, message = error.kind, ctx.reporting.user_text(error, log, "RealESRGAN_x4plus")
    ctx.dump(doc, folder, "after")
    doc.close()
    return {"outcome": outcome, "message": message}


def cmyk_document(ctx, width, height):
    """A CMYKA 8-bit document in batch mode, its layer filled with one colour; (document, layer)."""
    doc = ctx.krita.createDocument(width, height, "cmyk", "CMYKA", "U8", "", 72.0)
    doc.setBatchmode(True)
    node = ctx.layer(doc)
    node.setPixelData(bytes([20, 120, 200, 10, 255]) * (width * height), 0, 0, width, height)
    return doc, node


def layer_names(doc):
    return [n.name() for n in doc.rootNode().childNodes()]


def close_documents(docs):
    for doc in docs:
        doc.setBatchmode(True)
        doc.close()


def cmyk_offers_converted_copy(ctx, folder):
    doc, node = cmyk_document(ctx, 48, 32)
    try:
        ctx.actions.enhance_layer(doc, node, ctx.settings.Choices(), ctx.session)
        refused = None
    except ctx.pixels.UnsupportedColourModel as error:
        refused = {"convertible": error.convertible, "message": error.message}
    layers_after_refusal = layer_names(doc)
    copy, copied = ctx.document.converted_copy(doc, node)
    copy.setBatchmode(True)
    ctx.actions.enhance_layer(copy, copied, ctx.settings.Choices(), ctx.session)
    ctx.dump(copy, folder, "copy")
    notes = {"refused": refused, "original_layers": layers_after_refusal,
             "original_model": doc.colorModel(), "copy_model": copy.colorModel()}
    copy.close()
    doc.close()
    return notes


def answer_message_boxes(state, answer):
    """Records every message box the plugin shows and answers it (Yes/OK) as a user would."""
    from PyQt5.QtWidgets import QMessageBox
    timer = QTimer()
    timer.setInterval(50)

    def check():
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QMessageBox) and widget.isVisible():
                state.setdefault("boxes", []).append(widget.text())
                button = widget.button(answer) or widget.button(QMessageBox.Ok)
                button.click()

    timer.timeout.connect(check)
    timer.start()
    return timer


def extension_messages(ctx, folder):
    """The extension's own error handling: an engine that is not installed gives a message box naming the log
    and leaves the document alone; a CMYK image gets the offer of a converted copy, and Yes works on one."""
    from PyQt5.QtWidgets import QMessageBox
    from realesrgan_upscale import engine_session, extension
    from realesrgan_upscale.krita_realesrgan.common.client import EngineClient
    notes = {}
    ext = extension.RealEsrganExtension(ctx.krita)
    ext.session = engine_session.EngineSession(lambda: EngineClient(python=str(folder / "no-such-python")))
    doc = ctx.open("wolf_gray.jpg")
    state = {}
    timer = answer_message_boxes(state, QMessageBox.Ok)
    ext.run("enhance", doc, ctx.layer(doc), ctx.settings.Choices())
    timer.stop()
    notes["engine_missing"] = {"boxes": state.get("boxes", []), "layers": layer_names(doc)}
    doc.close()

    ext.session = ctx.session   # a working engine again
    cmyk, node = cmyk_document(ctx, 40, 24)
    shown = []
    ext._show = shown.append   # kritarunner has no window to open the copy in; keep it instead
    state = {}
    timer = answer_message_boxes(state, QMessageBox.Yes)
    ext.run("enhance", cmyk, node, ctx.settings.Choices())
    timer.stop()
    copies = shown
    notes["cmyk"] = {"boxes": state.get("boxes", []), "original_layers": layer_names(cmyk),
                     "copies": [{"model": c.colorModel(), "layers": layer_names(c)} for c in copies]}
    close_documents(copies)
    cmyk.close()
    return notes


def long_run_asks_first(ctx, folder):
    """A run the measured speed says takes minutes: the extension's message box asks before anything starts; No
    leaves the document as it was, Yes runs it."""
    from PyQt5.QtWidgets import QMessageBox
    from realesrgan_upscale import extension
    from realesrgan_upscale.krita_realesrgan.common.run_estimate import SpeedRecord
    speeds = SpeedRecord(folder / "speed.json")
    speeds.add("realesr-animevideov3", "openvino CPU", "fp32", seconds=10000.0, megapixels=1.0)
    ext = extension.RealEsrganExtension(ctx.krita)
    ext.session = ctx.session
    session_ask = ctx.session.ask
    ctx.session.speeds, ctx.session.ask = speeds, ctx.session.ask_box
    doc = ctx.open("wolf_gray.jpg")   # 236x236: about 9 minutes at that speed
    choices = ctx.settings.Choices(model="realesr-animevideov3")
    notes = {}
    try:
        ctx.dump(doc, folder, "before")
        for answer, name in ((QMessageBox.No, "no"), (QMessageBox.Yes, "yes")):
            state = {}
            timer = answer_message_boxes(state, answer)
            ext.run("enhance", doc, ctx.layer(doc), choices)
            timer.stop()
            notes[name] = {"boxes": state.get("boxes", []), "layers": layer_names(doc)}
            if name == "no":
                ctx.dump(doc, folder, "after")
    finally:
        ctx.session.speeds, ctx.session.ask = None, session_ask
        doc.close()
    return notes


# ---- Make cover from image ----

def outcome_notes(ctx, outcome, choices):
    """What the pytest side needs of a CoverOutcome, and what the user is told."""
    return {"canvas": list(outcome.canvas), "extent": list(outcome.extent), "model": outcome.model,
            "faces": [list(face) for face in outcome.faces], "reasons": [str(reason) for reason in outcome.reasons], "fit": outcome.fit,
            "summary": ctx.cover_action.cover_summary(outcome, choices.target_info(), "en")}


def make_cover(ctx, folder, image, choices, upscale=None):
    """The cover action on ``image``'s layer; dumps the source before and after, and the new document (its
    layers over the whole picture's bounds, which reach outside the canvas)."""
    doc = ctx.open(image)
    doc.setResolution(150)
    ctx.dump(doc, folder, "before")
    open_before = len(ctx.krita.documents())
    new_doc, outcome = ctx.cover_action.make_cover(ctx.krita, doc, ctx.layer(doc), choices,
                                                   upscale or ctx.settings.Choices(), ctx.session)
    new_doc.setBatchmode(True)
    notes = outcome_notes(ctx, outcome, choices)
    notes.update(title=new_doc.name(), new_documents=len(ctx.krita.documents()) - open_before)
    picture = ctx.cover_action.picture_bounds(outcome.canvas, outcome.extent)
    ctx.dump(new_doc, folder, "picture", region=picture)
    ctx.dump(new_doc, folder, "cover")
    ctx.dump(doc, folder, "after")
    new_doc.close()
    doc.close()
    return notes


def cover_photo_preset(ctx, folder):
    return make_cover(ctx, folder, "children-alpha.png", ctx.cover_settings.CoverChoices(preset="video-16x9"))


def cover_cartoon_pad(ctx, folder):
    choices = ctx.cover_settings.CoverChoices(preset="custom", width=640, height=360, fit="pad",
                                              background="solid", colour="#3366cc")
    return make_cover(ctx, folder, "0014.jpg", choices)


def cover_cancel(ctx, folder):
    doc = ctx.open("children-alpha.png")
    ctx.dump(doc, folder, "before")
    open_before = [d.fileName() for d in ctx.krita.documents()]
    state = {}
    timer = press_cancel_after_first_tile(state)
    try:
        ctx.cover_action.make_cover(ctx.krita, doc, ctx.layer(doc), ctx.cover_settings.CoverChoices(preset="square"),
                                    ctx.settings.Choices(tile=64), ctx.session)
        outcome = "finished"
    except ctx.errors.Cancelled:
        outcome = "cancelled"
    finally:
        timer.stop()
    open_after = [d.fileName() for d in ctx.krita.documents()]
    ctx.dump(doc, folder, "after")
    doc.close()
    return {"outcome": outcome, "clicked_at": state.get("clicked_at"), "open_before": open_before,
            "open_after": open_after}


def spin_until(condition, seconds):
    """Run Qt's event loop (timers fire) until ``condition()`` or ``seconds`` have passed."""
    end = time.monotonic() + seconds
    while not condition() and time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.02)


class RecordingView:
    """Stands in for the View Krita's window would return (kritarunner has no window): records what the
    extension shows over the canvas."""

    def __init__(self, doc, messages):
        self.doc, self.messages = doc, messages

    def showFloatingMessage(self, text, icon, timeout, priority):
        self.messages.append({"text": text, "timeout": timeout, "priority": priority})


def cover_extension_cmyk(ctx, folder):
    """The extension's cover path on a CMYK image: the converted-copy offer, the cover made from the copy, the
    copy closed again, the floating message with the reasons; the CMYK original untouched."""
    from PyQt5.QtWidgets import QMessageBox
    from realesrgan_upscale import extension
    ext = extension.RealEsrganExtension(ctx.krita)
    ext.session = ctx.session
    cmyk, node = cmyk_document(ctx, 60, 40)
    open_before = len(ctx.krita.documents())
    shown, messages, state = [], [], {}
    ext._show = lambda doc: shown.append(doc) or RecordingView(doc, messages)
    timer = answer_message_boxes(state, QMessageBox.Yes)
    ext.run("cover", cmyk, node, ctx.cover_settings.CoverChoices(preset="custom", width=90, height=90))
    spin_until(lambda: messages, seconds=5)
    timer.stop()
    notes = {"boxes": state.get("boxes", []), "messages": messages, "open_before": open_before,
             "open_after": len(ctx.krita.documents()), "original_model": cmyk.colorModel(),
             "original_layers": layer_names(cmyk),
             "shown": [{"size": [d.width(), d.height()], "model": d.colorModel(), "layers": layer_names(d),
                        "bounds": [list(n.bounds().getRect()) for n in d.rootNode().childNodes()]} for d in shown]}
    close_documents(shown)
    cmyk.close()
    return notes


# ---- Export cover ----

def doc_state(ctx, doc):
    """What an export must not change: size, colour space, modified flag, file name, each layer's name, type,
    bounds and a hash of its pixels, and how many documents are open."""
    layers = []
    for node in doc.rootNode().childNodes():
        x, y, width, height = node.bounds().getRect()
        digest = hashlib.sha1(bytes(node.pixelData(x, y, width, height))).hexdigest()
        layers.append([node.name(), node.type(), [x, y, width, height], digest])
    return {"size": [doc.width(), doc.height()], "space": [doc.colorModel(), doc.colorDepth(), doc.colorProfile()],
            "modified": doc.modified(), "file": doc.fileName(), "layers": layers,
            "documents": len(ctx.krita.documents())}


def dump_projection(ctx, doc, folder, tag):
    """The document's merged image as Krita has it now (engine channel order) as ``tag``.raw."""
    doc.waitForDone()
    canvas = ctx.geometry.Extent(doc.width(), doc.height())
    layout = ctx.pixels.layout_for(doc.colorModel(), doc.colorDepth())
    ctx.rawimage.write(folder / f"{tag}.raw", layout.fmt, canvas,
                       ctx.document.read_pixels(doc, ctx.geometry.Bounds.of(canvas), layout))


def export_through_extension(ctx, doc, choices):
    """The extension's export path (as after its dialogs) on ``doc``: the floating message it shows, the message
    boxes (answered), the document's state before and after, and the seconds it took."""
    from PyQt5.QtWidgets import QMessageBox
    from realesrgan_upscale import extension
    ext = extension.RealEsrganExtension(ctx.krita)
    ext.session = ctx.session
    messages, state = [], {}
    ext._current_view = lambda: RecordingView(doc, messages)
    before = doc_state(ctx, doc)
    timer = answer_message_boxes(state, QMessageBox.Ok)
    started = time.monotonic()
    ext.run("export", doc, None, choices)
    seconds = time.monotonic() - started
    spin_until(lambda: messages or state.get("boxes"), seconds=3)   # the message comes after a short delay
    timer.stop()
    return {"messages": [m["text"] for m in messages], "boxes": state.get("boxes", []), "before": before,
            "after": doc_state(ctx, doc), "export_seconds": round(seconds, 3), "exists": Path(choices.path).exists()}


def export_photo_cover(ctx, folder):
    """A 1280x720 cover made by the cover action, with a band where a title would go, exported as JPEG under a
    limit that forces a quality below 95 (60% of its size at quality 95)."""
    es = ctx.export_settings
    doc = ctx.open("children-alpha.png")
    cover, _ = ctx.cover_action.make_cover(ctx.krita, doc, ctx.layer(doc),
                                           ctx.cover_settings.CoverChoices(preset="video-16x9"),
                                           ctx.settings.Choices(), ctx.session)
    cover.setBatchmode(True)
    doc.close()
    title = cover.createNode("title", "paintlayer")
    title.setPixelData(bytes([40, 40, 220, 255]) * (600 * 90), 340, 560, 600, 90)   # BGRA: a red band
    cover.rootNode().addChildNode(title, None)
    cover.refreshProjection()
    cover.waitForDone()
    started = time.monotonic()
    free = ctx.export_action.export_cover(cover, es.ExportChoices(str(folder / "free.jpg"), "jpg"), ctx.session)
    free_seconds = time.monotonic() - started
    limit = free.bytes * 6 // 10
    notes = export_through_extension(ctx, cover, es.ExportChoices(str(folder / "cover.jpg"), "jpg", limit,
                                                                  "video-16x9"))
    dump_projection(ctx, cover, folder, "projection")
    cover.close()
    return dict(notes, free=[free.quality, free.bytes, free.description], free_seconds=round(free_seconds, 3),
                limit=limit)


def export_16_and_float(ctx, folder):
    """tree_alpha_16bit.png (16-bit RGBA with transparency, Adobe RGB) exported as PNG (no limit) three ways: as
    it opens (exported from an sRGB copy), converted to 16-bit sRGB (read directly) and to 32-bit float in linear
    light (from an sRGB copy). All three files must hold the same sRGB picture."""
    es = ctx.export_settings
    notes = {}
    for tag, space in (("adobe", None), ("u16", ("RGBA", "U16", "sRGB-elle-V2-srgbtrc.icc")),
                       ("f32", ("RGBA", "F32", ""))):
        doc = ctx.open("tree_alpha_16bit.png")
        if space:
            assert doc.setColorSpace(*space)
            doc.waitForDone()
            spin_until(doc.modified, seconds=3)   # Krita marks the conversion once its event loop has run
        notes[tag] = export_through_extension(ctx, doc, es.ExportChoices(str(folder / f"{tag}.png"), "png"))
        dump_projection(ctx, doc, folder, tag)
        doc.close()
    return notes


def export_errors(ctx, folder):
    """No document open: a message. An impossible limit and a folder that cannot exist: the engine's message
    in a box, no file, the document unchanged."""
    from PyQt5.QtWidgets import QMessageBox
    from realesrgan_upscale import extension
    es = ctx.export_settings
    notes = {}
    ext = extension.RealEsrganExtension(ctx.krita)
    ext.session = ctx.session
    state = {}
    timer = answer_message_boxes(state, QMessageBox.Ok)
    ext.trigger("export")
    spin_until(lambda: state.get("boxes"), seconds=3)
    timer.stop()
    notes["no_document"] = {"active": ctx.krita.activeDocument() is not None, "boxes": state.get("boxes", [])}
    doc = ctx.open("tree_alpha_16bit.png")
    notes["too_small"] = export_through_extension(ctx, doc, es.ExportChoices(str(folder / "tiny.jpg"), "jpg", 500))
    blocker = folder / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    notes["unwritable"] = export_through_extension(ctx, doc, es.ExportChoices(str(blocker / "cover.jpg"), "jpg"))
    doc.close()
    notes["files"] = sorted(p.name for p in folder.iterdir())
    return notes


def small_crop(ctx):
    doc = ctx.open("children-alpha.png")
    doc.crop(150, 80, 64, 48)
    doc.waitForDone()
    return doc


def device_choice(ctx, folder):
    """An upscale on "CPU — PyTorch"; fast on "CPU — OpenVINO" (refused on a CPU without AMX); then the upscale
    dialog's device row as the running engine reports it."""
    from realesrgan_upscale.dialog import MODE_IMAGE, UpscaleDialog
    doc = small_crop(ctx)
    ctx.dump(doc, folder, "before")
    ctx.actions.upscale_image(doc, ctx.layer(doc), ctx.settings.Choices(scale=2, device="cpu-torch"), ctx.session)
    ctx.dump(doc, folder, "after")
    doc.close()
    fast = ctx.settings.Choices(scale=2, device="cpu-openvino", fast=True)
    doc = small_crop(ctx)
    try:
        ctx.actions.upscale_image(doc, ctx.layer(doc), fast, ctx.session)
        outcome, message = "finished", ""
    except ctx.errors.EngineError as error:
        outcome, message = error.kind, error.message
    doc.close()
    dialog = UpscaleDialog(MODE_IMAGE, fast, [], ctx.geometry.Extent(64, 48), devices=ctx.session.devices())
    row = dialog.device
    return {"labels": [row.combo.itemText(i) for i in range(row.combo.count())], "chosen": row.key,
            "fast_enabled": row.fast.isEnabled(), "fast_hint": row.hint.text(), "fast_outcome": outcome,
            "fast_message": message, "notes": list(ctx.session.notes)}


# ---- Restore faces ----

def faces_row(dialog):
    """What the upscale dialog's "Restore faces" row shows, and what it passes on."""
    row = dialog.faces
    return {"enabled": row.box.isEnabled(), "hint": row.hint.text(), "hint_shown": not row.hint.isHidden(),
            "faces": dialog.choices().faces, "model": dialog.choices().model}


def face_dialog(ctx, weights, choices):
    """The upscale dialog as the extension opens it (models and face weights read from the weights folder)."""
    from realesrgan_upscale import model_list
    from realesrgan_upscale.dialog import MODE_IMAGE, UpscaleDialog
    from realesrgan_upscale.krita_realesrgan.common.editor.models import faces_installed
    return UpscaleDialog(MODE_IMAGE, choices, model_list.model_entries(weights), ctx.geometry.Extent(100, 90), None,
                         faces_installed(weights))


def upscale_with_message(ctx, folder, tag, choices):
    """One child's face (a 100x90 crop of children-alpha.png) upscaled through the extension; dumps the document
    as ``tag``; returns the floating messages it showed."""
    from realesrgan_upscale import extension
    ext = extension.RealEsrganExtension(ctx.krita)
    ext.session = ctx.session
    doc = ctx.open("children-alpha.png")
    doc.crop(320, 110, 100, 90)
    doc.waitForDone()
    if tag == "plain":
        ctx.dump(doc, folder, "before")
    messages = []
    ext._current_view = lambda: RecordingView(doc, messages)
    ext.run("image", doc, ctx.layer(doc), choices)
    spin_until(lambda: messages, seconds=3)   # the message comes after a short delay
    ctx.dump(doc, folder, tag)
    doc.close()
    return [m["text"] for m in messages]


def restore_faces(ctx, folder):
    """The "Restore faces" checkbox: greyed with the install command while the face model is missing; with a
    GFPGANv1.4.pth in the weights folder (random weights of GFPGAN's layout, staged by the pytest side) offered for
    a photo model (a user's weights file) and greyed for the anime one. Then the dialog's choices run through the
    extension, without and with faces. The files are taken out of the weights folder again at the end."""
    import shutil
    from dataclasses import replace
    from realesrgan_upscale.krita_realesrgan.common import paths
    staged = ctx.spec["faces"]
    weights = paths.read_config().weights
    photo, gfpgan = weights / "photo-net.pth", weights / "GFPGANv1.4.pth"
    notes = {}
    try:
        shutil.copy(staged["photo"], photo)
        remembered = ctx.settings.Choices(model=str(photo), scale=2, faces=True)
        notes["missing"] = faces_row(face_dialog(ctx, weights, remembered))
        shutil.copy(staged["gfpgan"], gfpgan)
        dialog = face_dialog(ctx, weights, remembered)
        notes["installed"] = faces_row(dialog)
        choices = dialog.choices()
        dialog.model.setCurrentIndex(dialog.model.findData("realesr-animevideov3"))
        notes["anime"] = faces_row(dialog)
        notes["plain_messages"] = upscale_with_message(ctx, folder, "plain", replace(choices, faces=False))
        notes["faces_messages"] = upscale_with_message(ctx, folder, "faces", choices)
    finally:
        for path in (photo, gfpgan):
            if path.exists():
                path.unlink()
    return notes


# ---- an engine service started by the test ----

def engine_service(ctx, folder):
    """Krita against a service the test started on a loopback port with a token (``KRITA_TEST_SERVICE``): the
    setting stored as the dialog's Engine rows store it ("On another computer", address, token file), an upscale
    in a new session runs there (the ready event's pid is the service's), then "On this computer" again."""
    from realesrgan_upscale import engine_session
    from realesrgan_upscale.krita_realesrgan.common import engine_setting
    service = json.loads(os.environ["KRITA_TEST_SERVICE"])
    engine_setting.write(engine_setting.EngineSetting(engine_setting.OTHER_COMPUTER, service["address"],
                                                      service["token_file"]))
    session = engine_session.EngineSession(ask=lambda text: True)
    try:
        doc = small_crop(ctx)
        ctx.dump(doc, folder, "before")
        ctx.actions.upscale_image(doc, ctx.layer(doc), ctx.settings.Choices(scale=2), session)
        ctx.dump(doc, folder, "after")
        doc.close()
        pid = session.client().start()["pid"]
    finally:
        session.close()
        engine_setting.write(engine_setting.EngineSetting())
    return {"pid": pid, "stored_after": engine_setting.read().place}


SCENARIOS = {f.__name__: f for f in (
    upscale_image_rgba8, upscale_image_merged, enhance_selection_u16, enhance_gray, enhance_float32,
    selection_to_document_rgba8, cancel_leaves_document_unchanged, failure_leaves_document_unchanged,
    cmyk_offers_converted_copy, extension_messages, long_run_asks_first, cover_photo_preset, cover_cartoon_pad,
    cover_cancel,
    cover_extension_cmyk, export_photo_cover, export_16_and_float, export_errors, device_choice, restore_faces,
    engine_service)}


def main(args=None):
    spec = json.loads(Path(os.environ["KRITA_SCENARIOS"]).read_text())
    out = Path(spec["out"])
    results = {"main_entered_at": time.time()}  # the pytest side subtracts its start: Krita start-up time
    ctx = Context(spec)
    try:
        for name in spec["scenarios"]:
            folder = out / name
            folder.mkdir(parents=True, exist_ok=True)
            started = time.monotonic()
            try:
                notes = SCENARIOS[name](ctx, folder) or {}
                results[name] = {"ok": True, **notes}
            except Exception:
                results[name] = {"ok": False, "error": traceback.format_exc()}
            results[name]["seconds"] = round(time.monotonic() - started, 2)
            if ctx.questions:   # asked and answered Yes (see Context)
                results[name]["questions"], ctx.questions = ctx.questions, []
            (out / "results.json").write_text(json.dumps(results, indent=1))
    finally:
        ctx.session.close()
    (out / "results.json").write_text(json.dumps(results, indent=1))
