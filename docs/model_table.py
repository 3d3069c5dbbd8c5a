"""Print the README's model table from the catalog (the one place model facts live).

    python3 docs/model_table.py

tests/test_installer.py checks that README.md contains exactly this table.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from krita_realesrgan.common import catalog  # noqa: E402  (stdlib only)

# Compute per pixel grows with the network's size for these architectures; the classes are relative.
SPEED_CLASSES = ((10_000_000, "fast"), (30_000_000, "medium"), (None, "slow"))


def speed_class(info: catalog.ModelInfo) -> str:
    for limit, label in SPEED_CLASSES:
        if limit is None or (info.bytes or 0) < limit:
            return label
    return SPEED_CLASSES[-1][1]


def speed(info: catalog.ModelInfo) -> str:
    """The class, and the measured CPU seconds per output megapixel where bench/backend_bench.py gave one."""
    seconds = info.approx_seconds_per_mpix_cpu
    if not seconds:
        return speed_class(info)
    return f"{speed_class(info)}, ~{seconds:.{1 if seconds < 10 else 0}f} s per output Mpx (2-core CPU)"


def table() -> str:
    rows = ["| model | good for | native scale | download | speed | offline (ncnn pack) |",
            "|---|---|---|---|---|---|"]
    for info in catalog.listed():
        default = " (default)" if info.name in catalog.DEFAULT_INSTALL else ""
        total = sum(part.bytes or 0 for part in catalog.required_files(info.name))
        size = f"{total / 1e6:.1f} MB" if total else "?"
        offline = "yes" if info.ncnn else "no"
        rows.append(f"| `{info.name}`{default} | {info.purpose} | x{info.scale} | {size} | "
                    f"{speed(info)} | {offline} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    sys.stdout.write(table())
