"""Running the emulator under uvicorn: `serve` for the CLI, `serve_in_thread` for tests and demos."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from .app import ConnectionDropped, create_app
from .state import load_state_file


class _HideDroppedConnections(logging.Filter):
    """Keeps uvicorn from logging a traceback for every `drop` fault, which is intended."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


_HIDE_DROPS = _HideDroppedConnections()


def build_server(app: ASGIApp, host: str, port: int, *, log_level: str = "info") -> uvicorn.Server:
    """Return a uvicorn server for `app` (not started)."""
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="off")
    # uvicorn configures its loggers while building the Config, so the filter goes on after.
    error_logger = logging.getLogger("uvicorn.error")
    if _HIDE_DROPS not in error_logger.filters:
        error_logger.addFilter(_HIDE_DROPS)
    return uvicorn.Server(config)


def serve(
    host: str = "127.0.0.1",
    port: int = 9000,
    fixture: Path | None = None,
    seed: int | None = None,
) -> None:
    """Serve the emulator until interrupted; the demo data set is used when `fixture` is None.

    Raises StateError when the fixture is malformed and OSError when it cannot be read.
    """
    state = load_state_file(fixture).document if fixture is not None else None
    build_server(create_app(state, seed=seed), host, port).run()


@contextmanager
def serve_in_thread(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run `app` under uvicorn in a daemon thread; yield its base URL, stop it on exit.

    Port 0 picks a free port. Raises RuntimeError when the server does not start in 10 s.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    server = build_server(app, host, bound_port, log_level="warning")
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"emulator did not start on {host}:{bound_port}")
            time.sleep(0.01)
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
