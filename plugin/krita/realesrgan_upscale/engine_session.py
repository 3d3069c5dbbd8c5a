"""One engine worker for the whole Krita session: started on first use, then reused (the model stays loaded).

Before an upscale or a cover that would take minutes or pass the pixel limit, the user is asked (``consent``);
No leaves everything as it was."""
from __future__ import annotations

from typing import Callable, List, Optional, Tuple, Union

from . import consent
from .i18n import tr
from .jobs import ask_yes_no, run_in_background, wait_for_job
from .krita_realesrgan.common import device_offers, paths
from .krita_realesrgan.common.errors import EngineError, Kind
from .krita_realesrgan.common.formats import PixelFormat, UpscaleOptions
from .krita_realesrgan.common.geometry import Extent
from .krita_realesrgan.common.run_estimate import SpeedRecord


def _default_client():
    """A worker of Krita's own, or the engine service the config's ``engine`` names (``service_client``)."""
    from .krita_realesrgan.common.client import EngineClient
    from .krita_realesrgan.common.service_client import configured_engine
    return EngineClient(log_path=paths.log_file(), engine=configured_engine())


class EngineSession:
    def __init__(self, make_client: Callable[[], object] = _default_client, parent=None,
                 ask: Optional[consent.AskText] = None, speeds: Optional[SpeedRecord] = None):
        self._make_client = make_client
        self._client = None
        self.parent = parent  # the window progress dialogs belong to
        self.ask = ask or self.ask_box   # before a long or very large run: Yes -> True
        self.speeds = speeds             # the measured speeds (None: the engine's record in paths.cache_dir())
        self.notes: Tuple[str, ...] = ()  # what the engine said about the last job (e.g. it ran with PyTorch)
        self.faces = ""                   # the last upscale's faces in words ("1 face restored"); "" without

    @property
    def started(self) -> bool:
        return self._client is not None

    def client(self):
        if self._client is None:
            client = self._make_client()
            run_in_background(client.start, tr("Starting the upscaling engine…"), self.parent)
            self._client = client
        return self._client

    def devices(self) -> device_offers.DeviceReport:
        """What the device list offers: the running engine's report, else the last one its worker kept in the
        engine's cache (never starts the worker)."""
        client = self._client
        if client is not None and client.running:
            try:
                report = device_offers.DeviceReport.from_json(client.start())
            except EngineError:
                report = None
            if report is not None:
                return report
        return device_offers.load(paths.cache_dir())

    def models(self) -> Optional[List[dict]]:
        """The worker's model list when it is already running (never starts it)."""
        if self._client is None:
            return None
        try:
            return self._client.models()
        except EngineError:
            self.close()
            return None

    def upscale(self, pixels: bytes, fmt: PixelFormat, extent: Extent, options: UpscaleOptions,
                action: str) -> Tuple[bytes, Extent]:
        """Run one upscale with a progress dialog (asking first when it would be long or very large); raises
        EngineError / Cancelled."""
        return consent.upscale(self.ask, self.speeds, fmt, extent, options, action, lambda chosen: self._run(
            lambda client: client.submit(pixels, fmt, extent, chosen), action))

    def cover(self, pixels: bytes, fmt: PixelFormat, extent: Extent, target: Union[str, Extent],
              options: UpscaleOptions, fit: str, background: str, action: str):
        """Run one cover job (``EngineClient.submit_cover``) with a progress dialog; returns its ``CoverOutcome``."""
        from .krita_realesrgan.common.job_outcomes import CoverOutcome
        def submit(chosen: UpscaleOptions):
            return self._run(lambda client: client.submit_cover(pixels, fmt, extent, target, chosen, fit, background),
                             action, finish=lambda job: CoverOutcome.of(job, timeout=0))
        return consent.cover(self.ask, self.speeds, fmt, extent, target, fit, options, action, submit)

    def export(self, pixels: bytes, fmt: PixelFormat, extent: Extent, path: str, max_bytes: Optional[int],
               export_format: Optional[str], action: str):
        """Save a finished cover (``EngineClient.submit_export``) with a progress dialog; returns its
        ``ExportOutcome``. The engine writes the file atomically: after an error or a cancel there is none."""
        from .krita_realesrgan.common.job_outcomes import ExportOutcome
        return self._run(lambda client: client.submit_export(pixels, fmt, extent, path, max_bytes, export_format),
                         action, finish=lambda job: ExportOutcome.of(job, timeout=0))

    def _run(self, submit: Callable[[object], object], action: str, finish: Optional[Callable] = None):
        client = self.client()
        self.notes, self.faces = (), ""
        try:
            job = submit(client)
            result = wait_for_job(job, action, self.parent)
            info = job.info or {}
            self.notes = tuple(str(note) for note in info.get("notes") or ())
            faces = info.get("faces")   # words for an upscale with faces; a cover lists boxes (its reasons tell)
            self.faces = faces if isinstance(faces, str) else ""
            return finish(job) if finish else result
        except EngineError as error:
            if error.kind in (Kind.WORKER_DIED, Kind.ENGINE_MISSING):
                self.close()
            raise

    def ask_box(self, text: str) -> bool:
        """The question as a message box over the window; No is the default."""
        return ask_yes_no(self.parent, text, default_yes=False)

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # a dead worker cannot be closed politely; nothing else to do
                pass
