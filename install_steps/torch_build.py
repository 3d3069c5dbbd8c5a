"""Which torch the engine environment gets: a suitable one already there is kept; otherwise the pinned pair, as
the CUDA build with an NVIDIA GPU and the CPU build without."""
from __future__ import annotations

import shutil
import subprocess
import sys
from typing import List

from .console import Console
from .download import url_reachable
from .processes import probe_python, run

# torch: what a fresh venv gets unless --torch-spec says otherwise. Pinned as a pair so pip never mixes a
# torchvision built for another torch; torch >= MIN_TORCH already in the environment is kept.
DEFAULT_TORCH_SPEC = "torch==2.14.1 torchvision==0.29.1"
MIN_TORCH = (2, 1)
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
TORCH_CUDA_INDEX_WINDOWS = "https://download.pytorch.org/whl/cu128"  # PyPI's Windows torch is CPU-only

TORCH_PROBE = ("import json, torch, torchvision; print(json.dumps({'torch': torch.__version__, "
               "'cuda': torch.cuda.is_available(), 'mps': bool(getattr(torch.backends, 'mps', None) "
               "and torch.backends.mps.is_available())}))")


def torch_version_ok(version: str) -> bool:
    parts = version.split("+")[0].split(".")
    try:
        return (int(parts[0]), int(parts[1])) >= MIN_TORCH
    except (ValueError, IndexError):
        return False


def nvidia_gpu_present() -> bool:
    if not shutil.which("nvidia-smi"):
        return False
    try:
        return subprocess.run(["nvidia-smi", "-L"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def torch_index_args(console: Console) -> List[str]:
    """pip arguments choosing the torch build: CUDA with an NVIDIA GPU, the CPU build otherwise."""
    if nvidia_gpu_present():
        console.info("NVIDIA GPU found: installing the CUDA build of torch")
        if sys.platform.startswith("win"):
            return ["--index-url", TORCH_CUDA_INDEX_WINDOWS, "--extra-index-url", "https://pypi.org/simple"]
        return []  # PyPI's Linux torch is the CUDA build
    if sys.platform == "darwin":
        console.info("macOS: installing torch from PyPI (uses the Apple GPU through MPS)")
        return []
    if url_reachable(TORCH_CPU_INDEX + "/"):
        console.info(f"no NVIDIA GPU: installing the CPU build of torch from {TORCH_CPU_INDEX}")
        return ["--extra-index-url", TORCH_CPU_INDEX]
    console.info(f"no NVIDIA GPU, and {TORCH_CPU_INDEX} is unreachable: installing torch from PyPI "
                 "(larger download; it runs on the CPU too)")
    return []


def ensure_torch(python: str, args, console: Console) -> bool:
    found = probe_python(python, TORCH_PROBE)
    if found and torch_version_ok(found["torch"]) and not args.torch_spec:
        device = "CUDA" if found["cuda"] else ("Apple MPS" if found["mps"] else "CPU")
        console.ok(f"torch {found['torch']} already installed (device: {device}); keeping it")
        return True
    spec = (args.torch_spec or DEFAULT_TORCH_SPEC).split()
    console.info(f"installing {' '.join(spec)} (this is the big download: up to a few GB)")
    extra = [] if args.torch_spec else torch_index_args(console)
    done = run([python, "-m", "pip", "install", *extra, *spec], console)
    if done.returncode != 0:
        console.fail("torch did not install (see pip's message above). Try another build with "
                     "--torch-spec, e.g. --torch-spec 'torch torchvision'")
        return False
    console.ok("torch installed")
    return True
