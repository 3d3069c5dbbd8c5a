"""The "Engine Settings…" procedure: where the engine runs for GIMP, on this computer or on another computer (the
``HOST:PORT`` of its ``krita-realesrgan serve --listen`` and the file holding its token).

Why a procedure that writes the config file, and not an argument of the upscale procedures: the setting is one
fact for the whole computer (``engine_setting``: the config file's ``engine`` and ``engine_token_file``, which
Krita's Engine rows show too), while an argument would make every script carry an address and a token path and
would be remembered separately in each procedure's last values. GIMP has no settings page for plug-ins, so this
procedure is that page: its dialog starts at what the file holds, and OK stores it (a setting that cannot be used,
e.g. an address without a port or an unreadable token file, fails in one line and the file stays as it was).
"""
from __future__ import annotations

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gio, GObject, Gimp  # noqa: E402

from krita_realesrgan.common import engine_setting  # noqa: E402
from krita_realesrgan.common.editor.choice_labels import PLACE_LABELS  # noqa: E402
from krita_realesrgan.common.editor.language import gettext_language  # noqa: E402
from krita_realesrgan.common.translate import translate  # noqa: E402
from krita_realesrgan.common.engine_setting import OTHER_COMPUTER, THIS_COMPUTER, EngineSetting  # noqa: E402

from .cover_procedure import choice_of  # noqa: E402

NAME = "plug-in-realesrgan-engine-settings"
LABEL = "Engine Se_ttings…"
BLURB = ("Where the Real-ESRGAN engine runs: on this computer, or on another computer running 'krita-realesrgan "
         "serve --listen' (its address and token file). Stored in the config file, which Krita uses too.")
HELP = (BLURB + " On this computer, GIMP uses this user's engine service (started by the first upscale, then kept "
        "warm) on Linux and macOS, and an engine of its own for each call on Windows.")
DIALOG_FIELDS = ["engine", "address", "token-file"]


def add_arguments(procedure) -> None:
    flags = GObject.ParamFlags.READWRITE
    language = gettext_language()
    labels = {place: translate(label, language) for place, label in PLACE_LABELS.items()}
    procedure.add_choice_argument("engine", "_Engine", "this: this computer; other: another computer's service "
                                  "(address and token file)",
                                  choice_of([(place, labels[place], labels[place]) for place in engine_setting.PLACES]),
                                  THIS_COMPUTER, flags)
    procedure.add_string_argument("address", "_Address", "HOST:PORT of the other computer's service, e.g. "
                                  "192.168.1.20:7860", "", flags)
    procedure.add_file_argument("token-file", "_Token file", "The file holding the token the other computer's "
                                "service was started with", Gimp.FileChooserAction.OPEN, True, None, flags)


def show_stored(config) -> None:
    """Before the dialog: what the config file holds."""
    stored = engine_setting.read()
    config.set_property("engine", stored.place)
    config.set_property("address", stored.address)
    config.set_property("token-file", Gio.File.new_for_path(stored.token_file) if stored.token_file else None)


def arrange(dialog) -> None:
    """Address and token file only for another computer."""
    other = Gimp.ValueArray.new_from_values([GObject.Value(GObject.TYPE_STRING, OTHER_COMPUTER)])
    for field in ("address", "token-file"):
        dialog.set_sensitive_if_in(field, None, "engine", other, True)


def setting_from(config) -> EngineSetting:
    chosen = config.get_property("token-file")
    path = (chosen.get_path() or chosen.get_uri()) if chosen is not None else ""
    return EngineSetting(config.get_property("engine"), config.get_property("address") or "", path or "")
