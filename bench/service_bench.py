"""The engine service against a worker per call (issue 16): overhead of a call on a small picture, and the
service's memory with two clients.

    python bench/service_bench.py [--calls 3] [--size 64] [--rss-size 512] [--weights DIR]

* **Overhead per call**: what GIMP does for every filter run (its plug-in process ends after each call): a new
  ``EngineClient``, start, one upscale of a ``--size`` square, close. "worker" spawns a worker per call, as today;
  "service" connects to the local service (the first call starts it, the later ones find it warm). Overhead =
  the call's wall time minus the upscale's own seconds (reported by the engine).
* **Memory**: peak RSS (VmHWM) of one service after one client's upscale of a ``--rss-size`` square, then after
  two clients ran one each at the same time; and the peak RSS of two workers (one per client, as two editors
  have today), summed.
* **Throughput**: a ``--throughput-size`` square (default 1000: one megapixel) x4 in this process's engine, and
  through a ``serve --listen 127.0.0.1:PORT`` service with a token (both warmed up first): wall seconds of the
  call, so the remote one includes sending the picture and receiving the result.
Prints a table; nothing is asserted.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np

from bench_data import IMAGES, REPO, WEIGHTS

sys.path.insert(0, str(REPO))

from krita_realesrgan.common.client import EngineClient  # noqa: E402
from krita_realesrgan.common.formats import PixelFormat, UpscaleOptions  # noqa: E402
from krita_realesrgan.common.geometry import Extent  # noqa: E402
from krita_realesrgan.common.service_wire import EngineAddress  # noqa: E402

RGB = PixelFormat("uint8", 3)


def picture(size: int) -> np.ndarray:
    photo = cv2.cvtColor(cv2.imread(str(IMAGES / "OST_009.png"), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(cv2.resize(photo, (size, size), interpolation=cv2.INTER_AREA))


def one_call(env: dict, engine, image: np.ndarray, options: UpscaleOptions) -> tuple:
    """A GIMP-like call: new client, start, one upscale, close. Returns (wall seconds, upscale seconds, pid)."""
    started = time.perf_counter()
    client = EngineClient(python=sys.executable, env=env, engine=engine)
    try:
        pid = client.start()["pid"]
        job = client.submit(image, RGB, Extent(image.shape[1], image.shape[0]), options)
        job.result(600)
        seconds = float(job.info.get("seconds") or 0.0)
    finally:
        client.close()
    return time.perf_counter() - started, seconds, pid


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def overhead(env: dict, calls: int, size: int, options: UpscaleOptions) -> dict:
    image = picture(size)
    rows = {}
    for name, engine in (("worker per call", None), ("service", EngineAddress())):
        rows[name] = [one_call(env, engine, image, options) for _ in range(calls)]
    return rows


def memory(env: dict, size: int, options: UpscaleOptions) -> dict:
    image = picture(size)
    extent = Extent(size, size)
    results = {}
    with EngineClient(python=sys.executable, env=env, engine=EngineAddress()) as first:
        pid = first.start()["pid"]
        first.submit(image, RGB, extent, options).result(600)
        results["service, one client"] = peak_rss_mb(pid)
        with EngineClient(python=sys.executable, env=env, engine=EngineAddress()) as second:
            jobs = [client.submit(image, RGB, extent, options) for client in (first, second)]
            for job in jobs:
                job.result(600)
        results["service, two clients"] = peak_rss_mb(pid)
    workers = [EngineClient(python=sys.executable, env=env) for _ in range(2)]
    try:
        pids = [client.start()["pid"] for client in workers]
        threads = [threading.Thread(target=lambda c=client: c.submit(image, RGB, extent, options).result(600))
                   for client in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        results["two workers, summed"] = sum(peak_rss_mb(pid) for pid in pids)
    finally:
        for client in workers:
            client.close()
    return results, pid


def throughput(weights: str, size: int, options: UpscaleOptions, env: dict) -> dict:
    import socket
    import subprocess
    from krita_realesrgan.engine import Upscaler
    image, small = picture(size), picture(32)
    local = Upscaler(Path(weights))
    local.upscale(small, RGB, options)
    started = time.perf_counter()
    local.upscale(image, RGB, options)
    results = {"this process": time.perf_counter() - started}
    del local
    folder = Path(env["XDG_RUNTIME_DIR"])
    (folder / "token").write_text("bench-token\n")
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    service = subprocess.Popen([sys.executable, "-m", "krita_realesrgan", "serve", "--listen", f"127.0.0.1:{port}",
                                "--token-file", str(folder / "token"), "--weights-dir", weights, "--idle-timeout",
                                "60"], env=env, stderr=subprocess.PIPE)
    try:
        service.stderr.readline()
        with EngineClient(env=env, engine=EngineAddress("127.0.0.1", port, "bench-token")) as client:
            client.submit(small, RGB, Extent(32, 32), options).result(600)
            started = time.perf_counter()
            client.submit(image, RGB, Extent(size, size), options).result(1200)
            results["service over loopback TCP"] = time.perf_counter() - started
    finally:
        service.terminate()
        service.wait(30)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--size", type=int, default=64, help="the small picture's edge (overhead)")
    parser.add_argument("--rss-size", type=int, default=512, help="the picture's edge for the memory part")
    parser.add_argument("--throughput-size", type=int, default=1000, help="0: leave the throughput part out")
    parser.add_argument("--weights", default=str(WEIGHTS))
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    runtime = Path(tempfile.mkdtemp(prefix="krs-bench-", dir="/tmp"))
    env = dict(os.environ, PYTHONPATH=str(REPO), XDG_RUNTIME_DIR=str(runtime), KRITA_REALESRGAN_WEIGHTS=args.weights,
               KRITA_REALESRGAN_DATA=str(runtime / "data"))
    options = UpscaleOptions(scale=4, device=args.device)
    service_pid = None
    try:
        rows = overhead(env, args.calls, args.size, options)
        print(f"overhead per call, {args.size}x{args.size} picture x4 ({args.calls} calls, each a new client):")
        print(f"  {'':18} {'call':>4} {'wall s':>8} {'upscale s':>10} {'overhead s':>11}")
        for name, calls in rows.items():
            for number, (wall, seconds, pid) in enumerate(calls, 1):
                print(f"  {name:18} {number:>4} {wall:8.2f} {seconds:10.3f} {wall - seconds:11.2f}")
            service_pid = pid
        results, service_pid = memory(env, args.rss_size, options)
        print(f"peak RSS, {args.rss_size}x{args.rss_size} picture x4:")
        for name, megabytes in results.items():
            print(f"  {name:22} {megabytes:8.0f} MB")
        if args.throughput_size:
            os.kill(service_pid, signal.SIGTERM)
            service_pid = None
            size = args.throughput_size
            timing = throughput(args.weights, size, options, env)
            print(f"throughput, {size}x{size} picture x4 (wall seconds of the call):")
            base = timing["this process"]
            for name, seconds in timing.items():
                print(f"  {name:26} {seconds:8.2f} s  ({seconds / base - 1:+.1%})")
    finally:
        if service_pid:
            try:
                os.kill(service_pid, signal.SIGTERM)
            except OSError:
                pass
        shutil.rmtree(runtime, ignore_errors=True)


if __name__ == "__main__":
    main()
