"""Folders and videos on Ray (krita_realesrgan/cluster/, issue 17), on a local Ray runtime with two CPUs and the
compact test model: the same outputs as the single-process run, a killed worker replaced with its segments redone,
--resume after an interrupted driver, a head and a worker node started as separate processes, and Ray optional
(one line when it is missing, never imported by the normal command line)."""
from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from krita_realesrgan.cli import main as cli
from krita_realesrgan.video.options import VideoOptions
from krita_realesrgan.video.pipeline import upscale_video
from krita_realesrgan.video.probe import probe
from krita_realesrgan.video.work_folder import WorkFolder
from krita_realesrgan.cluster import args as cluster_args
from krita_realesrgan.cluster import pool, runtime, video_run
from krita_realesrgan.common.errors import Cancelled, EngineError
from krita_realesrgan.common.formats import UpscaleOptions

from video_clips import decoded_frames, make_clip, packet_hashes
from data_paths import REPO

try:
    import ray
except ImportError:   # the developer setup installs the cluster extra: without it the setup is incomplete
    pytest.fail("ray is not installed; run: python3 installer.py --dev (it installs the cluster extra)",
                pytrace=False)

MODEL = "realesr-animevideov3"
SEGMENT = 3                     # 24 frames at 12 frames/s: 8 segments, so the pool has work queued when it matters
FILES = 5


