#!/usr/bin/env python3
"""Real-ESRGAN AI upscaling for GIMP 3: Filters ▸ Enhance ▸ AI Upscale (Real-ESRGAN).

Three procedures, each with the model / scale / denoise / tile arguments (a dialog in interactive mode):
  plug-in-realesrgan-upscale-image      scale the image, the AI-upscaled layer as a new layer
  plug-in-realesrgan-enhance-layer      same size, restored; a selection becomes the new layer's mask
  plug-in-realesrgan-upscale-selection  the selection (or layer) upscaled into a new image
The engine runs in its own Python (the installer's config); this script only talks to it through the vendored
``krita_realesrgan`` client next to it.
"""
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gi  # noqa: E402

gi.require_version("Gimp", "3.0")
from gi.repository import GLib, GObject, Gimp  # noqa: E402

from krita_realesrgan.client import EngineClient  # noqa: E402
from krita_realesrgan.errors import Cancelled, EngineError  # noqa: E402

from realesrgan_gimp import actions  # noqa: E402
from realesrgan_gimp.choices import (DEFAULT_DENOISE, DEFAULT_SCALE, MAX_SCALE, MAX_TILE, MIN_SCALE,  # noqa: E402
                                     Choices, model_label, model_names, user_message)
from realesrgan_gimp.engine_run import EngineRunner, append_log  # noqa: E402

MENU = "<Image>/Filters/Enhance/AI Upscale (Real-ESRGAN)"


class Operation:
    def __init__(self, name, label, blurb, action, uses_scale, makes_image):
        self.name, self.label, self.blurb = name, label, blurb
        self.action, self.uses_scale, self.makes_image = action, uses_scale, makes_image


OPERATIONS = {op.name: op for op in (
    Operation("plug-in-realesrgan-upscale-image", "_Upscale Image…",
              "Scale the image; the active layer is upscaled by Real-ESRGAN into a new layer above it.",
              actions.upscale_image, uses_scale=True, makes_image=False),
    Operation("plug-in-realesrgan-enhance-layer", "_Enhance Layer or Selection…",
              "Restore the active layer (or the selection) at the same size with Real-ESRGAN, as a new layer.",
              actions.enhance_layer, uses_scale=False, makes_image=False),
    Operation("plug-in-realesrgan-upscale-selection", "Upscale _Selection to New Image…",
              "The selection (or the whole layer) upscaled by Real-ESRGAN, as a new image.",
              actions.selection_to_image, uses_scale=True, makes_image=True),
)}


class GimpProgress:
    """Progress on GIMP's progress bar (the image window's status bar, or the console in batch mode)."""

    def started(self, text):
        Gimp.progress_init(text)

    def advanced(self, done, total):
        if total:
            Gimp.progress_update(min(1.0, done / total))


def _model_choice():
    choice = Gimp.Choice.new()
    for index, name in enumerate(model_names()):
        choice.add(name, index, name, model_label(name))
    return choice


def _error(procedure, status, message):
    return procedure.new_return_values(status, GLib.Error.new_literal(Gimp.PlugIn.error_quark(), message, 0))


def _choices(config):
    return Choices(model=config.get_property("model"), scale=float(config.get_property("scale")),
                   denoise=float(config.get_property("denoise")), tile=int(config.get_property("tile"))).checked()


def _ask(procedure, config, operation):
    """The procedure dialog; False when the user cancelled it."""
    gi.require_version("GimpUi", "3.0")
    from gi.repository import GimpUi
    GimpUi.init("realesrgan-upscale")
    dialog = GimpUi.ProcedureDialog.new(procedure, config, operation.label.replace("_", "").rstrip("…"))
    fields = ["model"] + (["scale"] if operation.uses_scale else []) + ["denoise", "tile"]
    dialog.fill(fields)
    accepted = dialog.run()
    dialog.destroy()
    return accepted


class RealEsrganUpscale(Gimp.PlugIn):
    def do_query_procedures(self):
        return list(OPERATIONS)

    def do_set_i18n(self, name):
        return False

    def do_create_procedure(self, name):
        operation = OPERATIONS[name]
        procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, self.run, operation)
        procedure.set_image_types("*")
        procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
        procedure.set_menu_label(operation.label)
        procedure.add_menu_path(MENU)
        procedure.set_documentation(operation.blurb, operation.blurb + " Models, scale, denoise strength and tile "
                                    "size as in the Krita plugin; the engine is installed by installer.py.", name)
        procedure.set_attribution("krita-realesrgan", "krita-realesrgan", "2025")
        flags = GObject.ParamFlags.READWRITE
        procedure.add_choice_argument("model", "_Model", "Real-ESRGAN model", _model_choice(), model_names()[0],
                                      flags)
        procedure.add_double_argument("scale", "_Scale", "Output scale (any value from 1 to 16)",
                                      MIN_SCALE, MAX_SCALE, DEFAULT_SCALE, flags)
        procedure.add_double_argument("denoise", "_Denoise strength",
                                      "Denoise strength 0..1 (realesr-general-x4v3 only)", 0.0, 1.0,
                                      DEFAULT_DENOISE, flags)
        procedure.add_int_argument("tile", "_Tile size", "Input tile edge in pixels; 0 = automatic",
                                   0, MAX_TILE, 0, flags)
        if operation.makes_image:
            procedure.add_image_return_value("new-image", "New image", "The upscaled selection", False, flags)
        return procedure

    def run(self, procedure, run_mode, image, drawables, config, operation):
        if run_mode == Gimp.RunMode.INTERACTIVE and not _ask(procedure, config, operation):
            return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, None)
        client = EngineClient()
        try:
            layer = actions.the_layer(image, drawables)
            result = operation.action(image, layer, _choices(config), EngineRunner(client, GimpProgress()))
        except Cancelled:
            return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, None)
        except EngineError as error:
            append_log(client.log_path, f"{procedure.get_name()}: {error.kind}: {error.message}\n{error.detail}")
            return _error(procedure, Gimp.PDBStatusType.EXECUTION_ERROR, user_message(error, client.log_path))
        except Exception:  # a bug: the message names the log, the traceback goes there
            append_log(client.log_path, f"{procedure.get_name()} failed:\n{traceback.format_exc()}")
            return _error(procedure, Gimp.PDBStatusType.EXECUTION_ERROR,
                          f"Real-ESRGAN failed unexpectedly. Details are in {client.log_path}")
        finally:
            client.close()
        Gimp.progress_end()
        if operation.makes_image:
            if run_mode == Gimp.RunMode.INTERACTIVE:
                Gimp.Display.new(result)
            Gimp.displays_flush()
            return Gimp.ValueArray.new_from_values([GObject.Value(Gimp.PDBStatusType, Gimp.PDBStatusType.SUCCESS),
                                                    GObject.Value(Gimp.Image, result)])
        Gimp.displays_flush()
        return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, None)


Gimp.main(RealEsrganUpscale.__gtype__, sys.argv)
