"""The cover choices' values and defaults both plugins start from (the engine's names for fit and background).
Pure Python."""
from __future__ import annotations

from ..cover_presets import AUTO_MODEL, BLUR, FIT_COVER, FIT_PAD, FITS
from ..geometry import Extent

__all__ = ["AUTO_MODEL", "BLUR", "FIT_COVER", "FIT_PAD", "FITS",   # the engine's words (cover_presets)
           "DEFAULT_PRESET", "DEFAULT_COLOUR", "DEFAULT_CUSTOM_SIZE"]
DEFAULT_PRESET = "video-16x9"
DEFAULT_COLOUR = "#202020"          # the solid background's colour
DEFAULT_CUSTOM_SIZE = Extent(1280, 720)
