"""What a worker request may hold, checked once where its line comes in. Standard library only.

``parse(line, payload_folder)`` turns one line from the worker's stdin into a request whose every field has the
type ``protocol`` documents, or raises ``BadRequest`` (kind ``bad_request``) with a one-line message naming the
field and what it must be. Besides the types:

* ``id`` is an integer (it is echoed in every event, and keys the cancel board); ``op`` is one of
  ``protocol.OPS``; a field an op does not know is refused (a typo must not pass silently).
* Payload paths (``input``, ``output``, ``background_output``) name a file directly in the client's private
  payload folder, after symlinks are resolved: a link in the folder that points out of it is outside. A worker
  started without a payload folder takes no payloads.
* The ``export`` path, which the user chose, is the one path allowed elsewhere: an absolute file name with an
  export extension (``cover_presets.EXPORT_EXTENSIONS``). Whether it can be written there is the ``export``
  handler's to say, as for any file the user names (``bad_input``).
* A line longer than ``MAX_LINE_BYTES`` (``worker.read_lines`` hands over only its start), not UTF-8, not JSON
  or not an object is refused as a whole.

Values (a scale out of range, an unknown preset) are the handlers' to check; they report ``bad_input``.
"""
from __future__ import annotations

import json
import math
import os
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

from ..common import protocol
from ..common.cover_presets import EXPORT_EXTENSIONS, export_format_of
from ..common.errors import EngineError, Kind
from ..common.formats import UpscaleOptions
from ..common.geometry import Extent

MAX_LINE_BYTES = 1 << 20     # requests are a few hundred bytes; pixels travel in payload files

Request = Dict[str, Any]


class BadRequest(EngineError):
    """A request that breaks the protocol. ``job_id`` is the request's id when that id was usable, else None."""

    def __init__(self, message: str, job_id: Optional[int] = None, detail: Optional[str] = None):
        super().__init__(Kind.BAD_REQUEST, message, detail)
        self.job_id = job_id


@dataclass(frozen=True)
class JsonType:
    """A kind of JSON value a field takes: what to call it in a message, and the test."""

    expected: str                       # e.g. "an integer"
    accepts: Callable[[Any], bool]

    def or_null(self) -> "JsonType":
        return JsonType(f"{self.expected} or null", lambda value: value is None or self.accepts(value))


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:               # an integer too big for a float
        return False


INTEGER = JsonType("an integer", _is_integer)
NUMBER = JsonType("a finite number", _is_number)
TEXT = JsonType("a string", lambda value: isinstance(value, str))
BOOLEAN = JsonType("true or false", lambda value: isinstance(value, bool))
OBJECT = JsonType("an object", lambda value: isinstance(value, dict))
SIZE = JsonType("a [width, height] pair of integers",
                lambda value: isinstance(value, list) and len(value) == 2 and all(map(_is_integer, value)))

PAYLOAD = "payload"          # Field.path: a file in the payload folder
EXPORT_FILE = "export file"  # Field.path: the user's chosen file, with an export extension


@dataclass(frozen=True)
class Field:
    """One field of a request. An optional field may be absent or null."""

    name: str
    type: JsonType
    required: bool = False
    path: Optional[str] = None          # PAYLOAD or EXPORT_FILE: a path, checked for where it points
    entries: Optional[Dict[str, JsonType]] = None   # an object's known entries and their types


