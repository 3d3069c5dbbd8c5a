"""How the engine service's connections carry requests, events and pixels. Standard library only.

A connection (a Unix domain socket, or TCP with optional TLS) carries *frames* both ways. A frame is one JSON
line, the same messages as the worker's stdin/stdout (``protocol``), and, when the line has an ``attach`` list,
the bytes it announces right after it::

    {"id": 3, "op": "upscale", "input": "job3-in.raw", "output": "job3-out.raw", "options": {...},
     "attach": [["input", 1048640]]}\\n<1048640 bytes: the input payload file, rawimage layout>

    {"id": 3, "event": "result", "output": "job3-out.raw", "width": ..., "attach": [["output", 16777280]]}\\n<bytes>

* ``attach`` names the request's or event's *file fields* (``FILE_FIELDS``) whose contents follow, in order.
  A request attaches its inputs; its outputs name only a file name, and the service gives each job private files
  of its own (nothing is shared between the two computers; nothing is unpickled: payloads are raw samples).
  A result attaches the outputs the service wrote, which the client stores under its own names.
* TCP connections start with ``{"auth": "<token>"}``; the service answers ``{"event": "welcome"}`` or an
  ``error`` event (kind ``bad_request``) and closes. Unix sockets need no token (the socket is the owner's
  alone: mode 0600 in a 0700 folder).
* The ``ready`` event of ``hello`` carries the service's ``limits`` (``ServiceLimits``), so a client refuses an
  over-size request before sending it; the service checks again and answers ``too_large`` / ``busy``.
"""
from __future__ import annotations

import ipaddress
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Dict, List, Optional, Sequence, Tuple, Union

from . import protocol
from .errors import EngineError, Kind

MAX_LINE_BYTES = 1 << 20          # a frame's JSON line (as request_schema.MAX_LINE_BYTES)
CHUNK = 1 << 20
LOCAL = "local"

INPUT, OUTPUT = "input", "output"
# file fields of requests: which way their contents travel
FILE_FIELDS: Dict[str, str] = {"input": INPUT, "output": OUTPUT, "background_output": OUTPUT, "path": OUTPUT}

Message = Dict[str, Any]


@dataclass(frozen=True)
class ServiceLimits:
    """What one service takes: bytes a request may attach, input pixels, jobs queued or running (all clients)."""

    max_request_bytes: int = 1 << 30
    max_pixels: int = 100_000_000
    max_jobs: int = 8

    def to_json(self) -> dict:
        return {"max_request_bytes": self.max_request_bytes, "max_pixels": self.max_pixels,
                "max_jobs": self.max_jobs}

    @staticmethod
    def from_json(data: Any) -> "ServiceLimits":
        data = data if isinstance(data, dict) else {}
        default = ServiceLimits()
        return ServiceLimits(*(int(data.get(name) or getattr(default, name))
                               for name in ("max_request_bytes", "max_pixels", "max_jobs")))

    def request_too_large(self, size: int) -> Optional[EngineError]:
        if size <= self.max_request_bytes:
            return None
        return EngineError(Kind.TOO_LARGE, f"The picture is too large for the engine service ({size:,} bytes; it "
                           f"takes up to {self.max_request_bytes:,}). Upscale a smaller part, or start the service "
                           "with a larger --max-request-mb.")


@dataclass(frozen=True)
class EngineAddress:
    """Where the engine runs: ``local`` (the service on this computer, started on demand) or ``host:port``."""

    host: str = LOCAL
    port: int = 0
    token: str = ""
    cafile: Optional[str] = None     # TLS: the service's certificate (or its CA); None = plain TCP

    @property
    def is_local(self) -> bool:
        return self.host == LOCAL

    def __str__(self) -> str:
        return LOCAL if self.is_local else f"{self.host}:{self.port}"

    @staticmethod
    def parse(text: str, token: str = "", cafile: Optional[str] = None, listening: bool = False) -> "EngineAddress":
        """``local`` or ``HOST:PORT`` (``[v6]:PORT``; port 0, any free one, only ``listening``); raises
        EngineError(bad_input) with what was wrong."""
        text = text.strip()
        if text == LOCAL:
            return EngineAddress()
        host, sep, port = text.rpartition(":")
        host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        if not sep or not host or not port.isdigit() or not (0 if listening else 1) <= int(port) < 65536:
            raise EngineError(Kind.BAD_INPUT, f"The engine address {text!r} is not 'local' or HOST:PORT "
                              "(e.g. 192.168.1.20:7860).")
        return EngineAddress(host, int(port), token, cafile)


def read_token(path: Union[str, "os.PathLike[str]"]) -> str:
    """The token in ``path`` (its first line, stripped); EngineError(bad_input) when unreadable or empty."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise EngineError(Kind.BAD_INPUT, f"Cannot read the token file {path}: "
                          f"{getattr(error, 'strerror', None) or error}.") from None
    token = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not token:
        raise EngineError(Kind.BAD_INPUT, f"The token file {path} is empty.")
    return token


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is this computer's loopback."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos)


def write_frame(stream: BinaryIO, message: Message, attachments: Sequence[Tuple[str, Path]] = ()) -> None:
    """Send ``message`` with the contents of ``attachments`` (field, file) after it; the caller holds the lock."""
    if attachments:
        message = dict(message, attach=[[name, os.path.getsize(path)] for name, path in attachments])
    stream.write(protocol.encode(message))
    for _, path in attachments:
        with open(path, "rb") as handle:
            while True:
                chunk = handle.read(CHUNK)
                if not chunk:
                    break
                stream.write(chunk)
    stream.flush()


class FrameError(Exception):
    """The other side broke the framing (the connection cannot be read on)."""


def read_line(stream: BinaryIO) -> Optional[bytes]:
    """The next frame's line (None at the end of the stream); FrameError for a line over MAX_LINE_BYTES."""
    line = stream.readline(MAX_LINE_BYTES + 1)
    if not line:
        return None
    if not line.endswith(b"\n"):
        raise FrameError(f"a line longer than {MAX_LINE_BYTES:,} bytes" if len(line) > MAX_LINE_BYTES
                         else "the connection ended inside a line")
    return line


def announced(message: Message) -> List[Tuple[str, int]]:
    """The ``attach`` list of a message, checked: known file fields with byte counts (FrameError otherwise)."""
    entries = message.get("attach") or []
    if not isinstance(entries, list):
        raise FrameError("'attach' must be a list")
    checked = []
    for entry in entries:
        if (not isinstance(entry, list) or len(entry) != 2 or entry[0] not in FILE_FIELDS
                or not isinstance(entry[1], int) or isinstance(entry[1], bool) or entry[1] < 0):
            raise FrameError(f"a bad 'attach' entry {str(entry)[:80]}")
        checked.append((entry[0], entry[1]))
    return checked


def receive_file(stream: BinaryIO, size: int, path: Path) -> None:
    """Copy the next ``size`` bytes of the stream into a new private file ``path`` (FrameError if it ends first)."""
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    with os.fdopen(fd, "wb") as handle:
        left = size
        while left:
            chunk = stream.read(min(CHUNK, left))
            if not chunk:
                raise FrameError("the connection ended inside a payload")
            handle.write(chunk)
            left -= len(chunk)


def decode_line(line: bytes) -> Message:
    try:
        message = json.loads(line.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise FrameError("a line that is not JSON") from None
    if not isinstance(message, dict):
        raise FrameError("a line that is not a JSON object")
    return message
