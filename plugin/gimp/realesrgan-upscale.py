#!/usr/bin/env python3
"""Real-ESRGAN AI upscaling for GIMP 3: Filters ▸ Enhance ▸ AI Upscale (Real-ESRGAN).

Three procedures, each with the model / scale / denoise / tile arguments (a dialog in interactive mode):
  plug-in-realesrgan-upscale-image      scale the image, the AI-upscaled layer as a new layer
  plug-in-realesrgan-enhance-layer      same size, restored; a selection becomes the new layer's mask
  plug-in-realesrgan-upscale-selection  the selection (or layer) upscaled into a new image
a fourth with preset / size / fit / background / model arguments (realesrgan_gimp.cover_procedure):
  plug-in-realesrgan-cover              a cover of an exact size as a new image (Make Cover from Image…)
and a fifth with file / preset / limit / format arguments (realesrgan_gimp.export_procedure):
  plug-in-realesrgan-export-cover       the visible image saved within a file-size limit (Export Cover…)
and a sixth with engine / address / token-file arguments (realesrgan_gimp.engine_procedure):
  plug-in-realesrgan-engine-settings    where the engine runs, stored in the config file (Engine Settings…)
The upscale and cover procedures also take ``max-pixels``: the largest result allowed (0 = no limit). In
interactive mode a run that passes it, or would take more than about a minute, is asked about first; a script
above it gets an error that names the argument.
The engine runs in its own Python (the installer's config); this script only talks to it through the vendored
``krita_realesrgan`` client next to it. On Linux and macOS that engine is this user's engine service, which the
first call starts and the later ones find warm (a worker for the call where it cannot start, and on Windows); the
config file's ``engine`` chooses another (``worker``, or ``HOST:PORT`` with ``engine_token_file``: README, "Engine
service").
"""
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gi  # noqa: E402

gi.require_version("Gimp", "3.0")
from gi.repository import GLib, GObject, Gimp  # noqa: E402

from krita_realesrgan.common import engine_setting, paths  # noqa: E402
from krita_realesrgan.common.client import EngineClient  # noqa: E402
from krita_realesrgan.common.editor.language import gettext_language  # noqa: E402
from krita_realesrgan.common.editor.messages import notes_text  # noqa: E402
from krita_realesrgan.common.editor.models import model_label  # noqa: E402
from krita_realesrgan.common.errors import Cancelled, EngineError  # noqa: E402
from krita_realesrgan.common.formats import DEFAULT_MAX_PIXELS  # noqa: E402
from krita_realesrgan.common.service_client import PER_CALL_DEFAULT, configured_engine  # noqa: E402

from realesrgan_gimp import (actions, cover_procedure, device_procedure, engine_procedure,  # noqa: E402
                             export_procedure, face_procedure)
from realesrgan_gimp.cover_action import make_cover  # noqa: E402
from realesrgan_gimp.export_action import export_cover  # noqa: E402
from realesrgan_gimp.export_choices import saved_message  # noqa: E402
from realesrgan_gimp.cover_choices import summary  # noqa: E402
from realesrgan_gimp.choices import (DEFAULT_DENOISE, DEFAULT_SCALE, MAX_SCALE, MAX_TILE, MIN_SCALE,  # noqa: E402
                                     Choices, model_names, user_message)
from realesrgan_gimp.engine_run import LIMIT_ARGUMENT, EngineRunner, append_log  # noqa: E402

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
    return cover_procedure.choice_of((name, name, model_label(name)) for name in model_names())


def _error(procedure, status, message):
    return procedure.new_return_values(status, GLib.Error.new_literal(Gimp.PlugIn.error_quark(), message, 0))


def _choices(config):
    return Choices(model=config.get_property("model"), scale=float(config.get_property("scale")),
                   denoise=float(config.get_property("denoise")), tile=int(config.get_property("tile")),
                   faces=bool(config.get_property("restore-faces")),
                   face_strength=float(config.get_property("face-strength")),
                   device=config.get_property("device"), fast=bool(config.get_property("fast"))).checked()


_ui_ready = []


def _gimp_ui():
    """GimpUi, initialised once (the procedure dialog and the question both need it)."""
    gi.require_version("GimpUi", "3.0")
    from gi.repository import GimpUi
    if not _ui_ready:
        GimpUi.init("realesrgan-upscale")
        _ui_ready.append(True)
    return GimpUi


def _question(text):
    """A Yes/No question before a long or very large run (No is the default); True for Yes."""
    _gimp_ui()
    gi.require_version("Gtk", "3.0")
    from gi.repository import Gtk
    dialog = Gtk.MessageDialog(message_type=Gtk.MessageType.QUESTION, buttons=Gtk.ButtonsType.YES_NO,
                               text="Real-ESRGAN")
    dialog.format_secondary_text(text)
    dialog.set_default_response(Gtk.ResponseType.NO)
    answer = dialog.run()
    dialog.destroy()
    return answer == Gtk.ResponseType.YES


