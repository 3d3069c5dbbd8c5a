"""Join or start the Ray runtime, and decide how many workers run with which resources.

``local`` starts a runtime in this process (``ray.init`` with this computer's CPUs, no dashboard) and stops it at
the end; ``auto`` and an address join a running cluster and leave it running. A runtime already started in this
process (a test's, a notebook's) is used as it is. The workers get the driver's ``KRITA_REALESRGAN_*`` settings
(weights, cache, ffmpeg), so a node started elsewhere finds what the driver would.
"""
from __future__ import annotations

import logging
import os
import socket
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Dict, Iterator, Optional

from ..common.errors import EngineError, Kind
from .args import LOCAL, RaySpec

NAMESPACE = "krita-realesrgan"
ENV_PREFIX = "KRITA_REALESRGAN_"


@dataclass(frozen=True)
class Cluster:
    """What the runtime offers the workers: how many, and what each one reserves."""
    address: str
    workers: int
    resources: Dict[str, float]                       # per worker: {"num_gpus": 1} or {"num_cpus": n}
    env: Dict[str, str] = field(default_factory=dict)  # passed to every worker

    @property
    def device(self) -> str:
        return "GPU" if self.resources.get("num_gpus") else "CPU"

    def describe(self) -> str:
        each = "one GPU" if self.device == "GPU" else f"{self.resources['num_cpus']:g} CPU(s)"
        return f"Ray {self.address}: {self.workers} worker(s), {each} each"

    @classmethod
    def sized(cls, address: str, total: Dict[str, float], wanted: Optional[int] = None,
              env: Optional[Dict[str, str]] = None) -> "Cluster":
        """One worker per GPU where the cluster (``total``: Ray's resources) has GPUs; else one per CPU, or
        ``wanted`` workers sharing the CPUs evenly."""
        gpus = int(total.get("GPU", 0))
        if gpus:
            return cls(address, wanted or gpus, {"num_gpus": 1, "num_cpus": 1}, dict(env or {}))
        cpus = max(1, int(total.get("CPU", 1)))
        workers = wanted or cpus
        return cls(address, workers, {"num_cpus": max(1, cpus // workers)}, dict(env or {}))


def check_reachable(address: str, seconds: float = 5.0) -> None:
    """Refuse at once an address where nothing listens (Ray itself retries for minutes). ``auto`` is Ray's to
    find; an address without a port is left to Ray too."""
    host, _, port = address.split("://", 1)[-1].rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=seconds).close()
    except OSError as error:
        raise EngineError(Kind.BAD_INPUT, f"Cannot join the Ray cluster at {address}: nothing answers there "
                          f"({error.strerror or error}). Start it with 'ray start --head', or check the address.",
                          str(error)) from None


@contextmanager
def connect(spec: RaySpec) -> Iterator[Cluster]:
    import ray
    started = False
    if not ray.is_initialized():
        if spec.address not in (LOCAL, "auto"):
            check_reachable(spec.address)
        settings = dict(namespace=NAMESPACE, logging_level=logging.WARNING, log_to_driver=False)
        try:
            if spec.address == LOCAL:
                ray.init(address="local", num_cpus=os.cpu_count() or 1, include_dashboard=False, **settings)
            else:
                ray.init(address=spec.address, **settings)
        except (ConnectionError, RuntimeError, ValueError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise EngineError(Kind.BAD_INPUT, f"Cannot join the Ray cluster at {spec.address}: {first}",
                              str(error)) from None
        started = True
    try:
        env = {key: value for key, value in os.environ.items() if key.startswith(ENV_PREFIX)}
        yield Cluster.sized(spec.address, ray.cluster_resources(), spec.workers, env)
    finally:
        if started:
            ray.shutdown()
