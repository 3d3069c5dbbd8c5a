"""The image command's run (``cli.image.run_all``) on the pool: the plan is the single-machine one (same output
names, same checks before the first upscale), the files go to the workers in shards, and the driver writes each
output atomically as its shard comes back. A file's failure is listed at the end as in the single-machine run;
an error that would fail every file (missing weights, unknown model...) stops the run."""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Iterator, List, Tuple

from ..common.formats import UpscaleOptions
from ..common.paths import atomic_write_bytes
from ..cli.image import FATAL_KINDS, Plan
from .args import RaySpec
from .pool import Shard, ShardPool
from .runtime import connect
from .worker import FileInput, FileOutput

MAX_FILES_PER_SHARD = 8
SHARDS_PER_WORKER = 4   # shards small enough that the last ones spread over the workers


def files_per_shard(files: int, workers: int) -> int:
    return max(1, min(MAX_FILES_PER_SHARD, -(-files // (workers * SHARDS_PER_WORKER))))


def file_shards(plan: Plan, options: UpscaleOptions, size: int) -> Iterator[Shard]:
    """Groups of ``size`` files in the plan's order, each file's bytes read only when its shard is handed out."""
    for number, start in enumerate(range(0, len(plan.tasks), size)):
        tasks = plan.tasks[start:start + size]
        files = [FileInput(task, plan.headers.get(task.source), task.source.read_bytes()) for task in tasks]
        yield Shard(number, len(files), "upscale_files", (files, options))


def run_all(args: argparse.Namespace, plan: Plan, options: UpscaleOptions, say) -> List[Tuple[Path, str]]:
    """Like ``cli.image.run_all``: upscale every planned task on Ray; returns the failures (path, message)."""
    from tqdm import tqdm
    spec = RaySpec.from_args(args)
    failures: List[Tuple[Path, str]] = list(plan.failures)
    for source, message in plan.failures:
        say(f"{source}: FAILED: {message}")
    several = len(plan.tasks) + len(plan.failures) > 1
    with connect(spec) as cluster:
        say(cluster.describe())
        bar = tqdm(total=len(plan.tasks), desc="images", unit="image", disable=None, dynamic_ncols=True)

        def done(shard: Shard, outputs: List[FileOutput]) -> None:
            for output in outputs:
                for line in output.lines:
                    say(line)
                if output.failure is not None:
                    if output.failure.kind in FATAL_KINDS or not several:
                        raise output.failure.error()
                    failures.append((output.task.source, output.failure.message))
                    say(f"{output.task.source}: FAILED: {output.failure.message}")
                else:
                    atomic_write_bytes(output.task.target, output.data)
            bar.update(shard.units)

        def lost(shard: Shard, why: str) -> None:
            for task in (item.task for item in shard.args[0]):
                failures.append((task.source, why))
                say(f"{task.source}: FAILED: {why}")
            bar.update(shard.units)

        started = time.perf_counter()
        weights = str(args.weights_dir.absolute()) if args.weights_dir else None
        try:
            stats = ShardPool(cluster, weights).run(
                file_shards(plan, options, files_per_shard(len(plan.tasks), cluster.workers)), done, lost)
        finally:
            bar.close()
        seconds = time.perf_counter() - started
        say(f"{len(plan.tasks)} image(s) in {seconds:.1f} s ({len(plan.tasks) / max(seconds, 1e-9):.2f} images/s) "
            + stats.describe())
    return failures
