"""Running pip and the engine's python: a command shown as it runs, a probe that answers with JSON."""
from __future__ import annotations

import json
import subprocess
from typing import Optional, Sequence

from .console import Console

ENGINE_PROBE = ("import json, krita_realesrgan as k; print(json.dumps({'version': k.__version__, "
                "'file': k.__file__}))")


def run(cmd: Sequence[str], console: Console, capture: bool = False, **kwargs) -> subprocess.CompletedProcess:
    console.info("$ " + " ".join(str(c) for c in cmd))
    return subprocess.run([str(c) for c in cmd], text=True, check=False,
                          stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.STDOUT if capture else None, **kwargs)


def probe_python(python: str, code: str) -> Optional[dict]:
    """Run ``code`` (which prints one JSON object) in ``python``; None if that fails."""
    try:
        done = subprocess.run([python, "-c", code], text=True, capture_output=True, timeout=180)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
