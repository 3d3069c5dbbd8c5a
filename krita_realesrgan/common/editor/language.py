"""Which language the user reads, from the environment. Pure Python.

Two rules, one per editor, on the same variables: GIMP hands its plug-ins the locale through the environment and
its language preference through ``LANGUAGE``, read as gettext reads them (``gettext_language``); Krita's plugin
tries its own sources first (its override and Qt's UI languages, in the plugin) and then every candidate the
environment names (``environment_candidates``), keeping the first that has a translation table (``pick_language``).
"""
from __future__ import annotations

import os
from typing import Iterable, List, Mapping, Optional

from ..translate import TABLES

LANGUAGE = "LANGUAGE"                                # GIMP's language preference; a list joined by ":"
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")  # the locale: the first one set (gettext's order)
ALIASES = {"zh": "zh_CN", "zh_SG": "zh_CN", "zh_Hans": "zh_CN", "zh_Hans_CN": "zh_CN"}


def locale_setting(env: Mapping[str, str] = os.environ) -> str:
    """The first of LC_ALL, LC_MESSAGES, LANG that is set ("" when none is)."""
    return next((env[name] for name in LOCALE_VARIABLES if env.get(name)), "")


def gettext_language(env: Mapping[str, str] = os.environ) -> str:
    """The user's language as gettext finds it (``zh_CN``, ``en_US.UTF-8``...), ``""`` for the C locale.

    The locale is the first of LC_ALL, LC_MESSAGES, LANG that is set; LANGUAGE (what GIMP's own language
    preference sets) comes before it unless the locale is C, where gettext ignores it too."""
    locale = locale_setting(env)
    if locale in ("", "C", "POSIX") or locale.startswith("C."):
        return ""
    return env.get(LANGUAGE, "").split(":")[0].strip() or locale


def environment_candidates(env: Mapping[str, str] = os.environ) -> List[str]:
    """Every language the environment names, in order: LANGUAGE's entries, then the locale."""
    found: List[str] = []
    if env.get(LANGUAGE):
        found += env[LANGUAGE].split(":")
    locale = locale_setting(env)
    if locale:
        found.append(locale)
    return found


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
