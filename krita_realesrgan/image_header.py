"""What an image file says about itself before it is decoded: its size and how many frames it holds.

Decoding a file whose header declares 100000×100000 pixels would try to allocate tens of gigabytes (OpenCV then
fails with its own error, or the machine starts swapping). Reading the header first lets the callers refuse such
a file with a clear message, and tell the user when an animated file holds more frames than the one upscaled.

Standard library only: the formats the engine reads (PNG/APNG, JPEG, GIF, BMP, WebP, TIFF) keep their size in the
first bytes or in a chain of small records. Pillow was tried first and cannot identify float32 RGB TIFFs.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Optional

from .common.errors import EngineError, Kind
from .common.geometry import Extent

READ_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif")
WRITE_EXTENSIONS = {"png": ".png", "jpg": ".jpg", "jpeg": ".jpg", "webp": ".webp", "tif": ".tif", "tiff": ".tif"}
_MAX_RECORDS = 100_000   # segments/chunks/pages walked before giving up (a damaged file can loop)


@dataclass(frozen=True)
class ImageHeader:
    extent: Extent
    frames: int = 1      # more than 1: an animated GIF/WebP/APNG or a multi-page TIFF
    has_alpha: Optional[bool] = None   # known for WebP and TIFF (the formats whose output type depends on it)

    @property
    def is_animated(self) -> bool:
        return self.frames > 1


class _Damaged(Exception):
    """The header is cut short or contradicts itself."""


def read_header(path: Path) -> Optional[ImageHeader]:
    """The size and frame count of an image file without decoding it; None for a format this module does not know
    (the decoder then has the last word). Raises EngineError(BAD_INPUT) for a missing, unreadable or damaged file."""
    path = Path(path)
    try:
        with open(path, "rb") as stream:
            header = _parse(stream)
    except FileNotFoundError as error:
        raise EngineError(Kind.BAD_INPUT, f"{path} does not exist.") from error
    except IsADirectoryError as error:
        raise EngineError(Kind.BAD_INPUT, f"{path} is a folder, not an image file.") from error
    except OSError as error:
        raise EngineError(Kind.BAD_INPUT, f"Cannot read {path}: {error.strerror or error}.") from error
    except (_Damaged, struct.error) as error:
        raise unreadable(path, f"damaged header: {error}") from error
    if header is not None and header.extent.is_empty:
        raise EngineError(Kind.BAD_INPUT, f"{path.name} is empty ({header.extent}).")
    return header


def unreadable(path: Path, detail: str = "") -> EngineError:
    """The one message for a file that is not a picture the engine can read."""
    return EngineError(Kind.BAD_INPUT, f"{Path(path).name} is not a readable image (corrupt or unsupported file).",
                       f"{path}: {detail}" if detail else None)


def _read(stream: BinaryIO, count: int) -> bytes:
    data = stream.read(count)
    if len(data) != count:
        raise _Damaged("the file ends inside its header")
    return data


def _parse(stream: BinaryIO) -> Optional[ImageHeader]:
    start = stream.read(16)
    stream.seek(0)
    if start.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png(stream)
    if start.startswith(b"\xff\xd8"):
        return _jpeg(stream)
    if start[:6] in (b"GIF87a", b"GIF89a"):
        return _gif(stream)
    if start.startswith(b"BM"):
        return _bmp(stream)
    if start[:4] == b"RIFF" and start[8:12] == b"WEBP":
        return _webp(stream)
    if start[:4] in (b"II*\x00", b"MM\x00*"):
        return _tiff(stream)
    return None


def _png(stream: BinaryIO) -> ImageHeader:
    stream.seek(8)
    length, kind = struct.unpack(">I4s", _read(stream, 8))
    if kind != b"IHDR" or length < 8:
        raise _Damaged("PNG without IHDR")
    width, height = struct.unpack(">II", _read(stream, 8))
    stream.seek(length - 8 + 4, 1)  # rest of IHDR, CRC
    frames = 1
    for _ in range(_MAX_RECORDS):   # an APNG says its frame count in acTL, before the first IDAT
        record = stream.read(8)
        if len(record) < 8:
            break
        length, kind = struct.unpack(">I4s", record)
        if kind == b"acTL":
            frames = max(1, struct.unpack(">I", _read(stream, 4))[0])
            break
        if kind in (b"IDAT", b"IEND"):
            break
        stream.seek(length + 4, 1)
    return ImageHeader(Extent(width, height), frames)


_JPEG_FRAME_MARKERS = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg(stream: BinaryIO) -> ImageHeader:
    stream.seek(2)
    for _ in range(_MAX_RECORDS):
        byte = _read(stream, 1)
        if byte != b"\xff":
            raise _Damaged("JPEG segment does not start with 0xFF")
        marker = _read(stream, 1)[0]
        while marker == 0xFF:   # fill bytes
            marker = _read(stream, 1)[0]
        if marker in (0x01, *range(0xD0, 0xD8)):   # markers without a length
            continue
        if marker in (0xD9, 0xDA):
            raise _Damaged("JPEG without a frame header before its image data")
        length = struct.unpack(">H", _read(stream, 2))[0]
        if length < 2:
            raise _Damaged("JPEG segment shorter than its length field")
        if marker in _JPEG_FRAME_MARKERS:
            _precision, height, width = struct.unpack(">BHH", _read(stream, 5))
            return ImageHeader(Extent(width, height))
        stream.seek(length - 2, 1)
    raise _Damaged("too many JPEG segments")


def _gif(stream: BinaryIO) -> ImageHeader:
    stream.seek(6)
    width, height, flags = struct.unpack("<HHB", _read(stream, 5))
    _read(stream, 2)
    if flags & 0x80:
        stream.seek(3 << ((flags & 7) + 1), 1)   # global colour table
    frames = 0
    for _ in range(_MAX_RECORDS):
        block = stream.read(1)
        if block in (b"", b";"):
            break
        if block == b",":      # image descriptor, optional local colour table, LZW size, data sub-blocks
            frames += 1
            descriptor = _read(stream, 9)
            if descriptor[8] & 0x80:
                stream.seek(3 << ((descriptor[8] & 7) + 1), 1)
            _read(stream, 1)
        elif block == b"!":    # extension: label, then sub-blocks
            _read(stream, 1)
        else:
            raise _Damaged(f"unknown GIF block {block!r}")
        _skip_sub_blocks(stream)
    return ImageHeader(Extent(width, height), max(frames, 1))


def _skip_sub_blocks(stream: BinaryIO) -> None:
    for _ in range(1 << 24):
        size = stream.read(1)
        if not size or size == b"\x00":
            return
        stream.seek(size[0], 1)


def _bmp(stream: BinaryIO) -> ImageHeader:
    stream.seek(14)
    size = struct.unpack("<I", _read(stream, 4))[0]
    if size == 12:
        width, height = struct.unpack("<HH", _read(stream, 4))
    else:
        width, height = struct.unpack("<ii", _read(stream, 8))
    return ImageHeader(Extent(abs(width), abs(height)))


def _webp(stream: BinaryIO) -> ImageHeader:
    stream.seek(12)
    extent: Optional[Extent] = None
    alpha = False
    frames = 0
    for _ in range(_MAX_RECORDS):
        record = stream.read(8)
        if len(record) < 8:
            break
        kind, length = struct.unpack("<4sI", record)
        body_start = stream.tell()
        if kind == b"VP8X":
            data = _read(stream, 10)
            width = int.from_bytes(data[4:7], "little") + 1
            height = int.from_bytes(data[7:10], "little") + 1
            extent = Extent(width, height)
            alpha = bool(data[0] & 0x10)
        elif kind == b"VP8 " and extent is None:
            data = _read(stream, 10)
            if data[3:6] != b"\x9d\x01\x2a":
                raise _Damaged("VP8 frame without its start code")
            width, height = struct.unpack("<HH", data[6:10])
            extent = Extent(width & 0x3FFF, height & 0x3FFF)
        elif kind == b"VP8L" and extent is None:
            data = _read(stream, 5)
            if data[0] != 0x2F:
                raise _Damaged("VP8L without its signature")
            bits = int.from_bytes(data[1:5], "little")
            extent = Extent((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
            alpha = bool((bits >> 28) & 1)
        elif kind == b"ANMF":
            frames += 1
        stream.seek(body_start + length + (length & 1))
    if extent is None:
        raise _Damaged("WebP without an image chunk")
    return ImageHeader(extent, max(frames, 1), alpha)


def _tiff(stream: BinaryIO) -> ImageHeader:
    order = "<" if _read(stream, 2) == b"II" else ">"
    stream.seek(4)
    offset = struct.unpack(order + "I", _read(stream, 4))[0]
    extent: Optional[Extent] = None
    samples = 1
    pages = 0
    seen = set()
    while offset and offset not in seen and pages < _MAX_RECORDS:
        seen.add(offset)
        pages += 1
        stream.seek(offset)
        count = struct.unpack(order + "H", _read(stream, 2))[0]
        entries = _read(stream, 12 * count)
        if extent is None:
            values = _tiff_values(entries, order)
            if 256 in values and 257 in values:
                extent = Extent(values[256], values[257])
                samples = values.get(277, 1)
        offset = struct.unpack(order + "I", _read(stream, 4))[0]
    if extent is None:
        raise _Damaged("TIFF without ImageWidth/ImageLength")
    return ImageHeader(extent, max(pages, 1), samples in (2, 4))   # grey+alpha, RGBA


_TIFF_TAGS = (256, 257, 277)   # ImageWidth, ImageLength, SamplesPerPixel


def _tiff_values(entries: bytes, order: str) -> dict:
    values = {}
    for start in range(0, len(entries), 12):
        tag, kind, _count = struct.unpack(order + "HHI", entries[start:start + 8])
        if tag in _TIFF_TAGS:
            fmt = "H" if kind == 3 else "I"
            values[tag] = struct.unpack(order + fmt, entries[start + 8:start + 8 + struct.calcsize(fmt)])[0]
    return values
