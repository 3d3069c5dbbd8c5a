"""``--face-enhance``, ``--face-model``, ``--face-strength``: restore the faces of a photo while it is upscaled
(``faces/``, like the reference's ``--face_enhance``), the same for the image command and ``cover``."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional

from ..common import catalog


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--face-enhance", action="store_true",
                        help="restore the faces (GFPGAN) while the rest is upscaled; for photos of real people, "
                             f"not anime. Install the weights once: python3 installer.py --models "
                             f"{catalog.DEFAULT_FACE_MODEL}")
    parser.add_argument("--face-model", default=catalog.DEFAULT_FACE_MODEL, metavar="NAME_OR_PATH",
                        help=f"face restorer: {catalog.DEFAULT_FACE_MODEL} (default) or a GFPGAN / RestoreFormer "
                             "weights file")
    parser.add_argument("--face-strength", type=float, default=1.0, metavar="S",
                        help="0..1: how much of the restored face replaces the plain upscale (default 1)")


def options(args: argparse.Namespace) -> dict:
    """The ``UpscaleOptions`` fields these arguments set."""
    return {"face_enhance": bool(args.face_enhance), "face_model": args.face_model,
            "face_strength": args.face_strength}


def check(args: argparse.Namespace, model: Optional[str], weights_dir: Optional[Path]) -> None:
    """Before any picture is read: an anime ``model`` (None: chosen later by content) and missing face weights are
    refused with one line (EngineError) instead of failing on every file."""
    if not args.face_enhance:
        return
    from ..faces import restorer, step
    from ..models import weights_dirs
    if model is not None:
        step.check_model(model)
    restorer.resolve(args.face_model, weights_dirs(weights_dir))
