"""Plain actors (cluster/pool.py) against Ray Data's map_batches with a callable class, on the same folder of
pictures and the same workers: seconds from the first shard handed out to the last output written (the Ray
runtime already started; each includes starting the actors and loading the model). Prints a table; nothing is
asserted. Also: one process without Ray on the same pictures, and CPU frames/s of a 720p->1440p frame.

    .venv/bin/python bench/cluster_bench.py [--files 24] [--size 128x96] [--workers 2] [--frame720]
"""
from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench_data import REPO, WEIGHTS

sys.path.insert(0, str(REPO))

import cv2  # noqa: E402

from krita_realesrgan.cli import image as upscale_cli  # noqa: E402
from krita_realesrgan.batch_plan import Naming, plan_folder  # noqa: E402
from krita_realesrgan.cluster.folder_run import file_shards, files_per_shard  # noqa: E402
from krita_realesrgan.cluster.pool import ShardPool  # noqa: E402
from krita_realesrgan.cluster.runtime import Cluster, NAMESPACE  # noqa: E402
from krita_realesrgan.cluster.worker import ShardWorker  # noqa: E402
from krita_realesrgan.common.formats import UpscaleOptions  # noqa: E402
from krita_realesrgan.common.paths import atomic_write_bytes  # noqa: E402

MODEL = "realesr-animevideov3"


def make_pictures(folder: Path, count: int, width: int, height: int) -> list:
    rng = np.random.default_rng(0)
    for number in range(count):
        picture = cv2.GaussianBlur((rng.random((height, width, 3)) * 255).astype(np.uint8), (5, 5), 1.5)
        cv2.imwrite(str(folder / f"p{number:03d}.png"), picture)
    return sorted(folder.glob("*.png"))


class DataBatch:
    """Ray Data's callable class: the same ShardWorker, one batch = one shard of files."""

    def __init__(self, weights: str):
        self.worker = ShardWorker(weights)

    def __call__(self, batch):
        options = batch["options"][0]
        outputs = self.worker.upscale_files(list(batch["file"]), options)
        return {"target": [str(o.task.target) for o in outputs], "data": [o.data for o in outputs]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=24)
    parser.add_argument("--size", default="128x96")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--frame720", action="store_true", help="also time one 1280x720 frame x2 (single process)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    import ray
    try:
        import ray.data
    except ImportError:   # Ray Data needs pandas and pyarrow: pip install 'ray[data]' (not in the cluster extra)
        ray.data = None
    options = UpscaleOptions(model=MODEL)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "in").mkdir()
        sources = make_pictures(root / "in", args.files, width, height)
        rows = []

        from krita_realesrgan.engine import Upscaler
        plan = upscale_cli.Plan(plan_folder(sources, root / "one", Naming(), {}), {}, [], [])
        started = time.perf_counter()
        upscale_cli.run_all(Upscaler(WEIGHTS), plan, options, say=lambda line: None)
        rows.append(("one process, no Ray", time.perf_counter() - started))

        ray.init(num_cpus=args.workers, include_dashboard=False, namespace=NAMESPACE, logging_level=logging.WARNING,
                 log_to_driver=False)
        cluster = Cluster("local", args.workers, {"num_cpus": 1},
                          {k: v for k, v in os.environ.items() if k.startswith("KRITA_REALESRGAN_")})
        size = files_per_shard(len(sources), args.workers)

        plan = upscale_cli.Plan(plan_folder(sources, root / "actors", Naming(), {}), {}, [], [])
        started = time.perf_counter()
        ShardPool(cluster, str(WEIGHTS)).run(
            file_shards(plan, options, size),
            lambda shard, outputs: [atomic_write_bytes(o.task.target, o.data) for o in outputs])
        rows.append((f"plain actors (pool.py), shards of {size}", time.perf_counter() - started))

        if ray.data is not None:
            plan = upscale_cli.Plan(plan_folder(sources, root / "data", Naming(), {}), {}, [], [])
            items = [{"file": item, "options": options} for shard in file_shards(plan, options, 1)
                     for item in shard.args[0]]
            started = time.perf_counter()
            dataset = ray.data.from_items(items).map_batches(
                DataBatch, fn_constructor_args=(str(WEIGHTS),), batch_size=size, concurrency=args.workers,
                num_cpus=1, batch_format="numpy")
            for row in dataset.iter_rows():
                atomic_write_bytes(Path(row["target"]), row["data"])
            rows.append((f"Ray Data map_batches, batches of {size}", time.perf_counter() - started))
        else:
            print("Ray Data is not installed (pip install 'ray[data]'): its row is left out")
        ray.shutdown()
        written = {name: len(list((root / name).glob("*.png"))) for name in ("one", "actors", "data")}

    print(f"{args.files} pictures {width}x{height}, {MODEL} x4, {args.workers} CPU workers; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; outputs {written}")
    for name, seconds in rows:
        print(f"  {name:45s} {seconds:7.1f} s  {args.files / seconds:6.2f} pictures/s")
    if args.frame720:
        from krita_realesrgan.engine import Upscaler
        from krita_realesrgan.common.formats import PixelFormat
        upscaler = Upscaler(WEIGHTS)
        frame = cv2.GaussianBlur((np.random.default_rng(1).random((720, 1280, 3)) * 255).astype(np.uint8),
                                 (5, 5), 1.5)
        x2 = UpscaleOptions(model=MODEL, scale=2)
        upscaler.upscale(frame, PixelFormat("uint8", 3), x2)   # warm: network loaded, converted, compiled
        started = time.perf_counter()
        result = upscaler.upscale(frame, PixelFormat("uint8", 3), x2)
        seconds = time.perf_counter() - started
        print(f"  one 1280x720 frame -> 2560x1440 ({result.backend} {result.device} {result.precision}): "
              f"{seconds:.2f} s = {1 / seconds:.3f} frames/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
