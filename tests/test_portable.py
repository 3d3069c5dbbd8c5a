"""The modules in ``krita_realesrgan/common/`` (and the package's ``__init__``) run in an editor's bare Python: no
numpy, torch or OpenCV, Python 3.8+, and vendored as a subpackage of a plugin (the layout the installer makes)."""
from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from krita_realesrgan import common
from data_paths import REPO
from helpers import engine_env

PACKAGE = REPO / "krita_realesrgan"
BLOCKED = ("numpy", "torch", "cv2", "spandrel", "safetensors", "tqdm", "psutil", "PIL")

# Prepended to every -c program: make the third-party packages unimportable, whatever is installed.
BLOCKER = f"""
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {BLOCKED!r}:
            raise ImportError('blocked for this test: ' + name)
sys.meta_path.insert(0, _Block())
"""


def run_isolated(program: str, path: Path, timeout: float = 60, env=None) -> subprocess.CompletedProcess:
    code = BLOCKER + f"sys.path.insert(0, {str(path)!r})\n" + program
    return subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=timeout,
                          env=env)


VENDORED_FILES = common.vendored_files()


def module_names():
    """The vendored modules as dotted names below ``krita_realesrgan`` ('' for the package itself)."""
    names = []
    for name in VENDORED_FILES:
        if name.endswith(".py"):
            parts = name[:-3].split("/")
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def module_file(module: str) -> Path:
    base = PACKAGE.joinpath(*module.split(".")) if module else PACKAGE
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def test_the_blocker_blocks():
    result = run_isolated("import numpy", REPO)
    assert result.returncode != 0 and "blocked for this test: numpy" in result.stderr


@pytest.mark.parametrize("module", module_names())
def test_module_imports_without_third_party_packages(module):
    name = f"krita_realesrgan.{module}" if module else "krita_realesrgan"
    result = run_isolated(f"import {name}\nprint('ok')", REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize("module", module_names())
def test_module_is_python_38_syntax(module):
    path = module_file(module)
    ast.parse(path.read_text(encoding="utf-8"), filename=str(path), feature_version=(3, 8))


def test_vendored_modules_only_import_each_other():
    """Relative imports resolve inside the vendored folder; absolute ones are the standard library's."""
    vendored = set(module_names())
    for module in vendored:
        path = module_file(module)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".") if package else []
                base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                targets = [node.module] if node.module else [alias.name for alias in node.names]
                for target in targets:
                    dotted = ".".join(base + target.split("."))
                    assert dotted in vendored, f"{path} imports {dotted}, which is not vendored"
            elif isinstance(node, (ast.Import, ast.ImportFrom)) and not getattr(node, "level", 0):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                for name in names:
                    assert name.split(".")[0] in sys.stdlib_module_names or name == "__future__", \
                        f"{path} imports {name}, which is not in the standard library"


def vendor(folder: Path) -> Path:
    """The plugin layout: <folder>/realesrgan_upscale/krita_realesrgan/<__init__.py, common/>."""
    plugin = folder / "realesrgan_upscale"
    target = plugin / "krita_realesrgan"
    target.mkdir(parents=True)
    (plugin / "__init__.py").write_text("")
    for name in VENDORED_FILES:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PACKAGE / name, target / name)
    return plugin


def test_vendored_copy_imports_as_a_subpackage(tmp_path):
    vendor(tmp_path)
    imports = "\n".join(f"import realesrgan_upscale.krita_realesrgan.{m}" for m in module_names() if m)
    result = run_isolated(imports + "\nfrom realesrgan_upscale.krita_realesrgan.common.client import EngineClient\n"
                          "from realesrgan_upscale.krita_realesrgan.common.engine_jobs import Job\n"
                          "import realesrgan_upscale.krita_realesrgan.common.client as c\nprint(c.__file__)", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(str(tmp_path))


def test_vendored_cover_presets_read_their_data_without_numpy(tmp_path):
    vendor(tmp_path)
    result = run_isolated("from realesrgan_upscale.krita_realesrgan.common import cover_presets as p\n"
                          "print(p.PRESETS_FILE)\n"
                          "print('|'.join(f'{t.id}={t.size}={t.name_zh}' for t in p.presets()))", tmp_path)
    assert result.returncode == 0, result.stderr
    where, listing = result.stdout.strip().splitlines()
    assert where.startswith(str(tmp_path))
    assert "video-16x9=1280x720=视频封面" in listing and "short-9x16=1080x1920" in listing


VENDORED_JOB = """
from realesrgan_upscale.krita_realesrgan.common.client import EngineClient
from realesrgan_upscale.krita_realesrgan.common.formats import PixelFormat, UpscaleOptions
from realesrgan_upscale.krita_realesrgan.common.geometry import Extent
import json
client = EngineClient()
try:
    ready = client.start()
    pixels = bytes(range(0, 256, 8))                  # 4x4 grey+alpha uint8: 32 bytes
    data, extent = client.submit(pixels, PixelFormat("uint8", 2), Extent(4, 4), UpscaleOptions(scale=2)).wait()
    print(json.dumps({"pid": ready["pid"], "bytes": len(data), "extent": list(extent)}))
finally:
    client.close()
"""


@pytest.mark.slow
def test_vendored_client_runs_a_real_job_without_numpy(tmp_path, shared_weights):
    vendor(tmp_path)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"version": 1, "python": sys.executable, "weights": str(shared_weights)}))
    env = engine_env(tmp_path, KRITA_REALESRGAN_CONFIG=str(config))   # PYTHONPATH: the worker's; the -I client ignores it
    result = run_isolated(VENDORED_JOB, tmp_path, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["extent"] == [8, 8] and outcome["bytes"] == 8 * 8 * 2
