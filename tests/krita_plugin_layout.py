"""Assemble the Krita plugin the way installer.py lays it out (plugin package + vendored stdlib engine modules)."""
from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PLUGIN_SOURCE = REPO / "plugin" / "krita"
PACKAGE = "realesrgan_upscale"


def assemble(pykrita: Path) -> Path:
    """Copy ``plugin/krita`` into ``pykrita`` and vendor ``common.vendored_files()``."""
    import sys
    sys.path.insert(0, str(REPO))
    from krita_realesrgan import common

    pykrita.mkdir(parents=True, exist_ok=True)
    shutil.copy2(PLUGIN_SOURCE / f"{PACKAGE}.desktop", pykrita / f"{PACKAGE}.desktop")
    target = pykrita / PACKAGE
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(PLUGIN_SOURCE / PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__"))
    vendored = target / "krita_realesrgan"
    vendored.mkdir(exist_ok=True)
    for name in common.vendored_files():
        source = REPO / "krita_realesrgan" / name
        if source.exists():
            (vendored / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, vendored / name)
    return target
