"""Video upscaling speed: frames per second of the whole pipeline (decode, upscale, encode, mux) at 480p and 720p
input, x2 and x4, with realesr-animevideov3. Prints a table; nothing is asserted.

    .venv/bin/python bench/video_bench.py [--frames 3] [--device cpu] [--weights-dir tests/data/weights]
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_data import REPO, WEIGHTS

sys.path.insert(0, str(REPO))

from krita_realesrgan.video.ffmpeg import ffmpeg_binary  # noqa: E402
from krita_realesrgan.video.options import VideoOptions  # noqa: E402
from krita_realesrgan.video.pipeline import upscale_video  # noqa: E402
from krita_realesrgan.common.formats import UpscaleOptions  # noqa: E402
from krita_realesrgan.common.geometry import Extent  # noqa: E402

SIZES = {"480p": Extent(854, 480), "720p": Extent(1280, 720)}
SCALES = (2, 4)
RATE = 24


def make_clip(folder: Path, extent: Extent, frames: int) -> Path:
    clip = folder / f"bench_{extent.height}p.mp4"
    seconds = frames / RATE
    subprocess.run([ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", f"testsrc2=size={extent.width}x{extent.height}:rate={RATE}:duration={seconds}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(clip)], check=True)
    return clip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--weights-dir", type=Path, default=WEIGHTS)
    args = parser.parse_args()

    from krita_realesrgan.engine import Upscaler
    import torch
    upscaler = Upscaler(args.weights_dir)   # one warm model for every run, like the CLI
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for label, extent in SIZES.items():
            clip = make_clip(folder, extent, args.frames)
            for scale in SCALES:
                options = VideoOptions(UpscaleOptions(scale=scale, device=args.device))
                target = folder / f"out_{label}_x{scale}.mp4"
                started = time.perf_counter()
                report = upscale_video(clip, target, options, upscaler=upscaler)
                total = time.perf_counter() - started
                rows.append((label, f"x{scale}", f"{report.extent}", report.frames, report.frames / total,
                             report.seconds_upscaling / report.frames, total - report.seconds_upscaling))
    print(f"\nrealesr-animevideov3 video, {args.device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), {args.frames} frames per run\n")
    header = ("input", "scale", "output", "frames", "frames/s", "s/frame (engine)", "other s (ffmpeg, io)")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for label, scale, out, frames, fps, engine, other in rows:
        print(f"| {label} | {scale} | {out} | {frames} | {fps:.3f} | {engine:.2f} | {other:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
