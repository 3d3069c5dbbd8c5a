"""The client's payload folder: a private temporary folder (mode 0700) for the pixels it sends the engine and the
pixels the engine sends back, one file per payload, named by job. Standard library only (vendored into the editors).

The folder is made on first use, after sweeping the folders of clients that were killed (``sweep_stale_tempdirs``),
and removed by ``close`` or when its owner is collected; each job's files are removed when the job ends
(``remove_files``). The engine service names its own folders the same way, so a killed service's are swept too.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Tuple

TEMPDIR_PREFIX = "krita-realesrgan-"   # + the client's pid + "-" + random: <tmp>/krita-realesrgan-1234-ab12cd
STALE_AGE_S = 24 * 3600               # where a pid cannot be checked (Windows), folders older than this are stale


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)          # signal 0: only asks whether the process exists (POSIX)
    except ProcessLookupError:
        return False
    except OSError:              # exists but belongs to someone else
        return True
    return True


def sweep_stale_tempdirs(root: Optional[Path] = None) -> List[Path]:
    """Remove payload folders left by clients that were killed (GIMP ends a plug-in process without letting it
    clean up): ours, named with the pid of a process that no longer runs. Returns what was removed."""
    removed: List[Path] = []
    folder = Path(root or tempfile.gettempdir())
    try:
        candidates = list(folder.glob(TEMPDIR_PREFIX + "*-*"))
    except OSError:
        return removed
    for path in candidates:
        pid_text = path.name[len(TEMPDIR_PREFIX):].split("-", 1)[0]
        try:
            info = path.lstat()
            if not pid_text.isdigit() or not path.is_dir() or path.is_symlink():
                continue
            if os.name == "posix":
                stale = info.st_uid == os.getuid() and not _process_alive(int(pid_text))
            else:
                stale = time.time() - info.st_mtime > STALE_AGE_S
        except OSError:
            continue
        if stale:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def remove_files(files: Iterable[Path]) -> None:
    """Remove a job's payload files and any ``.part`` left of them (a write that did not finish); missing is fine."""
    for path in files:
        for candidate in (path, Path(str(path) + ".part")):
            try:
                candidate.unlink()
            except OSError:
                pass


@dataclass(frozen=True)
class JobFiles:
    """One job's payload files: the input the client writes, and the outputs the engine writes by request field
    (the extra outputs first, then ``output`` for an op that returns pixels)."""

    source: Path
    outputs: Tuple[Tuple[str, Path], ...]

    @property
    def all(self) -> Tuple[Path, ...]:
        """The input first, then the outputs (what the job removes when it ends)."""
        return (self.source, *(path for _, path in self.outputs))

    def request_fields(self) -> Dict[str, str]:
        """The request's file fields: ``input`` and each output's field, naming the files."""
        return {"input": str(self.source), **{field: str(path) for field, path in self.outputs}}


class PayloadFolder:
    """One client's private payload folder, made on first use."""

    def __init__(self) -> None:
        self.made: Optional[Path] = None          # None until first used, and again after close()
        self._cleanup: Optional[Callable[[], object]] = None

    def path(self) -> Path:
        """The folder, made now (mode 0700) if it is not there yet, after sweeping killed clients' folders."""
        if self.made is None:
            sweep_stale_tempdirs()
            self.made = Path(tempfile.mkdtemp(prefix=f"{TEMPDIR_PREFIX}{os.getpid()}-"))  # mode 0700
            self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.made), True)
        return self.made

    def job_files(self, job_id: int, extra_outputs: Tuple[str, ...] = (), pixel_output: bool = True) -> JobFiles:
        """The files of job ``job_id``: ``job<id>-in.raw``, ``job<id>-<field>.raw`` for each extra output and
        ``job<id>-out.raw`` for the output pixels."""
        folder = self.path()
        outputs = [(name, folder / f"job{job_id}-{name}.raw") for name in extra_outputs]
        if pixel_output:
            outputs.append(("output", folder / f"job{job_id}-out.raw"))
        return JobFiles(folder / f"job{job_id}-in.raw", tuple(outputs))

    def close(self) -> None:
        """Remove the folder and everything in it; the next ``path()`` makes a new one."""
        if self._cleanup is not None:
            self._cleanup()
        self.made, self._cleanup = None, None
