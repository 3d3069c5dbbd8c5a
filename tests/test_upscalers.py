"""The upscaler protocols (krita_realesrgan/upscalers.py) against the classes passed for them: the engine, the
command line's stand-in for the engine service, and the tests' FakeUpscaler. mypy checks the annotated
assignments (tests/test_lint.py runs it over this file); the asserts check the names at run time."""
from __future__ import annotations

from pathlib import Path

from helpers import FakeUpscaler

from krita_realesrgan.common.client import EngineClient
from krita_realesrgan.engine import Upscaler as Engine
from krita_realesrgan.serving.service_upscaler import ServiceUpscaler
from krita_realesrgan.upscalers import LocalUpscaler, PlanningUpscaler, Upscaler


def test_the_fake_upscaler_is_a_local_upscaler() -> None:
    fake: LocalUpscaler = FakeUpscaler()
    assert isinstance(fake, LocalUpscaler) and isinstance(fake, Upscaler)
    assert not isinstance(object(), Upscaler)


def test_the_engine_is_both_a_local_and_a_planning_upscaler(shared_weights: Path) -> None:
    engine = Engine(shared_weights)
    local: LocalUpscaler = engine
    planning: PlanningUpscaler = engine
    assert isinstance(local, LocalUpscaler) and isinstance(planning, PlanningUpscaler)


def test_the_engine_service_plans_for_the_command_line(tmp_path: Path) -> None:
    client = EngineClient(env={"HOME": str(tmp_path)})
    try:
        planning: PlanningUpscaler = ServiceUpscaler(client)
        assert isinstance(planning, PlanningUpscaler) and not isinstance(planning, LocalUpscaler)
    finally:
        client.close()
