"""Before an editor starts a run: what it will produce, whether to ask the user first, and the question.

The Krita and GIMP plugins vendor this module (standard library only) and give it only what is editor-specific:
how to ask (a message box), the user's language and the submit call. An editor asks when the run would take more
than about a minute (by the speed measured on this computer, ``run_estimate.SpeedRecord``) or when its result
passes the pixel limit (``UpscaleOptions.max_pixels``); Yes runs it (without the limit when it was above it), No
raises ``Cancelled`` before anything was submitted, so the document stays as it was. A script that cannot be
asked (``ask`` None) runs, or fails above the limit with a message that names what raises it. Should the engine
still refuse a result as too large (the editor's plan and the engine disagree), the same question comes, and Yes
submits again without the limit.

An editor does not know which backend, device and precision the engine will choose, so the time comes from the
slowest set-up recorded for the model (on the chosen device when there are records for it); before the model's
first run on this computer the time is not known and only the limit asks.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Optional, TypeVar, Union

from . import catalog
from .cover_presets import AUTO_MODEL, preset, upscaled_size
from .errors import Cancelled, EngineError, Kind
from .formats import PixelFormat, UpscaleOptions
from .geometry import Extent
from .run_estimate import HOW_TO_RAISE, RunEstimate, SpeedRecord, check_limit, estimate, memory_text, network_passes
from .translate import translate

LONG_RUN_SECONDS = 60.0   # a run longer than about a minute is asked about first
ASSUMED_SCALE = 4         # a weights file the catalog does not know, or "auto": most Real-ESRGAN networks are x4

T = TypeVar("T")

# The question's words in English (str.format fields), shown in the reader's language through ``translate``.
TEXTS = {
    "result": "{action}: {source} → {result} pixels ({count}).",
    "cover_result": "{action}: {source} → {result} pixels ({count}) through the network, then resized to {final}.",
    "cost": "It needs about {memory} of memory and takes about {time}.",
    "cost_untimed": "It needs about {memory} of memory; how long it takes is not known yet (this model has not run "
                    "on this computer so far).",
    "over_limit": "That is above the limit of {limit} for one result.",
    "start": "Start it?",
    "pixels": "{n} pixels",
    "megapixels": "{n} megapixels",
    "gigapixels": "{n} gigapixels",
    "seconds": "{n} s",
    "minutes": "{n} min",
    "hours": "{n} h",
}


def _text(key: str, language: str, **fields) -> str:
    return translate(TEXTS[key], language).format(**fields)


def pixels_text(count: int, language: str = "") -> str:
    """E.g. "400 megapixels", "1.3 gigapixels", "0.5 megapixels", "1,600 pixels" (or in Simplified Chinese)."""
    if count < 1e5:
        return _text("pixels", language, n=f"{count:,}")
    if count >= 1e9:
        return _text("gigapixels", language, n=f"{count / 1e9:.1f}")
    megapixels = count / 1e6
    return _text("megapixels", language, n=f"{megapixels:,.0f}" if megapixels >= 10 else f"{megapixels:.1f}")


def duration_text(seconds: float, language: str = "") -> str:
    if seconds < 90:
        return _text("seconds", language, n=max(1, round(seconds)))
    if seconds < 5400:
        return _text("minutes", language, n=round(seconds / 60))
    return _text("hours", language, n=f"{seconds / 3600:.1f}")


@dataclass(frozen=True)
class RunPlan:
    """One planned run: its estimate (source -> what the network's run makes, memory, rough time), the pixel
    limit it is checked against (0 = none) and, for a cover, the size the user finally gets."""

    estimate: RunEstimate
    max_pixels: int
    final: Optional[Extent] = None
    refused_by_engine: bool = False   # the engine found the result too large although the plan did not

    @property
    def over_limit(self) -> bool:
        return self.refused_by_engine or bool(self.max_pixels and self.estimate.result.pixel_count > self.max_pixels)

    @property
    def long(self) -> bool:
        return self.estimate.seconds is not None and self.estimate.seconds > LONG_RUN_SECONDS

    @property
    def needs_consent(self) -> bool:
        return self.over_limit or self.long

    def question(self, action: str, language: str = "") -> str:
        """What the editor asks (``action``: the operation's name, already in ``language``)."""
        run = self.estimate
        fields = dict(action=action, source=run.source, result=run.result, final=self.final,
                      count=pixels_text(run.result.pixel_count, language))
        lines = [_text("cover_result" if self.final else "result", language, **fields)]
        memory = memory_text(run.memory_bytes)
        if run.seconds is None:
            lines.append(_text("cost_untimed", language, memory=memory))
        else:
            lines.append(_text("cost", language, memory=memory, time=duration_text(run.seconds, language)))
        if self.over_limit:
            limit = pixels_text(self.max_pixels, language) if self.max_pixels else "?"
            lines.append(_text("over_limit", language, limit=limit))
        return "\n\n".join(lines + [_text("start", language)])

    def check_limit(self, how_to_raise: str) -> None:
        """EngineError TOO_LARGE (naming ``how_to_raise``) when the result is above the limit."""
        check_limit(self.estimate.result, self.max_pixels, how_to_raise)


def model_scale(model: str) -> int:
    info = catalog.get(model) if model != AUTO_MODEL else None
    return info.scale if info else ASSUMED_SCALE


def _speed(model: str, device: str, speeds: Optional[SpeedRecord]) -> Optional[float]:
    speeds = speeds or SpeedRecord()
    return speeds.slowest(None if model == AUTO_MODEL else model, device)


def plan_upscale(source: Extent, fmt: PixelFormat, options: UpscaleOptions,
                 speeds: Optional[SpeedRecord] = None) -> RunPlan:
    """The plan of an ``upscale`` job: ``source`` pixels in ``fmt`` to ``options``' result."""
    scale = model_scale(options.model)
    result = options.output_extent(source, scale)
    planned = estimate(source, result, fmt.channels, fmt.bytes_per_sample, _speed(options.model, options.device,
                       speeds), scale, network_passes(source, result, scale), network_bytes_per_pixel=None)
    return RunPlan(planned, int(options.max_pixels))


def plan_cover(source: Extent, fmt: PixelFormat, target: Union[str, Extent], fit: str, options: UpscaleOptions,
               speeds: Optional[SpeedRecord] = None) -> Optional[RunPlan]:
    """The plan of a ``cover`` job (``target``: a preset id or a size); None when the picture is large enough
    already (it is only reduced, no network runs). The engine runs the model once at its native scale on the
    whole picture, then resizes; that result is what the limit is about."""
    size = Extent(*target) if isinstance(target, (tuple, list)) else preset(target).size
    final = upscaled_size(source, size, fit)
    if final.fits_in(source):
        return None
    scale = model_scale(options.model)
    result = source * scale
    planned = estimate(source, result, fmt.channels, fmt.bytes_per_sample, _speed(options.model, options.device,
                       speeds), scale, 1, network_bytes_per_pixel=None)
    return RunPlan(planned, int(options.max_pixels), final)


Ask = Callable[[RunPlan], bool]


def run_with_consent(plan: Optional[RunPlan], options: UpscaleOptions, submit: Callable[[UpscaleOptions], T],
                     ask: Optional[Ask], how_to_raise: str = HOW_TO_RAISE) -> T:
    """``submit(options)`` after the user agreed where a plan needs it (see the module docstring).

    ``ask(plan)`` shows ``plan.question(...)`` and returns True for Yes; ``ask`` None: a script, never asked (a
    result above the limit fails with ``how_to_raise`` in the message). No raises ``Cancelled`` before anything
    was submitted. ``plan`` None: nothing to ask about (a cover that is only reduced)."""
    if plan is not None and plan.needs_consent:
        if ask is None:
            plan.check_limit(how_to_raise)
        elif not ask(plan):
            raise Cancelled("Not started.")
        elif plan.over_limit:
            options = options.with_(max_pixels=0)
    try:
        return submit(options)
    except EngineError as error:
        if error.kind != Kind.TOO_LARGE or ask is None or not options.max_pixels or plan is None:
            raise
        if not ask(replace(plan, refused_by_engine=True)):
            raise Cancelled("Not started.") from error
        return submit(options.with_(max_pixels=0))
