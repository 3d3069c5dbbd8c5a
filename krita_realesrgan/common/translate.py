"""One translation scheme for both plugins: tables keyed by the English text (``translations/``, one module per
language), looked up for a language as the engine's words are (``cover_presets.is_chinese``: ``zh_CN``,
``zh-Hans``, ``zh_TW.UTF-8`` read Simplified Chinese; anything else English). Pure Python.

The Krita plugin's ``tr(text)`` is ``translate(text, its current language)``; the GIMP plug-in passes the
language it read from the environment.
"""
from __future__ import annotations

from typing import Dict

from .cover_presets import is_chinese
from .translations import zh_CN

TABLES: Dict[str, Dict[str, str]] = {"zh_CN": zh_CN.STRINGS}


def table_name(language: str) -> str:
    """The table ``language`` reads ("" for English, which needs none)."""
    return "zh_CN" if is_chinese(language) else ""


def translate(text: str, language: str) -> str:
    """``text`` (English) in ``language``; the English text where the table has none."""
    return TABLES.get(table_name(language), {}).get(text, text)
