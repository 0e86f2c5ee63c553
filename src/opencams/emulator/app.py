"""The emulator's Starlette app: Graph routes with faults and call logging, and `/_emulator` control.

`create_app` builds everything; nothing is shared between apps or created at import.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Mapping
from typing import Any

import anyio
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .calls import CallLog
from .errors import GraphError
from .faults import FaultBook, FaultRuleError, Plan
from .graph import VERSION, GraphRequest, addressed_waba, answer
from .state import GraphState, StateError, demo_document, parse_state

JSON_MEDIA_TYPE = "application/json; charset=UTF-8"
_ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_TRACE_ALPHABET = string.ascii_letters + string.digits + "_-"


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised by a `drop` fault after the status line is sent, to abort the connection.

    Under uvicorn the server closes the socket mid-response, so any HTTP client sees a
    transport error (httpx: RemoteProtocolError). In process, httpx.ASGITransport re-raises
    app exceptions, and this one already is an httpx transport error.
    """


class _DroppedResponse(Response):
    """Starts a response promising a body, then aborts without sending it."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", JSON_MEDIA_TYPE.encode()),
                    (b"content-length", b"512"),
                ],
            }
        )
        raise ConnectionDropped("emulator fault: connection dropped")


def render_json(body: Mapping[str, Any]) -> bytes:
    """Return JSON the way Graph writes it: compact, ASCII-only, with `/` escaped as `\\/`."""
    # "/" occurs only inside strings in JSON text, so the blanket replace is safe.
    return json.dumps(body, separators=(",", ":")).replace("/", "\\/").encode()


class Emulator:
    """Run-time state of one app: the data set, fault rules, call log and random sources."""

    def __init__(self, initial: GraphState, seed: int | None) -> None:
        self.initial = initial
        self.state = initial
        self.seed = seed
        self.faults = FaultBook(seed)
        self.calls = CallLog()
        self._trace_rng = random.Random(seed)

    def reset(self) -> None:
        """Restore the starting data set, drop faults and calls, and replay the seed."""
        self.state = self.initial
        self.faults.clear()
        self.faults.reseed(self.seed)
        self.calls.clear()
        self._trace_rng = random.Random(self.seed)

    def trace_id(self) -> str:
        """Return an opaque, fbtrace_id-like string (repeatable under a seed)."""
        return "A" + "".join(self._trace_rng.choice(_TRACE_ALPHABET) for _ in range(22))

    # -- Graph ------------------------------------------------------------------------

    async def graph(self, request: Request) -> Response:
        """Answer one Graph call, after applying any matching fault rules."""
        graph_request = GraphRequest(
            method=request.method,
            path=request.url.path,
            query=tuple(request.query_params.multi_items()),
            authorization=request.headers.get("authorization"),
            url=str(request.url.replace(query="")),
        )
        plan = self.faults.plan(graph_request.path, addressed_waba(self.state, graph_request))
        if plan.delay:
            await anyio.sleep(plan.delay)
        if plan.outcome is not None and plan.outcome.kind == "drop":
            self._log(graph_request, None, plan)
            return _DroppedResponse()

        trace = self.trace_id()
        status, body = self._answer(graph_request, plan, trace)
        content = render_json(body)
        media_type = JSON_MEDIA_TYPE
        if plan.outcome is not None and plan.outcome.kind == "malformed":
            status, media_type = 200, "text/html; charset=utf-8"
            content = (plan.outcome.body or "").encode()
        elif plan.outcome is not None and plan.outcome.kind == "truncated":
            content = content[: len(content) // 2]

        headers = {"x-fb-trace-id": trace, **plan.headers}
        segments = graph_request.segments
        if segments and VERSION.match(segments[0]):
            headers["facebook-api-version"] = segments[0]
        if status == 401 and "error" in body:
            headers["www-authenticate"] = f'OAuth "Facebook Platform" "invalid_token" "{body["error"]["message"]}"'
        self._log(graph_request, status, plan)
        return Response(content, status_code=status, headers=headers, media_type=media_type)

    def _answer(self, graph_request: GraphRequest, plan: Plan, trace: str) -> tuple[int, dict[str, Any]]:
        if plan.outcome is not None and plan.outcome.error is not None:
            return plan.outcome.error.status, plan.outcome.error.envelope(trace)
        try:
            return 200, answer(self.state, graph_request)
        except GraphError as error:
            return error.status, error.envelope(trace)

    def _log(self, graph_request: GraphRequest, status: int | None, plan: Plan) -> None:
        auth = None
        if graph_request.param("access_token"):
            auth = "query"
        elif graph_request.authorization:
            auth = "header"
        self.calls.record(
            method=graph_request.method,
            path=graph_request.path,
            query=graph_request.query,
            auth=auth,
            status=status,
            faults=plan.rule_ids,
        )

    # -- control API ------------------------------------------------------------------

    async def get_state(self, request: Request) -> Response:
        """GET /_emulator/state: the current state document."""
        return JSONResponse(self.state.document)

    async def put_state(self, request: Request) -> Response:
        """PUT /_emulator/state: replace the data set; 400 and no change when it is invalid."""
        try:
            document = json.loads(await request.body())
        except json.JSONDecodeError as exc:
            return _control_error(400, "InvalidState", f"body is not JSON: {exc}", "$")
        try:
            self.state = parse_state(document)
        except StateError as exc:
            return _control_error(400, "InvalidState", exc.problem, exc.location)
        return JSONResponse({"status": "replaced", **self.state.summary()})

    async def reset_all(self, request: Request) -> Response:
        """POST /_emulator/reset: back to the starting data set, no faults, empty call log."""
        self.reset()
        return JSONResponse({"status": "reset", **self.state.summary()})

    async def list_faults(self, request: Request) -> Response:
        """GET /_emulator/faults: every rule with its counters."""
        return JSONResponse({"faults": self.faults.describe()})

    async def add_faults(self, request: Request) -> Response:
        """POST /_emulator/faults: add one rule or a list of rules (all or none)."""
        try:
            document = json.loads(await request.body())
        except json.JSONDecodeError as exc:
            return _control_error(400, "InvalidFault", f"body is not JSON: {exc}", "$")
        try:
            added = self.faults.add(document)
        except FaultRuleError as exc:
            return _control_error(400, "InvalidFault", exc.problem, exc.location)
        return JSONResponse({"faults": [rule.describe() for rule in added]}, status_code=201)

    async def clear_faults(self, request: Request) -> Response:
        """DELETE /_emulator/faults: remove every rule."""
        return JSONResponse({"deleted": self.faults.clear()})

    async def delete_fault(self, request: Request) -> Response:
        """DELETE /_emulator/faults/{id}: remove one rule."""
        rule_id: int = request.path_params["rule_id"]
        if not self.faults.remove(rule_id):
            return _control_error(404, "NotFound", f"no fault rule {rule_id}", "$")
        return JSONResponse({"deleted": 1})

    async def list_calls(self, request: Request) -> Response:
        """GET /_emulator/calls: the Graph calls received, oldest first."""
        return JSONResponse({"calls": self.calls.entries()})

    async def clear_calls(self, request: Request) -> Response:
        """DELETE /_emulator/calls: forget the calls received so far."""
        return JSONResponse({"deleted": self.calls.clear()})

    async def health(self, request: Request) -> Response:
        """GET /_emulator/health: readiness probe for scripts that start the server."""
        return JSONResponse({"status": "ok"})

    async def unknown_control(self, request: Request) -> Response:
        """Any other /_emulator path: a JSON 404 rather than a Graph error."""
        return _control_error(
            404,
            "NotFound",
            f"no control endpoint {request.method} {request.url.path}",
            "$",
        )


def _control_error(status: int, kind: str, message: str, location: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"type": kind, "message": message, "location": location}},
        status_code=status,
    )


def create_app(state: Mapping[str, Any] | None = None, *, seed: int | None = None) -> Starlette:
    """Return a fresh emulator app over `state` (the demo data set when None).

    Raises StateError when `state` is malformed. The Emulator is at `app.state.emulator`.
    """
    emulator = Emulator(parse_state(demo_document() if state is None else state), seed)
    routes = [
        Route("/_emulator/state", emulator.get_state, methods=["GET"]),
        Route("/_emulator/state", emulator.put_state, methods=["PUT"]),
        Route("/_emulator/reset", emulator.reset_all, methods=["POST"]),
        Route("/_emulator/faults", emulator.list_faults, methods=["GET"]),
        Route("/_emulator/faults", emulator.add_faults, methods=["POST"]),
        Route("/_emulator/faults", emulator.clear_faults, methods=["DELETE"]),
        Route("/_emulator/faults/{rule_id:int}", emulator.delete_fault, methods=["DELETE"]),
        Route("/_emulator/calls", emulator.list_calls, methods=["GET"]),
        Route("/_emulator/calls", emulator.clear_calls, methods=["DELETE"]),
        Route("/_emulator/health", emulator.health, methods=["GET"]),
        Route("/_emulator/{rest:path}", emulator.unknown_control, methods=_ALL_METHODS),
        Route("/_emulator", emulator.unknown_control, methods=_ALL_METHODS),
        # Graph answers every verb itself, with Meta-shaped errors for the ones it lacks.
        Route("/{path:path}", emulator.graph, methods=_ALL_METHODS),
    ]
    app = Starlette(routes=routes)
    app.state.emulator = emulator
    return app
