"""Upscale a large synthetic-from-real image and print seconds and peak RSS (used by tests and the bench).

    python bench/memory_probe.py --size 2000 --scale 4 [--tile 0] [--weights DIR]
Prints one JSON line: {"seconds", "peak_rss_mb", "output": [h, w, c], "tile"}.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import cv2

from bench_data import IMAGES, REPO, WEIGHTS

sys.path.insert(0, str(REPO))

from krita_realesrgan.engine import Upscaler  # noqa: E402
from krita_realesrgan.common.formats import PixelFormat, UpscaleOptions  # noqa: E402
from krita_realesrgan.imagefile import read_image  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--scale", type=float, default=4)
    parser.add_argument("--tile", type=int, default=0)
    parser.add_argument("--image", default=str(IMAGES / "OST_009.png"))
    parser.add_argument("--weights", default=str(WEIGHTS))
    args = parser.parse_args()
    photo, _ = read_image(Path(args.image))
    image = cv2.resize(photo[..., :3], (args.size, args.size), interpolation=cv2.INTER_CUBIC)
    upscaler = Upscaler(Path(args.weights))
    started = time.perf_counter()
    result = upscaler.upscale(image, PixelFormat("uint8", 3), UpscaleOptions(scale=args.scale, tile=args.tile))
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": round(seconds, 2), "peak_rss_mb": round(peak_kb / 1024, 1),
                      "output": list(result.image.shape), "tile": result.tile,
                      "mean": float(result.image.mean())}))


if __name__ == "__main__":
    main()
