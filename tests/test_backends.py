"""Backends: PyTorch and OpenVINO give the reference outputs, OpenVINO's converted network is cached on disk
(a second process needs no torch), a model that does not convert falls back to PyTorch with a note, the
automatic choice of backend and precision, and ``--fast`` refused where the CPU would emulate bf16."""
from __future__ import annotations

from dataclasses import replace

import argparse
import json
import subprocess
import sys

import numpy as np
import pytest

from krita_realesrgan.cli import main as cli, cover as cover_cli, image as upscale_cli, video as video_cli
from krita_realesrgan.backends import choice, openvino_store
from krita_realesrgan.backends.choice import Facts
from krita_realesrgan.backends.cpu import parse_cpuinfo
from krita_realesrgan.backends.openvino_backend import SizeRule, pad_like_spandrel
from krita_realesrgan.engine import Upscaler
from krita_realesrgan.common.errors import EngineError, Kind
from krita_realesrgan.common.formats import NO_TILING, UpscaleOptions
from krita_realesrgan.imagefile import read_image

from data_paths import REPO

REFERENCE = dict(model="realesr-animevideov3", tile=NO_TILING, precision="fp32", fill_transparent=False)
CPU_ONLY = Facts(cuda=False, mps=False, openvino=("CPU",), cpu_bf16=False, cpu="Test CPU")


def levels(a, b):
    return int(np.abs(a.astype(np.int64) - b.astype(np.int64)).max())


@pytest.mark.parametrize("backend", ["torch", "openvino"])
@pytest.mark.parametrize("scale,stem,source", [(4, "0014", "0014.jpg"), (2, "wolf_gray", "wolf_gray.jpg")])
def test_both_backends_give_the_reference(upscaler, images, golden, backend, scale, stem, source):
    image, fmt = read_image(images / source)
    expected, _ = read_image(golden / f"realesr-animevideov3_x{scale}" / f"{stem}.png")
    result = upscaler.upscale(image, fmt, UpscaleOptions(scale=scale, backend=backend, **REFERENCE))
    assert (result.backend, result.device, result.precision) == (backend, "cpu", "fp32")
    assert levels(result.image, expected) <= 1
    assert (result.image == expected).mean() > 0.95


def test_openvino_tiles_equal_the_whole_picture(upscaler, images):
    image, fmt = read_image(images / "0014.jpg")
    options = UpscaleOptions(backend="openvino", **REFERENCE)
    whole = upscaler.upscale(image, fmt, options)
    tiled = upscaler.upscale(image, fmt, options.with_(tile=96))
    assert tiled.tile == 96 and tiled.backend == "openvino"
    assert levels(whole.image, tiled.image) <= 1


def test_auto_runs_openvino_on_a_machine_without_a_gpu(upscaler, images):
    facts = choice.probe()
    if facts.cuda or facts.mps or not facts.openvino:
        pytest.skip("this machine has a CUDA/MPS GPU or no OpenVINO")
    image, fmt = read_image(images / "0014.jpg")
    result = upscaler.upscale(image[:48, :48], fmt, UpscaleOptions())
    assert (result.backend, result.precision) == ("openvino", "fp32")


_SECOND_PROCESS = """
import json, sys
import numpy as np
from krita_realesrgan.engine import Upscaler
from krita_realesrgan.common.formats import NO_TILING, UpscaleOptions
from krita_realesrgan.imagefile import read_image
image, fmt = read_image(sys.argv[2])
result = Upscaler(sys.argv[1]).upscale(image, fmt, UpscaleOptions(model="realesr-animevideov3", tile=NO_TILING,
                                                                  backend="openvino", fill_transparent=False))
np.save(sys.argv[3], result.image)
print(json.dumps({"torch": "torch" in sys.modules, "spandrel": "spandrel" in sys.modules,
                  "backend": result.backend}))
"""


