"""Run engine work without freezing Krita: a local event loop keeps the UI alive while the worker computes.

``wait_for_job`` polls a client ``Job`` from a QTimer and shows a QProgressDialog (tiles done, time left);
Cancel calls ``job.cancel()`` and the job ends with ``Cancelled`` within a tile. ``run_in_background`` runs a
blocking call (starting the worker) in a thread while the UI stays responsive.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Optional, Tuple

from PyQt5.QtCore import QEventLoop, Qt, QTimer
from PyQt5.QtWidgets import QMessageBox, QProgressDialog, QWidget

from .i18n import tr
from .krita_realesrgan.common.geometry import Extent
from .progress_text import progress_label

POLL_MS = 100


def _progress_dialog(label: str, parent: Optional[QWidget], cancellable: bool) -> QProgressDialog:
    dialog = QProgressDialog(label, tr("Cancel") if cancellable else "", 0, 0, parent)
    dialog.setWindowTitle(tr("Real-ESRGAN"))
    dialog.setWindowModality(Qt.WindowModal)
    dialog.setMinimumDuration(0)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    if not cancellable:
        dialog.setCancelButton(None)
    dialog.setMinimumWidth(360)
    dialog.show()
    return dialog


def _spin_until(finished: Callable[[], bool], on_tick: Callable[[], None]) -> None:
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(POLL_MS)

    def tick():
        on_tick()
        if finished():
            timer.stop()
            loop.quit()

    timer.timeout.connect(tick)
    timer.start()
    tick()
    if timer.isActive():
        loop.exec_()


def run_in_background(work: Callable[[], Any], label: str, parent: Optional[QWidget] = None) -> Any:
    """``work()`` in a thread, with a busy dialog; returns its value or raises its exception."""
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = work()
        except BaseException as error:  # handed to the caller below
            outcome["error"] = error

    thread = threading.Thread(target=target, name="realesrgan-start", daemon=True)
    dialog = _progress_dialog(label, parent, cancellable=False)
    thread.start()
    try:
        _spin_until(lambda: not thread.is_alive(), lambda: None)
    finally:
        dialog.close()
        dialog.deleteLater()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def ask_yes_no(parent: Optional[QWidget], text: str, default_yes: bool = True) -> bool:
    """A Yes/No question in a message box; True for Yes."""
    default = QMessageBox.Yes if default_yes else QMessageBox.No
    answer = QMessageBox.question(parent, tr("Real-ESRGAN"), text, QMessageBox.Yes | QMessageBox.No, default)
    return answer == QMessageBox.Yes


def wait_for_job(job, action: str, parent: Optional[QWidget] = None) -> Tuple[bytes, Extent]:
    """Wait for a client job with a progress dialog; returns ``job.result()`` (raises its error/Cancelled)."""
    dialog = _progress_dialog(progress_label(action, 0, 0, 0.0), parent, cancellable=True)
    started = time.monotonic()
    cancel_sent = []

    def tick():
        if dialog.wasCanceled() and not cancel_sent:
            job.cancel()
            cancel_sent.append(True)
        job.poll(0.0)
        done, total = job.progress
        if total:
            dialog.setMaximum(total)
            dialog.setValue(min(done, total))
        if dialog.wasCanceled():
            dialog.setLabelText(tr("Cancelling…"))
        else:
            dialog.setLabelText(progress_label(action, done, total, time.monotonic() - started))

    try:
        _spin_until(lambda: job.done, tick)
    finally:
        dialog.close()
        dialog.deleteLater()
    return job.result(timeout=0)
