"""Backends side by side: PyTorch and OpenVINO, exact (float32) and bf16 where the CPU has it natively.

    .venv/bin/python bench/backend_bench.py [--repeat 3] [--model realesr-animevideov3] [--weights-dir DIR]

One table, one run (a couple of minutes on 2 cores): for each picture and configuration, the best of
``--repeat`` warm runs of the engine's whole upscale (untiled), the first run (loading, converting or reading
the stored network, compiling for the shape), the speed ratio to PyTorch float32, and the error against
PyTorch float32 in 8-bit levels (mean and max). bf16 rows appear only where the CPU computes bf16 natively
(AVX512-BF16 or AMX); the engine never picks an emulated precision. The CPU's model and flags head the table.
OpenVINO's converted network lives in the engine's cache (``paths.cache_dir()``): a first "first run" includes
the conversion, later runs of the bench find it stored.
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from bench_data import IMAGES as IMAGE_DIR
from bench_data import REPO, WEIGHTS

sys.path.insert(0, str(REPO))

PICTURES = {
    "cartoon 0014.jpg 179x179": ("0014.jpg", None),
    "photo OST_009.png 256x256 crop": ("OST_009.png", (0, 0, 256, 256)),
}


def load(name):
    from krita_realesrgan.imagefile import read_image
    file, crop = PICTURES[name]
    image, fmt = read_image(IMAGE_DIR / file)
    if crop:
        x, y, w, h = crop
        image = np.ascontiguousarray(image[y:y + h, x:x + w])
    return image, fmt


def configurations(bf16: bool):
    rows = [("torch", "fp32"), ("openvino", "fp32")]
    if bf16:
        rows[1:1] = [("torch", "bf16")]
        rows.append(("openvino", "bf16"))
    return rows


def measure(upscaler, image, fmt, options, repeat: int):
    started = time.perf_counter()
    result = upscaler.upscale(image, fmt, options)
    first = time.perf_counter() - started
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        upscaler.upscale(image, fmt, options)
        best = min(best, time.perf_counter() - started)
    return result, first, best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", default="realesr-animevideov3")
    parser.add_argument("--weights-dir", default=str(WEIGHTS))
    args = parser.parse_args()

    import openvino
    import torch
    from krita_realesrgan.backends.choice import probe
    from krita_realesrgan.backends.cpu import this_cpu
    from krita_realesrgan.engine import Upscaler
    from krita_realesrgan.formats import NO_TILING, UpscaleOptions

    facts = probe()
    print(f"CPU: {this_cpu().describe()}; {torch.get_num_threads()} torch threads")
    print(f"torch {torch.__version__}, OpenVINO {openvino.get_version()}, model {args.model}, x4, untiled, "
          f"best of {args.repeat} warm runs; native bf16: {'yes' if facts.cpu_bf16 else 'no (bf16 rows left out)'}\n")
    print("| picture | backend | precision | seconds | first run | speed vs torch fp32 | error mean / max (levels) |")
    print("|---|---|---|---|---|---|---|")
    upscaler = Upscaler(args.weights_dir)
    for name in PICTURES:
        image, fmt = load(name)
        exact = base = None
        for backend, precision in configurations(facts.cpu_bf16):
            options = UpscaleOptions(model=args.model, tile=NO_TILING, device="cpu", backend=backend,
                                     precision=precision, fill_transparent=False)
            result, first, best = measure(upscaler, image, fmt, options, args.repeat)
            if exact is None:
                exact, base = result.image, best
            difference = np.abs(result.image.astype(np.int64) - exact.astype(np.int64))
            error = "–" if result.image is exact else f"{difference.mean():.3f} / {difference.max()}"
            print(f"| {name} | {result.backend} | {result.precision} | {best:.3f} | {first:.2f} | "
                  f"{base / best:.2f}x | {error} |", flush=True)


if __name__ == "__main__":
    main()
