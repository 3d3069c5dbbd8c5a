"""The upscale procedures' device and fast arguments and how their dialog greys them.

device: backend and device together ("CPU — OpenVINO", "NVIDIA GPU — CUDA"...; ``device_offers``), labels in the
user's language. GIMP starts the engine after the dialog, so the dialog follows the report the engine's last
worker kept in its cache: entries it did not offer are greyed (an Intel GPU, an Apple GPU where there is none),
and fast is greyed on the entries where the engine would refuse it (the reason is in its tooltip). Scripts may
pass any entry: the engine answers a missing device or a refused fast mode with a one-line error.
"""
from __future__ import annotations

import os

from gi.repository import GObject, Gimp

from krita_realesrgan.common import device_offers, paths
from krita_realesrgan.common.editor.language import gettext_language

from .choices import device_entries, fast_blurb, fast_devices
from .cover_procedure import choice_of

FIELDS = ["device", "fast"]


def _report() -> device_offers.DeviceReport:
    return device_offers.load(paths.cache_dir(os.environ))


def add_arguments(procedure) -> None:
    flags = GObject.ParamFlags.READWRITE
    language = gettext_language()
    procedure.add_choice_argument("device", "De_vice", "What runs the network: backend and device together",
                                  choice_of(device_entries(language)), device_offers.AUTO, flags)
    procedure.add_boolean_argument("fast", device_offers.fast_label(language),
                                   fast_blurb(_report(), language), False, flags)


def mark_offered_devices(procedure) -> None:
    """Grey the entries this computer does not offer (before the dialog builds its list)."""
    report = _report()
    devices = Gimp.param_spec_choice_get_choice(procedure.find_argument("device"))
    for key in device_offers.KEYS:
        devices.set_sensitive(key, report.offer(key) is not None)


def arrange(dialog) -> None:
    """Grey fast where the chosen device would refuse it (after the dialog is filled)."""
    allowed = fast_devices(_report())
    dialog.set_sensitive_if_in("fast", None, "device",
                               Gimp.ValueArray.new_from_values([GObject.Value(GObject.TYPE_STRING, key)
                                                                for key in allowed]), True)
