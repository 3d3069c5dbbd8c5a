"""Run a Python script or module as ``python`` would, and at exit write its peak resident memory to the file named
by the environment variable BENCH_PEAK_FILE (MB).

    python bench/measure_peak.py SCRIPT [ARGS...]      python bench/measure_peak.py -m MODULE [ARGS...]

The peak is VmHWM of this process's own memory map. The kernel's ru_maxrss (getrusage, wait4) is no good for a
child of a benchmark: it keeps the larger resident size of the process it was forked from across exec, so every
child of a parent holding torch would report at least the parent's size.
"""
import atexit
import os
import runpy
import sys


def vm_hwm_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _write_peak() -> None:
    with open(os.environ["BENCH_PEAK_FILE"], "w", encoding="ascii") as out:
        out.write(f"{vm_hwm_mb():.1f}\n")


if __name__ == "__main__":
    atexit.register(_write_peak)
    if sys.argv[1] == "-m":
        sys.argv = [sys.argv[2]] + sys.argv[3:]
        runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
    else:
        sys.argv = sys.argv[1:]
        sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))   # as `python SCRIPT` sets it
        runpy.run_path(sys.argv[0], run_name="__main__")
