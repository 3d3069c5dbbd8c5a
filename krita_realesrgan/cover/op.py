"""The worker's ``cover`` op: ``make_cover`` on a payload, for the editor plugins.

Request::

    {"id": 7, "op": "cover", "input": "<payload>", "output": "<payload>",
     "preset": "video-16x9"            # or "target": [W, H]
     "fit": "cover" | "pad",           # default "cover"
     "background": "blur" | "#rrggbb", # pad only, default "blur"
     "background_output": "<payload>", # pad only, optional: where to write the canvas-size background
     "options": {UpscaleOptions.to_json(), "model" may be "auto"}}

Result event (besides the usual output/width/height/dtype/channels/seconds of the upscaled picture)::

    "canvas": [x, y, w, h]   the cover in the upscaled picture's coordinates (pad: around it, x/y <= 0)
    "faces": [[x, y, w, h], ...], "model": "...", "fit": "...", "preset": "...",
    "reasons": [{"key": ..., "args": {...}, "text": "<English>"}, ...]   (krita_realesrgan.common.cover_reasons)
    "background_output": "<payload>"   (pad, when asked for)

The editor creates a document of the canvas size, adds the upscaled picture as a layer at (-x, -y) (the user
can move it) and, in pad fit, the background as the layer below.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

from ..common import cover_presets, rawimage
from . import make as cover, export as cover_export
from ..common.errors import EngineError, Kind
from ..common.formats import UpscaleOptions
from ..common.geometry import Extent


def _target(request: Dict[str, Any]) -> cover_presets.CoverTarget:
    if request.get("preset"):
        return cover_presets.preset(str(request["preset"]))
    size = request.get("target")
    if not isinstance(size, (list, tuple)) or len(size) != 2:
        raise EngineError(Kind.BAD_INPUT, "The cover request needs a 'preset' or a 'target' [width, height].")
    return cover_presets.custom(Extent(int(size[0]), int(size[1])))


def handle_export(job) -> Dict[str, Any]:
    """Worker handler (``worker.HANDLERS["export"]``): save a finished cover (the editor's merged image) as
    JPEG/PNG/WebP within a file-size limit.

    Request: ``{"op": "export", "input": "<payload>", "path": "cover.jpg", "format": null | "jpg" | "png" |
    "webp" (null: from the name), "max_bytes": null | int}``. Result: ``path``, ``format``, ``quality`` (null for
    PNG), ``bits``, ``bytes`` and ``description`` (e.g. "JPEG quality 85, 1,912,334 bytes"). The file is written
    atomically: after an error it is not there (an existing file of that name is left as it was)."""
    request = job.request
    path = Path(str(job.field("path")))
    export_format = cover_export.format_for(path, request.get("format") or None)
    max_bytes = request.get("max_bytes")
    if max_bytes is not None and (not isinstance(max_bytes, int) or max_bytes <= 0):
        raise EngineError(Kind.BAD_INPUT, f"The file-size limit must be a positive number of bytes, not {max_bytes!r}.")
    image, fmt = job.read_input()
    encoded = cover_export.export(image, fmt, path, export_format, max_bytes, cancel=job.cancelled)
    return job.reply("result", path=str(path), format=encoded.format, quality=encoded.quality, bits=encoded.bits,
                     bytes=encoded.size, description=encoded.describe())


def handle(job) -> Dict[str, Any]:
    """Worker handler (``worker.HANDLERS["cover"]``): takes a ``worker.JobContext``, returns the final event."""
    request = job.request
    options = UpscaleOptions.from_json({"model": cover_presets.AUTO_MODEL, **dict(request.get("options") or {})})
    target = _target(request)
    background = cover.Background.parse(str(request.get("background") or cover_presets.BLUR))
    image, fmt = job.read_input()
    result = cover.make_cover(job.upscaler, image, fmt, target, str(request.get("fit") or "cover"), background,
                              options, progress=job.progress, cancel=job.cancelled)
    job.progress.flush()
    extent = job.write_output(result.image, fmt)
    fields = result.to_json()
    if result.background is not None and request.get("background_output"):
        path = Path(str(request["background_output"]))
        rawimage.write(path, fmt, result.size, result.background)
        fields["background_output"] = str(path)
    return job.reply("result", output=str(job.field("output")), width=extent.width, height=extent.height,
                     dtype=fmt.dtype, channels=fmt.channels, preset=target.id, **fields)
