"""The procedures' arguments (model, scale, denoise, tile, faces, device, fast) and what they mean for the engine.
Pure Python.

The same choices as the Krita plugin's dialog; defaults come from the catalog and the engine's formats module.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

from krita_realesrgan.common import catalog, device_offers
from krita_realesrgan.common.editor.models import display_name, is_anime, uses_denoise
from krita_realesrgan.common.errors import EngineError, Kind
from krita_realesrgan.common.formats import AUTO_TILE, MIN_TILE, UpscaleOptions
from krita_realesrgan.common.geometry import Extent

MIN_SCALE, MAX_SCALE, DEFAULT_SCALE = 1.0, 16.0, 2.0
DEFAULT_DENOISE = 0.5
DEFAULT_FACE_STRENGTH = 1.0
MAX_TILE = 4096


def model_names() -> Tuple[str, ...]:
    """The models a user can pick (catalog order, default first)."""
    names = [info.name for info in catalog.listed()]
    names.sort(key=lambda name: name != catalog.DEFAULT_MODEL)
    return tuple(names)


def face_models() -> Tuple[str, ...]:
    """The offered models whose pictures may have their faces restored: all but the anime ones."""
    return tuple(name for name in model_names() if not is_anime(name))


def check_faces(model: str, faces: bool, strength: float) -> None:
    """EngineError(BAD_INPUT) for a face strength outside 0..1, or faces asked with an anime model."""
    if not 0.0 <= strength <= 1.0:
        raise EngineError(Kind.BAD_INPUT, f"Face strength {strength:g} must be between 0 and 1.")
    if faces and is_anime(model):
        raise EngineError(Kind.BAD_INPUT, f"Restoring faces is for photos of real people; {display_name(model)} is "
                          "an anime model. Choose a photo model or leave restore-faces off.")


def device_entries(language: str) -> Tuple[Tuple[str, str, str], ...]:
    """(nick, label, help) of every device-list entry, labels in ``language``; all are valid for scripts (the
    engine says when this computer lacks one), the dialog greys those the engine's last report does not offer."""
    return tuple((key, device_offers.label(key, language), device_offers.label(key)) for key in device_offers.KEYS)


def fast_devices(report: device_offers.DeviceReport) -> Tuple[str, ...]:
    """The entries on which the dialog offers fast mode."""
    return tuple(offer.key for offer in report.offers if not offer.fast_refused)


def fast_blurb(report: device_offers.DeviceReport, language: str) -> str:
    """The fast argument's help: what it does, and why this computer's CPU does not offer it (when it does not)."""
    refused = next((why for why in (report.fast_refused(key, language) for key in ("cpu-openvino", "cpu-torch"))
                    if why), "")
    return " ".join(part for part in (device_offers.fast_help(language), refused) if part)


def check_model(model: str, offered: Tuple[str, ...]) -> None:
    """EngineError(UNKNOWN_MODEL) unless ``model`` is in ``offered``, in the catalog, or a weights file."""
    if model not in offered and catalog.get(model) is None and not Path(model).is_file():
        raise EngineError(Kind.UNKNOWN_MODEL, f"Unknown model {model!r}; choose one of {', '.join(offered)}.")


@dataclass(frozen=True)
class Choices:
    model: str = catalog.DEFAULT_MODEL
    scale: float = DEFAULT_SCALE
    denoise: float = DEFAULT_DENOISE   # only for models with a denoise twin (realesr-general-x4v3)
    tile: int = AUTO_TILE              # 0 = automatic, else at least MIN_TILE
    faces: bool = False                # restore the faces (photos only: refused with an anime model)
    face_strength: float = DEFAULT_FACE_STRENGTH   # 0..1: how much of the restored face replaces the plain one
    device: str = device_offers.AUTO   # backend and device together: a device_offers key ("cpu-openvino"...)
    fast: bool = False                 # the device's fast precision instead of exact (refused where it is slower)

    def checked(self) -> "Choices":
        """These choices, or EngineError(BAD_INPUT) naming the bad one (scripts can pass anything)."""
        check_model(self.model, model_names())
        if not MIN_SCALE <= self.scale <= MAX_SCALE:
            raise EngineError(Kind.BAD_INPUT, f"Scale {self.scale:g} is out of range ({MIN_SCALE:g} to {MAX_SCALE:g}).")
        if not 0.0 <= self.denoise <= 1.0:
            raise EngineError(Kind.BAD_INPUT, f"Denoise strength {self.denoise:g} must be between 0 and 1.")
        if self.tile != AUTO_TILE and not MIN_TILE <= self.tile <= MAX_TILE:
            raise EngineError(Kind.BAD_INPUT, f"Tile size {self.tile} must be 0 (automatic) or between "
                              f"{MIN_TILE} and {MAX_TILE}.")
        check_faces(self.model, self.faces, self.face_strength)
        if self.device not in device_offers.KEYS:
            raise EngineError(Kind.BAD_INPUT, f"Unknown device {self.device!r}; choose one of "
                              f"{', '.join(device_offers.KEYS)}.")
        return self

    def options(self, target: Extent) -> UpscaleOptions:
        """Engine options producing exactly ``target`` pixels."""
        return UpscaleOptions(model=self.model, target=target, tile=self.tile,
                              denoise=self.denoise if uses_denoise(self.model) else None,
                              face_enhance=self.faces, face_strength=self.face_strength,
                              **device_offers.option_fields(self.device, self.fast))


def user_message(error: EngineError, log_path: Optional[Path]) -> str:
    """What the procedure error says: the engine's message, and where the details went when there are more."""
    if error.detail and error.detail != error.message and log_path is not None:
        return f"{error.message}\n(Details: {log_path})"
    return error.message
