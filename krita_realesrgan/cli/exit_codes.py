"""What every ``krita-realesrgan`` command exits with, the same for the image command and each subcommand."""
OK = 0              # done
FAILED = 1          # something failed: one line on stderr says what (in a folder: the failures are listed)
USAGE = 2           # a wrong command line (argparse's own code; also options that contradict each other)
INTERRUPTED = 130   # Ctrl-C or a cancel (128 + SIGINT); no half-written output is left
