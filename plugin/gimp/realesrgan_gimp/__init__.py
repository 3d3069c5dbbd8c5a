"""The GIMP 3 plug-in's modules. Pure ones (formats, choices, cover_choices) import no GIMP; ``actions`` and
``engine_run`` work on GIMP objects. The engine client is the vendored ``krita_realesrgan`` package next to it."""
