"""Translatable UI strings: ``tr("English text")`` returns the text in the user's language.

Krita's own ``i18n`` only knows Krita's catalogue, so the plugin uses the shared translation tables
(``krita_realesrgan.common.translate``, shared with GIMP), keyed by the English text. The language is, in
order: ``KRITA_REALESRGAN_LANG``, Krita's language override (``klanguageoverridesrc``),
``LANGUAGE``/``LC_ALL``/``LC_MESSAGES``/``LANG``, then Qt's UI languages.
"""
from __future__ import annotations

import configparser
import os
from pathlib import Path
from typing import List, Mapping, Optional

from .krita_realesrgan.common.editor.language import environment_candidates, pick_language
from .krita_realesrgan.common.translate import translate

ENV_LANG = "KRITA_REALESRGAN_LANG"

_language: Optional[str] = None


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
    found = [env[ENV_LANG]] if env.get(ENV_LANG) else []
    return found + _krita_override(env) + environment_candidates(env) + _qt_languages()


def set_language(language: Optional[str]) -> None:
    """Force a language (None: English); mainly for tests and screenshots."""
    global _language
    _language = language or ""


def current_language() -> str:
    """The table's name (``zh_CN``), or "" for English."""
    global _language
    if _language is None:
        _language = pick_language(language_candidates()) or ""
    return _language


def tr(text: str) -> str:
    return translate(text, current_language())
