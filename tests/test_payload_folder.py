"""The client's payload folder with real folders and processes: private, swept of killed clients' folders, each
job's files named and removed."""
from __future__ import annotations

import gc
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from krita_realesrgan.common.payload_folder import TEMPDIR_PREFIX, PayloadFolder, remove_files, sweep_stale_tempdirs


def dead_pid() -> int:
    """The pid of a process that has ended."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(gone.stdout)


@pytest.fixture
def temp_root(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


@pytest.mark.skipif(os.name != "posix", reason="pids are checked on POSIX")
def test_a_new_folder_sweeps_only_the_folders_of_killed_clients(temp_root):
    stale = temp_root / f"{TEMPDIR_PREFIX}{dead_pid()}-abc"
    (stale / "sub").mkdir(parents=True)
    (stale / "sub" / "job1-in.raw").write_bytes(b"x" * 100)
    alive = temp_root / f"{TEMPDIR_PREFIX}{os.getppid()}-def"   # our parent runs: its folder is in use
    alive.mkdir()
    unrelated = temp_root / "krita-realesrgan-notes"
    unrelated.mkdir()
    a_file = temp_root / f"{TEMPDIR_PREFIX}{dead_pid()}-file"   # ours by name, but not a folder
    a_file.write_text("keep")
    linked = temp_root / f"{TEMPDIR_PREFIX}{dead_pid()}-link"   # a link is never followed or removed
    linked.symlink_to(unrelated, target_is_directory=True)
    payloads = PayloadFolder()
    assert payloads.made is None and stale.exists()                   # nothing happens before first use
    folder = payloads.path()
    assert folder.parent == temp_root and folder.name.startswith(f"{TEMPDIR_PREFIX}{os.getpid()}-")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert not stale.exists() and alive.exists() and unrelated.exists() and a_file.exists() and linked.is_symlink()
    assert payloads.path() == folder                                     # made once
    assert sweep_stale_tempdirs() == []                                   # nothing left to sweep; ours is alive
    payloads.close()
    assert not folder.exists() and payloads.made is None
    again = payloads.path()
    assert again != folder and again.is_dir()
    payloads.close()


def test_a_job_names_its_files_and_removes_them_with_what_was_left_half_written(temp_root):
    payloads = PayloadFolder()
    folder = payloads.path()
    cover = payloads.job_files(7, ("background_output",))
    assert cover.source == folder / "job7-in.raw"
    assert cover.all == (folder / "job7-in.raw", folder / "job7-background_output.raw", folder / "job7-out.raw")
    assert list(cover.request_fields().items()) == [
        ("input", str(folder / "job7-in.raw")), ("background_output", str(folder / "job7-background_output.raw")),
        ("output", str(folder / "job7-out.raw"))]
    export = payloads.job_files(8, pixel_output=False)
    assert export.all == (folder / "job8-in.raw",) and export.request_fields() == {"input": str(export.source)}
    cover.source.write_bytes(b"in")
    Path(str(cover.all[2]) + ".part").write_bytes(b"half")             # an output the engine did not finish
    export.source.write_bytes(b"other job")
    remove_files(cover.all)                                              # missing ones are fine
    assert sorted(p.name for p in folder.iterdir()) == ["job8-in.raw"]
    payloads.close()


def test_the_folder_goes_when_its_owner_is_collected(temp_root):
    payloads = PayloadFolder()
    folder = payloads.path()
    (folder / "job1-in.raw").write_bytes(b"x")
    del payloads
    gc.collect()
    assert not folder.exists()
