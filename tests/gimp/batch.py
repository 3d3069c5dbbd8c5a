"""Runs INSIDE gimp-console (python-fu-eval): prepares test images, calls the plug-in's procedures through the
PDB exactly as a script would, and writes what came out (layers, pixels, status, message) for the test.

The spec (JSON, path in $GIMP_TEST_SPEC) is a list of cases, and the choice arguments whose labels to report;
see tests/test_gimp_plugin.py. Pixels are read in
the format the case names (chosen by the test, not by the plug-in). Everything is reported, nothing asserted.
"""
import hashlib
import json
import os
import time
import traceback

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp, Gio  # noqa: E402


def precision_from_nick(nick):
    for value in Gimp.Precision.__enum_values__.values():
        if value.value_nick == nick:
            return value
    raise ValueError(nick)


def layer_info(layer):
    x, y = layer.get_offsets()[-2:]
    return {"name": layer.get_name(), "x": x, "y": y, "width": layer.get_width(), "height": layer.get_height(),
            "has_mask": layer.get_mask() is not None, "has_alpha": layer.has_alpha()}


def read(drawable, babl):
    rect = Gegl.Rectangle.new(0, 0, drawable.get_width(), drawable.get_height())
    return bytes(drawable.get_buffer().get(rect, 1.0, babl, Gegl.AbyssPolicy.NONE))


def fingerprint(image):
    """Everything a failed run must leave as it was: size, precision, layers and their exact pixels."""
    digest = hashlib.sha256()
    for layer in image.get_layers():
        digest.update(repr(sorted(layer_info(layer).items())).encode())
        digest.update(read(layer, "R'G'B'A float"))  # exact for u8, u16 and half
    return {"size": [image.get_width(), image.get_height()], "precision": image.get_precision().value_nick,
            "layers": len(image.get_layers()), "pixels": digest.hexdigest()}


def dump_image(image, out, prefix, babl):
    layers = []
    for index, layer in enumerate(image.get_layers()):
        info = layer_info(layer)
        path = os.path.join(out, f"{prefix}-layer{index}.raw")
        with open(path, "wb") as handle:
            handle.write(read(layer, babl))
        if info["has_mask"]:
            with open(os.path.join(out, f"{prefix}-layer{index}-mask.raw"), "wb") as handle:
                handle.write(read(layer.get_mask(), "Y u8"))
        info["raw"] = path
        layers.append(info)
    return {"size": [image.get_width(), image.get_height()], "precision": image.get_precision().value_nick,
            "base_type": image.get_base_type().value_nick, "layers": layers}


def prepare(case):
    image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(case["image"]))
    if case.get("crop"):
        x, y, w, h = case["crop"]
        image.crop(w, h, x, y)
    if case.get("precision"):
        image.convert_precision(precision_from_nick(case["precision"]))
    if case.get("indexed"):
        image.convert_indexed(Gimp.ConvertDitherType.NONE, Gimp.ConvertPaletteType.GENERATE, 16, False, False, "")
    if case.get("selection"):
        x, y, w, h = case["selection"]
        image.select_rectangle(Gimp.ChannelOps.REPLACE, x, y, w, h)
    if case.get("scale"):
        image.scale(*case["scale"])
    if case.get("title"):   # a second layer: a half-transparent coloured band, as a title's backdrop would be
        x, y, w, h, colour = case["title"]
        band = Gimp.Layer.new(image, "Title", w, h, Gimp.ImageType.RGBA_IMAGE, 70.0, Gimp.LayerMode.NORMAL)
        image.insert_layer(band, None, 0)
        band.set_offsets(x, y)
        Gimp.context_set_foreground(Gegl.Color.new(colour))
        band.fill(Gimp.FillType.FOREGROUND)
    if case.get("hidden"):
        image.get_layers()[0].set_visible(False)
    if case.get("blocker"):   # a file where the output's folder should be
        with open(case["blocker"].format(out=case["out"]), "w") as handle:
            handle.write("not a folder")
    image.clean_all()
    return image


def argument_value(config, key, value):
    """A JSON value as the property wants it (colours are given as "#rrggbb", files as paths)."""
    if config.find_property(key).value_type.name == "GeglColor":
        return Gegl.Color.new(value)
    if config.find_property(key).value_type.name == "GFile":
        return Gio.File.new_for_path(value)
    return value


