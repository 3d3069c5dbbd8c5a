"""The command line: ``krita-realesrgan -i in -o out`` (like the reference's inference script) and subcommands.

Subcommands live in modules of their own; each exposes ``add_arguments(parser)`` and ``run(args) -> int``.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import List, Optional

from . import exit_codes

SUBCOMMANDS = {
    # name: (module, one-line help)
    "video": ("krita_realesrgan.cli.video", "upscale a video clip frame by frame, keeping audio and subtitles"),
    "cover": ("krita_realesrgan.cli.cover", "make a platform cover of an exact size from a small picture"),
    "serve": ("krita_realesrgan.cli.serve", "run the engine service for the editors (this computer, or others "
              "with --listen and a token)"),
}


def main(argv: Optional[List[str]] = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:   # Ctrl-C before a subcommand's own handling (e.g. while torch is imported)
        print("\ninterrupted (no files were written)", file=sys.stderr)
        return exit_codes.INTERRUPTED


def _main(argv: Optional[List[str]]) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        module_name, help_text = SUBCOMMANDS[argv[0]]
        module = importlib.import_module(module_name)
        parser = argparse.ArgumentParser(prog=f"krita-realesrgan {argv[0]}", description=help_text)
        module.add_arguments(parser)
        return module.run(parser.parse_args(argv[1:]))
    from . import image
    parser = argparse.ArgumentParser(
        prog="krita-realesrgan",
        description="Real-ESRGAN super-resolution. Subcommands: "
        + "; ".join(f"{name}: {text}" for name, (_, text) in SUBCOMMANDS.items()) + ".")
    image.add_arguments(parser)
    return image.run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
