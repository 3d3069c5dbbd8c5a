"""Where the editors' engine runs, as the Krita and GIMP settings show it: on this computer, or on another computer
(the ``HOST:PORT`` of its ``krita-realesrgan serve --listen`` and the file holding the token that service was
started with). Standard library only (vendored into the editors).

The setting lives in the config file's ``engine`` and ``engine_token_file`` keys, one place shared by both editors
(``service_client.configured_engine`` reads them). "On this computer" is each editor's own default there: Krita a
worker for its session, GIMP this user's engine service (``service_client.PER_CALL_DEFAULT``); a stored ``worker``
or ``local`` also counts as this computer and is kept as it is.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from . import paths, service_wire
from .errors import EngineError, Kind

THIS_COMPUTER, OTHER_COMPUTER = "this", "other"
PLACES = (THIS_COMPUTER, OTHER_COMPUTER)
THIS_COMPUTER_VALUES = ("", "worker", service_wire.LOCAL)   # the config's "engine" values that mean this computer

# what is wrong with an "other computer" setting (the editors translate these; {path} is the token file)
ADDRESS_NEEDED = "Give the other computer's address as HOST:PORT (e.g. 192.168.1.20:7860)."
TOKEN_NEEDED = "Choose the file holding the token the other computer's service was started with."
TOKEN_UNREADABLE = "The token file {path} cannot be read or is empty."


@dataclass(frozen=True)
class EngineSetting:
    place: str = THIS_COMPUTER
    address: str = ""        # HOST:PORT of the other computer's service
    token_file: str = ""     # the file holding its token (its first line)

    def problem(self) -> Optional[str]:
        """None when the setting can be used, else one of the templates above (never raises)."""
        if self.place != OTHER_COMPUTER:
            return None
        try:
            if service_wire.EngineAddress.parse(self.address).is_local:
                return ADDRESS_NEEDED
        except EngineError:
            return ADDRESS_NEEDED
        if not self.token_file.strip():
            return TOKEN_NEEDED
        try:
            service_wire.read_token(os.path.expanduser(self.token_file.strip()))
        except EngineError:
            return TOKEN_UNREADABLE
        return None


def _stored(env: Mapping[str, str]) -> dict:
    return paths.read_json_object(paths.config_file(env)) or {}


def read(env: Mapping[str, str] = os.environ) -> EngineSetting:
    """The setting the config file holds (``KRITA_REALESRGAN_ENGINE`` does not change what the dialogs show)."""
    stored = _stored(env)
    engine = str(stored.get("engine") or "").strip()
    token_file = str(stored.get("engine_token_file") or "")
    if engine in THIS_COMPUTER_VALUES:
        return EngineSetting(THIS_COMPUTER, "", token_file)
    return EngineSetting(OTHER_COMPUTER, engine, token_file)


def write(setting: EngineSetting, env: Mapping[str, str] = os.environ) -> Path:
    """Store ``setting`` in the config file, keeping its other keys (atomically); EngineError(bad_input) for a
    setting with a problem. The token file is kept for "this computer" too, so that switching back is one click."""
    problem = setting.problem()
    if problem is not None:
        raise EngineError(Kind.BAD_INPUT, problem.format(path=setting.token_file))
    stored = _stored(env)
    if setting.place == OTHER_COMPUTER:
        stored["engine"] = setting.address.strip()
    elif str(stored.get("engine") or "").strip() not in THIS_COMPUTER_VALUES:
        del stored["engine"]
    if setting.token_file.strip():
        stored["engine_token_file"] = os.path.expanduser(setting.token_file.strip())
    path = paths.config_file(env)
    paths.atomic_write_bytes(path, (json.dumps(stored, indent=2) + "\n").encode("utf-8"))
    return path
