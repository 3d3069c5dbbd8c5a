"""Peak memory stays bounded for big inputs: 2000x2000 RGB x4 on the CPU under 2.5 GB peak RSS."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from data_paths import REPO



@pytest.mark.slow
def test_2000px_x4_stays_under_2_5_gb(shared_weights, images):
    probe = subprocess.run([sys.executable, str(REPO / "bench" / "memory_probe.py"), "--size", "2000",
                            "--scale", "4", "--weights", str(shared_weights),
                            "--image", str(images / "OST_009.png")],
                           capture_output=True, text=True, timeout=1200, check=True)
    report = json.loads(probe.stdout.strip().splitlines()[-1])
    assert report["output"] == [8000, 8000, 3]
    assert report["tile"] > 0, "a 2000x2000 x4 run on the CPU must be tiled"
    assert report["peak_rss_mb"] < 2500, report
    assert 40 < report["mean"] < 220, "the output holds the picture, not a blank image"
