"""Finding, safely reading, blending and loading model weights (through spandrel).

* ``resolve``: a catalog name or a file path -> the weight file(s) on disk, or a clear error saying how to get them.
* ``read_state_dict``: ``.safetensors``, or ``.pth`` with ``torch.load(weights_only=True)`` — a pickle that
  wants to run code is refused, never executed; bytes that are no pickle at all are called damaged.
  ``params_ema`` is preferred over ``params`` like the reference.
* ``describe_weights``: read a file and recognise its network without placing it anywhere (the installer's check).
* ``blend``: per-tensor ``s*A + (1-s)*B`` (the reference's denoise strength, "DNI").
* ``ModelStore``: loads through spandrel (which detects the architecture), places it on a device, and keeps the
  most recently used models warm.
"""
from __future__ import annotations

import io
import pickle
import pickletools
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterable, List, Optional, Sequence, Tuple

from .common import catalog
from . import reach
from .common.errors import INSTALL_HINT, EngineError, Kind

if TYPE_CHECKING:  # torch is imported only to read or build a network (a warm OpenVINO run needs none)
    import torch

    from .devices import Placement

WEIGHT_SUFFIXES = (".pth", ".pt", ".ckpt", ".safetensors")

# Rough activation bytes per input pixel per image at float32, for choosing a tile size from free memory.
_BYTES_PER_PIXEL = {"Compact": 2_000, "ESRGAN": 12_000}
_DEFAULT_BYTES_PER_PIXEL = 40_000


@dataclass
class LoadedModel:
    key: Tuple
    name: str
    descriptor: object        # spandrel ImageModelDescriptor, on its device, in eval mode
    arch: str
    scale: int
    margin: int               # tile margin from the network's reach (reach.Reach.tile_margin: < 0 = no finite reach)
    bytes_per_pixel: float    # activation estimate per input pixel per batch image, at this precision
    placement: Placement


def weights_dirs(explicit: Optional[Path] = None) -> List[Path]:
    from .common.paths import read_config
    return [Path(explicit)] if explicit is not None else [read_config().weights]


def _find(names: Iterable[str], dirs: Sequence[Path]) -> Optional[Path]:
    for folder in dirs:
        for name in names:
            candidate = folder / name
            if candidate.is_file():
                return candidate
    return None


def resolve(model: str, dirs: Sequence[Path]) -> Tuple[str, Path, Optional[catalog.ModelInfo]]:
    """(display name, weight file, catalog entry or None) for a catalog name, a file name in a weights folder,
    or a path."""
    info = catalog.get(model)
    if info is not None:
        found = _find(info.local_names, dirs)
        if found is None:
            raise EngineError(
                Kind.WEIGHTS_MISSING,
                f"The weights of {info.name} are not installed. Get them with: "
                + INSTALL_HINT.format(models=info.name),
                f"looked for {', '.join(info.local_names)} in {', '.join(map(str, dirs))}")
        return info.name, found, info
    path = Path(model).expanduser()
    if path.is_file():
        return path.stem, path, None
    found = _find([model] + [model + s for s in WEIGHT_SUFFIXES], dirs)
    if found is not None:
        return found.stem, found, None
    names = ", ".join(m.name for m in catalog.listed())
    raise EngineError(Kind.UNKNOWN_MODEL, f"Unknown model {model!r}: not a catalog model ({names}) "
                      "and not a weights file.", f"searched {', '.join(map(str, dirs))}")


def read_state_dict(path: Path) -> Dict[str, torch.Tensor]:
    """Read a weights file without ever running code from it."""
    import torch
    path = Path(path)
    try:
        if path.suffix.lower() == ".safetensors":
            from safetensors.torch import load_file
            data = load_file(str(path), device="cpu")
        else:
            data = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch/zip/safetensors raise many types for a bad file
        if isinstance(error, pickle.UnpicklingError) and _names_python_objects(path):
            raise EngineError(Kind.UNSAFE_FILE, f"{path.name} was refused: it is not a plain weights file (loading "
                              "it would run code stored inside it).", f"{path}: {error}") from error
        raise EngineError(Kind.BAD_WEIGHTS, f"{path.name} is damaged or not a model file (an incomplete "
                          f"download?): {_repair_advice(path)}.", f"{path}: {type(error).__name__}: {error}") from error
    return _unwrap(data, path)


