"""Make docs/before-after.png for the README: a crop of samples/0014.jpg at x4, nearest neighbour vs the engine.

    .venv/bin/python docs/make_before_after.py [--weights DIR]

Uses the engine's own API (the same path the CLI and the plugins take) with realesr-animevideov3.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from krita_realesrgan.engine import Upscaler
from krita_realesrgan.common.formats import UpscaleOptions
from krita_realesrgan.imagefile import read_image, write_image

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "samples" / "0014.jpg"
CROP = (40, 30, 100, 100)  # x, y, width, height in the sample
SCALE = 4
GAP = 8


def label(panel: np.ndarray, text: str) -> np.ndarray:
    out = panel.copy()
    cv2.rectangle(out, (0, 0), (out.shape[1], 26), (255, 255, 255), thickness=-1)
    cv2.putText(out, text, (8, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights", type=Path, default=HERE.parent.parent / "shared" / "weights")
    parser.add_argument("--out", type=Path, default=HERE / "before-after.png")
    args = parser.parse_args()
    image, fmt = read_image(SAMPLE)
    x, y, w, h = CROP
    crop = np.ascontiguousarray(image[y:y + h, x:x + w])
    result = Upscaler(weights_dir=args.weights).upscale(
        crop, fmt, UpscaleOptions(model="realesr-animevideov3", scale=SCALE))
    nearest = np.repeat(np.repeat(crop, SCALE, axis=0), SCALE, axis=1)
    gap = np.full((nearest.shape[0], GAP, nearest.shape[2]), 255, dtype=nearest.dtype)
    side_by_side = np.concatenate([label(nearest, "before: nearest neighbour x4"), gap,
                                   label(result.image, "after: realesr-animevideov3 x4")], axis=1)
    write_image(args.out, side_by_side)
    print(f"{args.out}: {side_by_side.shape[1]}x{side_by_side.shape[0]} ({result.device}, {result.seconds:.2f} s)")


if __name__ == "__main__":
    main()
