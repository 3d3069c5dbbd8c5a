"""The dialog's choices and how they are remembered in Krita's settings. Pure Python.

Krita stores settings as strings (``Krita.writeSetting(group, name, value)``); ``load`` never fails on a bad or
old value: it falls back to the default for that field.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Callable, Mapping, Optional

from .krita_realesrgan.common import catalog, device_offers
from .krita_realesrgan.common.editor.models import uses_denoise
from .krita_realesrgan.common.formats import AUTO_TILE, MIN_TILE, UpscaleOptions
from .krita_realesrgan.common.geometry import Extent

GROUP = "realesrgan_upscale"
MIN_SCALE, MAX_SCALE = 1.0, 16.0
DEVICES = device_offers.KEYS   # backend and device together ("cpu-openvino", "cuda"...; device_offers.PLACES)

Reader = Callable[[str, str, str], str]      # (group, name, default) -> value
Writer = Callable[[str, str, str], None]     # (group, name, value)


@dataclass(frozen=True)
class Choices:
    model: str = catalog.DEFAULT_MODEL
    scale: float = 4.0
    denoise: float = 0.5         # only used by models with a denoise twin (realesr-general-x4v3)
    tile: int = AUTO_TILE        # 0 = automatic
    device: str = "auto"         # a device_offers key: backend and device together
    fast: bool = False           # the device's fast precision instead of exact (greyed where it is refused)
    use_merged: bool = False     # "Upscale image": the merged visible image instead of the active layer
    faces: bool = False          # restore faces (the engine's face_enhance; offered for photo models only)
    face_strength: float = 1.0   # 0..1: how much of the restored face replaces the plain upscale

    def normalised(self) -> "Choices":
        tile = 0 if self.tile <= 0 else max(MIN_TILE, int(self.tile))
        return replace(self, scale=min(MAX_SCALE, max(MIN_SCALE, float(self.scale))),
                       denoise=min(1.0, max(0.0, float(self.denoise))), tile=tile,
                       face_strength=min(1.0, max(0.0, float(self.face_strength))),
                       device=device_offers.known_key(self.device))

    def options(self, target: Optional[Extent] = None) -> UpscaleOptions:
        """The engine options for these choices; ``target`` fixes the exact output size."""
        return UpscaleOptions(model=self.model, scale=None if target else self.scale, target=target,
                              tile=self.tile, **self.placement(),
                              denoise=self.denoise if uses_denoise(self.model) else None,
                              face_enhance=self.faces, face_strength=self.face_strength)

    def placement(self) -> dict:
        """The UpscaleOptions fields for where and how the network runs: backend, device, fast."""
        return device_offers.option_fields(self.device, self.fast)


def result_extent(source: Extent, scale: float) -> Extent:
    """The pixel size an upscale by ``scale`` produces (the engine's own rounding)."""
    return source.scaled(scale)


def parse_bool(text: str) -> bool:
    return {"true": True, "false": False}[text.lower()]


_PARSERS = {"model": str, "scale": float, "denoise": float, "tile": int, "device": str, "use_merged": parse_bool,
            "fast": parse_bool, "faces": parse_bool, "face_strength": float}


def load_fields(read: Reader, group: str, defaults, parsers: Mapping[str, Callable[[str], object]]):
    """``defaults`` (a dataclass with ``normalised()``) with each field that ``group`` holds a good value for."""
    values = {}
    for field in fields(defaults):
        text = read(group, field.name, "")
        if not text:
            continue
        try:
            values[field.name] = parsers[field.name](text)
        except (ValueError, KeyError):
            continue
    return replace(defaults, **values).normalised()


def save_fields(choices, write: Writer, group: str) -> None:
    for field in fields(choices):
        value = getattr(choices, field.name)
        write(group, field.name, ("true" if value else "false") if isinstance(value, bool) else str(value))


def load(read: Reader) -> Choices:
    return load_fields(read, GROUP, Choices(), _PARSERS)


def save(choices: Choices, write: Writer) -> None:
    save_fields(choices, write, GROUP)
