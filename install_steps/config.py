"""The config file the plugins and the engine read (``krita_realesrgan.common.paths``): written when it changes, with
what was there before kept in the manifest so that uninstall can put it back."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from krita_realesrgan.common import paths

from .console import Console
from .manifest import Manifest


def write_config_if_changed(python: str, weights: Path, console: Console, manifest: Manifest) -> None:
    path = paths.config_file()
    wanted = {"version": paths.CONFIG_VERSION, "python": str(python), "weights": str(weights)}
    try:
        previous_bytes = path.read_bytes()
        current = json.loads(previous_bytes.decode("utf-8"))
    except (OSError, ValueError):
        previous_bytes, current = None, None
    if isinstance(current, dict) and all(current.get(key) == value for key, value in wanted.items()):
        console.ok(f"config {path} is up to date")
        return
    if manifest.data.get("config") is None:
        manifest.data["config"] = {"path": str(path),
                                   "previous": previous_bytes.decode("utf-8") if previous_bytes else None}
    manifest.ensure_dir(path.parent)
    paths.write_config(python, weights)
    console.ok(f"config written: {path} (python {python}, weights {weights})")


def restore_config(path: Path, previous: Optional[str], console: Console) -> None:
    if previous is None:
        path.unlink(missing_ok=True)
        console.ok(f"removed {path}")
    else:
        paths.atomic_write_bytes(path, previous.encode("utf-8"))
        console.ok(f"restored the earlier {path}")
