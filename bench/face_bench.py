"""Face restoration's cost: seconds a face on this computer, with GFPGANv1.4's network (random weights: the
same layers, so the same cost as the release; the real file cannot be downloaded everywhere).

    .venv/bin/python bench/face_bench.py [--faces 3] [--batch 1] [--device cpu]

Prints the CPU's model and flags, the time to build and load the network, then per batch the seconds of the
restorer alone and of the whole face step (detect on the input, align, restore, warp back, blend) on the five
children of tests/data/images/children-alpha.png upscaled x2 with Lanczos (the upscale itself is not timed).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench_data import IMAGES, REPO

sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", type=int, default=3, help="faces to restore (largest first; default 3)")
    parser.add_argument("--batch", type=int, default=None, help="faces per network call (default: the engine's)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    import cv2
    import torch

    import netbuilders
    from krita_realesrgan.backends.cpu import this_cpu
    from krita_realesrgan.faces import detect, paste
    from krita_realesrgan.faces.restorer import RestorerStore
    from krita_realesrgan.common.formats import PixelFormat
    from krita_realesrgan import pixels

    print(f"CPU: {this_cpu().describe()}; {torch.get_num_threads()} torch threads")
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        torch.save({"params_ema": netbuilders.gfpgan()}, Path(folder) / "GFPGANv1.4.pth")
        built = time.perf_counter()
        restorer = RestorerStore([Path(folder)]).get("GFPGANv1.4", args.device)
        loaded = time.perf_counter()
    if args.batch:
        restorer.batch = args.batch
    print(f"GFPGANv1.4 layout, random weights: built and saved {built - started:.1f} s, loaded "
          f"{loaded - built:.1f} s, on {restorer.device}, {restorer.batch} face(s) a call")

    image = cv2.imread(str(IMAGES / "children-alpha.png"), cv2.IMREAD_UNCHANGED)[:, :, [2, 1, 0, 3]]
    image = np.ascontiguousarray(image)
    fmt = PixelFormat("uint8", 4)
    plain = cv2.resize(image, None, fx=2, fy=2, interpolation=cv2.INTER_LANCZOS4)
    started = time.perf_counter()
    faces = detect.detect(pixels.split(image, fmt).colour)[:args.faces]
    detected = time.perf_counter()
    crops = np.random.default_rng(0).random((restorer.batch, 512, 512, 3), dtype=np.float32)
    restorer(crops)                                   # warm-up
    network = time.perf_counter()
    restorer(crops)
    network = (time.perf_counter() - network) / restorer.batch
    step = time.perf_counter()
    paste.restore_faces(plain.copy(), fmt, faces, (2.0, 2.0), restorer, 1.0)
    step = (time.perf_counter() - step) / max(1, len(faces))
    print(f"detection ({image.shape[1]}x{image.shape[0]}, {len(faces)} faces kept): {detected - started:.3f} s")
    print(f"network alone: {network:.2f} s a face")
    print(f"whole face step (align, restore, warp back, blend): {step:.2f} s a face")


if __name__ == "__main__":
    main()
