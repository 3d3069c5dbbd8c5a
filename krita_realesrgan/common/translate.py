"""One translation scheme for every word the engine's standard-library modules and both plugins show: tables keyed
by the English text (``translations/``, one module per language). Pure Python.

A language is a locale as the user's environment or editor names it: ``zh_CN``, ``zh-Hans``, ``zh_TW.UTF-8`` read
Simplified Chinese (``is_chinese``); anything else English, which needs no table. The modules of ``common/``
(``device_offers``, ``run_question``, ``cover_reasons``, the ``editor/`` layer) write their words in English and
look them up with the caller's language; the Krita plugin's ``tr(text)`` is ``translate(text, its current
language)``; the GIMP plug-in passes the language it read from the environment. The cover presets' names are data
(``data/cover_presets.json`` holds both languages); ``cover_presets`` picks one with the same ``is_chinese``.
"""
from __future__ import annotations

from typing import Dict

from .translations import zh_CN

TABLES: Dict[str, Dict[str, str]] = {"zh_CN": zh_CN.STRINGS}


def is_chinese(language: str) -> bool:
    """Whether ``language`` (a locale such as ``zh_CN``, ``zh-Hans``, ``en_US.UTF-8``) reads Simplified Chinese."""
    return (language or "").lower().startswith("zh")


def table_name(language: str) -> str:
    """The table ``language`` reads ("" for English, which needs none)."""
    return "zh_CN" if is_chinese(language) else ""


def translate(text: str, language: str) -> str:
    """``text`` (English) in ``language``; the English text where the table has none."""
    return TABLES.get(table_name(language), {}).get(text, text)
