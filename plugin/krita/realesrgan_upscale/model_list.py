"""The models the dialog offers: the catalog (or the worker's own list, once it runs), greyed when missing.

Pure Python: availability is read from the weights folder the installer configured, so the dialog opens at
once without waiting for the engine to start.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional

from .i18n import tr
from .krita_realesrgan.common import catalog
from .krita_realesrgan.common.editor.models import model_installed, uses_denoise

WEIGHT_SUFFIXES = (".pth", ".safetensors")


@dataclass(frozen=True)
class ModelEntry:
    value: str       # what goes into UpscaleOptions.model (catalog name, or a weights file path)
    label: str       # what the list shows
    available: bool
    description: str  # purpose, or how to install it when missing

    @property
    def uses_denoise(self) -> bool:
        return uses_denoise(self.value)


def install_hint(name: str) -> str:
    return tr("Not installed. Get it with: python3 installer.py --models {name}").format(name=name)


def _catalog_entry(info: catalog.ModelInfo, available: bool) -> ModelEntry:
    return ModelEntry(info.name, info.name, available, tr(info.purpose) if available else install_hint(info.name))


def _extra_files(folder: Path) -> Iterable[Path]:
    known = {name for info in catalog.MODELS.values() for name in info.local_names}
    try:
        children = sorted(folder.iterdir())
    except OSError:
        return []
    return [p for p in children if p.suffix.lower() in WEIGHT_SUFFIXES and p.name not in known and p.is_file()]


def from_weights_folder(folder: Path) -> List[ModelEntry]:
    entries = [_catalog_entry(info, model_installed(folder, info.name)) for info in catalog.listed()]
    entries += [ModelEntry(str(path), path.stem, True, tr("Your own weights file: {path}").format(path=path))
                for path in _extra_files(folder)]
    return entries


def from_worker(models: List[dict]) -> List[ModelEntry]:
    """Entries from the worker's ``models`` event (``Upscaler.model_status()``)."""
    entries = []
    for model in models:
        name = str(model.get("name", ""))
        info = catalog.get(name)
        if info is not None and not info.listed:
            continue
        available = bool(model.get("available"))
        if info is not None:
            entries.append(_catalog_entry(info, available))
        elif name:
            value = str(model.get("path") or name)
            entries.append(ModelEntry(value, name, available,
                                      tr("Your own weights file: {path}").format(path=value)))
    return entries


def model_entries(weights_folder: Path, worker_models: Optional[List[dict]] = None) -> List[ModelEntry]:
    return from_worker(worker_models) if worker_models else from_weights_folder(weights_folder)
