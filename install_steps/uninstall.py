"""Removing exactly what the manifest says the installer added, and putting back what it changed."""
from __future__ import annotations

import shutil
from pathlib import Path

from .config import restore_config
from .console import Console
from .files import rewrite_keeping_mode
from .kritarc import kritarc_restore
from .manifest import Manifest
from .plugins import plugin_roots


def remove_installed(manifest: Manifest, console: Console) -> None:
    """Files, bytecode caches beside our plugin modules, kritarc lines, the config, the venv, the manifest itself
    and, last, the folders the installer created (those still empty: anything of the user's keeps its folder)."""
    console.step("Removing what the installer added")
    for path in sorted(manifest.files):
        if Path(path).exists():
            Path(path).unlink()
            console.ok(f"removed {path}")
    for root in plugin_roots(manifest):  # the editors' Python leaves bytecode caches next to our modules
        for cache in Path(root).rglob("__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)
    for kritarc, record in manifest.data["kritarc"].items():
        rc = Path(kritarc)
        if not rc.exists():
            continue
        restored = kritarc_restore(rc.read_bytes().decode("utf-8"), record)
        if record.get("created_file") and not restored.strip():
            rc.unlink()
            console.ok(f"removed {kritarc} (the installer had created it)")
        else:
            rewrite_keeping_mode(rc, restored.encode("utf-8"))
            console.ok(f"plugin entry removed from {kritarc}")
    config = manifest.data.get("config")
    if config:
        restore_config(Path(config["path"]), config.get("previous"), console)
    if manifest.data.get("venv"):
        shutil.rmtree(manifest.data["venv"], ignore_errors=True)
        console.ok(f"removed the engine environment {manifest.data['venv']}")
    manifest.path.unlink()
    for folder in sorted(manifest.data["dirs"], key=lambda d: -len(Path(d).parts)):
        try:
            Path(folder).rmdir()
        except OSError:
            pass  # not empty (something of the user's) or already gone
    console.info("done")
