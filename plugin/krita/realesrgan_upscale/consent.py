"""Ask before a run that would take minutes or pass the pixel limit, in the user's language; the rule, the
question and what the answers lead to are the engine's shared ``run_question`` (the GIMP plug-in uses it too).

Pure Python: ``ask(text) -> bool`` is a message box in Krita (``EngineSession``), a function in the tests;
``submit(options)`` runs the job. No raises ``Cancelled`` before anything was submitted.
"""
from __future__ import annotations

from typing import Callable, Optional, TypeVar, Union

from .i18n import current_language
from .krita_realesrgan.common import run_question
from .krita_realesrgan.common.formats import PixelFormat, UpscaleOptions
from .krita_realesrgan.common.geometry import Extent
from .krita_realesrgan.common.run_estimate import SpeedRecord

T = TypeVar("T")
AskText = Callable[[str], bool]
Submit = Callable[[UpscaleOptions], T]


def _asker(ask: AskText, action: str) -> run_question.Ask:
    return lambda plan: ask(plan.question(action, current_language()))


def upscale(ask: AskText, speeds: Optional[SpeedRecord], fmt: PixelFormat, extent: Extent, options: UpscaleOptions,
            action: str, submit: Submit) -> T:
    """``submit(options)`` for an upscale of ``extent`` pixels, after asking where the plan needs it."""
    plan = run_question.plan_upscale(extent, fmt, options, speeds)
    return run_question.run_with_consent(plan, options, submit, _asker(ask, action))


def cover(ask: AskText, speeds: Optional[SpeedRecord], fmt: PixelFormat, extent: Extent,
          target: Union[str, Extent], fit: str, options: UpscaleOptions, action: str, submit: Submit) -> T:
    """``submit(options)`` for a cover of ``extent`` pixels, after asking where the plan needs it."""
    plan = run_question.plan_cover(extent, fmt, target, fit, options, speeds)
    return run_question.run_with_consent(plan, options, submit, _asker(ask, action))
