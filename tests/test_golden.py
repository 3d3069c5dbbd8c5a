"""Acceptance: the engine reproduces the reference Real-ESRGAN outputs (tests/data/golden).

Untiled, float32, realesr-animevideov3, colour under transparency left as it is (the reference's behaviour):
every pixel within 1 level (8-bit) or 257 (16-bit, i.e. one 8-bit level) of the reference.
"""
from __future__ import annotations

import numpy as np
import pytest

from krita_realesrgan.common.formats import NO_TILING, UpscaleOptions
from krita_realesrgan.imagefile import read_image

CASES = [
    (4, "0014", "0014.jpg"),
    (4, "children-alpha", "children-alpha.png"),
    (4, "tree_alpha_16bit", "tree_alpha_16bit.png"),
    (4, "wolf_gray", "wolf_gray.jpg"),
    (2, "0014", "0014.jpg"),
    (2, "wolf_gray", "wolf_gray.jpg"),
]


@pytest.mark.parametrize("scale,stem,source", CASES, ids=[f"x{s}-{n}" for s, n, _ in CASES])
def test_matches_reference(upscaler, images, golden, scale, stem, source):
    image, fmt = read_image(images / source)
    expected, expected_fmt = read_image(golden / f"realesr-animevideov3_x{scale}" / f"{stem}.png")
    assert expected_fmt == fmt  # the reference keeps the input's layout and depth, and so must we

    options = UpscaleOptions(model="realesr-animevideov3", scale=scale, tile=NO_TILING, precision="fp32",
                             fill_transparent=False)
    result = upscaler.upscale(image, fmt, options)

    assert result.image.shape == expected.shape
    assert result.image.dtype == expected.dtype
    difference = np.abs(result.image.astype(np.int64) - expected.astype(np.int64))
    tolerance = 257 if fmt.dtype == "uint16" else 1
    assert difference.max() <= tolerance, f"max difference {difference.max()}"
    # and not trivially: most pixels are exactly equal
    assert (difference == 0).mean() > 0.95
