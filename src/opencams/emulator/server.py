"""Running the emulator under uvicorn: `serve` for the CLI, `serve_in_thread` for tests and demos."""

from __future__ import annotations

import copy
import logging
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from .app import ConnectionDropped, create_app
from .state import IMPLICIT_APP_ID, IMPLICIT_APP_NAME, demo_document, load_state_file, parse_state

# The webhook fields of a number's and a WABA's life (lifecycle.md §A), subscribed by --webhook-url.
LIFECYCLE_FIELDS: tuple[str, ...] = (
    "account_review_update",
    "account_update",
    "business_capability_update",
    "phone_number_name_update",
    "phone_number_quality_update",
)


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


def with_webhooks(
    document: Mapping[str, Any],
    *,
    webhook_url: str | None = None,
    app_secret: str | None = None,
    verify_token: str | None = None,
    fields: Sequence[str] = LIFECYCLE_FIELDS,
) -> dict[str, Any]:
    """Return a copy of a state document whose first app has `app_secret` and receives webhooks.

    With `webhook_url` the app gets a `whatsapp_business_account` subscription to `fields` at
    that URL and is subscribed to every WABA, as if set up in Meta's App Dashboard: no
    handshake is made (the receiver may start later). Raises StateError on a bad result.
    """
    result = copy.deepcopy(dict(document))
    if not result.get("apps") and (webhook_url is not None or app_secret is not None):
        implicit: dict[str, Any] = {"name": IMPLICIT_APP_NAME}
        if result.get("app_secret") is not None:
            implicit["secret"] = result.pop("app_secret")
        result["apps"] = {IMPLICIT_APP_ID: implicit}
    if result.get("apps"):
        app_id, app = next(iter(result["apps"].items()))
        if app_secret is not None:
            app["secret"] = app_secret
        if webhook_url is not None:
            subscription: dict[str, Any] = {"object": "whatsapp_business_account", "callback_url": webhook_url}
            if verify_token is not None:
                subscription["verify_token"] = verify_token
            subscription["fields"] = list(fields)
            others = [s for s in app.get("subscriptions", []) if s.get("object") != "whatsapp_business_account"]
            app["subscriptions"] = [*others, subscription]
            for waba in result.get("wabas", {}).values():
                listed = waba.setdefault("subscribed_apps", [])
                if not any(entry.get("app_id") == app_id for entry in listed):
                    listed.append({"app_id": app_id})
    parse_state(result)
    return result


def serve(
    host: str = "127.0.0.1",
    port: int = 9000,
    fixture: Path | None = None,
    seed: int | None = None,
    *,
    webhook_url: str | None = None,
    app_secret: str | None = None,
    verify_token: str | None = None,
) -> None:
    """Serve the emulator until interrupted; the demo data set is used when `fixture` is None.

    `webhook_url`, `app_secret` and `verify_token` configure the first app (see `with_webhooks`).
    Raises StateError when the fixture is malformed and OSError when it cannot be read.
    """
    document = dict(load_state_file(fixture).document) if fixture is not None else demo_document()
    if webhook_url is not None or app_secret is not None:
        document = with_webhooks(document, webhook_url=webhook_url, app_secret=app_secret, verify_token=verify_token)
    build_server(create_app(document, seed=seed), host, port).run()


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
