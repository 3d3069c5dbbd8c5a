"""The test data in tests/data is what tests/data/README.md says: the weights are the recorded file."""
from __future__ import annotations

import hashlib

from data_paths import WEIGHTS, require
from krita_realesrgan.common import catalog


def recorded_sums() -> dict:
    """File name -> SHA-256 from tests/data/weights/SHA256SUMS (sha256sum's format)."""
    sums = {}
    for line in require(WEIGHTS / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name] = digest
    return sums


def test_test_weights_match_their_recorded_sha256():
    sums = recorded_sums()
    assert "realesr-animevideov3.pth" in sums
    for name, digest in sums.items():
        assert hashlib.sha256(require(WEIGHTS / name).read_bytes()).hexdigest() == digest, name


def test_test_weights_are_a_resaved_copy_not_the_release_file():
    # weights/LICENSE says so, and the installer keeps the release's hash for downloads
    assert recorded_sums()["realesr-animevideov3.pth"] != catalog.get("realesr-animevideov3").sha256
