"""The HTTP server: uvicorn with a deadline for receiving each request and a cap on header size.

uvicorn closes idle keep-alive connections but never one that is slowly sending a request: a
client trickling headers or a body held a connection (and its memory) for as long as it liked,
and a server stopping waited for it. This protocol gives every request `request_read_timeout`
seconds from its first byte (or from the connection's start) to arrive whole, and at most
`max_header_bytes` of request line and headers. uvicorn offers neither setting, hence a subclass.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors import Multiprocess

from .config import Settings
from .errors import ApiError
from .rpc import envelope

log = logging.getLogger("opencams.http")
PROTOCOL = "opencams.httpserver:GuardedHttpProtocol"


class ServerConfig(uvicorn.Config):
    """uvicorn's Config with the two limits; it travels to worker processes with the config."""

    def __init__(
        self, app: Any, *, request_read_timeout: float = 10.0, max_header_bytes: int = 64 * 1024, **kwargs: Any
    ) -> None:
        kwargs.setdefault("http", PROTOCOL)
        super().__init__(app, **kwargs)
        self.request_read_timeout = request_read_timeout
        self.max_header_bytes = max_header_bytes


class GuardedHttpProtocol(HttpToolsProtocol):
    """httptools protocol that drops a connection whose request does not arrive in time."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self._read_timeout: float = getattr(config, "request_read_timeout", 10.0)
        self._max_header_bytes: int = getattr(config, "max_header_bytes", 64 * 1024)
        self._deadline: asyncio.TimerHandle | None = None
        self._reading_head = True
        self._head_bytes = 0
        self._head_size = 0
        self._rejected = False

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self._read_timeout, self._on_deadline)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _on_deadline(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            log.debug("closing a connection whose request did not arrive within %.1f s", self._read_timeout)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._rejected:
            return
        super().data_received(data)
        # A head still incomplete after this many bytes is refused without waiting for the rest.
        if self._reading_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > self._max_header_bytes:
                self._reject()

    def _reject(self) -> None:
        self._rejected = True
        self._disarm()
        self.send_431_response()

    def on_url(self, url: bytes) -> None:
        self._head_size += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_size += len(name) + len(value) + 4
        super().on_header(name, value)

    def send_431_response(self) -> None:
        self._send_envelope(431, f"The request line and headers are larger than {self._max_header_bytes} bytes.")

    def send_400_response(self, msg: str) -> None:
        # httptools could not parse the request (a control character in a header, say): still an envelope.
        self._send_envelope(400, "The HTTP request is malformed and could not be parsed.")

    def _send_envelope(self, status: int, message: str) -> None:
        error = ApiError(message, code="MalformedRequest", http_status=status)
        request_id = envelope.new_request_id()
        body = json.dumps(envelope.error_body(error, request_id=request_id, host=""), separators=(",", ":")).encode()
        reason = {400: b"Bad Request", 431: b"Request Header Fields Too Large"}[status]
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: %s\r\nx-acs-request-id: %s\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n%s"
            % (status, reason, envelope.JSON_TYPE.encode(), request_id.encode(), len(body), body)
        )
        self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_head = True
        self._head_bytes = 0
        self._head_size = 0
        self._arm()

    def on_headers_complete(self) -> None:
        self._reading_head = False
        # A head that arrived whole in one read is measured here (the line and every header).
        if self._head_size > self._max_header_bytes:
            self._reject()
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._rejected:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        if not self._rejected:
            super().on_message_complete()


def run_server(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Serve the API until stopped: `workers` processes on one port, each built by `create_app`."""
    config = ServerConfig(
        "opencams.bootstrap:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        access_log=False,
        # acs:SourceIp must be the real peer: X-Forwarded-For is believed only from
        # OPENCAMS_TRUSTED_PROXIES, by the gateway, never by uvicorn.
        proxy_headers=False,
        timeout_graceful_shutdown=max(1, round(settings.shutdown_timeout)),
        request_read_timeout=settings.request_read_timeout,
    )
    if workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        uvicorn.Server(config).run()
