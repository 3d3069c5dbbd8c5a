"""Reading ncnn ``.param`` files (the text form): the layer graph of an ncnn model.

The format::

    7767517                                  magic number
    <layer count> <blob count>
    <type> <name> <n_in> <n_out> <input blobs...> <output blobs...> <key=value>...

Parameter keys are small integers; a value with a ``.`` or an exponent is a float, otherwise an integer.
A key ``-23300 - k`` holds an array for key ``k``: ``-23310=2,0.1,6.0`` means "key 10 = (0.1, 6.0)", the
first element being the element count.

Only the graph is read here; the weights live in the ``.bin`` file (see ``convert.py``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, Mapping, Tuple, Union

from ..common.errors import EngineError, Kind

MAGIC = 7767517
ARRAY_KEY_BASE = -23300

Scalar = Union[int, float]
ParamValue = Union[Scalar, Tuple[Scalar, ...]]


@dataclass(frozen=True)
class Layer:
    type: str
    name: str
    inputs: Tuple[str, ...]
    outputs: Tuple[str, ...]
    params: Mapping[int, ParamValue] = field(default_factory=dict)

    def param(self, key: int, default: ParamValue = 0) -> ParamValue:
        return self.params.get(key, default)


@dataclass(frozen=True)
class Graph:
    layers: Tuple[Layer, ...]
    blob_count: int

    def of_type(self, layer_type: str) -> Tuple[Layer, ...]:
        return tuple(layer for layer in self.layers if layer.type == layer_type)

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)


def _bad(message: str, detail: str = "") -> EngineError:
    return EngineError(Kind.BAD_WEIGHTS, f"The ncnn model description (.param) is unusable: {message}.",
                       detail or message)


def _scalar(text: str) -> Scalar:
    if any(mark in text for mark in (".", "e", "E")):
        return float(text)
    return int(text)


def _param_value(key: int, text: str) -> Tuple[int, ParamValue]:
    if key > ARRAY_KEY_BASE:
        return key, _scalar(text)
    items = text.split(",")
    count = int(items[0])
    if count != len(items) - 1:
        raise ValueError(f"array of key {key} announces {count} elements but has {len(items) - 1}")
    return ARRAY_KEY_BASE - key, tuple(_scalar(item) for item in items[1:])


def _parse_layer(line: str, number: int) -> Layer:
    fields = line.split()
    where = f"layer line {number}: {line[:120]!r}"
    if len(fields) < 4:
        raise _bad(f"layer line {number} is incomplete", where)
    layer_type, name = fields[0], fields[1]
    try:
        n_in, n_out = int(fields[2]), int(fields[3])
        if n_in < 0 or n_out < 0 or len(fields) < 4 + n_in + n_out:
            raise ValueError("blob counts do not match the blob names")
        inputs = tuple(fields[4:4 + n_in])
        outputs = tuple(fields[4 + n_in:4 + n_in + n_out])
        params: Dict[int, ParamValue] = {}
        for pair in fields[4 + n_in + n_out:]:
            key_text, sep, value_text = pair.partition("=")
            if not sep:
                raise ValueError(f"parameter {pair!r} is not key=value")
            key, value = _param_value(int(key_text), value_text)
            params[key] = value
    except ValueError as error:
        raise _bad(f"layer line {number} cannot be read", f"{where}: {error}") from error
    return Layer(layer_type, name, inputs, outputs, params)


def _text_of(source: Union[str, bytes, Path]) -> str:
    if isinstance(source, bytes):
        data = source
    elif isinstance(source, str) and source.lstrip().startswith(str(MAGIC)):
        return source
    else:
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise EngineError(Kind.BAD_WEIGHTS, f"Cannot read the ncnn model description {path}: "
                              f"{error.strerror or error}.", str(error)) from error
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _bad("it is not a text .param file (binary .param.bin files are not supported)",
                   str(error)) from error


def read_param(source: Union[str, bytes, Path]) -> Graph:
    """The layer graph of a ``.param`` file, given as a path, its bytes, or its text.

    Raises EngineError(BAD_WEIGHTS) for anything that is not a complete, well-formed text ``.param``.
    """
    lines = [line.strip() for line in _text_of(source).splitlines()]
    lines = [line for line in lines if line]
    if not lines or lines[0] != str(MAGIC):
        raise _bad(f"it does not start with the ncnn magic number {MAGIC}",
                   f"first line: {lines[0][:80]!r}" if lines else "empty file")
    try:
        layer_count, blob_count = (int(value) for value in lines[1].split())
    except (IndexError, ValueError) as error:
        raise _bad("the layer and blob counts are missing", str(error)) from error
    layer_lines = lines[2:]
    if layer_count <= 0 or len(layer_lines) != layer_count:
        raise _bad(f"it announces {layer_count} layers but has {len(layer_lines)} (truncated file?)")
    layers = tuple(_parse_layer(line, number) for number, line in enumerate(layer_lines, start=3))
    return Graph(layers, blob_count)
