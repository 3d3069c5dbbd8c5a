"""Engine speed and memory on real images, side by side with a reference-style run of the same network.

    .venv/bin/python bench/engine_bench.py [--repeat 2] [--weights tests/data/weights/realesr-animevideov3.pth]

"reference-style" reproduces how the reference implementation runs the network (NCHW contiguous tensors,
torch.no_grad, alpha in a second network pass); the other rows are this engine's pipeline end to end
(normalise, tiles, blend, restore). Each configuration runs in a fresh process so peak RSS is its own.
Prints a Markdown table; times are the best of --repeat runs after one warm-up.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from bench_common import Picture, best_of, peak_rss_mb
from bench_data import ANIMEVIDEO_PTH

IMAGES = {picture.label: picture for picture in (
    Picture("photo 512x256 RGB", "OST_009.png", (0, 0, 512, 256)),
    Picture("cartoon 179x179 RGB", "0014.jpg"),
    Picture("grey 236x236", "wolf_gray.jpg"),
    Picture("photo 566x350 RGBA", "children-alpha.png"),
)}
CONFIGS = ["reference-style", "fp32", "fp32 tile 128", "fp32 tile 256", "bf16"]


def reference_style(image, fmt, weights):
    """The reference's way: float NCHW, no_grad, grey->RGB, alpha as a second pass."""
    import torch
    from krita_realesrgan.models import read_state_dict
    import spandrel
    model = spandrel.ModelLoader().load_from_state_dict(read_state_dict(weights)).model.eval()
    scale = 255.0 if fmt.dtype == "uint8" else 65535.0

    def once():
        img = image.astype(np.float32) / scale
        if img.ndim == 2:
            img = np.repeat(img[:, :, None], 3, axis=2)
        passes = [img[:, :, :3]] + ([np.repeat(img[:, :, 3:4], 3, axis=2)] if fmt.has_alpha else [])
        outs = []
        with torch.no_grad():
            for p in passes:
                x = torch.from_numpy(np.transpose(p, (2, 0, 1)).copy()).unsqueeze(0)
                outs.append(model(x).squeeze().clamp_(0, 1).numpy())
        return outs
    return once


def engine_run(image, fmt, config, weights):
    from krita_realesrgan import devices
    from krita_realesrgan.engine import Upscaler
    from dataclasses import replace
    from krita_realesrgan.backends import choice
    devices.cpu_has_bfloat16 = lambda: True  # measure bf16 even where the engine would refuse it
    facts = choice.probe()
    choice.probe = lambda: replace(facts, cpu_bf16=True)
    from krita_realesrgan.common.formats import NO_TILING, UpscaleOptions
    upscaler = Upscaler(weights.parent)
    tile = int(config.split("tile ")[1]) if "tile" in config else NO_TILING
    options = UpscaleOptions(model=str(weights), tile=tile, precision="bf16" if "bf16" in config else "fp32",
                             fill_transparent=False)
    return lambda: upscaler.upscale(image, fmt, options)


def child(name, config, repeat, weights):
    image, fmt = IMAGES[name].load()
    run = reference_style(image, fmt, weights) if config == "reference-style" else engine_run(image, fmt, config,
                                                                                               weights)
    run()  # warm-up (model load, allocator)
    best = best_of(run, repeat)
    print(json.dumps({"seconds": best, "peak_rss_mb": peak_rss_mb()}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--weights", default=str(ANIMEVIDEO_PTH))
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    weights = Path(args.weights)
    if args.child:
        child(args.child[0], args.child[1], args.repeat, weights)
        return
    import torch
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, model {weights.name}, x4\n")
    print("| image | " + " | ".join(CONFIGS) + " |")
    print("|---|" + "---|" * len(CONFIGS))
    for name in IMAGES:
        cells, base = [], None
        for config in CONFIGS:
            out = subprocess.run([sys.executable, __file__, "--repeat", str(args.repeat), "--weights", str(weights),
                                  "--child", name, config], capture_output=True, text=True, check=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            base = base or result["seconds"]
            cells.append(f"{result['seconds']:.2f} s ({base / result['seconds']:.2f}x), {result['peak_rss_mb']:.0f} MB")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\n(ratio = reference-style time / this configuration's time; higher is faster)")


if __name__ == "__main__":
    main()
