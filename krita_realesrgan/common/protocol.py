"""The worker protocol: JSON lines on the worker's stdin (requests) and stdout (events). Standard library only.

Requests (one JSON object per line; ``id`` is chosen by the client and echoed in every event of that job)::

    {"id": 1, "op": "hello"}                                    -> ready
    {"id": 2, "op": "models"}                                   -> models
    {"id": 3, "op": "upscale", "input": "<payload path>", "output": "<payload path>",
     "options": {UpscaleOptions.to_json()}}                     -> progress*, result | error | cancelled
    {"id": 4, "op": "cancel", "job": 3}                         (no reply of its own; job 3 ends with cancelled)
    {"id": 5, "op": "shutdown"}                                 -> bye, then the worker exits
    "cover" (a platform cover) and "export" (save it within a file-size limit): see ``cover.op``.

Events::

    {"id": 1, "event": "ready", "version": "...", "devices": [...], "pid": 123}
    {"id": 2, "event": "models", "models": [{"name", "file", "available", "path", "scale", "purpose", ...}]}
    {"id": 3, "event": "progress", "done": 3, "total": 12, "stage": "upscale"}
    {"id": 3, "event": "result", "output": "<payload path>", "width": W, "height": H, "seconds": 1.2,
     "device": "cpu", "precision": "fp32", "tile": 256, "backend": "openvino", "notes": [],
     "faces": "3 faces restored, 2 too small"}                   (faces: null unless options.face_enhance)
    {"id": 3, "event": "error", "error": {"kind", "message", "detail"}}
    {"id": 3, "event": "cancelled"}
    {"id": 5, "event": "bye"}

Pixel payloads never go through the pipe: they are files in the client's private temporary folder (see
``rawimage``), which the worker is given at start (``--payloads DIR``): ``input``, ``output`` and
``background_output`` must name files directly in it (symlinks resolved). ``export``'s ``path``, the user's
chosen file, is the one exception: an absolute name with an export extension.

Every field has one JSON type (``request_schema.FIELDS``; ``id`` and ``job`` are integers). A line that breaks
this (wrong type, unknown field, not JSON, not UTF-8, over ``request_schema.MAX_LINE_BYTES``) is answered with
``{"id": <its id, or null>, "event": "error", "error": {"kind": "bad_request", ...}}`` and the worker reads on;
the worker ends when its stdin closes.
Anything on the worker's stdout that is not a JSON line is ignored by the client (stray prints are logged).
"""
from __future__ import annotations

import json
from typing import Any, Dict, Optional

PROTOCOL_VERSION = 1

OPS = ("hello", "models", "upscale", "cover", "export", "cancel", "shutdown")
EVENTS = ("ready", "models", "progress", "result", "error", "cancelled", "bye")
FINAL_EVENTS = ("ready", "models", "result", "error", "cancelled", "bye")


def encode(message: Dict[str, Any]) -> bytes:
    return (json.dumps(message, separators=(",", ":")) + "\n").encode("utf-8")


def decode(line: bytes) -> Optional[Dict[str, Any]]:
    """A message from one line, or None for a line that is not a JSON object."""
    try:
        message = json.loads(line.decode("utf-8", "replace"))
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def request(job_id: int, op: str, **fields: Any) -> Dict[str, Any]:
    if op not in OPS:
        raise ValueError(f"unknown op {op!r}")
    return {"id": job_id, "op": op, **fields}


def event(job_id: Optional[int], name: str, **fields: Any) -> Dict[str, Any]:
    if name not in EVENTS:
        raise ValueError(f"unknown event {name!r}")
    return {"id": job_id, "event": name, **fields}
