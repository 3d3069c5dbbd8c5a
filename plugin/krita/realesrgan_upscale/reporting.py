"""Errors a user can act on: what the message box says, and the detail in the log file it names. Pure Python."""
from __future__ import annotations

import traceback
from pathlib import Path
from typing import Optional

from .i18n import tr
from .krita_realesrgan.common import paths
from .krita_realesrgan.common import log_file
from .krita_realesrgan.common.errors import EngineError, Kind

# What to do, per kind of error (the engine's own message says what happened).
HINTS = {
    Kind.WEIGHTS_MISSING: "Install the model's weights with the installer, e.g. "
                          "python3 installer.py --models {model} (or pick another model).",
    Kind.ENGINE_MISSING: "The upscaling engine is not installed. Run the installer (python3 installer.py), "
                         "then restart Krita.",
    Kind.OUT_OF_MEMORY: "Choose a smaller tile size in the dialog (e.g. 128), or close other programs.",
    Kind.UNSUPPORTED_FORMAT: "Convert the image to RGBA or greyscale (Image ▸ Convert Image Color Space).",
    Kind.WORKER_DIED: "The engine process stopped unexpectedly; it will be restarted on the next run.",
    Kind.DEVICE: "Choose another device in the dialog (Auto or CPU).",
}


def write_log(error: BaseException, context: str, log_path: Optional[Path] = None) -> Path:
    """Append the error's detail (and traceback) to the log file; returns the file's path."""
    log_path = Path(log_path or paths.log_file())
    detail = error.detail if isinstance(error, EngineError) else "".join(
        traceback.format_exception(type(error), error, error.__traceback__))
    kind = error.kind if isinstance(error, EngineError) else Kind.INTERNAL
    log_file.append(log_path, f"[{log_file.stamp()}] krita plugin: {context}: {kind}: {error}\n{detail}\n")
    return log_path


def user_text(error: BaseException, log_path: Path, model: str = "") -> str:
    """The message box text: what happened, what to do, where the details are."""
    if isinstance(error, EngineError):
        lines = [error.message]
        hint = HINTS.get(error.kind)
        if hint and not ("installer.py" in hint and "installer.py" in error.message):  # said already
            lines.append(tr(hint).format(model=model or "all"))
    else:
        lines = [tr("Something went wrong inside the plugin: {error}").format(error=error)]
    lines.append(tr("Details are in the log file: {path}").format(path=log_path))
    return "\n\n".join(lines)


def faces_text(summary: str) -> str:
    """The faces line of the floating message after an upscale with faces restored ("Faces: 1 face restored");
    "" when faces were not asked for."""
    return tr("Faces: {summary}").format(summary=summary) if summary else ""
