"""Downloads over HTTP (resumed, retried, with a progress bar) and the check that a file is the release's."""
from __future__ import annotations

import http.client
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

from krita_realesrgan.common import catalog
from krita_realesrgan import __version__

from .console import Console, ProgressBar, human_size
from .files import sha256_file

NET_TIMEOUT_S = 15        # per connect/read; an unreachable host fails in well under a second (DNS) or this
DOWNLOAD_ATTEMPTS = 3
CHUNK = 1 << 16


class Unreachable(Exception):
    """The host cannot be reached at all (no retries help)."""


class DownloadFailed(Exception):
    pass


def url_reachable(url: str, timeout: float = 5.0) -> bool:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
            return True
    except (OSError, urllib.error.URLError, ValueError):
        return False


def check_release_file(path: Path, info: catalog.ModelInfo) -> Optional[str]:
    """None when ``path`` is the release file (size, then SHA-256); otherwise why not."""
    size = path.stat().st_size
    if info.bytes is not None and size != info.bytes:
        return f"size {size} bytes, the release has {info.bytes}"
    if info.sha256 is not None:
        got = sha256_file(path)
        if got != info.sha256:
            return f"sha256 {got[:16]}..., the release has {info.sha256[:16]}..."
    return None


def download(url: str, part: Path, expected: Optional[int], console: Console) -> None:
    """Fetch ``url`` into ``part``, resuming what is there (HTTP Range), with retries and a progress bar."""
    last_error = None
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        offset = part.stat().st_size if part.exists() else 0
        if expected is not None and offset > expected:
            part.unlink()
            offset = 0
        if expected is not None and offset == expected:
            return
        request = urllib.request.Request(url, headers={"User-Agent": f"krita-realesrgan-installer/{__version__}"})
        if offset:
            request.add_header("Range", f"bytes={offset}-")
        try:
            with urllib.request.urlopen(request, timeout=NET_TIMEOUT_S) as response:
                status = getattr(response, "status", None) or response.getcode() or 200
                resuming = offset and status == 206
                if offset and not resuming:
                    offset = 0  # the server (or a file:// URL) sent the whole file
                length = response.headers.get("Content-Length")
                total = offset + int(length) if length and length.isdigit() else expected
                if offset:
                    console.info(f"   resuming at {human_size(offset)}")
                bar = ProgressBar(part.name[: -len(".part")], total, offset)
                with open(part, "ab" if resuming else "wb") as out:
                    for block in iter(lambda: response.read(CHUNK), b""):
                        out.write(block)
                        bar.update(len(block))
                bar.close()
            got = part.stat().st_size
            if total is not None and got < total:  # the server closed the connection early
                raise ConnectionError(f"connection closed after {human_size(got)} of {human_size(total)}")
            return
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and part.exists():  # range past the end: start over
                part.unlink()
                last_error = exc
                continue
            if exc.code in (404, 403, 401, 410):
                raise DownloadFailed(f"HTTP {exc.code} {exc.reason}") from None
            last_error = exc
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (socket.gaierror, ConnectionRefusedError)):
                raise Unreachable(str(reason)) from None
            if isinstance(reason, (str, FileNotFoundError)):
                raise DownloadFailed(str(reason)) from None
            last_error = exc
        except (OSError, ValueError, http.client.HTTPException) as exc:  # timeouts, resets, truncated reads
            last_error = exc
        if attempt < DOWNLOAD_ATTEMPTS:
            console.info(f"   attempt {attempt} failed ({last_error}); retrying in {attempt * 2} s")
            time.sleep(attempt * 2)
    raise DownloadFailed(f"gave up after {DOWNLOAD_ATTEMPTS} attempts ({last_error})")
