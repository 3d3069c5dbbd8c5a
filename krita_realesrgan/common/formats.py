"""What the engine is asked to do: the pixel format of an image and the upscale options.

Standard library only: the plugins build these, and they travel to the worker as JSON.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Optional

from . import catalog
from .errors import EngineError, Kind
from .geometry import Extent

DTYPES = {"uint8": 1, "uint16": 2, "float16": 2, "float32": 4}  # name -> bytes per sample
CHANNELS = {1: "grey", 2: "grey+alpha", 3: "RGB", 4: "RGBA"}


@dataclass(frozen=True)
class PixelFormat:
    """How the samples of an image are stored: interleaved, row-major, channel order grey[A] or RGB[A].

    Integer dtypes use their full range (uint8 0..255, uint16 0..65535); float dtypes use 0..1.
    """

    dtype: str
    channels: int

    def __post_init__(self):
        if self.dtype not in DTYPES:
            raise EngineError(Kind.UNSUPPORTED_FORMAT, f"Unsupported sample type {self.dtype!r}; "
                              f"use one of {', '.join(DTYPES)}.")
        if self.channels not in CHANNELS:
            raise EngineError(Kind.UNSUPPORTED_FORMAT, f"Unsupported channel count {self.channels}; "
                              "use 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA).")

    @property
    def has_alpha(self) -> bool:
        return self.channels in (2, 4)

    @property
    def colour_channels(self) -> int:
        return self.channels - (1 if self.has_alpha else 0)

    @property
    def is_integer(self) -> bool:
        return self.dtype.startswith("uint")

    @property
    def bytes_per_sample(self) -> int:
        return DTYPES[self.dtype]

    @property
    def bytes_per_pixel(self) -> int:
        return self.bytes_per_sample * self.channels

    def byte_count(self, extent: Extent) -> int:
        return self.bytes_per_pixel * extent.width * extent.height

    def __str__(self) -> str:
        return f"{CHANNELS[self.channels]} {self.dtype}"


AUTO_TILE = 0    # choose from free memory (whole image when it fits)
MIN_TILE = 32    # the smallest tile edge that may be asked for (engine, CLI, both plugins); the engine raises a
                 # tile to what the model's margin needs and stops halving it on out-of-memory below this
CPU_TILE_BUDGET = 768 * 1024 ** 2   # the most one tile's activations may take on the CPU (backends/budget.py)
MAX_SCALE = 64   # the largest factor one run may enlarge by (scale or target size)
DEFAULT_MAX_PIXELS = 16384 * 16384   # output pixels allowed without asking (268 MP: a 4096×4096 picture ×4)
NO_TILING = -1   # always run the whole image at once



@dataclass(frozen=True)
class TilePolicy:
    """How the engine cuts a picture into tiles: ``auto`` (the largest tile free memory allows, the whole picture
    when it fits), ``whole`` (always one piece) or ``fixed(edge)`` (tiles of ``edge`` input pixels, MIN_TILE or
    more; the engine may still halve them on out-of-memory).

    The wire protocol, the saved settings and the command line keep the int form (AUTO_TILE, NO_TILING or the
    edge; ``UpscaleOptions.tile``): ``parse`` and ``to_int`` convert at those boundaries, the engine decides on this.
    """

    value: int = AUTO_TILE   # the int form

    def __post_init__(self):
        if self.value < NO_TILING or 0 < self.value < MIN_TILE:
            raise EngineError(Kind.BAD_INPUT, f"Tile size {self.value} is too small (use 0 for automatic, "
                              f"or {MIN_TILE} and more).")

    @classmethod
    def parse(cls, value: int) -> "TilePolicy":
        """The policy an int tile size names (AUTO_TILE, NO_TILING or an edge); EngineError when it is too small."""
        return cls(value)

    @classmethod
    def auto(cls) -> "TilePolicy":
        return cls(AUTO_TILE)

    @classmethod
    def whole(cls) -> "TilePolicy":
        return cls(NO_TILING)

    @classmethod
    def fixed(cls, edge: int) -> "TilePolicy":
        if edge <= 0:
            raise EngineError(Kind.BAD_INPUT, f"A fixed tile edge must be {MIN_TILE} or more, not {edge}.")
        return cls(edge)

    def to_int(self) -> int:
        return self.value

    @property
    def is_auto(self) -> bool:
        return self.value == AUTO_TILE

    @property
    def is_whole(self) -> bool:
        return self.value == NO_TILING

    @property
    def is_fixed(self) -> bool:
        return self.value > 0

    @property
    def edge(self) -> int:
        """The tile edge of a fixed policy, in input pixels."""
        if not self.is_fixed:
            raise ValueError(f"the {self} tile policy has no fixed edge")
        return self.value

    def __str__(self) -> str:
        return "automatic" if self.is_auto else "whole" if self.is_whole else f"{self.value} px"


PRECISIONS = ("auto", "fp32", "fp16", "bf16")
BACKENDS = ("auto", "torch", "openvino")   # see backends.choice
ALPHA_MODES = ("network", "resize")


@dataclass(frozen=True)
class UpscaleOptions:
    model: str = catalog.DEFAULT_MODEL  # catalog name or a path to a weights file
    scale: Optional[float] = None       # output scale; None = the model's native scale
    target: Optional[Extent] = None     # exact output size; overrides scale
    tile: int = AUTO_TILE               # input tile edge in pixels, AUTO_TILE or NO_TILING (see tile_policy)
    device: str = "auto"                # auto | cpu | gpu (Intel, OpenVINO) | cuda | cuda:N | mps
    precision: str = "auto"             # auto (fp16 on CUDA, fp32 elsewhere) | fp32 | fp16 | bf16
    backend: str = "auto"               # auto (torch on CUDA/MPS, else OpenVINO) | torch | openvino
    fast: bool = False                  # the fastest precision the device runs natively (bf16 CPU, fp16 GPU)
    denoise: Optional[float] = None     # denoise strength 0..1 for models with a denoise twin (None = 1)
    alpha: str = "network"              # network (like the reference) | resize (cheaper)
    fill_transparent: bool = True       # extend colour under fully transparent pixels (no dark fringes);
                                        # False reproduces the reference exactly
    max_pixels: int = DEFAULT_MAX_PIXELS  # refuse results with more output pixels (0 = no limit)
    face_enhance: bool = False          # restore the faces in the upscaled picture (faces/), like --face_enhance
    face_model: str = catalog.DEFAULT_FACE_MODEL  # face restorer: a catalog name or a weights file
    face_strength: float = 1.0          # 0 = the plain upscale, 1 = the restored faces

    def __post_init__(self):
        if self.scale is not None and not (0 < float(self.scale) <= MAX_SCALE):
            raise EngineError(Kind.BAD_INPUT, f"Scale {self.scale} is out of range (0 < scale <= {MAX_SCALE}).")
        if self.target is not None:
            target = Extent(*self.target)
            if target.is_empty:
                raise EngineError(Kind.BAD_INPUT, f"Target size {target} is empty.")
            object.__setattr__(self, "target", target)
        TilePolicy.parse(self.tile)      # refuses a tile size that is too small
        if self.precision not in PRECISIONS:
            raise EngineError(Kind.BAD_INPUT, f"Precision must be one of {', '.join(PRECISIONS)}.")
        if self.backend not in BACKENDS:
            raise EngineError(Kind.BAD_INPUT, f"Backend must be one of {', '.join(BACKENDS)}.")
        if self.fast and self.precision != "auto":
            raise EngineError(Kind.BAD_INPUT, f"Choose either fast mode or a precision ({self.precision}), "
                              "not both.")
        if self.alpha not in ALPHA_MODES:
            raise EngineError(Kind.BAD_INPUT, f"Alpha mode must be one of {', '.join(ALPHA_MODES)}.")
        if int(self.max_pixels) < 0:
            raise EngineError(Kind.BAD_INPUT, f"The pixel limit {self.max_pixels} must be 0 (none) or more.")
        if self.denoise is not None and not (0.0 <= float(self.denoise) <= 1.0):
            raise EngineError(Kind.BAD_INPUT, f"Denoise strength {self.denoise} must be between 0 and 1.")
        if not (0.0 <= float(self.face_strength) <= 1.0):
            raise EngineError(Kind.BAD_INPUT, f"Face strength {self.face_strength} must be between 0 and 1.")

    @property
    def tile_policy(self) -> TilePolicy:
        return TilePolicy.parse(self.tile)

    def output_extent(self, source: Extent, native_scale: int) -> Extent:
        if self.target is not None:
            return self.target
        return source.scaled(native_scale if self.scale is None else float(self.scale))

    def with_(self, **changes) -> "UpscaleOptions":
        return replace(self, **changes)

    def to_json(self) -> dict:
        data = asdict(self)
        data["target"] = list(self.target) if self.target else None
        return data

    @classmethod
    def from_json(cls, data: dict) -> "UpscaleOptions":
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise EngineError(Kind.BAD_INPUT, f"Unknown option(s): {', '.join(sorted(unknown))}.")
        values = dict(data)
        if values.get("target") is not None:
            values["target"] = Extent(*values["target"])
        return cls(**values)
