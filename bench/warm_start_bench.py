"""The worker an editor starts (issue 13, item 4): seconds until it answers hello, and its first upscale against
its second, with the engine cache warm (a stored OpenVINO conversion and compiled model) and cold.

    python bench/warm_start_bench.py [--size 256] [--model realesr-animevideov3] [--runs 2] [--weights DIR]

Each run: a new ``EngineClient`` (a new worker process), start (= ready), then the same ``--size`` square
(tests/data 0014.jpg) upscaled ×4 three times; the first and second upscales' wall seconds seen by the client.
"Cold" runs with an empty cache folder; "warm" reuses the cache the cold run filled. Also says whether the
worker had imported torch when it answered hello (its log line ``hello: torch not imported``). Nothing asserted.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from bench_data import IMAGES, REPO, WEIGHTS

sys.path.insert(0, str(REPO))

from krita_realesrgan.common.client import EngineClient  # noqa: E402
from krita_realesrgan.common.formats import PixelFormat, UpscaleOptions  # noqa: E402
from krita_realesrgan.common.geometry import Extent  # noqa: E402
from krita_realesrgan.common.paths import ENV_CACHE  # noqa: E402


def hello_line(log: Path, pid: int) -> str:
    """What the worker's log says about torch at hello ("torch not imported")."""
    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if f"worker[{pid}]" in line
             and "hello:" in line]
    return lines[-1].split("hello:", 1)[1].strip() if lines else "?"


def one_process(size: int, model: str, weights: Path, cache: Path, log: Path) -> dict:
    picture = cv2.cvtColor(cv2.imread(str(IMAGES / "0014.jpg")), cv2.COLOR_BGR2RGB)
    picture = np.ascontiguousarray(cv2.resize(picture, (size, size), interpolation=cv2.INTER_AREA))
    env = dict(os.environ, **{ENV_CACHE: str(cache)})
    client = EngineClient(python=sys.executable, weights=weights, log_path=log, env=env)
    try:
        started = time.perf_counter()
        ready = client.start()
        row = {"ready": time.perf_counter() - started, "torch_at_hello": hello_line(log, ready["pid"])}
        for name in ("first", "second", "third"):
            began = time.perf_counter()
            client.submit(picture.tobytes(), PixelFormat("uint8", 3), Extent(size, size),
                          UpscaleOptions(model=model, scale=4)).wait()
            row[name] = time.perf_counter() - began
        return row
    finally:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--model", default="realesr-animevideov3")
    parser.add_argument("--runs", type=int, default=2, help="warm runs (each a new worker)")
    parser.add_argument("--weights", type=Path, default=WEIGHTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="warm-start-bench-") as folder:
        cache, log = Path(folder) / "cache", Path(folder) / "worker.log"
        rows = [("cold", one_process(args.size, args.model, args.weights, cache, log))]
        rows += [("warm", one_process(args.size, args.model, args.weights, cache, log)) for _ in range(args.runs)]
    print(f"{args.model}, {args.size}x{args.size} x4, a new worker each row (seconds)")
    print(f"{'cache':6} {'ready':>7} {'first':>7} {'second':>7} {'third':>7}  torch at hello")
    for name, row in rows:
        print(f"{name:6} {row['ready']:7.2f} {row['first']:7.2f} {row['second']:7.2f} {row['third']:7.2f}  "
              f"{row['torch_at_hello']}")


if __name__ == "__main__":
    main()
