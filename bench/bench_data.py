"""Where the benchmarks find their default inputs: the repository's test data (tests/data/README.md).

Each benchmark takes its inputs as options too; these are only the defaults.
"""
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEST_DATA = REPO / "tests" / "data"
IMAGES = TEST_DATA / "images"
WEIGHTS = TEST_DATA / "weights"                      # holds realesr-animevideov3.pth
ANIMEVIDEO_PTH = WEIGHTS / "realesr-animevideov3.pth"
