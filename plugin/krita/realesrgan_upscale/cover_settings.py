"""The "Make cover from image" choices and how they are remembered in Krita's settings. Pure Python.

The tile size, device and fast mode are not asked again: they come from the upscale dialog's remembered choices.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Union

from .krita_realesrgan.common import cover_presets
from .krita_realesrgan.common.editor.cover_defaults import (AUTO_MODEL, BLUR, DEFAULT_COLOUR, DEFAULT_CUSTOM_SIZE,
                                                            DEFAULT_PRESET, FIT_COVER, FITS)
from .krita_realesrgan.common.editor.models import uses_denoise
from .krita_realesrgan.common.formats import UpscaleOptions
from .krita_realesrgan.common.geometry import Extent
from .settings import Choices, Reader, Writer, load_fields, parse_bool, save_fields

GROUP = "realesrgan_cover"
SOLID = "solid"                # the background setting's other value (the engine gets the colour itself)
BACKGROUNDS = (BLUR, SOLID)
_COLOUR = re.compile(r"#[0-9a-f]{6}")


def clamp_edge(value: int) -> int:
    return min(cover_presets.MAX_EDGE, max(1, int(value)))


@dataclass(frozen=True)
class CoverChoices:
    preset: str = DEFAULT_PRESET   # a preset id, or cover_presets.CUSTOM_ID for width x height
    width: int = DEFAULT_CUSTOM_SIZE.width    # the custom size
    height: int = DEFAULT_CUSTOM_SIZE.height
    fit: str = FIT_COVER           # cover: crop to fill; pad: fit inside on a background
    background: str = BLUR         # pad: a blurred copy of the picture, or the solid colour
    colour: str = DEFAULT_COLOUR   # the solid background colour
    model: str = AUTO_MODEL
    use_merged: bool = False       # the merged visible image instead of the active layer
    faces: bool = False            # restore faces (photos only: with an anime model the cover says it skipped them)
    face_strength: float = 1.0     # 0..1

    def normalised(self) -> "CoverChoices":
        known = {target.id for target in cover_presets.presets()} | {cover_presets.CUSTOM_ID}
        colour = self.colour.strip().lower()
        return replace(self, preset=self.preset if self.preset in known else DEFAULT_PRESET,
                       width=clamp_edge(self.width), height=clamp_edge(self.height),
                       fit=self.fit if self.fit in FITS else FIT_COVER,
                       background=self.background if self.background in BACKGROUNDS else BLUR,
                       colour=colour if _COLOUR.fullmatch(colour) else CoverChoices.colour,
                       model=self.model or AUTO_MODEL, face_strength=min(1.0, max(0.0, float(self.face_strength))))

    def target(self) -> Union[str, Extent]:
        """What ``EngineClient.submit_cover`` takes: the preset id, or the custom size."""
        if self.preset == cover_presets.CUSTOM_ID:
            return Extent(self.width, self.height)
        return self.preset

    def target_info(self) -> cover_presets.CoverTarget:
        target = self.target()
        return cover_presets.custom(target) if isinstance(target, Extent) else cover_presets.preset(target)

    def background_value(self) -> str:
        """The engine's ``background``: "blur" or "#rrggbb"."""
        return BLUR if self.background == BLUR else self.colour

    def options(self, upscale: Choices) -> UpscaleOptions:
        """Engine options: this model; tile, device and fast as remembered for upscaling."""
        return UpscaleOptions(model=self.model, tile=upscale.tile, **upscale.placement(),
                              denoise=upscale.denoise if uses_denoise(self.model) else None,
                              face_enhance=self.faces, face_strength=self.face_strength)


_PARSERS = {"preset": str, "width": int, "height": int, "fit": str, "background": str, "colour": str,
            "model": str, "use_merged": parse_bool, "faces": parse_bool, "face_strength": float}


def load(read: Reader) -> CoverChoices:
    return load_fields(read, GROUP, CoverChoices(), _PARSERS)


def save(choices: CoverChoices, write: Writer) -> None:
    save_fields(choices, write, GROUP)
