"""krita-realesrgan: Real-ESRGAN super-resolution for Krita, GIMP and the command line.

This package's top level stays importable without numpy or torch: the editor plugins vendor it together with
the standard-library subpackage ``common/`` (see ``common/__init__.py``).
"""
__version__ = "0.1.0"
