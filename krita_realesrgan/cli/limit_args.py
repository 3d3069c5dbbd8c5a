"""``--max-pixels``: the pixel limit on the command line, the same for every subcommand that reads pictures."""
from __future__ import annotations

import argparse

from ..common.formats import DEFAULT_MAX_PIXELS

HINT = "raise the limit with --max-pixels N (0 = no limit)"   # how a refusal says to go on


def add_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS, metavar="N",
                        help=f"refuse pictures and results with more pixels than N (default {DEFAULT_MAX_PIXELS:,}, "
                        "a 4096x4096 picture x4; 0 = no limit)")
