"""A webhook receiver for the tests: answers Meta's hub.challenge handshake and records every request."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
from collections import deque
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

VERIFY_TOKEN = "hook-verify-token"


class Receiver:
    """Records requests; answers POSTs with queued statuses (200 once the queue is empty).

    `handshake` picks the GET behaviour: "echo" (Meta's contract: the challenge, when the verify
    token matches, else 403), "wrong" (200 with another body) or "404".
    """

    def __init__(self, verify_token: str = VERIFY_TOKEN) -> None:
        self.verify_token = verify_token
        self.handshake = "echo"
        # seconds to wait before answering a POST (to show deliveries do not block Graph answers)
        self.delay = 0.0
        self.statuses: deque[int] = deque()
        self._requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST"])])

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self._requests.append(
                {
                    "method": request.method,
                    "path": request.url.path,
                    "query": dict(request.query_params),
                    "headers": dict(request.headers),
                    "body": body,
                }
            )
        if request.method == "GET":
            if self.handshake == "404":
                return PlainTextResponse("no such hook", status_code=404)
            if request.query_params.get("hub.verify_token") != self.verify_token:
                return PlainTextResponse("verify token mismatch", status_code=403)
            if self.handshake == "wrong":
                return PlainTextResponse("not-the-challenge")
            return PlainTextResponse(request.query_params.get("hub.challenge", ""))
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            status = self.statuses.popleft() if self.statuses else 200
        return Response(b"", status_code=status)

    def requests(self, method: str | None = None) -> list[dict[str, Any]]:
        """Return the requests received so far (optionally of one method)."""
        with self._lock:
            return [r for r in self._requests if method is None or r["method"] == method]

    def events(self) -> list[dict[str, Any]]:
        """Return the JSON bodies of the POSTs received."""
        return [json.loads(r["body"]) for r in self.requests("POST")]


def signature_ok(request: dict[str, Any], secret: str) -> bool:
    """Whether a recorded POST carries Meta's X-Hub-Signature-256 over its raw body."""
    expected = "sha256=" + hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(request["headers"].get("x-hub-signature-256", ""), expected)
