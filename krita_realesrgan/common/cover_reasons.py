"""Why a cover came out as it did (which model, where the crop is) and how its file was encoded, in English and
Simplified Chinese.

The engine says each reason as a key and its arguments; the words are made where they are shown, in the user's
language (the Krita and GIMP plugins vendor this module, standard library only). On the wire a reason is
``{"key": ..., "args": {...}, "text": "<English>"}``; a plain string, or a key this copy does not know (an engine
newer than the plugin), is shown as its English text.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Union

from .cover_presets import EXPORT_FORMAT_NAMES, is_chinese

TEXT = "text"  # a reason that is only words (no template)

# key -> (English, Simplified Chinese). Arguments: str.format fields; ``kind`` is translated through KINDS.
TEMPLATES: Dict[str, tuple] = {
    TEXT: ("{text}", "{text}"),
    "looks_like_illustration": (
        "looks like an illustration ({palette:.0%} of the pixels in the {colours} main colours, {flat:.0%} flat)",
        "看起来是插画（{palette:.0%} 的像素属于 {colours} 种主色，{flat:.0%} 是平涂）"),
    "looks_like_photo": (
        "looks like a photo ({palette:.0%} of the pixels in the {colours} main colours, {flat:.0%} flat)",
        "看起来是照片（{palette:.0%} 的像素属于 {colours} 种主色，{flat:.0%} 是平涂）"),
    "model_chosen": ("using {model} (chosen by you)", "使用 {model}（你的选择）"),
    "model_best_installed": ("using {model}, the best installed {kind} model",
                             "使用 {model}，已安装的最合适的{kind}模型"),
    "model_fallback": (
        "no {kind} model is installed (best: {best}; install it with: {hint}); falling back to {model}",
        "没有安装{kind}模型（最合适的是 {best}，安装命令：{hint}），改用 {model}"),
    "model_none_installed": (
        "no {kind} model is installed (best: {best}; install it with: {hint}); no model is installed at all, "
        "trying {model}",
        "没有安装{kind}模型（最合适的是 {best}，安装命令：{hint}），也没有安装任何模型，尝试 {model}"),
    "already_large": ("the picture ({source}) is already large enough: reduced to {size} without a network",
                      "图片（{source}）已经够大：直接缩小到 {size}，未经网络处理"),
    "upscaled": ("upscaled {source} -> {native} by the network (x{native_scale:g}) on {device}, resampled to "
                 "{size} (x{factor:.2f} in all)",
                 "网络在 {device} 上把 {source} 放大到 {native}（x{native_scale:g}），再重采样到 {size}"
                 "（总共 x{factor:.2f}）"),
    "upscaled_part": ("only the part around the cover went through the network ({part} of the {source} picture)",
                      "只有封面周围的部分经过网络处理（{source} 图片中的 {part}）"),
    "faces_restored": ("faces: {restored} restored, {small} too small, {many} beyond the limit",
                       "人脸：修复 {restored} 张，{small} 张太小，{many} 张超出上限"),
    "faces_not_for_anime": ("faces not restored: {model} is an illustration model, and faces are restored in "
                            "photos only", "未修复人脸：{model} 是插画模型，只修复照片中的人脸"),
    "crop_one_face": ("crop placed around the face found", "裁剪框围绕找到的人脸"),
    "crop_all_faces": ("crop placed around the {faces} faces found", "裁剪框围绕找到的 {faces} 张人脸"),
    "crop_largest_faces": ("{faces} faces found but they do not all fit; crop placed around the {kept} largest",
                           "找到 {faces} 张人脸，但放不下全部；裁剪框围绕最大的 {kept} 张"),
    "crop_centred": ("crop centred", "裁剪框居中"),
    "crop_salient": ("no faces found; crop placed on the most salient area",
                     "没有找到人脸；裁剪框放在最显眼的区域"),
    "padded_on_blur": ("fitted inside {size} on a blurred copy of the picture (nothing cropped)",
                       "完整放入 {size}，背景是图片的模糊副本（没有裁剪）"),
    "padded_on_colour": ("fitted inside {size} on a {colour} background (nothing cropped)",
                         "完整放入 {size}，背景是纯色 {colour}（没有裁剪）"),
}
TEMPLATES.update({   # how an exported cover file was encoded (cover_export; the editors' "Export cover")
    "encoded_lossy": ("{format} quality {quality}, {bytes:,} bytes", "{format} 质量 {quality}，{bytes:,} 字节"),
    "encoded_lossless": ("{format} (lossless), {bytes:,} bytes", "{format}（无损），{bytes:,} 字节"),
    "encoded_posterised": ("{format} posterised to {bits} bits a channel, {bytes:,} bytes",
                           "{format} 色阶减至每通道 {bits} 位，{bytes:,} 字节"),
})
KINDS = {"anime": ("anime", "动漫/插画"), "photo": ("photo", "照片")}


@dataclass(frozen=True)
class Reason:
    key: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def text(self, language: str = "en") -> str:
        """The reason in ``language`` (a locale like ``zh_CN``: Simplified Chinese; anything else: English)."""
        which = 1 if is_chinese(language) else 0
        args = dict(self.args)
        if "kind" in args:
            args["kind"] = KINDS.get(args["kind"], (args["kind"],) * 2)[which]
        return TEMPLATES[self.key][which].format(**args)

    def __str__(self) -> str:
        return self.text("en")

    def to_json(self) -> dict:
        return {"key": self.key, "args": dict(self.args), "text": self.text("en")}

    @staticmethod
    def from_json(data: Union[dict, str]) -> "Reason":
        if isinstance(data, dict) and data.get("key") in TEMPLATES:
            reason = Reason(str(data["key"]), dict(data.get("args") or {}))
            try:
                reason.text("en"), reason.text("zh")
                return reason
            except (KeyError, IndexError, ValueError):   # arguments this copy's template does not expect
                pass
        text = data.get("text", "") if isinstance(data, dict) else data
        return Reason(TEXT, {"text": str(text)})


def encoding(export_format: str, quality: Optional[int], bits: int, size: int) -> Reason:
    """How a cover file was encoded (``cover_export.Encoded``, a client's ``ExportOutcome``): e.g. "JPEG quality
    85, 1,912,334 bytes", "PNG (lossless), …", "PNG posterised to 6 bits a channel, …"."""
    name = EXPORT_FORMAT_NAMES.get(export_format, export_format.upper())
    if quality is not None:
        return Reason("encoded_lossy", {"format": name, "quality": quality, "bytes": size})
    if bits >= 8:
        return Reason("encoded_lossless", {"format": name, "bytes": size})
    return Reason("encoded_posterised", {"format": name, "bits": bits, "bytes": size})
