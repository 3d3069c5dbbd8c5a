"""Real-ESRGAN for Krita: upscale or enhance a layer or selection, or make a cover of an exact size, with the
engine worker.

Outside Krita (unit tests of the pure modules) there is no ``krita`` module and nothing is registered.
"""
try:
    from krita import Krita
except ImportError:  # imported outside Krita
    Krita = None

if Krita is not None:
    from .extension import RealEsrganExtension

    Krita.instance().addExtension(RealEsrganExtension(Krita.instance()))