_NAMING_OPCODES = {"GLOBAL", "STACK_GLOBAL", "INST"}   # the opcodes that name a Python object to import


def _names_python_objects(path: Path) -> bool:
    """True when ``path`` holds well-formed pickles that name Python objects (what the safe loader refuses: a file
    that wants to run code); False for bytes that are no pickle at all. Only reads opcodes: nothing is run."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                data = next((archive.read(n) for n in archive.namelist() if n.endswith("data.pkl")), b"")
        else:
            data = path.read_bytes()   # the old format: several pickles in a row, then raw tensor bytes
    except (OSError, zipfile.BadZipFile, RuntimeError, ValueError):
        return False
    stream = io.BytesIO(data)
    while stream.tell() < len(data):
        try:
            opcodes = {opcode.name for opcode, _, _ in pickletools.genops(stream)}
        except Exception:  # noqa: BLE001 - pickletools raises several types for bytes that are not a pickle
            return False
        if opcodes & _NAMING_OPCODES:
            return True
    return False


def _repair_advice(path: Path) -> str:
    info = next((m for m in catalog.MODELS.values() if path.name in m.local_names), None)
    if info is not None:
        return f"install it again with {INSTALL_HINT.format(models=info.name)}"
    return "get a fresh copy of it, or choose another model"


def _unwrap(data, path: Path) -> Dict[str, torch.Tensor]:
    import torch
    if isinstance(data, dict):
        for key in ("params_ema", "params", "state_dict", "model"):
            inner = data.get(key)
            if isinstance(inner, dict) and inner:
                data = inner
                break
    if not isinstance(data, dict) or not data or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise EngineError(Kind.BAD_WEIGHTS, f"{path.name} holds no network weights.", str(path))
    return data


def blend(strong: Dict[str, torch.Tensor], weak: Dict[str, torch.Tensor], strength: float) -> Dict[str, torch.Tensor]:
    """``strength * strong + (1 - strength) * weak`` per tensor (the networks must have the same layout)."""
    if strong.keys() != weak.keys() or any(strong[k].shape != weak[k].shape for k in strong):
        raise EngineError(Kind.BAD_WEIGHTS, "The two denoise models do not have the same layout.")
    return {k: strength * strong[k].float() + (1.0 - strength) * weak[k].float() for k in strong}


def _float32_runner(descriptor, device):
    """Runs ``descriptor`` (still in float32) on N×h×w×3 numpy batches, for the reach probe."""
    import torch

    def run(batch):
        with torch.inference_mode():
            tensor = torch.from_numpy(batch).permute(0, 3, 1, 2).to(device).contiguous()
            return descriptor(tensor).float().permute(0, 2, 3, 1).cpu().numpy()
    return run


def recognise(state: Dict[str, torch.Tensor], name: str):
    """The spandrel descriptor (on the CPU) of an RGB image-to-image network; EngineError(BAD_WEIGHTS) otherwise."""
    import spandrel
    try:
        descriptor = spandrel.ModelLoader().load_from_state_dict(state)
    except Exception as error:  # noqa: BLE001 - spandrel raises several types for unknown layouts
        raise EngineError(Kind.BAD_WEIGHTS, f"{name} is not an upscaling network that can be recognised.",
                          f"{type(error).__name__}: {error}") from error
    if not isinstance(descriptor, spandrel.ImageModelDescriptor) or descriptor.input_channels != 3 \
            or descriptor.output_channels != 3:
        raise EngineError(Kind.BAD_WEIGHTS, f"{name} is not an RGB image-to-image upscaler "
                          f"({descriptor.architecture.name}, purpose {descriptor.purpose}).")
    return descriptor


def describe_weights(path: Path) -> str:
    """Load a weights file as the engine would (safely, on the CPU) and name its network, e.g. "Compact x4";
    raises EngineError when it is damaged, unsafe or not an upscaler."""
    path = Path(path)
    descriptor = recognise(read_state_dict(path), path.name)
    return f"{descriptor.architecture.name} x{descriptor.scale}"


def build(state: Dict[str, torch.Tensor], name: str, placement: Placement, key: Tuple = ()) -> LoadedModel:
    import torch
    descriptor = recognise(state, name)
    if placement.precision == "fp16" and not descriptor.supports_half:
        raise EngineError(Kind.DEVICE, f"{descriptor.architecture.name} does not support fp16; use fp32.")
    if placement.precision == "bf16" and not descriptor.supports_bfloat16:
        raise EngineError(Kind.DEVICE, f"{descriptor.architecture.name} does not support bf16; use fp32.")
    arch = descriptor.architecture.id
    descriptor.to(placement.device).eval()
    margin = reach.reach_of(name, arch, state, _float32_runner(descriptor, placement.device), int(descriptor.scale),
                            descriptor.size_requirements.multiple_of).tile_margin
    descriptor.to(placement.dtype)
    descriptor.model.to(memory_format=torch.channels_last)
    per_pixel = _BYTES_PER_PIXEL.get(arch, _DEFAULT_BYTES_PER_PIXEL) * (1.0 if placement.precision == "fp32" else 0.5)
    return LoadedModel(key, name, descriptor, arch, int(descriptor.scale), margin, per_pixel, placement)


@dataclass(frozen=True)
class WeightSources:
    """The weight file(s) a request names: one file, or a model and its denoise twin blended."""

    name: str
    path: Path
    partner: Optional[Path] = None     # the weak-denoise twin, blended when denoise < 1
    denoise: Optional[float] = None    # None unless blended

    @property
    def files(self) -> Tuple[Path, ...]:
        return (self.path,) + ((self.partner,) if self.partner is not None else ())

    @property
    def key(self) -> Tuple:
        """Identifies the network within a process (files and their modification times, the blend)."""
        return (str(self.path), self.path.stat().st_mtime_ns, str(self.partner), self.denoise)

    def read(self) -> Dict[str, torch.Tensor]:
        state = read_state_dict(self.path)
        if self.partner is not None:
            state = blend(state, read_state_dict(self.partner), float(self.denoise))
        return state


def weight_sources(model: str, denoise: Optional[float], dirs: Sequence[Path]) -> WeightSources:
    catalog.check_denoise(model, denoise)
    name, path, info = resolve(model, dirs)
    if info is not None and info.kind == catalog.FACE:
        raise EngineError(Kind.BAD_INPUT, f"{info.name} restores faces; it is not an upscaler. Upscale with a photo "
                          f"model and add --face-enhance --face-model {info.name}.")
    if info is not None and info.denoise_partner and denoise is not None and denoise < 1.0:
        return WeightSources(name, path, resolve(info.denoise_partner, dirs)[1], float(denoise))
    return WeightSources(name, path)


class ModelStore:
    """Loads models on demand and keeps the ``capacity`` most recently used ones."""

    def __init__(self, weights_dir: Optional[Path] = None, capacity: int = 2):
        self.dirs = weights_dirs(weights_dir)
        self.capacity = capacity
        self._cache: "OrderedDict[Tuple, LoadedModel]" = OrderedDict()

    def get(self, model: str, denoise: Optional[float], placement: Placement) -> LoadedModel:
        sources = weight_sources(model, denoise, self.dirs)
        key = sources.key + (placement,)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        state = sources.read()
        while len(self._cache) >= self.capacity:
            self._cache.popitem(last=False)
            placement.release_cache()
        loaded = build(state, sources.name, placement, key)
        self._cache[key] = loaded
        return loaded

    def status(self) -> List[dict]:
        """Every listed catalog model and every other weights file found, with availability."""
        rows = []
        known = set()
        for info in catalog.listed():
            needed = catalog.required_files(info.name)
            found = [_find(m.local_names, self.dirs) for m in needed]
            known.update(m.local_names for m in needed)
            rows.append({"name": info.name, "file": info.file, "scale": info.scale, "purpose": info.purpose,
                         "kind": info.kind, "arch": info.arch, "catalog": True,
                         "available": all(found), "path": str(found[0]) if found[0] else None,
                         "denoise": info.denoise_partner is not None and all(found),
                         "install_hint": INSTALL_HINT.format(models=info.name)})
        known.update(m.local_names for m in catalog.face_models())   # restorers are not upscalers to list
        taken = {name for names in known for name in names}
        for folder in self.dirs:
            if not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                if path.suffix.lower() in WEIGHT_SUFFIXES and path.name not in taken and path.is_file():
                    rows.append({"name": path.stem, "file": path.name, "scale": None, "purpose": "user model",
                                 "kind": "unknown", "arch": None, "catalog": False, "available": True,
                                 "path": str(path), "denoise": False, "install_hint": None})
        return rows
