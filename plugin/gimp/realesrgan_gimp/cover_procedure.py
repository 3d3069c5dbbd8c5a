"""The "Make cover from image…" procedure's arguments and dialog, on GIMP's side (``choice_of`` also builds the
upscale procedures' model list).

Registered by the plug-in script next to the three upscale procedures; ``cover_action`` does the work.
"""
from __future__ import annotations

import os

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import GObject, Gegl, Gimp  # noqa: E402

from krita_realesrgan.common import cover_presets, paths  # noqa: E402
from krita_realesrgan.common.editor.cover_defaults import (AUTO_MODEL, BLUR, DEFAULT_COLOUR,  # noqa: E402
                                                           DEFAULT_CUSTOM_SIZE, DEFAULT_PRESET, FIT_COVER, FIT_PAD,
                                                           FITS)
from krita_realesrgan.common.editor.language import gettext_language  # noqa: E402
from krita_realesrgan.common.editor.models import model_label  # noqa: E402

from . import face_procedure  # noqa: E402
from .choices import face_models  # noqa: E402
from .cover_choices import (AUTO_LABEL, COLOUR, CoverChoices, is_installed, model_choices,  # noqa: E402
                            preset_entries)

NAME = "plug-in-realesrgan-cover"
LABEL = "Make _Cover from Image…"
BLURB = ("A cover of an exact size (a platform preset or your own) from the selected layer or the visible image, "
         "upscaled by Real-ESRGAN, as a new image.")
HELP = (BLURB + " The whole upscaled picture is a layer you can still move; the canvas is the crop, placed "
        "around faces or the most detailed part. Pad fit lays the whole picture on a blurred or solid "
        "Background layer. Model 'auto' picks one by content among the installed models.")
FIT_LABELS = {FIT_COVER: "Crop to fill the cover", FIT_PAD: "Fit inside (nothing cropped), on a background"}
BACKGROUND_LABELS = {BLUR: "Blurred copy of the picture", COLOUR: "Solid colour"}
DIALOG_FIELDS = ["preset", "width", "height", "fit", "background", "color", "model"] + face_procedure.FIELDS


def choice_of(entries):
    """A Gimp.Choice from (nick, label, help) triples, in order."""
    choice = Gimp.Choice.new()
    for index, (nick, label, help_text) in enumerate(entries):
        choice.add(nick, index, label, help_text)
    return choice


def _labelled(pairs):
    return [(nick, label, label) for nick, label in pairs]


def _model_entries():
    return [(AUTO_MODEL, AUTO_MODEL, AUTO_LABEL)] + [(name, name, model_label(name)) for name in model_choices()[1:]]


def add_arguments(procedure) -> None:
    """The cover arguments and return values (preset labels in the user's language)."""
    Gegl.init(None)   # the colour argument's default is a GeglColor: Babl must be ready (also at query time)
    flags = GObject.ParamFlags.READWRITE
    procedure.add_choice_argument("preset", "_Preset", "Cover size: a platform preset, or custom",
                                  choice_of(_labelled(preset_entries(gettext_language()))), DEFAULT_PRESET, flags)
    procedure.add_int_argument("width", "Custom _width", "Cover width in pixels (custom size only)",
                               0, cover_presets.MAX_EDGE, DEFAULT_CUSTOM_SIZE.width, flags)
    procedure.add_int_argument("height", "Custom _height", "Cover height in pixels (custom size only)",
                               0, cover_presets.MAX_EDGE, DEFAULT_CUSTOM_SIZE.height, flags)
    procedure.add_choice_argument("fit", "_Fit", "Crop to fill, or fit inside on a background",
                                  choice_of(_labelled(FIT_LABELS.items())), FITS[0], flags)
    procedure.add_choice_argument("background", "_Background", "Pad fit: what fills the cover around the picture",
                                  choice_of(_labelled(BACKGROUND_LABELS.items())), BLUR, flags)
    procedure.add_color_from_string_argument("color", "Background _colour", "Pad fit with a solid colour: the "
                                             "colour", False, DEFAULT_COLOUR, flags)
    procedure.add_choice_argument("model", "_Model", "Real-ESRGAN model, or auto (chosen by content)",
                                  choice_of(_model_entries()), AUTO_MODEL, flags)
    face_procedure.add_arguments(procedure)
    procedure.add_image_return_value("new-image", "New image", "The cover", False, flags)
    procedure.add_string_return_value("reasons", "Reasons", "Why this model and this crop, one a line", "", flags)


def choices_from(config) -> CoverChoices:
    red, green, blue, _ = config.get_property("color").get_rgba()   # linear light
    return CoverChoices(preset=config.get_property("preset"), width=int(config.get_property("width")),
                        height=int(config.get_property("height")), fit=config.get_property("fit"),
                        background=config.get_property("background"), colour=(red, green, blue),
                        model=config.get_property("model"), faces=bool(config.get_property("restore-faces")),
                        face_strength=float(config.get_property("face-strength"))).checked()


def _one_of(values):
    return Gimp.ValueArray.new_from_values([GObject.Value(GObject.TYPE_STRING, value) for value in values])


def mark_installed_models(procedure) -> None:
    """Grey out the models whose weights are missing (before the dialog builds its model list)."""
    weights = paths.read_config(os.environ).weights
    models = Gimp.param_spec_choice_get_choice(procedure.find_argument("model"))
    for name in model_choices():
        models.set_sensitive(name, is_installed(name, weights))


def arrange(dialog) -> None:
    """Grey out what does not apply (after the dialog is filled): the size unless custom, background and colour
    unless pad fit, the colour unless a solid colour, the faces with an anime model or without the face model."""
    dialog.set_sensitive_if_in("width", None, "preset", _one_of([cover_presets.CUSTOM_ID]), True)
    dialog.set_sensitive_if_in("height", None, "preset", _one_of([cover_presets.CUSTOM_ID]), True)
    dialog.set_sensitive_if_in("background", None, "fit", _one_of([FIT_PAD]), True)
    dialog.set_sensitive_if_in("color", None, "background", _one_of([COLOUR]), True)
    face_procedure.arrange(dialog, (AUTO_MODEL,) + face_models())   # auto: an anime pick skips the faces