def plain(value):
    """A return value as JSON can hold it (a file as its path)."""
    if isinstance(value, Gio.File):
        return value.get_path()
    return value if isinstance(value, (str, int, float, bool)) or value is None else repr(value)


def run_procedure(name, image, drawables, args, run_mode="noninteractive"):
    procedure = Gimp.get_pdb().lookup_procedure(name)
    if procedure is None:
        return {"status": "missing", "message": f"no procedure {name}"}, None
    config = procedure.create_config()
    config.set_property("run-mode", getattr(Gimp.RunMode, run_mode.upper()))
    config.set_property("image", image)
    config.set_core_object_array("drawables", drawables)
    for key, value in args.items():
        config.set_property(key, argument_value(config, key, value))
    started = time.monotonic()
    result = procedure.run(config)
    seconds = time.monotonic() - started
    status = result.index(0)
    outcome = {"status": status.value_nick, "seconds": seconds}
    extra = result.index(1) if result.length() > 1 else None
    if status != Gimp.PDBStatusType.SUCCESS:
        outcome["message"] = extra if isinstance(extra, str) else None
        extra = None
    else:   # further return values that are text (the cover's reasons)
        outcome["strings"] = [v for v in (result.index(i) for i in range(2, result.length())) if isinstance(v, str)]
        outcome["values"] = [plain(result.index(i)) for i in range(1, result.length())]
    return outcome, extra


def choice_labels(procedure_name, argument):
    """{nick: label} of a choice argument, as GIMP registered it (the plug-in's query in this session's locale)."""
    spec = Gimp.get_pdb().lookup_procedure(procedure_name).find_argument(argument)
    choice = Gimp.param_spec_choice_get_choice(spec)
    return {nick: choice.get_label(nick) for nick in choice.list_nicks()}


def dump_visible(image, out, babl):
    """The visible image merged (in a duplicate) and read whole in ``babl``: what an export should show."""
    copy = image.duplicate()
    try:
        merged = copy.merge_visible_layers(Gimp.MergeType.CLIP_TO_IMAGE)
        merged.resize_to_image_size()
        path = os.path.join(out, "visible.raw")
        with open(path, "wb") as handle:
            handle.write(read(merged, babl))
        return {"raw": path, "width": merged.get_width(), "height": merged.get_height()}
    finally:
        copy.delete()


def run_case(case):
    out = case["out"]
    os.makedirs(out, exist_ok=True)
    image = prepare(case)
    args = {key: value.format(out=out) if isinstance(value, str) else value
            for key, value in case.get("args", {}).items()}
    babl = case["read_format"]
    report = {"before": dump_image(image, out, "before", babl) if not case.get("indexed") else None,
              "fingerprint_before": fingerprint(image), "undo_dirty_before": image.is_dirty(),
              "images_before": len(Gimp.get_images())}
    drawables = [] if case.get("no_drawables") else [image.get_layers()[0]]
    outcome, new_image = run_procedure(case["procedure"], image, drawables, args,
                                       case.get("run_mode", "noninteractive"))
    report.update(outcome)
    report["images_after"] = len(Gimp.get_images())
    report["fingerprint_after"] = fingerprint(image)
    report["undo_dirty_after"] = image.is_dirty()
    if not case.get("indexed"):
        report["after"] = dump_image(image, out, "after", babl)
    if isinstance(new_image, Gimp.Image):
        report["new_image"] = dump_image(new_image, out, "new", babl)
    if case.get("visible_format"):
        report["visible"] = dump_visible(image, out, case["visible_format"])
    return report


def main():
    with open(os.environ["GIMP_TEST_SPEC"]) as handle:
        spec = json.load(handle)
    results = {"precision_nicks": sorted(v.value_nick for v in Gimp.Precision.__enum_values__.values()),
               "choices": {f"{name}:{argument}": choice_labels(name, argument)
                           for name, argument in spec.get("choices", [])}}
    for case in spec["cases"]:
        try:
            results[case["name"]] = run_case(case)
        except Exception:
            results[case["name"]] = {"status": "batch-error", "message": traceback.format_exc()}
    with open(spec["results"] + ".part", "w") as handle:
        json.dump(results, handle, indent=1)
    os.replace(spec["results"] + ".part", spec["results"])


main()
