"""The engine modules that need nothing beyond the standard library.

The editor plugins run in Krita's or GIMP's own Python, which may have no numpy; the installer copies exactly
these modules into each plugin (as a ``krita_realesrgan`` subpackage) so both plugins share one client.
A test checks that each of them imports in a bare interpreter.
"""
STDLIB_MODULES = (
    "__init__.py",
    "catalog.py",
    "errors.py",
    "formats.py",
    "geometry.py",
    "paths.py",
    "protocol.py",
    "rawimage.py",
    "client.py",
    "service_wire.py",
    "service_client.py",
    "engine_setting.py",
    "portable.py",
    "cover_presets.py",
    "cover_reasons.py",
    "regions.py",
    "run_estimate.py",
    "run_question.py",
    "device_offers.py",
)
# Data files the portable modules read, vendored beside them (paths relative to the package).
STDLIB_DATA = (
    "data/cover_presets.json",
)
VENDORED_FILES = STDLIB_MODULES + STDLIB_DATA
