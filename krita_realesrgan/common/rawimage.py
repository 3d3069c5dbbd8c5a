"""Raw pixel payload files: how pixels travel between a plugin and the worker. Standard library only.

Layout: the magic line ``KRRAW1\\n``, one JSON header line ``{"width", "height", "dtype", "channels"}``
padded with spaces so the samples start at a multiple of 64 bytes, then the samples: interleaved, row-major,
little-endian, channel order grey[A] / RGB[A] (see ``formats.PixelFormat``).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Tuple, Union

from .errors import EngineError, Kind
from .formats import PixelFormat
from .geometry import Extent

MAGIC = b"KRRAW1\n"
ALIGN = 64
Buffer = Union[bytes, bytearray, memoryview]


def header_bytes(fmt: PixelFormat, extent: Extent) -> bytes:
    head = json.dumps({"width": extent.width, "height": extent.height,
                       "dtype": fmt.dtype, "channels": fmt.channels}).encode("ascii")
    used = len(MAGIC) + len(head) + 1
    padding = (-used) % ALIGN
    return MAGIC + head + b" " * padding + b"\n"


def write(path: Union[str, Path], fmt: PixelFormat, extent: Extent, samples: Buffer) -> None:
    """Write a payload file; ``samples`` must hold exactly ``fmt.byte_count(extent)`` bytes (native order)."""
    view = memoryview(samples).cast("B")
    if view.nbytes != fmt.byte_count(extent):
        raise EngineError(Kind.BAD_INPUT, f"Pixel data has {view.nbytes} bytes, expected "
                          f"{fmt.byte_count(extent)} for {extent} {fmt}.")
    if sys.byteorder != "little" and fmt.bytes_per_sample > 1:
        raise EngineError(Kind.UNSUPPORTED_FORMAT, "Big-endian hosts are not supported.")
    tmp = Path(str(path) + ".part")
    with open(tmp, "wb") as handle:
        handle.write(header_bytes(fmt, extent))
        handle.write(view)
    os.replace(tmp, path)


def read_header(path: Union[str, Path]) -> Tuple[PixelFormat, Extent, int]:
    """The pixel format, size and data offset of a payload file; checks that the file is complete."""
    try:
        with open(path, "rb") as handle:
            magic = handle.read(len(MAGIC))
            line = handle.readline(4096)
    except OSError as error:
        raise EngineError(Kind.BAD_INPUT, f"Cannot read pixel file {path}: {error.strerror}.") from error
    if magic != MAGIC or not line.endswith(b"\n"):
        raise EngineError(Kind.BAD_INPUT, f"{path} is not a pixel payload file.")
    try:
        head = json.loads(line)
        fmt = PixelFormat(str(head["dtype"]), int(head["channels"]))
        extent = Extent(int(head["width"]), int(head["height"]))
    except (ValueError, KeyError, TypeError) as error:
        raise EngineError(Kind.BAD_INPUT, f"{path} has a damaged header.") from error
    offset = len(MAGIC) + len(line)
    size = os.path.getsize(path)
    if size != offset + fmt.byte_count(extent):
        raise EngineError(Kind.BAD_INPUT, f"{path} is truncated ({size} bytes, expected "
                          f"{offset + fmt.byte_count(extent)}).")
    return fmt, extent, offset


def read(path: Union[str, Path]) -> Tuple[PixelFormat, Extent, bytes]:
    fmt, extent, offset = read_header(path)
    with open(path, "rb") as handle:
        handle.seek(offset)
        return fmt, extent, handle.read()