def _add_limit_argument(procedure):
    procedure.add_int_argument(LIMIT_ARGUMENT, "Ma_x pixels", "The largest result allowed, in pixels (0 = no "
                               "limit); in interactive mode a larger one is asked about instead", 0, GLib.MAXINT32,
                               DEFAULT_MAX_PIXELS, GObject.ParamFlags.READWRITE)


def _ask(procedure, config, title, fields, arrange=None):
    """The procedure dialog; False when the user cancelled it."""
    GimpUi = _gimp_ui()
    dialog = GimpUi.ProcedureDialog.new(procedure, config, title.replace("_", "").rstrip("…"))
    dialog.fill(fields)
    if arrange is not None:
        arrange(dialog)
    accepted = dialog.run()
    dialog.destroy()
    return accepted


def _cancelled(procedure, run_mode, config, prepare, title, fields, arrange=None):
    """An interactive run: ``prepare()`` the arguments, then the procedure dialog; True when the user cancelled it
    (the caller returns CANCEL). A script's run is never asked."""
    if run_mode != Gimp.RunMode.INTERACTIVE:
        return False
    prepare()
    return not _ask(procedure, config, title, fields, arrange)


def _with_engine(procedure, work, run_mode=None, config=None):
    """``work(runner)`` with a started-on-demand engine; (result, None) or (None, the failure's return values).
    Messages are for people (the traceback of a bug goes to the log), and the worker is always closed (with the
    engine service, the default on Linux and macOS, only this call's connection: the service stays warm for the next
    call; a service that cannot start falls back to a worker for this call). With ``config``, its ``max-pixels``
    is the limit, and a user's run (not a script's) asks before a long or large one."""
    try:
        engine = configured_engine(default=PER_CALL_DEFAULT)
    except EngineError as error:
        return None, _error(procedure, Gimp.PDBStatusType.EXECUTION_ERROR, error.message)
    client = EngineClient(engine=engine, worker_fallback=True)
    ask = _question if run_mode in (Gimp.RunMode.INTERACTIVE, Gimp.RunMode.WITH_LAST_VALS) else None
    limit = int(config.get_property(LIMIT_ARGUMENT)) if config is not None else DEFAULT_MAX_PIXELS
    runner = EngineRunner(client, GimpProgress(), ask, limit, gettext_language())
    try:
        result = work(runner)
        if ask is not None and runner.notes:   # a user's run: say what the engine noted (not a script's)
            Gimp.message(notes_text(runner.notes, gettext_language()))
        return result, None
    except Cancelled:
        return None, procedure.new_return_values(Gimp.PDBStatusType.CANCEL, None)
    except EngineError as error:
        append_log(client.log_path, f"{procedure.get_name()}: {error.kind}: {error.message}\n{error.detail}")
        return None, _error(procedure, Gimp.PDBStatusType.EXECUTION_ERROR, user_message(error, client.log_path))
    except Exception:  # a bug: the message names the log, the traceback goes there
        append_log(client.log_path, f"{procedure.get_name()} failed:\n{traceback.format_exc()}")
        return None, _error(procedure, Gimp.PDBStatusType.EXECUTION_ERROR,
                            f"Real-ESRGAN failed unexpectedly. Details are in {client.log_path}")
    finally:
        client.close()


def _arrange_upscale(dialog):
    face_procedure.arrange(dialog)
    device_procedure.arrange(dialog)


def _success(*values):
    """SUCCESS and ``values`` (GObject.Value each) as a procedure's return values."""
    status = GObject.Value(Gimp.PDBStatusType, Gimp.PDBStatusType.SUCCESS)
    return Gimp.ValueArray.new_from_values([status, *values])


def _show(image, run_mode):
    Gimp.progress_end()
    if run_mode == Gimp.RunMode.INTERACTIVE:
        Gimp.Display.new(image)
    Gimp.displays_flush()


