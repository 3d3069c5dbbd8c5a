"""Where things live: the data folder, the weights folder, the config file. Standard library only.

One config file, written by ``installer.py`` and read by the plugins and the engine::

    {"version": 1, "python": "<engine venv python>", "weights": "<weights folder>"}

Environment variables override it (tests use them):
    KRITA_REALESRGAN_CONFIG   path of the config file itself
    KRITA_REALESRGAN_PYTHON   the engine's python
    KRITA_REALESRGAN_WEIGHTS  the weights folder
    KRITA_REALESRGAN_DATA     the data folder (default venv and weights live below it)
    KRITA_REALESRGAN_FFMPEG   an ffmpeg to use instead of the one found on PATH (read by video/ffmpeg.py)
    KRITA_REALESRGAN_CACHE    the engine's cache folder (compiled models; default: <data folder>/cache)
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

APP = "krita-realesrgan"
CONFIG_VERSION = 1

ENV_CONFIG = "KRITA_REALESRGAN_CONFIG"
ENV_PYTHON = "KRITA_REALESRGAN_PYTHON"
ENV_WEIGHTS = "KRITA_REALESRGAN_WEIGHTS"
ENV_DATA = "KRITA_REALESRGAN_DATA"
ENV_FFMPEG = "KRITA_REALESRGAN_FFMPEG"    # an ffmpeg to use instead of the one found on PATH
ENV_CACHE = "KRITA_REALESRGAN_CACHE"
ENV_ENGINE = "KRITA_REALESRGAN_ENGINE"    # the editors' engine: worker | local | HOST:PORT (service_client)


def home_dir(env: Mapping[str, str] = os.environ) -> Path:
    """The user's home folder as ``env`` names it (HOME, else USERPROFILE)."""
    return Path(env.get("HOME") or env.get("USERPROFILE") or Path.home())


def data_dir(env: Mapping[str, str] = os.environ, platform: str = sys.platform) -> Path:
    """The per-user data folder (venv, weights, logs)."""
    if env.get(ENV_DATA):
        return Path(env[ENV_DATA])
    if platform.startswith("win"):
        return Path(env.get("LOCALAPPDATA") or home_dir(env) / "AppData" / "Local") / APP
    if platform == "darwin":
        return home_dir(env) / "Library" / "Application Support" / APP
    return Path(env.get("XDG_DATA_HOME") or home_dir(env) / ".local" / "share") / APP


def config_file(env: Mapping[str, str] = os.environ, platform: str = sys.platform) -> Path:
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG])
    if platform.startswith("win"):
        return Path(env.get("APPDATA") or home_dir(env) / "AppData" / "Roaming") / APP / "config.json"
    if platform == "darwin":
        return data_dir(env, platform) / "config.json"
    return Path(env.get("XDG_CONFIG_HOME") or home_dir(env) / ".config") / APP / "config.json"


def default_venv(env: Mapping[str, str] = os.environ, platform: str = sys.platform) -> Path:
    return data_dir(env, platform) / "venv"


def default_weights(env: Mapping[str, str] = os.environ, platform: str = sys.platform) -> Path:
    return data_dir(env, platform) / "weights"


def cache_dir(env: Mapping[str, str] = os.environ, platform: str = sys.platform) -> Path:
    """The engine's cache: things it can rebuild (converted and compiled models), safe to delete."""
    if env.get(ENV_CACHE):
        return Path(env[ENV_CACHE])
    return data_dir(env, platform) / "cache"


def log_file(env: Mapping[str, str] = os.environ, platform: str = sys.platform) -> Path:
    """Where the plugins and the worker write details that a message box only names."""
    return data_dir(env, platform) / "logs" / "krita-realesrgan.log"


def runtime_dir(env: Mapping[str, str] = os.environ, platform: str = sys.platform) -> Path:
    """The user's private folder for the local engine service's socket and lock: ``$XDG_RUNTIME_DIR/krita-realesrgan``
    or ``<data folder>/run``. Made on demand with mode 0700 (``service_client.private_folder``)."""
    if env.get("XDG_RUNTIME_DIR") and not platform.startswith("win"):
        return Path(env["XDG_RUNTIME_DIR"]) / APP
    return data_dir(env, platform) / "run"


def service_socket(env: Mapping[str, str] = os.environ, platform: str = sys.platform) -> Path:
    """The Unix domain socket of the local engine service (``krita-realesrgan serve``)."""
    return runtime_dir(env, platform) / "engine.sock"


def venv_python(venv: Path, platform: str = sys.platform) -> Path:
    return venv / ("Scripts/python.exe" if platform.startswith("win") else "bin/python")


@dataclass(frozen=True)
class Config:
    python: Optional[str]  # the engine's interpreter; None = not installed
    weights: Path
    source: str            # where this came from, for messages ("config file ...", "defaults")
    engine: str = ""       # the editors' engine: "" or "worker" (their own), "local" (the service), "HOST:PORT"
    engine_token_file: str = ""   # for HOST:PORT: the file holding the service's token
    engine_cert: str = ""         # for HOST:PORT over TLS: the service's certificate (or its CA)


def read_json_object(path: Path) -> Optional[dict]:
    """The JSON object stored in ``path``; None when the file is missing, unreadable, not JSON or not an object
    (the small files the package keeps: config, speeds, reaches)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_config(env: Mapping[str, str] = os.environ, platform: str = sys.platform) -> Config:
    """The effective configuration: environment over config file over defaults. Never raises for a bad file."""
    path = config_file(env, platform)
    found = read_json_object(path)
    stored = found or {}
    source = "defaults" if found is None else f"config file {path}"
    python = env.get(ENV_PYTHON) or stored.get("python")
    weights = env.get(ENV_WEIGHTS) or stored.get("weights") or str(default_weights(env, platform))
    return Config(python=python, weights=Path(weights), source=source,
                  engine=str(env.get(ENV_ENGINE) or stored.get("engine") or ""),
                  engine_token_file=str(stored.get("engine_token_file") or ""),
                  engine_cert=str(stored.get("engine_cert") or ""))


def write_config(python: str, weights: Path, env: Mapping[str, str] = os.environ,
                 platform: str = sys.platform) -> Path:
    """The installer's keys; the others the file holds (the editors' engine setting, ``engine_setting``) are kept."""
    path = config_file(env, platform)
    data = read_json_object(path) or {}
    data.update({"version": CONFIG_VERSION, "python": str(python), "weights": str(weights)})
    atomic_write_bytes(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))
    return path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, so no half-written file is ever seen."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=str(path.parent))
    except OSError as error:  # name the user's file, not the hidden temporary one
        raise OSError(error.errno, error.strerror, str(path)) from error
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, _file_mode(path))  # mkstemp makes 0600; give the file the mode a plain open() would
        os.replace(tmp, path)
    except BaseException as error:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(error, OSError):
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise


def _file_mode(path: Path) -> int:
    """The permissions of the file being replaced, or what the umask gives a new file."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask
