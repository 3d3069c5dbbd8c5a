"""The cover procedure's arguments (preset or custom size, fit, background, model) and what they mean for the
engine. Pure Python.

Preset names come from the vendored ``cover_presets`` (English or Simplified Chinese, after the user's locale,
which GIMP hands to its plug-ins through the environment: ``editor.language.gettext_language``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

from krita_realesrgan.common import cover_presets
from krita_realesrgan.common.cover_reasons import Reason
from krita_realesrgan.common.editor.cover_defaults import AUTO_MODEL, BLUR, DEFAULT_COLOUR, DEFAULT_PRESET, FITS
from krita_realesrgan.common.editor.models import model_installed
from krita_realesrgan.common.translate import translate
from krita_realesrgan.common.errors import EngineError, Kind
from krita_realesrgan.common.formats import UpscaleOptions
from krita_realesrgan.common.geometry import Extent

from .choices import DEFAULT_FACE_STRENGTH, check_faces, check_model, model_names

CUSTOM = cover_presets.CUSTOM_ID
COLOUR = "color"                     # the background argument's other value (BLUR: a blurred copy)
AUTO_LABEL = "auto — chosen by content among the installed models"


def preset_entries(language: str) -> Tuple[Tuple[str, str], ...]:
    """(id, label) for every preset, then the custom size; labels in ``language``."""
    entries = tuple((target.id, f"{target.name(language)} — {target.size}") for target in cover_presets.presets())
    return entries + ((CUSTOM, translate("Custom size (width × height below)", language)),)


def model_choices() -> Tuple[str, ...]:
    return (AUTO_MODEL,) + model_names()


def is_installed(name: str, weights: Optional[Path]) -> bool:
    """Whether the weights folder has every file the catalog model ``name`` needs (``auto`` always is)."""
    return name == AUTO_MODEL or model_installed(weights, name)


Colour = Tuple[float, float, float]   # linear-light RGB 0..1, as Gegl.Color.get_rgba gives it


def _srgb_encode(value: float) -> float:
    return value * 12.92 if value <= 0.0031308 else 1.055 * value ** (1 / 2.4) - 0.055


def _srgb_decode(value: float) -> float:
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def linear_from_hex(text: str) -> Colour:
    """``#rrggbb`` (sRGB, as colours are written) in linear light."""
    digits = text.strip().lstrip("#")
    return tuple(_srgb_decode(int(digits[i:i + 2], 16) / 255) for i in (0, 2, 4))


def colour_hex(colour: Colour, linear_light: bool) -> str:
    """``#rrggbb`` of a linear-light colour in a picture's own tone curve: the engine writes these values as
    they are, so a linear image gets the linear values and any other the sRGB-encoded ones."""
    def byte(value: float) -> int:
        value = min(1.0, max(0.0, value))
        return round((value if linear_light else _srgb_encode(value)) * 255)
    return "#" + "".join(f"{byte(v):02x}" for v in colour)


@dataclass(frozen=True)
class CoverChoices:
    preset: str = DEFAULT_PRESET
    width: int = 0             # custom size only
    height: int = 0
    fit: str = FITS[0]
    background: str = BLUR
    colour: Colour = linear_from_hex(DEFAULT_COLOUR)   # when background is COLOUR
    model: str = AUTO_MODEL
    faces: bool = False        # restore faces (an anime model chosen by content skips them, with a reason)
    face_strength: float = DEFAULT_FACE_STRENGTH

    def target(self) -> Union[str, Extent]:
        """A preset id or the custom size; EngineError(BAD_INPUT) for an unknown preset or a bad size."""
        if self.preset != CUSTOM:
            return cover_presets.preset(self.preset).id
        size = Extent(self.width, self.height)
        if size.is_empty or max(size) > cover_presets.MAX_EDGE:
            raise EngineError(Kind.BAD_INPUT, f"The custom cover size {size} is not usable: give a width and a "
                              f"height from 1 to {cover_presets.MAX_EDGE} pixels, or pick a preset.")
        return size

    def checked(self) -> "CoverChoices":
        self.target()
        if self.fit not in FITS:
            raise EngineError(Kind.BAD_INPUT, f"Fit must be one of {', '.join(FITS)}, not {self.fit!r}.")
        if self.background not in (BLUR, COLOUR):
            raise EngineError(Kind.BAD_INPUT, f"Background must be {BLUR} or {COLOUR}, not {self.background!r}.")
        check_model(self.model, model_choices())
        check_faces(self.model, self.faces, self.face_strength)
        return self

    def background_spec(self, linear_light: bool) -> str:
        """What the engine takes: ``blur``, or ``#rrggbb`` in the picture's tone curve (``linear_light``)."""
        return BLUR if self.background == BLUR else colour_hex(self.colour, linear_light)

    def options(self) -> UpscaleOptions:
        return UpscaleOptions(model=self.model, face_enhance=self.faces, face_strength=self.face_strength)



def summary(size: Extent, preset: str, reasons: Sequence[Reason], language: str = "") -> str:
    """The message shown after a cover was made: its size and the engine's reasons (model, crop), in
    ``language`` (see ``editor.language.gettext_language``)."""
    title = translate("Cover {size}", language).format(size=size)
    title += f" ({preset})" if preset and preset != CUSTOM else ""
    return title + ":\n" + "\n".join(f"• {reason.text(language)}" for reason in reasons)
