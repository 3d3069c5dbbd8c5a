"""The "Export cover…" procedure's arguments, return values and dialog, on GIMP's side (``export_choices`` has
their meaning, ``export_action`` does the work).

In the dialog the preset starts at the one of the image's size and the file-size limit follows the preset (a
limit the user typed stays until the preset is changed again); scripts get the same through the ``auto`` values.
"""
from __future__ import annotations

from pathlib import Path

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gio, GObject, Gimp  # noqa: E402

from krita_realesrgan.common.editor.language import gettext_language  # noqa: E402

from .actions import canvas_extent  # noqa: E402
from .cover_procedure import choice_of  # noqa: E402
from .export_choices import (AUTO, MAX_KB, PRESET_LIMIT, ExportChoices, format_choices,  # noqa: E402
                             preset_choices, preset_for_size, preset_limit_kb)

NAME = "plug-in-realesrgan-export-cover"
LABEL = "E_xport Cover…"
BLURB = ("Save the visible image as a cover file (JPEG, PNG or WebP) within a platform's file-size limit; "
         "the quality is lowered step by step until the file fits.")
HELP = (BLURB + " The preset (by default the one of the image's size) gives the limit and the default format; "
        "limit 0 means none. JPEG lays transparency on white. The image itself is not changed.")
DIALOG_FIELDS = ["file", "preset", "max-kb", "format"]
GLIB_MAXINT = 2 ** 31 - 1


def _labelled(pairs):
    return [(nick, label, label) for nick, label in pairs]


def add_arguments(procedure) -> None:
    """The export arguments and return values (choice labels in the user's language)."""
    language = gettext_language()
    flags = GObject.ParamFlags.READWRITE
    procedure.add_file_argument("file", "_File", "Where to save the cover (.jpg, .png or .webp)",
                                Gimp.FileChooserAction.SAVE, False, None, flags)
    procedure.add_choice_argument("preset", "_Preset", "The platform preset whose limit and format apply "
                                  "(auto: the one of the image's size, else custom)",
                                  choice_of(_labelled(preset_choices(language))), AUTO, flags)
    procedure.add_int_argument("max-kb", "File-size _limit (KB)", "The largest file allowed, in KB of 1000 bytes; "
                               f"0 = no limit, {PRESET_LIMIT} = the preset's", PRESET_LIMIT, MAX_KB, PRESET_LIMIT,
                               flags)
    procedure.add_choice_argument("format", "F_ormat", "jpg, png or webp (auto: from the file name, else the "
                                  "preset's first format)", choice_of(_labelled(format_choices(language))), AUTO,
                                  flags)
    procedure.add_file_return_value("saved-file", "Saved file", "The file written", flags)
    procedure.add_int_return_value("quality", "Quality", "The JPEG/WebP quality chosen (0 for PNG)", 0, 100, 0,
                                   flags)
    procedure.add_int_return_value("bytes", "Bytes", "The file's size in bytes", 0, GLIB_MAXINT, 0, flags)
    procedure.add_string_return_value("description", "Description", "How it was encoded, e.g. "
                                      "\"JPEG quality 85, 1,912,334 bytes\"", "", flags)


def choices_from(config) -> ExportChoices:
    chosen = config.get_property("file")
    path = chosen.get_path() if chosen is not None else None
    if chosen is not None and path is None:
        path = chosen.get_uri()   # not a local file: the engine says it cannot write there
    return ExportChoices(Path(path) if path else None, preset=config.get_property("preset"),
                         max_kb=int(config.get_property("max-kb")), format=config.get_property("format"))


def prepare_dialog(config, image) -> None:
    """Before the dialog: the preset of the image's size and its limit; later preset changes bring their limit."""
    def follow_preset(*_):
        preset = config.get_property("preset")
        if preset != AUTO:
            config.set_property("max-kb", preset_limit_kb(preset))

    config.set_property("preset", preset_for_size(canvas_extent(image)))
    follow_preset()
    config.connect("notify::preset", follow_preset)


def file_value(path: Path) -> GObject.Value:
    return GObject.Value(Gio.File, Gio.File.new_for_path(str(path)))