def test_a_second_process_uses_the_stored_network_without_torch(upscaler, shared_weights, images, engine_cache,
                                                                 tmp_path):
    image, fmt = read_image(images / "0014.jpg")
    here = upscaler.upscale(image, fmt, UpscaleOptions(backend="openvino", **REFERENCE))  # converts if needed
    assert list((engine_cache / "openvino").glob("*/network.xml"))
    saved = tmp_path / "out.npy"
    run = subprocess.run([sys.executable, "-c", _SECOND_PROCESS, str(shared_weights), str(images / "0014.jpg"),
                          str(saved)], capture_output=True, text=True, timeout=300, cwd=str(REPO))
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report == {"torch": False, "spandrel": False, "backend": "openvino"}
    assert np.array_equal(np.load(saved), here.image)


class _Boom(RuntimeError):
    pass


def test_a_model_that_does_not_convert_runs_with_torch_and_says_so_once(shared_weights, images, monkeypatch,
                                                                        tmp_path):
    monkeypatch.setenv("KRITA_REALESRGAN_CACHE", str(tmp_path / "cache"))
    calls = []

    def refuse(descriptor, rule):
        calls.append(descriptor)
        raise _Boom("aten::strange_op is not supported")

    monkeypatch.setattr(openvino_store, "convert_checked", refuse)
    image, fmt = read_image(images / "0014.jpg")
    crop = np.ascontiguousarray(image[:40, :40])
    options = UpscaleOptions(model="realesr-animevideov3", backend="openvino", fill_transparent=False)
    upscaler = Upscaler(shared_weights)
    first = upscaler.upscale(crop, fmt, options)
    assert first.backend == "torch" and first.device == "cpu"
    assert len(first.notes) == 1 and "does not convert to OpenVINO" in first.notes[0]
    assert "strange_op" in first.notes[0] and "PyTorch" in first.notes[0]
    again = upscaler.upscale(crop, fmt, options)
    assert again.backend == "torch" and again.notes == ()         # said once
    reference = Upscaler(shared_weights).upscale(crop, fmt, options.with_(backend="torch"))
    assert levels(first.image, reference.image) == 0
    # the refusal is stored: a new process (here a new Upscaler) does not try again, and says why once
    later = Upscaler(shared_weights).upscale(crop, fmt, options)
    assert len(calls) == 1 and later.backend == "torch" and "strange_op" in later.notes[0]


def test_an_intel_gpu_model_that_does_not_convert_runs_exact_on_the_cpu(shared_weights, images, monkeypatch,
                                                                         tmp_path):
    """The fallback from the Intel GPU's fp16 (--fast) is PyTorch on the CPU in float32, not an emulated fp16."""
    monkeypatch.setenv("KRITA_REALESRGAN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(openvino_store, "convert_checked", lambda descriptor, rule: (_ for _ in ()).throw(_Boom("no")))
    monkeypatch.setattr(choice, "probe", lambda: Facts(False, False, ("CPU", "GPU"), False))
    image, fmt = read_image(images / "0014.jpg")
    result = Upscaler(shared_weights).upscale(np.ascontiguousarray(image[:32, :32]), fmt,
                                              UpscaleOptions(model="realesr-animevideov3", fast=True))
    assert (result.backend, result.device, result.precision) == ("torch", "cpu", "fp32")
    assert "does not convert" in result.notes[0]


# --- the choice -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("facts,device,fast,expected", [
    (Facts(True, False, ("CPU",), False), "auto", False, ("torch", "auto", "auto")),     # CUDA: as before
    (Facts(True, False, ("CPU",), False), "auto", True, ("torch", "auto", "fp16")),
    (Facts(False, True, ("CPU", "GPU"), True), "auto", False, ("torch", "auto", "auto")),  # MPS
    (Facts(False, False, ("CPU",), False), "auto", False, ("openvino", "CPU", "fp32")),
    (Facts(False, False, ("CPU",), True, cpu_bf16_faster=True), "auto", True, ("openvino", "CPU", "bf16")),
    (Facts(False, False, ("CPU", "GPU.0"), False), "auto", False, ("openvino", "GPU", "fp32")),  # Intel GPU
    (Facts(False, False, ("CPU", "GPU.0"), False), "auto", True, ("openvino", "GPU", "fp16")),
    (Facts(False, False, ("CPU", "GPU"), True, cpu_bf16_faster=True), "cpu", True, ("openvino", "CPU", "bf16")),
    (Facts(True, False, ("CPU",), False), "cpu", False, ("openvino", "CPU", "fp32")),     # asked for the CPU
    (Facts(True, False, ("CPU",), False), "cuda:0", False, ("torch", "cuda:0", "auto")),
    (Facts(False, False, (), False), "auto", False, ("torch", "auto", "auto")),           # no OpenVINO
])
def test_auto_backend_choice(facts, device, fast, expected):
    made = choice.choose("auto", device, "auto", fast, facts)
    assert (made.backend, made.device, made.precision) == expected


