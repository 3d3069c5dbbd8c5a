"""The repository's own checks, run with the suite so that CI runs them from the README's one test command:
ruff over everything (pyproject.toml [tool.ruff]) and mypy over the standard-library modules the editors vendor
(``krita_realesrgan/common``: the contract between the plugins and the engine)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from krita_realesrgan import common

REPO = Path(__file__).resolve().parents[1]


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
