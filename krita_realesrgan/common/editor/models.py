"""The models as both plugins show and check them: names and labels, the denoise rule, the anime rule for faces,
and whether a model's or a face model's weights are in the weights folder. Pure Python (the vendored catalog)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from .. import catalog


def display_name(model: str) -> str:
    """A short model name for layer names (a weights path becomes its file stem)."""
    info = catalog.get(model)
    return info.name if info else Path(model).stem


def model_label(name: str) -> str:
    """A model with what it is for ("realesr-animevideov3 — …"); a name the catalog lacks as it is."""
    info = catalog.get(name)
    return f"{name} — {info.purpose}" if info else name


def uses_denoise(model: str) -> bool:
    """Whether ``model`` takes a denoise strength (it has a denoise twin, e.g. realesr-general-x4v3)."""
    info = catalog.get(model)
    return bool(info and info.denoise_partner)


def is_anime(model: str) -> bool:
    """Whether ``model`` is a catalog anime model (the face restorers know real faces only)."""
    info = catalog.get(model)
    return info is not None and info.kind == "anime"


def model_installed(folder: Optional[Path], name: str) -> bool:
    """Whether ``folder`` holds every file the catalog model ``name`` needs (its denoise twin too)."""
    info = catalog.get(name)
    if folder is None or info is None:
        return False
    return all(any((Path(folder) / file).is_file() for file in needed.local_names)
               for needed in catalog.required_files(info.name))


def faces_installed(folder: Optional[Path]) -> bool:
    """Whether ``folder`` holds a face restorer's weights (installer.py --models GFPGANv1.4)."""
    return folder is not None and any((Path(folder) / name).is_file()
                                      for info in catalog.face_models() for name in info.local_names)
