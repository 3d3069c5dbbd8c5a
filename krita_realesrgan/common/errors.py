"""Errors the engine reports to people. Standard library only (the plugins receive them through the worker).

Every error has a ``kind`` that callers can act on, a ``message`` meant for the user (one or two sentences,
what happened and what to do) and a ``detail`` for the log file.
"""
from __future__ import annotations

from typing import Optional


class Kind:
    BAD_INPUT = "bad_input"                  # unreadable/corrupt file, empty image, wrong array shape
    BAD_REQUEST = "bad_request"              # a worker request that breaks the protocol (see request_schema)
    UNSUPPORTED_FORMAT = "unsupported_format"  # colour model/dtype the engine cannot take
    UNKNOWN_MODEL = "unknown_model"          # not in the catalog and not a file
    WEIGHTS_MISSING = "weights_missing"      # catalog model whose file is not installed
    BAD_WEIGHTS = "bad_weights"              # a file that is not a usable upscaler
    UNSAFE_FILE = "unsafe_file"              # a pickle that wants to run code
    OUT_OF_MEMORY = "out_of_memory"          # even the smallest tile did not fit
    TOO_LARGE = "too_large"                  # the result would exceed the pixel limit (raise it to go on)
    BUSY = "busy"                            # the engine service has as many jobs queued as it takes
    DEVICE = "device"                        # requested device/precision not available
    ENGINE_MISSING = "engine_missing"        # (client side) the engine python is not installed
    WORKER_DIED = "worker_died"              # (client side) the worker process ended unexpectedly
    CANCELLED = "cancelled"
    INTERNAL = "internal"                    # a bug: the detail has the traceback


INSTALLER_COMMAND = "python3 installer.py"        # installs the engine (and default models)
INSTALL_HINT = INSTALLER_COMMAND + " --models {models}"


class EngineError(Exception):
    def __init__(self, kind: str, message: str, detail: Optional[str] = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.detail = detail or message

    def to_json(self) -> dict:
        return {"kind": self.kind, "message": self.message, "detail": self.detail}

    @classmethod
    def from_json(cls, data: dict) -> "EngineError":
        return cls(str(data.get("kind", Kind.INTERNAL)), str(data.get("message", "unknown error")),
                   data.get("detail"))

    def __repr__(self) -> str:
        return f"EngineError({self.kind!r}, {self.message!r})"


class Cancelled(EngineError):
    def __init__(self, message: str = "Cancelled."):
        super().__init__(Kind.CANCELLED, message)
