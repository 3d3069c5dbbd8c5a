"""The manifest: what the installer added (files with hashes, folders it created, kritarc edits, config, venv).

Its JSON format is read back by ``--uninstall`` of every later version, so existing installs stay removable:
change it only in ways an older manifest still loads into.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict

from krita_realesrgan.common import paths

from .files import write_if_changed

MANIFEST_NAME = "install-manifest.json"
MANIFEST_VERSION = 1


def manifest_path() -> Path:
    return paths.data_dir() / MANIFEST_NAME


class Manifest:
    """Saved as JSON in the data folder, rewritten only when its content changes (a repeated run touches nothing)."""

    def __init__(self, path: Path):
        self.path = path
        self.data = {"version": MANIFEST_VERSION, "dirs": [], "files": {}, "kritarc": {}, "config": None,
                     "venv": None, "models": []}
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(stored, dict):
                self.data.update(stored)
        except (OSError, ValueError):
            pass
        self.existed = path.exists()

    @property
    def files(self) -> Dict[str, dict]:
        return self.data["files"]

    def record_file(self, path: Path, **info) -> None:
        self.files[str(path)] = info

    def forget_file(self, path: Path) -> None:
        self.files.pop(str(path), None)

    def ensure_dir(self, path: Path) -> Path:
        """mkdir -p, remembering each folder it had to create (so uninstall can remove them again)."""
        path = Path(path)
        missing = []
        probe = path
        while not probe.exists():
            missing.append(probe)
            probe = probe.parent
        for folder in reversed(missing):
            folder.mkdir()
            if str(folder) not in self.data["dirs"]:
                self.data["dirs"].append(str(folder))
        return path

    def save(self) -> None:
        self.ensure_dir(self.path.parent)  # first: a folder it creates is recorded in the text below
        text = json.dumps(self.data, indent=1, sort_keys=True) + "\n"
        write_if_changed(self.path, text.encode("utf-8"))