@pytest.fixture(scope="module", autouse=True)
def ray_token():
    """Ray's token authentication with a token of this module's own, in the environment that every Ray process
    started here inherits (head, worker node, command line), so nothing is read from or written to ~/.ray. (A
    local ``ray.init`` turns the mode on by itself, and sets RAY_AUTH_MODE here: restored after.)"""
    import secrets
    saved = {key: os.environ.get(key) for key in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def local_ray():
    """One local runtime for the module's in-process runs (``--ray local`` uses a runtime already started)."""
    ray.init(num_cpus=2, include_dashboard=False, namespace=runtime.NAMESPACE, logging_level=logging.WARNING,
             log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Five small pictures, each different (smooth noise: the network has something to sharpen)."""
    folder = tmp_path_factory.mktemp("pictures")
    rng = np.random.default_rng(17)
    for number in range(FILES):
        picture = cv2.GaussianBlur((rng.random((48, 64, 3)) * 255).astype(np.uint8), (5, 5), 1.5)
        cv2.imwrite(str(folder / f"p{number}.png"), picture)
    return folder


def upscale_folder(source: Path, target: Path, *extra: str) -> int:
    return cli.main(["-i", str(source), "-o", str(target), "-n", MODEL, "--weights-dir",
                     str(REPO / "tests" / "data" / "weights"), *extra])


@pytest.fixture(scope="module")
def single_folder(folder, shared_weights, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("single-folder")
    assert upscale_folder(folder, target) == 0
    return target


def assert_same_pictures(got: Path, expected: Path) -> None:
    names = sorted(p.name for p in expected.iterdir())
    assert sorted(p.name for p in got.iterdir()) == names and len(names) == FILES
    for name in names:
        ours, theirs = (cv2.imread(str(folder / name), cv2.IMREAD_UNCHANGED) for folder in (got, expected))
        assert ours.shape == theirs.shape == (192, 256, 3)
        assert np.abs(ours.astype(int) - theirs).max() <= 1, name


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", size="64x48", seconds=2.0)


def video_options() -> VideoOptions:
    return VideoOptions(UpscaleOptions(model=MODEL, scale=2), segment_frames=SEGMENT)


@pytest.fixture(scope="module")
def single_video(clip, shared_weights, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("single-video") / "single.mp4"
    upscale_video(clip, target, video_options(), weights_dir=shared_weights)
    return target


def assert_same_video(got: Path, expected: Path) -> None:
    ours, theirs = decoded_frames(got), decoded_frames(expected)
    assert ours.shape == theirs.shape == (24, 96, 128, 3)           # every frame once, in order
    assert np.abs(ours.astype(int) - theirs).max() <= 1
    assert probe(got) == probe(expected)                  # frame count, rate, time base, streams
    assert packet_hashes(got, "0:a:0") == packet_hashes(expected, "0:a:0")   # the sound copied, unchanged


def segments_of(target: Path):
    return sorted(p.name for p in WorkFolder(target).path.glob("segment-*.mp4"))


# --- Ray is optional ----------------------------------------------------------------------------------------------

def test_installer_extras():
    sys.path.insert(0, str(REPO))
    from install_steps.engine_env import engine_extras
    import installer
    assert engine_extras(installer.parse_args(["--dev"])) == ["test", "cluster"]      # CI runs these tests
    assert engine_extras(installer.parse_args(["--with-ray"])) == ["cluster"]
    assert engine_extras(installer.parse_args([])) == []


def run_cli_without_ray(*argv: str) -> subprocess.CompletedProcess:
    """The command line in a fresh interpreter where ``import ray`` fails, as without the extra; prints whether
    anything imported ray."""
    code = ("import sys; sys.modules['ray'] = None\n"
            "from krita_realesrgan.cli.main import main\n"
            f"code = main({list(argv)!r})\n"
            "print('ray imported:', sys.modules.get('ray') is not None); sys.exit(code)")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))


def test_ray_missing_is_one_line_and_the_normal_path_never_imports_it(folder, shared_weights, tmp_path):
    for argv in (["-i", str(folder), "-o", str(tmp_path / "a"), "--ray", "local"],
                 ["video", "-i", str(folder / "p0.png"), "-o", str(tmp_path / "b.mp4"), "--ray", "auto"]):
        refused = run_cli_without_ray(*argv, "--weights-dir", str(shared_weights))
        assert refused.returncode == 1, refused.stderr
        assert refused.stderr.strip() == f"error: {cluster_args.INSTALL_LINE}"
    assert not (tmp_path / "a").exists() and not (tmp_path / "b.mp4").exists()

    normal = run_cli_without_ray("-i", str(folder / "p0.png"), "-o", str(tmp_path / "c"), "-n", MODEL,
                                 "--weights-dir", str(shared_weights))
    assert normal.returncode == 0, normal.stderr
    assert "ray imported: False" in normal.stdout and (tmp_path / "c" / "p0_out.png").is_file()


def test_workers_are_one_per_gpu_else_share_the_cpus():
    def sized(total, wanted=None):
        cluster = runtime.Cluster.sized("auto", total, wanted)
        return cluster.workers, cluster.resources
    assert sized({"CPU": 16, "GPU": 4}) == (4, {"num_gpus": 1, "num_cpus": 1})
    assert sized({"CPU": 2}) == (2, {"num_cpus": 1})
    assert sized({"CPU": 16}, wanted=4) == (4, {"num_cpus": 4})


# --- the same results as one process --------------------------------------------------------------------------

def test_folder_on_ray_gives_the_single_process_pictures(local_ray, folder, single_folder, tmp_path, capsys):
    target = tmp_path / "out"
    assert upscale_folder(folder, target, "--ray", "local") == 0
    assert_same_pictures(target, single_folder)
    err = capsys.readouterr()
    assert f"{FILES} image(s) in" in err.out + err.err
    assert not [p for p in target.iterdir() if p.name.startswith(".")]   # no temporary files left


def test_video_on_ray_gives_the_single_process_video(local_ray, clip, single_video, shared_weights, tmp_path):
    target = tmp_path / "ray.mp4"
    said = []
    report = video_run.upscale_video(clip, target, video_options(), ray=cluster_args.RaySpec("local"),
                                     weights_dir=shared_weights, log=said.append)
    assert report.frames == 24 and report.frame_rate == 12 and report.resumed_frames == 0
    assert_same_video(target, single_video)
    assert not WorkFolder(target).path.exists()
    assert any(line.startswith("24 frame(s) in") and "on 2 Ray worker(s)" in line for line in said), said


# --- faults ---------------------------------------------------------------------------------------------------

def test_a_bad_file_fails_alone_and_is_listed_at_the_end(local_ray, folder, single_folder, tmp_path, capsys):
    """A PNG cut short (its header is fine, so it fails on a worker, not in the plan): the others are written,
    the failure is listed at the end as in the single-machine run, exit code 1."""
    source = tmp_path / "in"
    source.mkdir()
    for name in ("p0.png", "p1.png"):
        shutil.copy(folder / name, source / name)
    whole = (folder / "p2.png").read_bytes()
    (source / "p2.png").write_bytes(whole[:len(whole) // 2])
    target = tmp_path / "out"
    assert upscale_folder(source, target, "--ray", "local") == 1
    err = capsys.readouterr().err
    assert "1 of 3 image(s) failed:" in err and f"{source / 'p2.png'}: " in err
    assert sorted(p.name for p in target.iterdir()) == ["p0_out.png", "p1_out.png"]
    assert (target / "p0_out.png").read_bytes() == (single_folder / "p0_out.png").read_bytes()


def test_an_address_where_nothing_listens_is_refused_at_once():
    port = free_port()
    with pytest.raises(EngineError) as refused:
        runtime.check_reachable(f"127.0.0.1:{port}")
    assert refused.value.message.startswith(f"Cannot join the Ray cluster at 127.0.0.1:{port}: nothing answers")


def test_a_killed_worker_is_replaced_and_its_segments_redone(local_ray, clip, single_video, shared_weights,
                                                             tmp_path):
    """After the first segment comes back, one of the two workers is killed (it holds queued segments); the run
    still gives every frame exactly once, equal to the single-process video."""
    killed = []

    def kill_one(done: int, total: int) -> None:
        if done and not killed:
            names = [actor for actor in ray.util.list_named_actors(all_namespaces=True)
                     if actor["name"].startswith(f"{pool.NAME_PREFIX}-{os.getpid()}-")]
            victim = names[0]
            ray.kill(ray.get_actor(victim["name"], namespace=victim["namespace"]))
            killed.append(victim["name"])

    target = tmp_path / "killed.mp4"
    said = []
    report = video_run.upscale_video(clip, target, video_options(), ray=cluster_args.RaySpec("local"),
                                     weights_dir=shared_weights, progress=kill_one, log=said.append)
    assert killed and report.frames == 24
    summary = [line for line in said if " frame(s) in " in line][0]
    assert "1 worker(s) replaced" in summary and "shard(s) redone" in summary, summary
    assert_same_video(target, single_video)


def test_resume_after_an_interrupted_driver(local_ray, clip, single_video, shared_weights, tmp_path):
    """The driver is cancelled (what Ctrl-C does) after two segments came back: no output, the segments stay;
    --resume upscales only the others and gives the single-process video."""
    target = tmp_path / "resumed.mp4"
    ray_spec = cluster_args.RaySpec("local")
    with pytest.raises(Cancelled):
        video_run.upscale_video(clip, target, video_options(), ray=ray_spec, weights_dir=shared_weights,
                                cancel=lambda: len(segments_of(target)) >= 2)
    kept = segments_of(target)
    assert not target.exists() and 2 <= len(kept) < 8
    assert not list(tmp_path.rglob("*.part")) and not list(tmp_path.glob(".*partial*"))

    said = []
    report = video_run.upscale_video(clip, target, video_options(), ray=ray_spec, weights_dir=shared_weights,
                                     resume=True, log=said.append)
    assert report.resumed_frames == len(kept) * SEGMENT and report.frames == 24
    assert f"Resuming: {len(kept)} segment(s) already upscaled." in said
    new = [line for line in said if " frame(s) in " in line][0]
    assert new.startswith(f"{24 - len(kept) * SEGMENT} frame(s) in"), new
    assert_same_video(target, single_video)


@pytest.mark.slow
def test_ctrl_c_in_a_terminal_then_resume(clip, single_video, shared_weights, tmp_path):
    """SIGINT to the command's whole process group, as a terminal's Ctrl-C sends it (Ray's own processes get it
    too) after the first segment came back: exit 130, no output, the segment kept; --resume finishes the job."""
    target = tmp_path / "ctrl_c.mp4"
    work = WorkFolder(target).path
    command = [sys.executable, "-m", "krita_realesrgan", "video", "-i", str(clip), "-o", str(target), "-s", "2",
               "-n", MODEL, "--weights-dir", str(shared_weights), "--segment-frames", str(SEGMENT), "--ray", "local"]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    deadline = time.monotonic() + 300
    while not list(work.glob("segment-*.mp4")):
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGINT)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    kept = segments_of(target)
    assert not target.exists() and 1 <= len(kept) < 8

    resumed = subprocess.run(command + ["--resume"], env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert "frames from the earlier run" in resumed.stdout and not work.exists()
    assert_same_video(target, single_video)


# --- a cluster of two nodes ---------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_a_head_and_a_worker_node(folder, single_folder, shared_weights, tmp_path):
    """``ray start --head`` and ``ray start --address`` as separate processes, one CPU each; the command line
    joins them by address and uses a worker on each node."""
    if ray.is_initialized():   # `ray stop` ends every Ray process of this machine, the module's runtime too
        ray.shutdown()
    ray_cli = shutil.which("ray", path=str(Path(sys.executable).parent)) or "ray"
    port = free_port()
    address = f"127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=str(REPO), RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="token")
    start = dict(capture_output=True, text=True, timeout=180, env=env)
    try:
        head = subprocess.run([ray_cli, "start", "--head", "--port", str(port), "--num-cpus", "1",
                               "--include-dashboard=false"], **start)
        assert head.returncode == 0, head.stderr
        node = subprocess.run([ray_cli, "start", "--address", address, "--num-cpus", "1"], **start)
        assert node.returncode == 0, node.stderr
        target = tmp_path / "out"
        run = subprocess.run([sys.executable, "-m", "krita_realesrgan", "-i", str(folder), "-o", str(target),
                              "-n", MODEL, "--weights-dir", str(shared_weights), "--ray", address],
                             capture_output=True, text=True, timeout=600, env=env)
        assert run.returncode == 0, run.stderr
        assert "on 2 Ray worker(s) (2 node(s))" in run.stdout + run.stderr
        assert_same_pictures(target, single_folder)
    finally:
        subprocess.run([ray_cli, "stop", "--force"], capture_output=True, timeout=120, env=env)