def _option_types() -> Dict[str, JsonType]:
    """The JSON type of each ``UpscaleOptions`` field, from its annotation (one place for the option types)."""
    plain = {str: TEXT, int: INTEGER, float: NUMBER, bool: BOOLEAN, Extent: SIZE}
    types = {}
    for name, hint in typing.get_type_hints(UpscaleOptions).items():
        if typing.get_origin(hint) is typing.Union:
            (inner,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
            types[name] = plain[inner].or_null()
        else:
            types[name] = plain[hint]
    return types


OPTION_TYPES = _option_types()

_INPUT = Field("input", TEXT, required=True, path=PAYLOAD)
_OUTPUT = Field("output", TEXT, required=True, path=PAYLOAD)
_OPTIONS = Field("options", OBJECT, entries=OPTION_TYPES)   # unknown names: UpscaleOptions.from_json says

FIELDS: Dict[str, Tuple[Field, ...]] = {
    "hello": (),
    "models": (),
    "shutdown": (),
    "cancel": (Field("job", INTEGER, required=True),),
    "upscale": (_INPUT, _OUTPUT, _OPTIONS),
    "cover": (_INPUT, _OUTPUT, _OPTIONS, Field("preset", TEXT), Field("target", SIZE), Field("fit", TEXT),
              Field("background", TEXT), Field("background_output", TEXT, path=PAYLOAD)),
    "export": (_INPUT, Field("path", TEXT, required=True, path=EXPORT_FILE), Field("format", TEXT),
               Field("max_bytes", INTEGER)),
}
COMMON = ("id", "op")
_EXPORT_SUFFIXES = ", ".join("." + ext for names in EXPORT_EXTENSIONS.values() for ext in names)


def _shown(value: Any, limit: int = 40) -> str:
    """A JSON value for a message: its kind and (the start of) its text, e.g. ``a list ([1])``."""
    kind = ("null" if value is None else "a boolean" if isinstance(value, bool) else "an integer" if
            isinstance(value, int) else "a number" if isinstance(value, float) else "a string" if
            isinstance(value, str) else "a list" if isinstance(value, list) else "an object")
    try:
        text = json.dumps(value, ensure_ascii=False).encode("utf-8", "backslashreplace").decode("utf-8")
    except (ValueError, RecursionError):     # lone surrogates are escaped; only absurd nesting gets here
        text = "..."
    return f"{kind} ({text if len(text) <= limit else text[:limit] + '...'})"


def resolved_folder(folder: os.PathLike) -> Path:
    """The payload folder as ``parse`` compares it (symlinks resolved)."""
    return Path(os.path.realpath(folder))


def _where_problem(text: str, kind: str, folder: Optional[Path]) -> Optional[str]:
    """Why a path field may not name ``text`` (None when it may)."""
    if not text or "\0" in text:
        return "an empty name or one with a NUL character"
    try:
        os.fsencode(text)                       # a lone surrogate: no file system name encodes it
        if kind == PAYLOAD:
            if folder is None:
                return "a payload (this worker was started without a payload folder)"
            if Path(os.path.realpath(text)).parent != folder:
                return "outside the payload folder (symlinks resolved)"
            return None
        if not os.path.isabs(text):
            return "not an absolute path"
        if export_format_of(text) is None:
            return "not a name with one of those extensions"
    except (ValueError, OSError):
        return "not a usable file name"
    return None


def _check_field(op: str, field: Field, value: Any, folder: Optional[Path], job_id: int) -> None:
    if not field.type.accepts(value):
        raise BadRequest(f"The {op} request's {field.name!r} must be {field.type.expected}, not {_shown(value)}.",
                         job_id)
    if field.path is not None:
        problem = _where_problem(value, field.path, folder)
        if problem is not None:
            where = (f"a file in the payload folder {folder}" if field.path == PAYLOAD else
                     f"an absolute file name ending in {_EXPORT_SUFFIXES}")
            raise BadRequest(f"The {op} request's {field.name!r} must be {where}, not {_shown(value, 300)}: "
                             f"that is {problem}.", job_id)
    for name, entry in value.items() if field.entries else ():
        expected = field.entries.get(name)
        if expected is not None and not expected.accepts(entry):
            raise BadRequest(f"The {op} request's {field.name!r} entry {name!r} must be {expected.expected}, "
                             f"not {_shown(entry)}.", job_id)


def _decoded(line: bytes) -> Request:
    if len(line) > MAX_LINE_BYTES:
        raise BadRequest(f"The worker received a line longer than {MAX_LINE_BYTES:,} bytes; requests are short "
                         "JSON lines (pixels travel in payload files).")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest("The worker received a line that is not UTF-8 text.", detail=str(error)) from None
    try:
        message = json.loads(text)
    except (ValueError, RecursionError) as error:   # RecursionError: nesting deeper than the parser goes
        raise BadRequest("The worker received a line that is not JSON.", detail=f"{error}: {text[:200]!r}") from None
    if not isinstance(message, dict):
        raise BadRequest(f"The worker received {_shown(message)}, not a request (a JSON object).")
    return message


def parse(line: bytes, folder: Optional[Path]) -> Request:
    """The request on ``line`` with every field checked, or BadRequest. ``folder``: the payload folder as
    ``resolved_folder`` gives it (None: payloads are refused)."""
    message = _decoded(line)
    job_id = message.get("id")
    if not _is_integer(job_id):
        raise BadRequest(f"The request's 'id' must be an integer, not {_shown(job_id)}.")
    op = message.get("op")
    if not isinstance(op, str) or op not in FIELDS:
        raise BadRequest(f"Unknown request {_shown(op)}; the worker knows {', '.join(protocol.OPS)}.", job_id)
    fields = FIELDS[op]
    unknown = sorted(set(message) - set(COMMON) - {field.name for field in fields})
    if unknown:
        known = ", ".join(repr(field.name) for field in fields) or "none"
        raise BadRequest(f"The {op} request has no field {unknown[0]!r} (its fields: {known}).", job_id)
    for field in fields:
        value = message.get(field.name)
        if value is None:
            if field.required:
                raise BadRequest(f"The {op} request has no {field.name!r} ({field.type.expected}).", job_id)
            continue
        _check_field(op, field, value, folder, job_id)
    return message
