"""The cover choices' values and defaults both plugins start from (the engine's names for fit and background).
Pure Python."""
from __future__ import annotations

from ..geometry import Extent

AUTO_MODEL = "auto"                 # the engine picks the model by the picture's content among the installed ones
FIT_COVER, FIT_PAD = "cover", "pad"   # crop to fill / fit inside on a background
FITS = (FIT_COVER, FIT_PAD)
BLUR = "blur"                       # pad fit on a blurred copy of the picture (else a solid colour)
DEFAULT_PRESET = "video-16x9"
DEFAULT_COLOUR = "#202020"          # the solid background's colour
DEFAULT_CUSTOM_SIZE = Extent(1280, 720)