@pytest.mark.parametrize("backend,device,precision,facts,words", [
    ("openvino", "cuda", "auto", CPU_ONLY, "OpenVINO runs on the CPU or an Intel GPU"),
    ("openvino", "gpu", "auto", CPU_ONLY, "no Intel GPU"),
    ("openvino", "cpu", "fp16", CPU_ONLY, "fp16"),
    ("openvino", "cpu", "bf16", CPU_ONLY, "bfloat16"),
    ("openvino", "auto", "auto", Facts(False, False, (), False), "not installed"),
    ("torch", "gpu", "auto", CPU_ONLY, "OpenVINO"),
])
def test_impossible_choices_are_refused(backend, device, precision, facts, words):
    with pytest.raises(EngineError) as error:
        choice.choose(backend, device, precision, False, facts)
    assert error.value.kind == Kind.DEVICE and words in error.value.message


@pytest.mark.parametrize("backend", ["auto", "torch", "openvino"])
def test_fast_is_refused_on_a_cpu_that_would_emulate_bf16(backend):
    with pytest.raises(EngineError) as error:
        choice.choose(backend, "cpu", "auto", True, CPU_ONLY)
    message = error.value.message
    assert error.value.kind == Kind.DEVICE and "Test CPU" in message and "--fast" in message
    assert "\n" not in message


def test_fast_is_refused_where_bf16_is_native_but_slower():
    """Measured on a Xeon with AVX512-BF16 and no AMX: bf16 ran at 0.5-0.9x the speed of float32."""
    no_amx = Facts(False, False, ("CPU",), cpu_bf16=True, cpu="Zen 4", cpu_bf16_faster=False)
    with pytest.raises(EngineError) as error:
        choice.choose("auto", "cpu", "auto", True, no_amx)
    assert "without AMX" in error.value.message and "Leave out --fast" in error.value.message
    assert choice.choose("openvino", "cpu", "bf16", False, no_amx).precision == "bf16"   # asked for: allowed


def _offers(report):
    return [(offer.key, offer.fast_refused) for offer in report.offers]


def test_the_device_report_offers_backend_and_device_together_with_fast_where_it_pays():
    from krita_realesrgan.common import device_offers
    no_amx = Facts(False, False, ("CPU",), cpu_bf16=True, cpu="Zen 4", cpu_bf16_faster=False)
    assert _offers(choice.device_report(no_amx)) == [("auto", "no_amx"), ("cpu-openvino", "no_amx"),
                                                     ("cpu-torch", "no_amx"), ("cuda", "")]
    intel = Facts(False, False, ("CPU", "GPU.0"), cpu_bf16=False, cpu="Core Ultra")
    assert _offers(choice.device_report(intel)) == [("auto", ""), ("cpu-openvino", "no_bf16"),
                                                    ("cpu-torch", "no_bf16"), ("gpu-openvino", ""), ("cuda", "")]
    amx = Facts(False, True, ("CPU",), cpu_bf16=True, cpu="Xeon", cpu_bf16_faster=True)
    assert _offers(choice.device_report(amx)) == [("auto", ""), ("cpu-openvino", ""), ("cpu-torch", ""),
                                                  ("cuda", ""), ("mps", "")]
    no_openvino = choice.device_report(Facts(True, False, (), cpu_bf16=False, cpu="Old"))
    assert _offers(no_openvino) == [("auto", ""), ("cpu-torch", "no_bf16"), ("cuda", "")]
    # every entry is what the engine takes: the same refusal as the CLI's, and no refusal where fast runs
    for facts in (no_amx, intel, amx):
        for offer in choice.device_report(facts).offers:
            if offer.key == "cuda" and not facts.cuda:
                continue
            options = ("openvino" if offer.backend == "openvino" else offer.backend, offer.device)
            if offer.fast_refused:
                with pytest.raises(EngineError):
                    choice.choose(*options, "auto", True, facts)
            else:
                choice.choose(*options, "auto", True, facts)
    report = choice.device_report(no_amx)
    assert device_offers.DeviceReport.from_json(report.to_json()) == report


