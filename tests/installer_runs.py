"""Running installer.py as a user would, for the installer tests (test_installer, test_bad_input_media): a
subprocess with HOME pointing at a temporary folder, XDG_* and KRITA_REALESRGAN_* removed, ``--engine-python`` set
to this interpreter (so no torch is installed) and ``--offline``; and a ``WeightFetcher`` on its own for the
download tests. The ``home`` and ``plugin_source`` fixtures are in conftest.py."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from data_paths import ANIMEVIDEO_PTH, REPO, require

sys.path.insert(0, str(REPO))  # as installer.py does: its install_steps package sits beside it, not installed
from install_steps.console import Console  # noqa: E402
from install_steps.manifest import Manifest  # noqa: E402
from install_steps.weights import WeightFetcher  # noqa: E402

INSTALLER = REPO / "installer.py"


def clean_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("XDG_", "KRITA_REALESRGAN_")) and k not in ("APPDATA", "LOCALAPPDATA")}
    env["HOME"] = str(home)
    env["PYTHONPATH"] = str(REPO)  # --engine-python is this interpreter with this checkout's engine
    return env


def run_installer(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, str(INSTALLER), *args], env=clean_env(home), cwd=str(home),
                          capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    if check:
        assert done.returncode == 0, output
    return SimpleNamespace(rc=done.returncode, out=output)


def standard_args(home: Path, plugin_source: Path, *extra: str) -> list:
    return ["--engine-python", sys.executable, "--offline", "--plugin-source", str(plugin_source),
            "--krita-resources", str(home / ".local/share/krita"),
            "--gimp-plugins", str(home / ".config/GIMP/3.0/plug-ins"), *extra]


def install_with_shared_weights(home: Path, plugin_source: Path, *extra: str):
    shared = require(ANIMEVIDEO_PTH).parent
    return run_installer(home, *standard_args(home, plugin_source, "--models", "realesr-animevideov3",
                                              "--weights-from", str(shared), *extra))


def fetcher(tmp_path, mirror=None, weights_from=None):
    args = SimpleNamespace(mirror=mirror, weights_from=weights_from, ncnn_pack=None, offline=False)
    manifest = Manifest(tmp_path / "manifest.json")
    console = Console(stream=io.StringIO())
    weights = tmp_path / "weights"
    weights.mkdir()
    return WeightFetcher(weights, args, console, manifest, sys.executable), weights, console, manifest
