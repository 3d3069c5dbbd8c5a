"""``krita-realesrgan serve``: the engine service (``serving/service.py``) for the editors and the command line.

    krita-realesrgan serve                      # this computer only: a Unix socket in the runtime folder
    krita-realesrgan serve --listen 0.0.0.0:7860 --token-file ~/.config/krita-realesrgan/token [--cert C --key K]

Local: the socket is ``paths.service_socket()`` (mode 0600, in a 0700 folder); one service per user (a lock file
beside it; a second ``serve`` finds it held and exits quietly, which is what a client starting one on demand
wants); a socket file left by a killed service is replaced. Remote: a token is required (compared in constant
time), TLS with ``--cert`` and ``--key``. Both stop after ``--idle-timeout`` seconds without a client.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from pathlib import Path
from typing import List, Optional, Tuple

from ..common import paths, service_wire
from . import backend_args, exit_codes, limit_args
from ..common.errors import INSTALLER_COMMAND, EngineError, Kind
from ..common.service_client import private_folder
from ..common.service_wire import ServiceLimits

DEFAULT_IDLE_TIMEOUT = 600.0
SOCKET_PATH_MAX = 100             # sun_path holds 104-108 bytes depending on the system


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--listen", metavar="HOST:PORT", default=None,
                        help="serve other computers on this address (needs --token-file) instead of the local socket")
    parser.add_argument("--token-file", type=Path, default=None,
                        help="file holding the token clients must present (first line)")
    parser.add_argument("--cert", type=Path, default=None, help="TLS certificate (PEM) for --listen")
    parser.add_argument("--key", type=Path, default=None, help="TLS private key (PEM) for --listen")
    parser.add_argument("--idle-timeout", type=float, default=DEFAULT_IDLE_TIMEOUT, metavar="SECONDS",
                        help=f"stop after this long with no client and no job (default {DEFAULT_IDLE_TIMEOUT:.0f}; "
                        "0 = never)")
    parser.add_argument("--max-request-mb", type=float, default=ServiceLimits.max_request_bytes / 2 ** 20,
                        metavar="MB", help="largest picture a request may send, in MiB (default %(default).0f)")
    parser.add_argument("--max-jobs", type=int, default=ServiceLimits.max_jobs, metavar="N",
                        help="jobs queued or running at once, all clients together (default %(default)s)")
    limit_args.add_argument(parser)
    parser.add_argument("--weights-dir", type=Path, default=None,
                        help="folder with the weight files (default: the installer's weights folder)")
    backend_args.add_arguments(parser)
    parser.add_argument("--log", type=Path, default=None, help=f"log file (default {paths.log_file()})")


def _fail(message: str, code: int = exit_codes.FAILED) -> int:
    print(f"krita-realesrgan serve: {message}", file=sys.stderr)
    return code


class LocalSocket:
    """The per-user lock and the Unix socket beside it."""

    def __init__(self, path: Path):
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self._lock_fd: Optional[int] = None
        self.sock: Optional[socket.socket] = None

    def lock(self) -> bool:
        """Take the per-user lock; False when another service holds it."""
        import fcntl
        private_folder(self.path.parent)         # made 0700, or checked to be ours alone
        fd = os.open(str(self.lock_path), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def bind(self) -> socket.socket:
        try:
            self.path.unlink()              # left by a service that was killed (we hold the lock)
        except FileNotFoundError:
            pass
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)               # the socket file is born 0600
        try:
            sock.bind(str(self.path))
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        sock.listen(16)
        self.sock = sock
        return sock

    def release(self) -> None:
        if self.sock is not None:
            try:
                self.path.unlink()
            except OSError:
                pass
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def _tcp_listener(host: str, port: int) -> socket.socket:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(16)
    return sock


def tls_context(cert: Optional[Path], key: Optional[Path]):
    """The server's TLS context (TLS 1.2 or later) for ``--cert`` and ``--key``; None when neither is given."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise EngineError(Kind.BAD_INPUT, "TLS needs both --cert and --key.")
    import ssl
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(str(cert), str(key))
    except (OSError, ssl.SSLError) as error:
        raise EngineError(Kind.BAD_INPUT, f"Cannot load the TLS certificate {cert} and key {key}: {error}.") from None
    return context


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except EngineError as error:
        return _fail(error.message)


def _run(args: argparse.Namespace) -> int:
    limits = ServiceLimits(max_request_bytes=int(args.max_request_mb * 2 ** 20), max_pixels=args.max_pixels,
                           max_jobs=args.max_jobs)
    if args.max_jobs < 1 or args.max_request_mb <= 0 or args.idle_timeout < 0:
        return _fail("--max-jobs and --max-request-mb must be positive, --idle-timeout 0 or more.", exit_codes.USAGE)
    listeners: List[Tuple[socket.socket, bool]] = []
    local: Optional[LocalSocket] = None
    token = ""
    tls = None
    if args.listen:
        address = service_wire.EngineAddress.parse(args.listen, listening=True)
        if address.is_local:
            return _fail("--listen takes HOST:PORT; leave it out for the local socket.", exit_codes.USAGE)
        if args.token_file is None:
            where = "this computer's loopback" if service_wire.is_loopback(address.host) else "the network"
            return _fail(f"refusing to listen on {address} ({where}) without a token: anyone who can reach it could "
                         "use this computer's engine. Give --token-file FILE (a long random line, e.g. from "
                         "'python3 -c \"import secrets; print(secrets.token_urlsafe(32))\"').", exit_codes.USAGE)
        token = service_wire.read_token(args.token_file)
        tls = tls_context(args.cert, args.key)
    else:
        if not hasattr(socket, "AF_UNIX"):
            return _fail("this system has no Unix sockets: use --listen 127.0.0.1:PORT --token-file FILE.")
        local = LocalSocket(paths.service_socket())
        if len(str(local.path).encode()) > SOCKET_PATH_MAX:
            return _fail(f"the socket path {local.path} is too long for a Unix socket; set XDG_RUNTIME_DIR to a "
                         "shorter folder.")
        if not local.lock():
            print(f"an engine service is already running at {local.path}", file=sys.stderr)
            return exit_codes.OK
    from ..serving.worker import setup_logging
    setup_logging(args.log or paths.log_file())
    try:
        try:
            from ..engine import Upscaler
            from ..serving.service import Service
        except ImportError as error:
            return _fail(f"this Python ({sys.executable}) cannot load the engine ({error}). Run the installer "
                         f"again: {INSTALLER_COMMAND}")
        upscaler = Upscaler(args.weights_dir)
        if local is not None:
            listeners.append((local.bind(), False))
            where = str(local.path)
        else:
            listener = _tcp_listener(address.host, address.port)
            listeners.append((listener, True))
            bound = service_wire.EngineAddress(address.host, listener.getsockname()[1])   # port 0: the one chosen
            where = f"{bound} ({'TLS' if tls else 'plain TCP'}, token required)"
        service = Service(upscaler, listeners, limits, args.idle_timeout, token, tls, backend_args.options(args))
        signal.signal(signal.SIGTERM, lambda *_: service.stop())
        print(f"engine service listening on {where}", file=sys.stderr, flush=True)
        try:
            service.run()
        except KeyboardInterrupt:
            service.stop()
        return exit_codes.OK
    except OSError as error:
        return _fail(f"cannot listen: {error.strerror or error}.")
    finally:
        if local is not None:
            local.release()
