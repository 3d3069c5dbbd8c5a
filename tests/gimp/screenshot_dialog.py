"""Open the plug-in's dialog in the real GIMP 3 (trixie root) on a virtual display and save a screenshot.

    .venv/bin/python tests/gimp/screenshot_dialog.py plugin/gimp/screenshot-dialog.png
    .venv/bin/python tests/gimp/screenshot_dialog.py plugin/gimp/screenshot-cover-dialog.png \
        --procedure plug-in-realesrgan-cover

Runs "Upscale Image…" (or another procedure, in another locale with --lang) interactively through tests/gimp/batch.py with DISPLAY pointing at an Xvfb; when the
dialog is up, the screen is read from Xvfb's frame-buffer file (XWD), cropped to what was drawn, and written as
PNG. Then the plug-in is ended (as GIMP's Cancel does), which must leave the image unchanged.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data_paths import IMAGES, WEIGHTS  # noqa: E402
from gimp import chroot  # noqa: E402

DISPLAY = ":87"
SCREEN = (1024, 768)


def read_xwd(path: Path) -> np.ndarray:
    """A 24/32-bit ZPixmap XWD file (what Xvfb -fbdir keeps up to date) as a BGR array."""
    data = path.read_bytes()
    fields = struct.unpack(">25I", data[:100])
    header_size, width, height = fields[0], fields[4], fields[5]
    byte_order, bits_per_pixel, bytes_per_line, ncolors = fields[7], fields[11], fields[12], fields[19]
    if bits_per_pixel != 32:
        raise ValueError(f"{bits_per_pixel} bits per pixel is not supported")
    start = header_size + 12 * ncolors
    rows = np.frombuffer(data, dtype=np.uint8, count=bytes_per_line * height, offset=start)
    pixels = rows.reshape(height, bytes_per_line)[:, :width * 4].reshape(height, width, 4)
    return np.ascontiguousarray(pixels[:, :, :3] if byte_order == 0 else pixels[:, :, 1:][:, :, ::-1])


def drawn_part(screen: np.ndarray) -> np.ndarray:
    mask = screen.max(axis=2) > 0
    if not mask.any():
        return screen
    ys, xs = np.nonzero(mask)
    return screen[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def main(target: Path, procedure: str, lang: str) -> int:
    root = chroot.root_path()
    reason = chroot.why_unusable(root)
    if reason:
        print(reason, file=sys.stderr)
        return 2
    inside = Path("/tmp") / f"gimp-shot-{uuid.uuid4().hex[:8]}"
    work = root / inside.relative_to("/")
    plugins = work / "home" / ".config" / "GIMP" / "3.0" / "plug-ins"
    env = dict(os.environ, KRITA_REALESRGAN_CONFIG=str(work / "config.json"), KRITA_REALESRGAN_DATA=str(work / "data"))
    subprocess.run([sys.executable, str(chroot.REPO / "installer.py"), "--engine-python", sys.executable,
                    "--weights-dir", str(WEIGHTS), "--models", "none", "--no-krita", "--gimp-plugins", str(plugins)],
                   check=True, capture_output=True, env=env)
    shutil.copy(chroot.REPO / "tests" / "gimp" / "batch.py", work / "batch.py")
    case = dict(name="dialog", image=str(IMAGES / "children-alpha.png"), crop=[200, 100, 64, 48],
                procedure=procedure, args={}, read_format="R'G'B'A u8",
                run_mode="interactive", out=str(inside / "dialog"))
    (work / "spec.json").write_text(json.dumps({"cases": [case], "results": str(inside / "results.json")}))
    fbdir = Path(tempfile.mkdtemp(prefix="xvfb-"))
    xvfb = subprocess.Popen(["Xvfb", DISPLAY, "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-fbdir", str(fbdir),
                             "-nolisten", "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    extra = [Path("/tmp/.X11-unix")]
    try:
        time.sleep(2)
        with chroot.mounted(root, extra=extra):
            gimp_env = {"HOME": str(inside / "home"), "GIMP_TEST_SPEC": str(inside / "spec.json"),
                        "KRITA_REALESRGAN_CONFIG": str(inside / "config.json"),
                        "KRITA_REALESRGAN_DATA": str(inside / "data"), "DISPLAY": DISPLAY, "LANG": lang}
            gimp = subprocess.Popen(chroot.gimp_command(root, str(inside / "batch.py"), gimp_env),
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            shot = None
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and gimp.poll() is None:
                time.sleep(2)
                screen = read_xwd(fbdir / "Xvfb_screen0")
                if screen.max() > 0:
                    time.sleep(3)                  # let it finish drawing
                    shot = drawn_part(read_xwd(fbdir / "Xvfb_screen0"))
                    break
            for pid in chroot.processes_in(root, "realesrgan-upscale.py"):
                os.kill(pid, 9)                    # as GIMP's Cancel does
            output, _ = gimp.communicate(timeout=120)
        results = json.loads((work / "results.json").read_text())["dialog"]
        print("status after ending the plug-in:", results.get("status"),
              "| image unchanged:", results["fingerprint_after"] == results["fingerprint_before"])
        if shot is None:
            print("no dialog appeared\n" + output[-3000:], file=sys.stderr)
            return 1
        target.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(target), shot)
        print(f"wrote {target} ({shot.shape[1]}x{shot.shape[0]})")
        return 0
    finally:
        xvfb.terminate()
        xvfb.wait()
        shutil.rmtree(fbdir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("target", nargs="?", default="plugin/gimp/screenshot-dialog.png", type=Path)
    parser.add_argument("--procedure", default="plug-in-realesrgan-upscale-image")
    parser.add_argument("--lang", default="C.UTF-8", help="the user's locale (LANG), e.g. zh_CN.UTF-8")
    options = parser.parse_args()
    sys.exit(main(options.target, options.procedure, options.lang))
