"""What every ``krita-realesrgan`` command exits with, the same for the image command and each subcommand, and
the one line it says when its work ends early."""
from __future__ import annotations

import sys
from typing import Union

from ..common.errors import Cancelled, EngineError

OK = 0              # done
FAILED = 1          # something failed: one line on stderr says what (in a folder: the failures are listed)
USAGE = 2           # a wrong command line (argparse's own code; also options that contradict each other)
INTERRUPTED = 130   # Ctrl-C or a cancel (128 + SIGINT); no half-written output is left

ENDINGS = (KeyboardInterrupt, EngineError, OSError)   # how a command's work can end early, each said in one line


def fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return FAILED


def ended(error: Union[KeyboardInterrupt, EngineError, OSError], interrupted: str) -> int:
    """The exit code, and the line on stderr, for work that ended early (one of ``ENDINGS``): ``interrupted`` for
    Ctrl-C or a cancel, the message of an engine error, the file and reason of a file the system refused."""
    if isinstance(error, (KeyboardInterrupt, Cancelled)):   # Cancelled first: it is an EngineError too
        print(f"\n{interrupted}", file=sys.stderr)
        return INTERRUPTED
    if isinstance(error, EngineError):
        return fail(error.message)
    return fail(f"{error.filename or ''}: {error.strerror or error}".lstrip(": "))