def test_the_device_report_is_kept_for_the_next_dialog(tmp_path):
    from krita_realesrgan.common import device_offers
    assert device_offers.load(tmp_path, "linux") == device_offers.default_report("linux")
    assert [o.key for o in device_offers.default_report("darwin").offers][-1] == "mps"
    report = choice.device_report(Facts(False, False, ("CPU", "GPU"), cpu_bf16=False, cpu="Core"))
    device_offers.save(report, tmp_path)
    assert device_offers.load(tmp_path) == report and not list(tmp_path.glob("*.part"))
    (tmp_path / device_offers.REPORT_FILE).write_text('{"offers": [{"key": "warp-drive"}]}')
    assert device_offers.load(tmp_path, "linux") == device_offers.default_report("linux")
    assert device_offers.known_key("cpu") == "cpu-torch" and device_offers.known_key("nonsense") == "auto"


def test_cpu_flags_decide_native_bf16():
    avx2 = parse_cpuinfo("processor\t: 0\nmodel name\t: AVX2 Chip\nflags\t\t: fpu sse2 avx avx2 fma\n")
    amx = parse_cpuinfo("model name\t: AMX Chip\nflags\t\t: avx2 avx512f amx_tile amx_bf16\n")
    bf16 = parse_cpuinfo("model name\t: Zen 4\nflags\t\t: avx2 avx512f avx512_bf16\n")
    assert (avx2.native_bf16, amx.native_bf16, bf16.native_bf16) == (False, True, True)
    assert (avx2.bf16_faster, amx.bf16_faster, bf16.bf16_faster) == (False, True, False)   # AMX only
    assert avx2.model == "AVX2 Chip" and "avx2" in avx2.describe() and "amx_bf16" in amx.describe()
    assert parse_cpuinfo("model name\t: no flags line\n").native_bf16 is None


def test_cli_fast_on_an_avx2_cpu_is_one_clear_line(images, shared_weights, tmp_path, monkeypatch, capsys):
    avx2 = parse_cpuinfo("model name\t: AVX2 Chip\nflags\t\t: avx2 fma\n")
    monkeypatch.setattr(choice, "probe", lambda: Facts(False, False, ("CPU",), bool(avx2.native_bf16), avx2.model))
    code = cli.main(["-i", str(images / "0014.jpg"), "-o", str(tmp_path / "out"), "--weights-dir",
                     str(shared_weights), "--fast"])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert code == 1 and len(lines) == 1
    assert "AVX2 Chip" in lines[0] and "Leave out --fast" in lines[0]
    assert not list((tmp_path / "out").glob("*.jpg"))


def test_fast_and_a_precision_together_are_refused():
    with pytest.raises(EngineError) as error:
        UpscaleOptions(fast=True, precision="fp32")
    assert error.value.kind == Kind.BAD_INPUT


