"""Copying the Krita and GIMP 3 plugins, each with the engine's stdlib-only modules vendored inside, and checking
that what was copied is still intact."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Tuple

from krita_realesrgan import common

from . import REPO
from .console import Console
from .files import rewrite_keeping_mode, sha256_file, write_if_changed
from .kritarc import KRITARC_KEY, KRITARC_SECTION, kritarc_enable, kritarc_enabled
from .manifest import Manifest
from .targets import GIMP_PLUGIN, KRITA_PLUGIN, KritaTarget

VENDORED_PACKAGE = "krita_realesrgan"
FileMap = Dict[Path, Tuple[Path, Optional[int]]]  # target -> (source, mode or None for the default)


class PluginInstaller:
    def __init__(self, source_root: Path, console: Console, manifest: Manifest):
        self.source_root = source_root
        self.console = console
        self.manifest = manifest

    def vendored_files(self, target: Path) -> FileMap:
        """The engine's stdlib-only part (``krita_realesrgan/common``), as a ``krita_realesrgan`` package inside a
        plugin folder."""
        files = {}
        for name in common.vendored_files():
            source = REPO / "krita_realesrgan" / name
            if source.exists():
                files[target / VENDORED_PACKAGE / name] = (source, None)
            else:
                self.console.warn(f"{source} is missing in this checkout; the plugin may not work")
        return files

    @staticmethod
    def tree_files(source: Path, target: Path) -> FileMap:
        files = {}
        for path in sorted(source.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files[target / path.relative_to(source)] = (path, None)
        return files

    def install_tree(self, root: Path, files: FileMap, kind: str) -> int:
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


def plugin_roots(manifest: Manifest) -> Dict[str, List[str]]:
    """Each plugin folder the installer filled, with the files it put there."""
    roots: Dict[str, List[str]] = {}
    for path, info in manifest.files.items():
        if info.get("root"):
            roots.setdefault(info["root"], []).append(path)
    return roots


def check_plugins(manifest: Manifest, console: Console, problems: List[str]) -> None:
    """For --check: every installed plugin file unchanged, the Krita plugin still enabled in each kritarc."""
    roots = plugin_roots(manifest)
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
        if kritarc_enabled(text):
            console.ok(f"enabled in {kritarc}")
        else:
            problems.append(f"the Krita plugin is not enabled in {kritarc}")
            console.fail(problems[-1])
