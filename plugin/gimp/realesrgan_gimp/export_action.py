"""Export cover: the whole visible image (merged in a temporary duplicate, see ``cover_action``) read in the sRGB
tone curve and saved by the engine's ``export`` op as JPEG/PNG/WebP within a file-size limit. The image is only
read: no layer is added, nothing goes on its undo stack, and it is not marked dirty.

``runner`` is anything with ``export(pixels, fmt, extent, path, max_bytes, export_format) -> ExportOutcome``.
"""
from __future__ import annotations

from typing import Tuple

from krita_realesrgan.common.job_outcomes import ExportOutcome
from krita_realesrgan.common.geometry import Bounds

from .actions import canvas_extent, layer_bounds, read_pixels
from .cover_action import with_visible_merged
from .export_choices import ExportChoices, ExportRequest
from .formats import LayerTransfer, export_transfer


def read_visible(image) -> Tuple[bytes, LayerTransfer]:
    """Engine-order pixels of the whole canvas as it looks (where no layer covers it: transparent)."""
    canvas = Bounds.of(canvas_extent(image))

    def read(copy, merged):
        if layer_bounds(merged) != canvas:
            if not merged.has_alpha():
                merged.add_alpha()
            merged.resize_to_image_size()
        transfer = export_transfer(copy.get_precision().value_nick, merged.is_gray(), merged.has_alpha())
        return read_pixels(merged, canvas, transfer), transfer

    return with_visible_merged(image, read)


def export_cover(image, choices: ExportChoices, runner) -> Tuple[ExportRequest, ExportOutcome]:
    """Save the visible image as ``choices`` say (defaults resolved for this image's size)."""
    size = canvas_extent(image)
    request = choices.resolved(size)
    pixels, transfer = read_visible(image)
    outcome = runner.export(pixels, transfer.fmt, size, request.path, request.max_bytes, request.format)
    return request, outcome
