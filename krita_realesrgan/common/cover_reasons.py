"""Why a cover came out as it did (which model, where the crop is) and how its file was encoded, in the reader's
language.

The engine says each reason as a key and its arguments; the words are made where they are shown, in the user's
language (the English templates looked up through ``translate``; the Krita and GIMP plugins vendor this module,
standard library only). On the wire a reason is ``{"key": ..., "args": {...}, "text": "<English>"}``; a plain
string, or a key this copy does not know (an engine newer than the plugin), is shown as its English text.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Union

from .cover_presets import EXPORT_FORMAT_NAMES
from .translate import translate

TEXT = "text"  # a reason that is only words (no template)

# key -> the English template (str.format fields), shown in the reader's language through ``translate``; ``kind``
# is a content kind, said by its word in KINDS.
TEMPLATES: Dict[str, str] = {
    TEXT: "{text}",
    "looks_like_illustration":
        "looks like an illustration ({palette:.0%} of the pixels in the {colours} main colours, {flat:.0%} flat)",
    "looks_like_photo":
        "looks like a photo ({palette:.0%} of the pixels in the {colours} main colours, {flat:.0%} flat)",
    "model_chosen": "using {model} (chosen by you)",
    "model_best_installed": "using {model}, the best installed {kind} model",
    "model_fallback": "no {kind} model is installed (best: {best}; install it with: {hint}); falling back to {model}",
    "model_none_installed": "no {kind} model is installed (best: {best}; install it with: {hint}); no model is "
                            "installed at all, trying {model}",
    "already_large": "the picture ({source}) is already large enough: reduced to {size} without a network",
    "upscaled": "upscaled {source} -> {native} by the network (x{native_scale:g}) on {device}, resampled to {size} "
                "(x{factor:.2f} in all)",
    "upscaled_part": "only the part around the cover went through the network ({part} of the {source} picture)",
    "faces_restored": "faces: {restored} restored, {small} too small, {many} beyond the limit",
    "faces_not_for_anime":
        "faces not restored: {model} is an illustration model, and faces are restored in photos only",
    "crop_one_face": "crop placed around the face found",
    "crop_all_faces": "crop placed around the {faces} faces found",
    "crop_largest_faces": "{faces} faces found but they do not all fit; crop placed around the {kept} largest",
    "crop_centred": "crop centred",
    "crop_salient": "no faces found; crop placed on the most salient area",
    "padded_on_blur": "fitted inside {size} on a blurred copy of the picture (nothing cropped)",
    "padded_on_colour": "fitted inside {size} on a {colour} background (nothing cropped)",
    # how an exported cover file was encoded (cover.export; the editors' "Export cover")
    "encoded_lossy": "{format} quality {quality}, {bytes:,} bytes",
    "encoded_lossless": "{format} (lossless), {bytes:,} bytes",
    "encoded_posterised": "{format} posterised to {bits} bits a channel, {bytes:,} bytes",
}
KINDS = {"anime": "anime", "photo": "photo"}   # a content kind -> its word in the reasons (English)


@dataclass(frozen=True)
class Reason:
    key: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def text(self, language: str = "en") -> str:
        """The reason in ``language`` (a locale like ``zh_CN``: Simplified Chinese; anything else: English)."""
        args = dict(self.args)
        if "kind" in args:
            word = KINDS.get(args["kind"])   # a kind this copy does not know is said as it came
            args["kind"] = args["kind"] if word is None else translate(word, language)
        return translate(TEMPLATES[self.key], language).format(**args)

    def __str__(self) -> str:
        return self.text("en")

    def to_json(self) -> dict:
        return {"key": self.key, "args": dict(self.args), "text": self.text("en")}

    @staticmethod
    def from_json(data: Union[dict, str]) -> "Reason":
        if isinstance(data, dict) and isinstance(data.get("key"), str) and data["key"] in TEMPLATES:
            try:
                reason = Reason(data["key"], dict(data.get("args") or {}))
                reason.text("en"), reason.text("zh")
                return reason
            except (KeyError, IndexError, ValueError, TypeError):   # arguments this copy's template does not expect
                pass
        text = data.get("text", "") if isinstance(data, dict) else data
        return Reason(TEXT, {"text": str(text)})


def encoding(export_format: str, quality: Optional[int], bits: int, size: int) -> Reason:
    """How a cover file was encoded (``cover.export.Encoded``, a client's ``ExportOutcome``): e.g. "JPEG quality
    85, 1,912,334 bytes", "PNG (lossless), …", "PNG posterised to 6 bits a channel, …"."""
    name = EXPORT_FORMAT_NAMES.get(export_format, export_format.upper())
    if quality is not None:
        return Reason("encoded_lossy", {"format": name, "quality": quality, "bytes": size})
    if bits >= 8:
        return Reason("encoded_lossless", {"format": name, "bytes": size})
    return Reason("encoded_posterised", {"format": name, "bits": bits, "bytes": size})