class RealEsrganUpscale(Gimp.PlugIn):
    def do_query_procedures(self):
        return list(OPERATIONS) + [cover_procedure.NAME, export_procedure.NAME, engine_procedure.NAME]

    def do_set_i18n(self, name):
        return False

    def do_create_procedure(self, name):
        # the cover procedures work on the image whatever is selected (one layer, several, none)
        for module, run in ((cover_procedure, self.run_cover), (export_procedure, self.run_export),
                            (engine_procedure, self.run_engine_settings)):
            if name == module.NAME:
                procedure = self._new_procedure(name, run, None, module.LABEL, module.BLURB, module.HELP)
                procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE
                                               | Gimp.ProcedureSensitivityMask.DRAWABLES
                                               | Gimp.ProcedureSensitivityMask.NO_DRAWABLES)
                module.add_arguments(procedure)
                if module is cover_procedure:
                    _add_limit_argument(procedure)
                return procedure
        operation = OPERATIONS[name]
        procedure = self._new_procedure(name, self.run, operation, operation.label, operation.blurb,
                                        operation.blurb + " Models, scale, denoise strength and tile size as in "
                                        "the Krita plugin; the engine is installed by installer.py.")
        procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
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
        face_procedure.add_arguments(procedure)
        device_procedure.add_arguments(procedure)
        _add_limit_argument(procedure)
        if operation.makes_image:
            procedure.add_image_return_value("new-image", "New image", "The upscaled selection", False, flags)
        return procedure

    def _new_procedure(self, name, run, data, label, blurb, help_text):
        procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, run, data)
        procedure.set_image_types("*")
        procedure.set_menu_label(label)
        procedure.add_menu_path(MENU)
        procedure.set_documentation(blurb, help_text, name)
        procedure.set_attribution("krita-realesrgan", "krita-realesrgan", "2025")
        return procedure

    def run(self, procedure, run_mode, image, drawables, config, operation):
        fields = ["model"] + (["scale"] if operation.uses_scale else []) + ["denoise", "tile"] + \
            face_procedure.FIELDS + device_procedure.FIELDS
        if _cancelled(procedure, run_mode, config, lambda: device_procedure.mark_offered_devices(procedure),
                      operation.label, fields, _arrange_upscale):
            return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, None)
        result, failed = _with_engine(procedure, lambda runner: operation.action(
            image, actions.the_layer(image, drawables), _choices(config), runner), run_mode, config)
        if failed is not None:
            return failed
        if operation.makes_image:
            _show(result, run_mode)
            return _success(GObject.Value(Gimp.Image, result))
        Gimp.progress_end()
        Gimp.displays_flush()
        return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, None)

    def run_cover(self, procedure, run_mode, image, drawables, config, data):
        if _cancelled(procedure, run_mode, config, lambda: cover_procedure.mark_installed_models(procedure),
                      cover_procedure.LABEL, cover_procedure.DIALOG_FIELDS, cover_procedure.arrange):
            return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, None)
        made, failed = _with_engine(procedure, lambda runner: make_cover(
            image, drawables, cover_procedure.choices_from(config), runner), run_mode, config)
        if failed is not None:
            return failed
        new_image, outcome = made
        _show(new_image, run_mode)
        if run_mode == Gimp.RunMode.INTERACTIVE:   # not modal: GIMP shows it in its status/message area
            Gimp.message(summary(outcome.canvas.extent, outcome.preset, outcome.reasons, gettext_language()))
        reasons = "\n".join(str(reason) for reason in outcome.reasons)   # English for scripts
        return _success(GObject.Value(Gimp.Image, new_image), GObject.Value(str, reasons))

    def run_engine_settings(self, procedure, run_mode, image, drawables, config, data):
        if _cancelled(procedure, run_mode, config, lambda: engine_procedure.show_stored(config),
                      engine_procedure.LABEL, engine_procedure.DIALOG_FIELDS, engine_procedure.arrange):
            return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, None)
        try:
            engine_setting.write(engine_procedure.setting_from(config))
        except EngineError as error:
            return _error(procedure, Gimp.PDBStatusType.EXECUTION_ERROR, error.message)
        except OSError as error:
            return _error(procedure, Gimp.PDBStatusType.EXECUTION_ERROR,
                          f"Could not save {paths.config_file()}: {error.strerror or error}")
        return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, None)

    def run_export(self, procedure, run_mode, image, drawables, config, data):
        if _cancelled(procedure, run_mode, config, lambda: export_procedure.prepare_dialog(config, image),
                      export_procedure.LABEL, export_procedure.DIALOG_FIELDS):
            return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, None)
        done, failed = _with_engine(procedure, lambda runner: export_cover(
            image, export_procedure.choices_from(config), runner))
        if failed is not None:
            return failed
        request, outcome = done
        Gimp.progress_end()
        if run_mode == Gimp.RunMode.INTERACTIVE:
            Gimp.message(saved_message(outcome.path, outcome.format, outcome.quality, outcome.bits, outcome.bytes,
                                       request.max_bytes, gettext_language()))
        return _success(export_procedure.file_value(outcome.path),
                        GObject.Value(GObject.TYPE_INT, outcome.quality or 0),
                        GObject.Value(GObject.TYPE_INT, outcome.bytes), GObject.Value(str, outcome.description))


Gimp.main(RealEsrganUpscale.__gtype__, sys.argv)
