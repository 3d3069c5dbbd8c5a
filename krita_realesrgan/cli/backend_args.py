"""The command-line options every command shares for where and how the network runs: ``--device``,
``--backend`` and ``--fast``."""
from __future__ import annotations

import argparse

from ..common.formats import BACKENDS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto",
                        help="auto (default), cpu, gpu (an Intel GPU, with OpenVINO), cuda, cuda:N or mps")
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="what runs the network: auto (default: PyTorch on an NVIDIA or Apple GPU, else "
                        "OpenVINO, on an Intel GPU when there is one, else the CPU), torch or openvino")
    parser.add_argument("--fast", action="store_true",
                        help="the fastest precision the device computes natively (bf16 on CPUs with "
                        "AVX512-BF16/AMX, fp16 on GPUs) instead of exact float32; refused where it would be "
                        "emulated")


def options(args: argparse.Namespace) -> dict:
    """The UpscaleOptions fields these arguments set."""
    return {"device": args.device, "backend": args.backend, "fast": args.fast}