def test_fast_runs_bf16_where_the_cpu_has_it(upscaler, images, monkeypatch):
    real = choice.probe()
    if not real.cpu_bf16 or real.cuda or real.mps:
        pytest.skip("this CPU has no native bf16")
    monkeypatch.setattr(choice, "probe", lambda: replace(real, cpu_bf16_faster=True))   # as on an AMX CPU
    image, fmt = read_image(images / "0014.jpg")
    crop = np.ascontiguousarray(image[:64, :64])
    exact = upscaler.upscale(crop, fmt, UpscaleOptions(model="realesr-animevideov3"))
    fast = upscaler.upscale(crop, fmt, UpscaleOptions(model="realesr-animevideov3", fast=True))
    assert (fast.backend, fast.precision) == ("openvino", "bf16")
    difference = np.abs(fast.image.astype(np.int64) - exact.image.astype(np.int64))
    assert 0 < difference.max() < 40 and difference.mean() < 2.0


@pytest.mark.parametrize("command", [upscale_cli, video_cli, cover_cli])
def test_every_command_takes_backend_device_and_fast(command):
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    required = ["-i", "in.mp4", "-o", "out.mp4"] if command is video_cli else []
    args = parser.parse_args(required + ["--backend", "openvino", "--device", "gpu", "--fast"])
    assert (args.backend, args.device, args.fast) == ("openvino", "gpu", True)
    with pytest.raises(SystemExit):
        parser.parse_args(required + ["--backend", "tensorrt"])


def test_padding_matches_spandrel():
    """Architectures that need a multiple of some size are padded as spandrel pads them."""
    import torch
    from spandrel.__helpers.size_req import SizeRequirements, pad_tensor
    batch = np.random.default_rng(1).random((2, 13, 6, 3), dtype=np.float32)
    for rule in (SizeRule(multiple_of=8), SizeRule(minimum=16, multiple_of=4, square=True)):
        ours = pad_like_spandrel(batch, *rule.padding(6, 13))
        _, theirs = pad_tensor(torch.from_numpy(batch).permute(0, 3, 1, 2),
                               SizeRequirements(rule.minimum, rule.multiple_of, rule.square))
        assert np.array_equal(ours, theirs.permute(0, 2, 3, 1).numpy())


def test_the_options_travel_to_the_worker():
    sent = UpscaleOptions(backend="openvino", fast=True, device="gpu")
    received = UpscaleOptions.from_json(json.loads(json.dumps(sent.to_json())))
    assert (received.backend, received.fast, received.device) == ("openvino", True, "gpu")
    assert UpscaleOptions.from_json({}).backend == "auto"   # what an older plugin sends
    with pytest.raises(EngineError) as error:
        UpscaleOptions.from_json({"backend": "tensorrt"})
    assert error.value.kind == Kind.BAD_INPUT


def test_the_caches_stay_bounded(tmp_path, monkeypatch):
    """Compiled blobs (one per shape) and stored conversions (one per network and denoise strength) are pruned,
    oldest or least recently used first."""
    import os
    from krita_realesrgan.backends.openvino_backend import prune_oldest
    blobs = tmp_path / "compiled"
    blobs.mkdir()
    for age, name in enumerate(["new.blob", "middle.blob", "old.blob"]):
        (blobs / name).write_bytes(b"x" * 100)
        os.utime(blobs / name, (1000 - age * 10, 1000 - age * 10))
    prune_oldest(blobs, 250)
    assert sorted(p.name for p in blobs.iterdir()) == ["middle.blob", "new.blob"]

    monkeypatch.setattr(openvino_store, "KEPT_NETWORKS", 2)
    store = openvino_store.IrStore(tmp_path / "openvino")
    for age, digest in enumerate(["b" * 64, "c" * 64]):
        store._write(digest, None, {"converts": False, "reason": "test"})
        os.utime(store.root / digest / "network.json", (2000 - age * 10, 2000 - age * 10))
    assert isinstance(store.lookup("c" * 64), openvino_store.Refused)
    store._write("a" * 64, None, {"converts": False, "reason": "test"})
    assert sorted(p.name[0] for p in store.root.iterdir() if p.name != "compiled") == ["a", "b"]
