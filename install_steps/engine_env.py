"""The engine's environment: a venv (or a python the user names) with torch and the krita_realesrgan package."""
from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Optional

from krita_realesrgan.common import paths
from krita_realesrgan import __version__

from . import REPO
from .console import Console
from .manifest import Manifest
from .processes import ENGINE_PROBE, probe_python, run
from .torch_build import ensure_torch

VENV_STAMP = "krita-realesrgan-install.json"


def engine_digest(dev: bool) -> str:
    """What the installed engine was built from: an editable install depends only on pyproject.toml."""
    files = [REPO / "pyproject.toml"]
    if not dev:
        files += sorted((REPO / "krita_realesrgan").rglob("*.py")) + sorted((REPO / "krita_realesrgan").rglob("*.json"))
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def engine_extras(args) -> list:
    """The package's extras to install: the tests' and the cluster's for --dev, the cluster's for --with-ray."""
    return ["test", "cluster"] if args.dev else (["cluster"] if getattr(args, "with_ray", False) else [])


def prepare_engine(args, console: Console, manifest: Optional[Manifest]) -> Optional[str]:
    """Return the engine's python (creating/updating the venv unless --engine-python); None on failure."""
    if args.engine_python:
        python = os.path.abspath(args.engine_python)
        console.step(f"Engine: using the existing python {python}")
        found = probe_python(python, ENGINE_PROBE)
        if not found:
            console.fail(f"{python} cannot import krita_realesrgan. Install the engine into it "
                         f"(pip install {REPO}) or leave out --engine-python to get a venv made for you.")
            return None
        console.ok(f"krita_realesrgan {found['version']} ({found['file']})")
        return python

    venv = Path(args.venv).absolute() if args.venv else (REPO / ".venv" if args.dev else paths.default_venv())
    python = str(paths.venv_python(venv))
    console.step(f"Engine environment: {venv}")
    if not Path(python).exists():
        if manifest is not None:
            manifest.ensure_dir(venv.parent)  # so uninstall also removes the folders above the venv
        created = run([sys.executable, "-m", "venv", str(venv)], console)
        if created.returncode != 0 or not Path(python).exists():
            console.fail("could not create the virtual environment. On Debian/Ubuntu install the venv module "
                         "first: sudo apt-get install python3-venv")
            return None
        if manifest is not None and manifest.data.get("venv") is None and not args.dev:
            manifest.data["venv"] = str(venv)
        console.ok("virtual environment created")
    else:
        console.ok("virtual environment exists")

    if not ensure_torch(python, args, console):
        return None
    if not ensure_engine_package(python, venv, args, console):
        return None
    return python


def ensure_engine_package(python: str, venv: Path, args, console: Console) -> bool:
    stamp_path = venv / VENV_STAMP
    extras = engine_extras(args)
    wanted = {"repo": str(REPO), "dev": bool(args.dev), "digest": engine_digest(args.dev), "version": __version__,
              "extras": extras}
    try:
        current = json.loads(stamp_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        current = None
    if current == wanted and probe_python(python, ENGINE_PROBE):
        console.ok(f"krita-realesrgan {__version__} already installed and up to date")
        return True
    target = f"{REPO}[{','.join(extras)}]" if extras else str(REPO)
    cmd = [python, "-m", "pip", "install", *(["-e"] if args.dev else []), target]
    if run(cmd, console).returncode != 0:
        console.fail("the engine package did not install (see pip's message above)")
        return False
    paths.atomic_write_bytes(stamp_path, (json.dumps(wanted, indent=1) + "\n").encode("utf-8"))
    console.ok(f"krita-realesrgan {__version__} installed" + (" (editable)" if args.dev else "")
               + (f" with the {' and '.join(extras)} extras" if extras else ""))
    return True
