"""Converted networks on disk: a spandrel model converted once to OpenVINO's IR, found again by its weights.

Layout under the engine's cache folder (``paths.cache_dir()``)::

    openvino/<digest>/network.xml, network.bin   the IR (float32 weights, input N×3×?×?)
    openvino/<digest>/network.json               what the tiler needs without loading the weights (or a refusal)
    openvino/compiled/                           OpenVINO's own cache of compiled networks (per shape, precision)

``<digest>`` is the SHA-256 of the weight file(s) and the denoise blend, so a renamed file is found again and
a changed one is converted anew. A model that does not convert is recorded too (with the OpenVINO version), so
later processes go straight to PyTorch. With a stored IR neither torch nor spandrel is imported.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple, Union

from .openvino_backend import SizeRule, shared_core

FORMAT = 2                # of network.json and the conversion; bump to convert everything again
                          # (2: margins from the measured reach; format 1 stored 24 px for RRDB models)
KEPT_NETWORKS = 16        # stored conversions kept (least recently used go; each denoise strength is one)
_CHECK_TOLERANCE = 0.5 / 255   # converted vs PyTorch on a probe input (float32 both; far below one level)
_EXAMPLE_EDGE = 64

_digests: Dict[Tuple, str] = {}


def file_sha256(path: Path) -> str:
    stat = Path(path).stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _digests:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        _digests[key] = digest.hexdigest()
    return _digests[key]


def network_digest(files, denoise: Optional[float]) -> str:
    """One name for the network that these weight files (and this denoise blend) make."""
    parts = [f"krita-realesrgan-openvino-{FORMAT}"] + [file_sha256(f) for f in files] + [repr(denoise)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Converted:
    """A stored IR and what the engine needs to tile with it."""

    xml: Path
    arch: str
    scale: int
    margin: int
    bytes_per_pixel: float       # at float32
    size_rule: SizeRule


@dataclass(frozen=True)
class Refused:
    """This network did not convert (with this OpenVINO)."""

    reason: str


class ConversionFailed(Exception):
    pass


def openvino_version() -> str:
    import openvino
    return openvino.get_version()


class IrStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    @property
    def compiled_cache(self) -> Path:
        return self.root / "compiled"

    def lookup(self, digest: str) -> Union[Converted, Refused, None]:
        folder = self.root / digest
        try:
            meta = json.loads((folder / "network.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            return None
        if not meta.get("converts"):
            # a newer OpenVINO may convert it: try again then
            return Refused(str(meta.get("reason"))) if meta.get("openvino") == openvino_version() else None
        if not (folder / "network.xml").is_file() or not (folder / "network.bin").is_file():
            return None
        try:
            os.utime(folder / "network.json")   # recently used: pruned last
        except OSError:
            pass
        return Converted(folder / "network.xml", meta["arch"], int(meta["scale"]), int(meta["margin"]),
                         float(meta["bytes_per_pixel"]), SizeRule(**meta["size_rule"]))

    def convert(self, digest: str, loaded) -> Tuple[Converted, object]:
        """Convert ``loaded`` (a models.LoadedModel on the CPU in float32), check it, and store it; returns
        what is stored and the openvino.Model. Raises ConversionFailed (and records the refusal) when OpenVINO
        cannot take it."""
        descriptor = loaded.descriptor
        req = descriptor.size_requirements
        rule = SizeRule(int(req.minimum), int(req.multiple_of), bool(req.square))
        try:
            model = convert_checked(descriptor, rule)
        except Exception as error:  # noqa: BLE001 - tracing and conversion fail in many ways
            reason = f"{type(error).__name__}: {error}".strip().splitlines()[0][:300]
            self._write(digest, None, {"converts": False, "reason": reason})
            raise ConversionFailed(reason) from error
        meta = {"converts": True, "arch": loaded.arch, "scale": loaded.scale, "margin": loaded.margin,
                "bytes_per_pixel": loaded.bytes_per_pixel, "size_rule": asdict(rule)}
        self._write(digest, model, meta)   # not stored (read-only cache)? then it is converted again next time
        return Converted(self.root / digest / "network.xml", loaded.arch, loaded.scale, loaded.margin,
                         loaded.bytes_per_pixel, rule), model

    def _write(self, digest: str, model, meta: dict) -> None:
        """Write the folder whole or not at all: into a temporary folder, then renamed into place."""
        import openvino
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{digest[:12]}.", suffix=".part", dir=str(self.root)))
        try:
            if model is not None:
                openvino.save_model(model, str(staging / "network.xml"), compress_to_fp16=False)
            meta = {"format": FORMAT, "openvino": openvino_version(), **meta}
            (staging / "network.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
            os.chmod(staging, 0o755)    # mkdtemp makes 0700; the cache is as readable as the weights
            final = self.root / digest
            if final.exists():          # an older format, a refusal by an older OpenVINO, or another process
                shutil.rmtree(final, ignore_errors=True)
            os.replace(staging, final)
        except OSError:
            pass                        # another process won the race, or the cache is not writable
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self._prune()

    def _prune(self) -> None:
        """Keep the KEPT_NETWORKS most recently used conversions."""
        stored = []
        for folder in self.root.iterdir():
            try:
                stored.append(((folder / "network.json").stat().st_mtime, folder))
            except OSError:
                continue
        for _, folder in sorted(stored, reverse=True)[KEPT_NETWORKS:]:
            shutil.rmtree(folder, ignore_errors=True)


def _fit(rule: SizeRule, width: int, height: int) -> Tuple[int, int]:
    pad_w, pad_h = rule.padding(width, height)
    return width + pad_w, height + pad_h


def convert_checked(descriptor, rule: SizeRule):
    """``openvino.convert_model`` of the whole spandrel call (network and clamp), with a dynamic input size,
    checked against PyTorch on a probe of another size (a trace that froze a shape fails there)."""
    import numpy as np
    import openvino
    import torch

    class Whole(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.network = descriptor.model

        def forward(self, x):
            return descriptor(x)

    width, height = _fit(rule, _EXAMPLE_EDGE, _EXAMPLE_EDGE)
    example = torch.rand(1, 3, height, width)
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        model = openvino.convert_model(Whole().eval(), example_input=example,
                                       input=[openvino.PartialShape([-1, 3, -1, -1])])
    width, height = _fit(rule, 40, 56)
    probe = torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        expected = descriptor(probe).numpy()
    check = model.clone()
    check.reshape({check.inputs[0]: openvino.PartialShape(list(probe.shape))})
    compiled = shared_core().compile_model(check, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    got = compiled(probe.numpy())[0]
    if got.shape != expected.shape or not float(np.abs(got - expected).max()) <= _CHECK_TOLERANCE:
        raise ConversionFailed("the converted network does not give PyTorch's output at another tile size")
    return model
