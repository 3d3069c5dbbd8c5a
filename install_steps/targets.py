"""Where Krita and GIMP 3 look for plugins, per platform, and the names they look for."""
from __future__ import annotations

import glob
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

from krita_realesrgan.common.paths import home_dir

KRITA_PLUGIN = "realesrgan_upscale"          # X-KDE-Library in the .desktop file, the pykrita package name
GIMP_PLUGIN = "realesrgan-upscale"           # GIMP 3 wants plug-ins/<name>/<name>.py


@dataclass(frozen=True)
class KritaTarget:
    resources: Path   # holds pykrita/
    kritarc: Path     # Krita's settings file for that installation


def _env_path(env, key: str, fallback: Path) -> Path:
    return Path(env[key]) if env.get(key) else fallback


def krita_targets(env=os.environ, platform: str = sys.platform) -> List[KritaTarget]:
    """Every place a Krita installation of this user may read pykrita from, with its kritarc."""
    home = home_dir(env)
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


def chosen_krita_targets(resources: Optional[str], kritarc: Optional[str]) -> List[KritaTarget]:
    """The Krita installations to put the plugin into: the one named on the command line, else every one that
    has a resource folder, else the standard one when Krita is installed but has not run yet; [] without Krita."""
    if resources:
        default_rc = krita_targets()[0].kritarc
        return [KritaTarget(Path(resources).absolute(), Path(kritarc).absolute() if kritarc else default_rc)]
    targets = [t for t in krita_targets() if t.resources.exists()]
    if not targets and krita_installed():
        targets = krita_targets()[:1]
    return targets


def gimp_config_roots(env=os.environ, platform: str = sys.platform) -> List[Path]:
    home = home_dir(env)
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


def chosen_gimp_folders(gimp_plugins: Optional[str]) -> List[Path]:
    """The GIMP 3 plug-in folders to install into: the one named on the command line, else every one found."""
    return [Path(gimp_plugins).absolute()] if gimp_plugins else gimp_plugin_folders()
