"""Image files in and out: decode to (array, PixelFormat), encode atomically. Channel order RGB[A] / grey[A].

OpenCV does the codec work (it keeps 16-bit PNG/TIFF and alpha, unlike Pillow), and is what the reference
implementation reads with, so decoded pixels match it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple

import cv2
import numpy as np

from .common.errors import EngineError, Kind
from .common.formats import PixelFormat
from .image_header import READ_EXTENSIONS, WRITE_EXTENSIONS, unreadable
from .common.paths import atomic_write_bytes

__all__ = ["READ_EXTENSIONS", "WRITE_EXTENSIONS", "encode_image", "format_of", "is_image_path", "read_image",
           "write_image"]
_OPAQUE_ONLY = (".jpg", ".jpeg")
_FLOAT_EXTENSIONS = (".tif", ".tiff")   # the formats that keep float samples


def is_image_path(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in READ_EXTENSIONS


def format_of(array: np.ndarray) -> PixelFormat:
    """The PixelFormat of an HxW or HxWxC array whose dtype is one the engine takes."""
    channels = 1 if array.ndim == 2 else array.shape[2]
    return PixelFormat(array.dtype.name, channels)


def read_image(path: Path) -> Tuple[np.ndarray, PixelFormat]:
    path = Path(path)
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError as error:
        raise EngineError(Kind.BAD_INPUT, f"Cannot read {path}: {error.strerror or error}.") from error
    try:
        image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    except cv2.error as error:   # e.g. a header that asks for more memory than OpenCV allows
        raise EngineError(Kind.BAD_INPUT, f"{path.name} cannot be decoded (damaged, or too large to decode).",
                          f"{path}: {error}") from error
    if image is None or image.size == 0:
        raise unreadable(path, "OpenCV cannot decode it")
    if image.dtype not in (np.uint8, np.uint16, np.float32):
        raise EngineError(Kind.UNSUPPORTED_FORMAT, f"{path.name} has {image.dtype} samples, which are not supported.")
    if image.ndim == 3:
        if image.shape[2] == 3:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        elif image.shape[2] == 4:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
        elif image.shape[2] == 1:
            image = image[:, :, 0]
    image = np.ascontiguousarray(image)
    return image, format_of(image)


def encode_image(array: np.ndarray, extension: str, quality: Optional[int] = None) -> bytes:
    """Encode an RGB[A]/grey[A] array to the bytes of a file with ``extension`` (".png", ".jpg", ...)."""
    ext = extension.lower()
    fmt = format_of(array)
    image = array
    if fmt.dtype in ("float16", "float32") and ext in _FLOAT_EXTENSIONS:
        image = array.astype(np.float32)                          # float stays float (values as they are)
    elif fmt.dtype in ("float16", "float32"):
        image = (np.clip(array.astype(np.float32), 0, 1) * 65535.0 + 0.5).astype(np.uint16)
    if ext in _OPAQUE_ONLY or ext == ".webp":
        if image.dtype == np.uint16:
            image = (image.astype(np.uint32) * 255 + 32767) // 65535
            image = image.astype(np.uint8)
    if ext in _OPAQUE_ONLY and fmt.has_alpha:
        image = image[..., :fmt.colour_channels]
        fmt = PixelFormat(fmt.dtype, fmt.colour_channels)
    if image.ndim == 3 and image.shape[2] == 2:  # grey+alpha: OpenCV writes it as BGRA
        grey, alpha = image[..., 0], image[..., 1]
        image = np.dstack([grey, grey, grey, alpha])
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA)
    params = []
    if quality is not None and ext in (".jpg", ".jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    elif quality is not None and ext == ".webp":
        params = [cv2.IMWRITE_WEBP_QUALITY, int(quality)]
    ok, encoded = cv2.imencode(ext, np.ascontiguousarray(image), params)
    if not ok:
        raise EngineError(Kind.BAD_INPUT, f"Cannot encode a {fmt} image as {ext}.")
    return encoded.tobytes()


def write_image(path: Path, array: np.ndarray, quality: Optional[int] = None) -> None:
    """Encode and write atomically: the file appears complete or not at all."""
    path = Path(path)
    atomic_write_bytes(path, encode_image(array, path.suffix or ".png", quality))
