"""The repository's own checks, run with the suite so that CI runs them from the README's one test command:
ruff over everything (pyproject.toml [tool.ruff]) and mypy over the standard-library modules the editors vendor
(``krita_realesrgan/common``: the contract between the plugins and the engine)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from krita_realesrgan import common
from data_paths import REPO



def run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *argv], cwd=str(REPO), capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    result = run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_accepts_the_vendored_modules():
    modules = [str(Path("krita_realesrgan") / name) for name in common.vendored_files() if name.endswith(".py")]
    assert len(modules) > 10
    result = run("mypy", *modules)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_holds_the_upscalers_to_their_protocols(tmp_path):
    """``krita_realesrgan/upscalers.py``: the engine, the command line's service stand-in and the tests' FakeUpscaler
    are checked against the protocols in tests/test_upscalers.py; a class that lacks a member is refused."""
    result = run("mypy", "krita_realesrgan/upscalers.py", "tests/helpers.py", "tests/test_upscalers.py")
    assert result.returncode == 0, result.stdout + result.stderr
    half = tmp_path / "half_upscaler.py"
    half.write_text("from krita_realesrgan.upscalers import LocalUpscaler\n\n\nclass Half:\n"
                    "    def upscale(self, image, fmt, options, progress=None, cancel=None):\n        return None\n\n\n"
                    "half: LocalUpscaler = Half()\n")
    refused = run("mypy", str(half))
    assert refused.returncode == 1 and "missing following \"LocalUpscaler\" protocol members" in refused.stdout, \
        refused.stdout + refused.stderr
