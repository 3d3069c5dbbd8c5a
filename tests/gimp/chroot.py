"""Run GIMP 3 from the Debian trixie root (tests/gimp/build_root.sh) with this machine's engine visible inside.

The root has GIMP's Python (python3-gi) but no torch; the plug-in's client starts the engine worker with the
host's venv python, which the root sees at the same paths through bind mounts (the repository with its venv
and its test data, the interpreter's installation). /proc and /dev are mounted for the run only, and every
mount is undone when the ``mounted`` context ends, also on errors. The plug-in's engine service (started by the
first filter call, outliving GIMP: it waits for the next call) would keep the mounts busy, so the context first
stops the services of the profile it is given (``services_of``, ``stop_services``).
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import sys
from pathlib import Path
from typing import Iterable, Iterator, List, Mapping, Optional

REPO = Path(__file__).resolve().parents[2]
ROOT_ENV = "GIMP_ROOT"
DEFAULT_ROOT = REPO / ".cache" / "gimp-root"
STAMP = ".built-for"
GIMP_CONSOLE = "gimp-console-3.0"
SERVICE_MARKER = "krita_realesrgan serve"     # the command line of the engine service the plug-in starts


def root_path() -> Path:
    return Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT)


def why_unusable(root: Path) -> Optional[str]:
    """None when GIMP can be run from ``root``, else the reason (for a pytest skip)."""
    if not (root / STAMP).is_file():
        return (f"no GIMP 3 root at {root} (as root: apt-get install -y debootstrap && sh tests/gimp/build_root.sh; "
                f"{ROOT_ENV} overrides the path)")
    if not (root / "usr" / "bin" / GIMP_CONSOLE).exists():
        return f"{root} has no {GIMP_CONSOLE} (rebuild it: sh tests/gimp/build_root.sh)"
    if os.geteuid() != 0:
        return "running GIMP in the trixie root needs root privileges (chroot, mount): run the tests as root"
    return None


def host_folders(extra: Iterable[Path] = ()) -> List[Path]:
    """Folders the root must see at their own paths: the repo, the engine python's installation, test data."""
    engine = Path(sys.executable)
    folders = [REPO, Path(sys.prefix), Path(sys.base_prefix), engine.resolve().parent.parent, *extra]
    chosen: List[Path] = []
    for folder in sorted({f.resolve() for f in folders}, key=lambda f: len(f.parts)):
        if folder.is_dir() and not any(folder == c or c in folder.parents for c in chosen):
            chosen.append(folder)
    return chosen


def _mount(args: List[str]) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


def _unmount(target: Path) -> None:
    if subprocess.run(["umount", str(target)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


@contextlib.contextmanager
def mounted(root: Path, extra: Iterable[Path] = (), services_of: str = "") -> Iterator[Path]:
    """/proc, /dev, /sys (torch reads the CPU count there) and the host folders mounted inside ``root`` for the duration of the block.
    ``services_of``: at the end, stop the engine services whose command line names it (a profile's folder; only
    those: another test session may be using the same root at the same time); none when empty."""
    done: List[Path] = []
    try:
        targets = [("proc", ["-t", "proc", "proc"]), ("dev", ["--bind", "/dev"]), ("sys", ["--bind", "/sys"])]
        targets += [(str(f).lstrip("/"), ["--bind", str(f)]) for f in host_folders(extra)]
        for relative, args in targets:
            target = root / relative
            target.mkdir(parents=True, exist_ok=True)
            _mount(args + [str(target)])
            done.append(target)
        yield root
    finally:
        if services_of:
            stop_services(root, services_of)
        for target in reversed(done):
            _unmount(target)


def gimp_command(root: Path, script_in_root: str, env: Mapping[str, str]) -> List[str]:
    """``gimp-console-3.0`` in batch mode running a Python file (a path inside the root), with only ``env``."""
    return ["chroot", str(root), "env", "-i", "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8",
            *[f"{k}={v}" for k, v in env.items()],
            GIMP_CONSOLE, "-i", "--batch-interpreter", "python-fu-eval",
            "-b", f"exec(open({script_in_root!r}).read())", "--quit"]


def run_gimp(root: Path, script_in_root: str, env: Mapping[str, str], timeout: float = 600.0):
    """Run GIMP to the end; the CompletedProcess (stdout and stderr as text)."""
    return subprocess.run(gimp_command(root, script_in_root, env), capture_output=True, text=True,
                          timeout=timeout)


def processes_in(root: Path, marker: str) -> List[int]:
    """Pids of processes running inside ``root`` whose command line contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            inside = os.readlink(entry / "root") == str(root)
        except OSError:
            continue
        if inside and marker in cmdline:
            found.append(int(entry.name))
    return found


def _stat_fields(pid: int) -> List[str]:
    """/proc/PID/stat after the command name: state, ppid, ..."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def parent_of(pid: int) -> int:
    return int(_stat_fields(pid)[1])


def running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        return _stat_fields(pid)[0] != "Z"
    except OSError:
        return False


def stop_services(root: Path, owner: str = "", timeout: float = 30.0) -> List[int]:
    """SIGTERM the engine services running inside ``root`` whose command line names ``owner`` (its log file is in
    the profile's folder; all with ""), SIGKILL after ``timeout``; their pids."""
    pids = [pid for pid in processes_in(root, SERVICE_MARKER) if pid in processes_in(root, owner)]
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in pids:
        if running(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    return pids
