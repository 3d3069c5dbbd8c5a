"""krita-realesrgan: Real-ESRGAN super-resolution for Krita, GIMP and the command line.

This package's top level stays importable without numpy or torch: the editor plugins vendor the
standard-library modules listed in ``STDLIB_MODULES`` (see ``portable.py``).
"""
__version__ = "0.1.0"
