"""Translatable UI strings: ``tr("English text")`` returns the text in the user's language.

Krita's own ``i18n`` only knows Krita's catalogue, so the plugin ships small tables (``translations/``), keyed
by the English text. The language is, in order: ``KRITA_REALESRGAN_LANG``, Krita's language override
(``klanguageoverridesrc``), ``LANGUAGE``/``LC_ALL``/``LC_MESSAGES``/``LANG``, then Qt's UI languages.
"""
from __future__ import annotations

import configparser
import os
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional

from .translations import zh_CN

TABLES: Dict[str, Dict[str, str]] = {"zh_CN": zh_CN.STRINGS}
ENV_LANG = "KRITA_REALESRGAN_LANG"

_language: Optional[str] = None


ALIASES = {"zh": "zh_CN", "zh_SG": "zh_CN", "zh_Hans": "zh_CN", "zh_Hans_CN": "zh_CN"}


def pick_language(candidates: Iterable[str], available: Iterable[str] = TABLES) -> Optional[str]:
    """The first candidate that has a table (``zh``, ``zh-Hans`` -> ``zh_CN``); None for English or when no
    candidate has one. Traditional Chinese (zh_TW, zh_HK) does not get the Simplified table."""
    available = list(available)
    for raw in candidates:
        name = raw.split(".")[0].split("@")[0].replace("-", "_")
        if not name or name in ("C", "POSIX"):
            continue
        name = ALIASES.get(name, name)
        if name in available:
            return name
        if name.split("_")[0] == "en":
            return None
    return None


def _krita_override(env: Mapping[str, str]) -> List[str]:
    config = Path(env.get("XDG_CONFIG_HOME") or Path(env.get("HOME", "~")).expanduser() / ".config")
    parser = configparser.ConfigParser()
    try:
        parser.read(config / "klanguageoverridesrc", encoding="utf-8")
        value = parser.get("Language", "krita", fallback="")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return []
    return [part for part in value.split(":") if part]


def _qt_languages() -> List[str]:
    try:
        from PyQt5.QtCore import QLocale
    except ImportError:
        return []
    return [str(name) for name in QLocale().uiLanguages()]


def language_candidates(env: Mapping[str, str] = os.environ) -> List[str]:
    found: List[str] = []
    if env.get(ENV_LANG):
        found.append(env[ENV_LANG])
    found += _krita_override(env)
    if env.get("LANGUAGE"):
        found += env["LANGUAGE"].split(":")
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(name):
            found.append(env[name])
            break
    return found + _qt_languages()


def set_language(language: Optional[str]) -> None:
    """Force a language (None: English); mainly for tests and screenshots."""
    global _language
    _language = language or ""


def current_language() -> str:
    global _language
    if _language is None:
        _language = pick_language(language_candidates()) or ""
    return _language


def tr(text: str) -> str:
    return TABLES.get(current_language(), {}).get(text, text)
