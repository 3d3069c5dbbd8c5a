"""A pool of Ray actors, each with a short queue of shards; a dead actor is replaced and its shards are redone.

Plain actors rather than Ray Data's ``map_batches``: the driver must know which shard each result belongs to
(to write it, count it and resume from it), and must redo exactly the shards of a worker that died; with plain
actors that is one ``ray.wait`` loop (docs/scaling.md has the comparison).

* Every actor loads the model once and keeps it; the driver keeps ``DEPTH`` shards queued on each, so it never
  waits for the next one.
* A shard is handed out only to an actor that answered ``ready`` (a replacement that cannot be placed, say on
  a cluster without a free GPU, gets no work while the others go on).
* An actor that dies (killed, its process crashed, its node lost: ``RayActorError``) is killed for good
  and replaced by a new one; each of its unfinished shards goes back to the front of the queue. A shard is
  counted done only when its result comes back, and only once, so no shard is lost or done twice. A shard that
  took ``MAX_ATTEMPTS`` workers down with it is given up (``on_lost``); so is the run when
  ``MAX_REPLACEMENTS`` per worker are used up.
* ``cancel()`` is checked twice a second; on cancel, or any error, the actors are killed and the results that
  came back stay with the caller.
"""
from __future__ import annotations

import itertools
import os
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Deque, Dict, Iterable, Iterator, List, Optional, Tuple

from ..common.errors import Cancelled, EngineError, Kind
from ..common.progress import Cancel
from .runtime import Cluster
from .worker import ShardWorker

DEPTH = 2
MAX_ATTEMPTS = 3
MAX_REPLACEMENTS = 3      # per worker
WAIT_SECONDS = 0.5
NAME_PREFIX = "upscaler"
_names = itertools.count()


@dataclass(frozen=True)
class Shard:
    number: int          # its place in the run (files: the order of the plan; video: the segment number)
    units: int           # files or frames, for the progress
    method: str          # the ShardWorker method that does it
    args: Tuple[Any, ...]


@dataclass
class PoolStats:
    workers: int = 0
    replaced: int = 0           # actors that died and were replaced
    redone: int = 0             # shards handed out again after their worker died
    nodes: Tuple[str, ...] = ()  # the Ray node of every worker that answered ready

    def describe(self) -> str:
        """"on 2 Ray worker(s) (2 node(s)); 1 worker(s) replaced, 3 shard(s) redone"."""
        return (f"on {self.workers} Ray worker(s) ({len(set(self.nodes))} node(s))"
                + (f"; {self.replaced} worker(s) replaced, {self.redone} shard(s) redone" if self.replaced else ""))


class _Slot:
    def __init__(self, actor, ready_ref):
        self.actor, self.ready_ref, self.ready, self.load = actor, ready_ref, False, 0


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class ShardPool:
    def __init__(self, cluster: Cluster, weights_dir: Optional[str]):
        import ray
        self.ray, self.cluster, self.weights_dir = ray, cluster, weights_dir
        self.remote = ray.remote(ShardWorker)
        self.actor_options = dict(max_restarts=0, max_task_retries=0, runtime_env={"env_vars": dict(cluster.env)},
                                  **cluster.resources)
        self.stats = PoolStats(workers=cluster.workers)
        self.slots: List[_Slot] = []
        self.lost_workers = 0

    def _start(self) -> _Slot:
        actor = self.remote.options(name=f"{NAME_PREFIX}-{os.getpid()}-{next(_names)}",
                                    **self.actor_options).remote(self.weights_dir)
        slot = _Slot(actor, actor.ready.remote())
        self.slots.append(slot)
        return slot

    def _replace(self, slot: _Slot, cause: BaseException) -> None:
        """``slot``'s actor died: kill it for good and start another, unless too many have died."""
        self.ray.kill(slot.actor, no_restart=True)
        self.slots.remove(slot)
        self.lost_workers += 1
        if self.lost_workers > MAX_REPLACEMENTS * self.cluster.workers:
            raise EngineError(Kind.INTERNAL, f"{self.lost_workers} Ray workers died; giving up "
                              f"(last: {_first_line(cause)}).", str(cause))
        self.stats.replaced += 1
        self._start()

    def run(self, shards: Iterable[Shard], on_done: Callable[[Shard, Any], None],
            on_lost: Optional[Callable[[Shard, str], None]] = None,
            cancel: Optional[Cancel] = None) -> PoolStats:
        """Hand every shard to a worker; ``on_done(shard, result)`` for each result as it comes back (any order).
        ``on_lost(shard, why)`` for a shard given up (default: the run fails). Kills the actors at the end."""
        from ray.exceptions import GetTimeoutError, RayActorError, RayTaskError
        feed: Iterator[Shard] = iter(shards)
        retry: Deque[Shard] = deque()
        attempts: Dict[int, int] = {}
        running: Dict[Any, Tuple[Shard, _Slot]] = {}
        exhausted = False
        try:
            for _ in range(self.cluster.workers):
                self._start()
            while True:
                for slot in [s for s in self.slots if s.ready]:
                    while slot.load < DEPTH:
                        shard = retry.popleft() if retry else None
                        if shard is None and not exhausted:
                            shard = next(feed, None)
                            exhausted = shard is None
                        if shard is None:
                            break
                        attempts[shard.number] = attempts.get(shard.number, 0) + 1
                        running[getattr(slot.actor, shard.method).remote(*shard.args)] = (shard, slot)
                        slot.load += 1
                if exhausted and not retry and not running:
                    return self.stats
                waiting = {s.ready_ref: s for s in self.slots if not s.ready}
                ready, _ = self.ray.wait(list(running) + list(waiting), num_returns=1, timeout=WAIT_SECONDS)
                if cancel is not None and cancel():
                    raise Cancelled()
                for ref in ready:
                    if ref in waiting:
                        slot = waiting[ref]
                        try:
                            self.stats.nodes += (self.ray.get(ref),)
                            slot.ready = True
                        except RayActorError as error:
                            self._replace(slot, error)
                        continue
                    shard, slot = running.pop(ref)
                    slot.load -= 1
                    try:
                        result = self.ray.get(ref)
                    except RayActorError as error:
                        if slot in self.slots:
                            self._replace(slot, error)
                        self._redo(shard, attempts, retry, on_lost, error)
                        continue
                    except (RayTaskError, GetTimeoutError) as error:
                        raise EngineError(Kind.INTERNAL, f"A Ray worker failed: {_first_line(error)}",
                                          str(error)) from None
                    on_done(shard, result)
        finally:
            for slot in self.slots:
                self.ray.kill(slot.actor, no_restart=True)
            self.slots.clear()

    def _redo(self, shard: Shard, attempts: Dict[int, int], retry: Deque[Shard],
              on_lost: Optional[Callable[[Shard, str], None]], cause: BaseException) -> None:
        if attempts[shard.number] >= MAX_ATTEMPTS:
            why = f"its Ray worker died {attempts[shard.number]} times ({_first_line(cause)})"
            if on_lost is None:
                raise EngineError(Kind.INTERNAL, f"Shard {shard.number} was given up: {why}.", str(cause))
            on_lost(shard, why)
            return
        self.stats.redone += 1
        retry.appendleft(shard)
