"""The upscale procedures' face arguments (restore-faces, face-strength) and how their dialog greys them.

restore-faces is greyed when no face restorer is installed (its tooltip says the install command) and for the
anime models; face-strength is greyed while restore-faces is off. Scripts get the same rules from
``Choices.checked`` (an anime model) and the engine (missing weights, with the install command).
"""
from __future__ import annotations

import os
from typing import Sequence

from gi.repository import GObject, Gimp

from krita_realesrgan.common import catalog, paths
from krita_realesrgan.common.editor.models import faces_installed

from .choices import DEFAULT_FACE_STRENGTH, face_models

FIELDS = ["restore-faces", "face-strength"]


def add_arguments(procedure) -> None:
    flags = GObject.ParamFlags.READWRITE
    procedure.add_boolean_argument(
        "restore-faces", "Restore _faces",
        "Restore the faces of a photo (GFPGAN) while the rest is upscaled; not for anime models. Needs the face "
        f"model: python3 installer.py --models {catalog.DEFAULT_FACE_MODEL}", False, flags)
    procedure.add_double_argument("face-strength", "Face stren_gth",
                                  "0..1: how much of the restored face replaces the plain upscale", 0.0, 1.0,
                                  DEFAULT_FACE_STRENGTH, flags)


def _values(gtype, values):
    return Gimp.ValueArray.new_from_values([GObject.Value(gtype, value) for value in values])


def arrange(dialog, models: Sequence[str] = ()) -> None:
    """Grey the face arguments that do not apply (after the dialog is filled); ``models``: those that allow faces
    (default: the photo models)."""
    allowed = list(models) or list(face_models())
    if faces_installed(paths.read_config(os.environ).weights):
        dialog.set_sensitive_if_in("restore-faces", None, "model", _values(GObject.TYPE_STRING, allowed), True)
    else:
        dialog.set_sensitive("restore-faces", False, None, None, False)
    dialog.set_sensitive_if_in("face-strength", None, "restore-faces", _values(GObject.TYPE_BOOLEAN, [True]), True)
