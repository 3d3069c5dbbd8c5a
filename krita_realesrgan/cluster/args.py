"""``--ray`` and ``--ray-workers`` for the image and video commands, and the one-line answer when Ray is missing.

Standard library only: the normal command line imports this module, never Ray.
"""
from __future__ import annotations

import argparse
import importlib.util
from dataclasses import dataclass
from typing import Optional

from ..common.errors import EngineError, Kind

LOCAL = "local"
INSTALL_LINE = ("--ray needs Ray, which is not installed: pip install 'krita-realesrgan[cluster]' "
                "(or python3 installer.py --with-ray)")


@dataclass(frozen=True)
class RaySpec:
    """Where to run: ``local`` (a Ray runtime started here), ``auto`` (the cluster this machine belongs to) or a
    cluster's address; ``workers``: how many actors (default: one per GPU, else one per CPU)."""
    address: str
    workers: Optional[int] = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Optional["RaySpec"]:
        return cls(args.ray, args.ray_workers) if getattr(args, "ray", None) else None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("cluster (needs the 'cluster' extra: Ray)")
    group.add_argument("--ray", metavar="local|auto|ADDRESS", default=None,
                       help="run on Ray: 'local' starts a Ray runtime on this computer, 'auto' joins the cluster "
                       "this machine belongs to, ADDRESS (host:port or ray://host:port) joins that one")
    group.add_argument("--ray-workers", type=int, default=None, metavar="N",
                       help="how many workers (each loads the model once; default: one per GPU, else one per CPU)")


def require_ray(spec: Optional[RaySpec]) -> None:
    """Refuse ``--ray`` without Ray installed, and a worker count below 1, before any work (EngineError)."""
    if spec is None:
        return
    if spec.workers is not None and spec.workers < 1:
        raise EngineError(Kind.BAD_INPUT, "--ray-workers must be 1 or more.")
    if importlib.util.find_spec("ray") is None:
        raise EngineError(Kind.BAD_INPUT, INSTALL_LINE)
