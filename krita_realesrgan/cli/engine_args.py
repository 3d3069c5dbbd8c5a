"""``--engine``, ``--token-file``, ``--engine-cert``: run a command's upscales on the engine service instead of in
its own process (``local``: this computer's service, started on demand; ``HOST:PORT``: another computer's
``krita-realesrgan serve --listen``)."""
from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Iterator, Optional

from ..common.errors import EngineError, Kind
from ..common.service_wire import EngineAddress, read_token
from ..upscalers import PlanningUpscaler


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", default=None, metavar="local|HOST:PORT",
                        help="run on the engine service: 'local' (this computer's, started when needed) or HOST:PORT "
                        "(another computer's 'krita-realesrgan serve --listen'; needs --token-file)")
    parser.add_argument("--token-file", type=Path, default=None,
                        help="with --engine HOST:PORT: the file holding the service's token")
    parser.add_argument("--engine-cert", type=Path, default=None,
                        help="with --engine HOST:PORT: the service's TLS certificate (or its CA); connects with TLS")


def address(args: argparse.Namespace) -> Optional[EngineAddress]:
    """The engine service the arguments name, or None (the engine in this process)."""
    if args.engine is None:
        if args.token_file is not None or args.engine_cert is not None:
            raise EngineError(Kind.BAD_INPUT, "--token-file and --engine-cert go with --engine HOST:PORT.")
        return None
    where = EngineAddress.parse(args.engine)
    if where.is_local:
        return where
    if args.token_file is None:
        raise EngineError(Kind.BAD_INPUT, f"--engine {where} needs --token-file FILE (the token the service there "
                          "was started with).")
    return EngineAddress(where.host, where.port, read_token(args.token_file),
                         str(args.engine_cert) if args.engine_cert else None)


@contextlib.contextmanager
def upscaler(args: argparse.Namespace) -> Iterator[PlanningUpscaler]:
    """An ``engine.Upscaler``, or the engine service behind the same ``upscale``/``model_facts`` methods."""
    where = address(args)
    if where is None:
        from ..engine import Upscaler
        yield Upscaler(args.weights_dir)
        return
    from ..common.client import EngineClient
    from ..serving.service_upscaler import ServiceUpscaler
    client = EngineClient(python=sys.executable, weights=args.weights_dir, engine=where)
    try:
        yield ServiceUpscaler(client)
    finally:
        client.close()
