"""The standard-library part of the engine: everything the editors' own Python imports.

Krita's and GIMP's Python may have no numpy, so the modules in this folder need nothing beyond the standard
library (Python 3.8+) and import only each other (relatively). The installer vendors the package's top-level
``__init__.py`` and this whole folder into each plugin, so a plugin imports ``krita_realesrgan.common.client``
under the same name as the engine does (``tests/test_portable.py`` checks both rules in a bare interpreter).

    catalog, paths          the models and where their weights, the config and the logs live
    log_file                appending to a log file (the client's and the plugins' lines)
    translate               one translation scheme: tables keyed by the English text (``translations/``),
                            looked up with the caller's language
    progress                Progress and Cancel, the callbacks of every long operation
    errors, protocol        error kinds and the wire format between an editor and the engine
    client, service_client  starting and talking to the engine (a worker process or the engine service)
    engine_process, ...     the client's parts: the worker process (and Transport), payload_folder, engine_jobs,
                            job_outcomes (what a finished cover or export brings back)
    service_wire            the service's frames, addresses, limits and tokens; engine_setting, the editors' choice
    formats, geometry, ...  pixel formats, Extent/Bounds, raw payloads, regions, estimates, questions
    cover_presets, ...      the cover's targets and words, cover_reasons; device_offers (the device lists)
    editor/                 what the two editor plugins share (labels, layer names, choices)
"""
from __future__ import annotations

from pathlib import Path
from typing import List

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent


def vendored_files() -> List[str]:
    """What a plugin gets, as paths relative to the ``krita_realesrgan`` package folder: the package's
    ``__init__.py`` and every file of this folder (modules and data; caches left out)."""
    files = ["__init__.py"]
    for path in sorted(HERE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files.append(path.relative_to(PACKAGE_ROOT).as_posix())
    return files
