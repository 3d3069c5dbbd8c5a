"""The names of the layers and documents the plugins make, e.g. "Real-ESRGAN ×2 (realesr-animevideov3) —
Background". Pure Python.

``language`` is the reader's (see ``translate``): Krita passes its UI language, GIMP names its layers in English
(``""``).
"""
from __future__ import annotations

from ..geometry import Extent
from .models import display_name
from ..translate import translate


def background_layer_name(language: str = "") -> str:
    """A pad-fit cover's background layer."""
    return translate("Background", language)


def scaled_layer_name(scale: str, model: str, layer: str, language: str = "") -> str:
    """``layer`` scaled by ``scale`` (as written) with ``model`` (as shown)."""
    return translate("Real-ESRGAN ×{scale} ({model}) — {layer}", language).format(scale=scale, model=model,
                                                                                 layer=layer)


def upscaled_layer_name(scale: float, model: str, layer: str, language: str = "") -> str:
    """E.g. "Real-ESRGAN ×2.5 (realesr-animevideov3) — Ink" (a weights path shows as its file stem)."""
    return scaled_layer_name(f"{scale:g}", display_name(model), layer, language)


def enhanced_layer_name(model: str, layer: str, language: str = "") -> str:
    """E.g. "Real-ESRGAN enhanced (realesr-animevideov3) — Ink"."""
    return translate("Real-ESRGAN enhanced ({model}) — {layer}", language).format(model=display_name(model),
                                                                                 layer=layer)


def cover_factor(source: Extent, picture: Extent) -> float:
    """The upscale factor of a cover's picture (the larger of the two, as the engine fits one side exactly)."""
    return max(picture.width / source.width, picture.height / source.height)


def factor_text(factor: float) -> str:
    """At most two decimals, no trailing zeros: 2.2615 -> "2.26", 2.0 -> "2"."""
    return f"{factor:.2f}".rstrip("0").rstrip(".")


def cover_layer_name(source: Extent, picture: Extent, model: str, layer: str, language: str = "") -> str:
    """Krita's cover picture: e.g. "Real-ESRGAN ×2.26 (realesr-animevideov3) — Background"; "resampled" for the
    model when the picture was only resized."""
    shown = display_name(model) if model else translate("resampled", language)
    return scaled_layer_name(factor_text(cover_factor(source, picture)), shown, layer, language)


def cover_layer_name_by_model(model: str, layer: str) -> str:
    """GIMP's cover picture: "Real-ESRGAN cover (realesr-animevideov3) — Kids"; "Cover (resized) — Kids" when the
    picture was only resized."""
    how = f"Real-ESRGAN cover ({model})" if model else "Cover (resized)"
    return f"{how} — {layer}"
