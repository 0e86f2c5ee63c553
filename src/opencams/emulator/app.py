"""The emulator's Starlette app: Graph routes with faults and call logging, and `/_emulator` control.

`create_app` builds everything; nothing is shared between apps or created at import.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .calls import CallLog
from .clock import Clock
from .context import Ctx
from .errors import GraphError
from .faults import FaultBook, FaultRuleError, Plan
from .graph import VERSION, GraphRequest, addressed_waba, answer
from .params import parse_body
from .runtime import Runtime
from .state import GraphState, StateError, demo_document, parse_state
from .store import Store, find_number
from .webhooks import Change, WebhookBook, derive_changes
from .wire import render_json

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


class Emulator:
    """Run-time state of one app: the data set, run-time records, clock, webhooks, faults and calls."""

    def __init__(
        self,
        initial: GraphState,
        seed: int | None,
        *,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.initial = initial
        self.seed = seed
        self.clock = Clock()
        self.webhooks = WebhookBook(self.clock, transport=webhook_transport, seed=seed)
        self.store = Store(initial, on_change=self._changed)
        self.runtime = Runtime(seed)
        self.ctx = Ctx(self.store, self.runtime, self.clock, self.webhooks)
        self.faults = FaultBook(seed)
        self.calls = CallLog()
        self._trace_rng = random.Random(seed)
        self._last_queued = 0

    @property
    def state(self) -> GraphState:
        """The current data set."""
        return self.store.state

    def _changed(self, old: GraphState, new: GraphState) -> None:
        # Every change of the data set, whatever made it, sends the webhooks Meta would.
        self._last_queued = self.webhooks.publish(new, derive_changes(old, new))

    def reset(self) -> None:
        """Restore the starting data set; drop faults, calls, codes, uploads and deliveries; replay the seed."""
        with self.store.lock:
            self.store.replace(self.initial, notify=False)
            self.runtime.reset(self.seed)
        self.faults.clear()
        self.faults.reseed(self.seed)
        self.calls.clear()
        self._trace_rng = random.Random(self.seed)
        self.clock.reset()
        self.webhooks.reset(self.seed)

    def trace_id(self) -> str:
        """Return an opaque, fbtrace_id-like string (repeatable under a seed)."""
        return "A" + "".join(self._trace_rng.choice(_TRACE_ALPHABET) for _ in range(22))

    # -- Graph ------------------------------------------------------------------------

    async def graph(self, request: Request) -> Response:
        """Answer one Graph call, after applying any matching fault rules."""
        body = await request.body()
        graph_request = GraphRequest(
            method=request.method,
            path=request.url.path,
            query=tuple(request.query_params.multi_items()),
            authorization=request.headers.get("authorization"),
            url=str(request.url.replace(query="")),
            form=parse_body(request.headers.get("content-type"), body),
            body=body,
            headers=dict(request.headers.items()),
        )
        plan = self.faults.plan(graph_request.path, addressed_waba(self.state, graph_request))
        if plan.delay:
            await anyio.sleep(plan.delay)
        if plan.outcome is not None and plan.outcome.kind == "drop":
            self._log(graph_request, None, plan)
            return _DroppedResponse()

        trace = self.trace_id()
        status, answer_body = await self._answer(graph_request, plan, trace)
        content = render_json(answer_body)
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
        if status == 401 and "error" in answer_body:
            headers["www-authenticate"] = (
                f'OAuth "Facebook Platform" "invalid_token" "{answer_body["error"]["message"]}"'
            )
        self._log(graph_request, status, plan)
        return Response(content, status_code=status, headers=headers, media_type=media_type)

    async def _answer(self, graph_request: GraphRequest, plan: Plan, trace: str) -> tuple[int, dict[str, Any]]:
        if plan.outcome is not None and plan.outcome.error is not None:
            return plan.outcome.error.status, plan.outcome.error.envelope(trace)
        try:
            return 200, await answer(self.ctx, graph_request)
        except GraphError as error:
            return error.status, error.envelope(trace)

    def _log(self, graph_request: GraphRequest, status: int | None, plan: Plan) -> None:
        auth = None
        if graph_request.param("access_token"):
            auth = "query"
        elif graph_request.form.get("access_token"):
            auth = "body"
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

    # -- control API: data set --------------------------------------------------------

    async def get_state(self, request: Request) -> Response:
        """GET /_emulator/state: the current state document."""
        return JSONResponse(self.state.document)

    async def put_state(self, request: Request) -> Response:
        """PUT /_emulator/state: replace the data set (webhooks for what changed); 400 and no change when invalid."""
        try:
            document = json.loads(await request.body())
        except json.JSONDecodeError as exc:
            return _control_error(400, "InvalidState", f"body is not JSON: {exc}", "$")
        try:
            self.store.replace(parse_state(document))
        except StateError as exc:
            return _control_error(400, "InvalidState", exc.problem, exc.location)
        return JSONResponse({"status": "replaced", **self.state.summary()})

    async def reset_all(self, request: Request) -> Response:
        """POST /_emulator/reset: back to the starting data set, no faults, empty logs, clock on wall time."""
        self.reset()
        return JSONResponse({"status": "reset", **self.state.summary()})

    async def change_number(self, request: Request) -> Response:
        """POST /_emulator/phone_numbers/{id}: change a number's stored fields (null removes one)."""
        phone_id: str = request.path_params["phone_id"]
        changes = await _json_object(request)
        if changes is None:
            return _control_error(400, "InvalidChange", "body must be a JSON object of fields to change", "$")
        if "id" in changes:
            return _control_error(400, "InvalidChange", "a number's id cannot change", "$.id")
        with self.store.lock:
            if phone_id not in self.state.phones:
                return _control_error(404, "NotFound", f"no phone number {phone_id}", "$")

            def change(document: dict[str, Any]) -> None:
                _apply(find_number(document, phone_id)[1], changes)

            response = self._update(change)
            if response is not None:
                return response
            return JSONResponse(
                {
                    "phone_number": self.state.phones[phone_id],
                    "waba_id": self.state.phone_owner[phone_id],
                    "webhooks": self._last_queued,
                }
            )

    async def change_waba(self, request: Request) -> Response:
        """POST /_emulator/wabas/{id}: change a WABA's stored keys (null removes one; not its numbers)."""
        waba_id: str = request.path_params["waba_id"]
        changes = await _json_object(request)
        if changes is None:
            return _control_error(400, "InvalidChange", "body must be a JSON object of keys to change", "$")
        if "phone_numbers" in changes:
            return _control_error(
                400, "InvalidChange", "change numbers with /_emulator/phone_numbers/{id}", "$.phone_numbers"
            )
        with self.store.lock:
            if waba_id not in self.state.wabas:
                return _control_error(404, "NotFound", f"no WABA {waba_id}", "$")
            response = self._update(lambda document: _apply(document["wabas"][waba_id], changes))
            if response is not None:
                return response
            waba = {k: v for k, v in self.state.document["wabas"][waba_id].items() if k != "phone_numbers"}
            return JSONResponse({"waba": waba, "webhooks": self._last_queued})

    def _update(self, change: Callable[[dict[str, Any]], None]) -> Response | None:
        self._last_queued = 0
        try:
            self.store.update(change)
        except StateError as exc:
            return _control_error(400, "InvalidChange", exc.problem, exc.location)
        return None

    async def push_webhook(self, request: Request) -> Response:
        """POST /_emulator/webhooks: send one change as Meta would ({"waba_id", "field", "value"})."""
        body = await _json_object(request)
        if body is None:
            return _control_error(400, "InvalidWebhook", "body must be a JSON object", "$")
        for key, kind in (("waba_id", str), ("field", str), ("value", dict)):
            if not isinstance(body.get(key), kind):
                return _control_error(400, "InvalidWebhook", f"'{key}' must be a {kind.__name__}", f"$.{key}")
        state = self.state
        if body["waba_id"] not in state.wabas:
            return _control_error(404, "NotFound", f"no WABA {body['waba_id']}", "$.waba_id")
        queued = self.webhooks.publish(state, [Change(body["waba_id"], body["field"], body["value"])])
        return JSONResponse({"queued": queued})

    # -- control API: run-time records ------------------------------------------------

    async def list_codes(self, request: Request) -> Response:
        """GET /_emulator/verification_codes: every pending code."""
        with self.store.lock:
            ttl, now = self.state.settings.code_ttl_seconds, self.clock.now()
            codes = [code.describe(phone_id, ttl, now) for phone_id, code in self.runtime.codes.items()]
        return JSONResponse({"verification_codes": codes})

    async def get_code(self, request: Request) -> Response:
        """GET /_emulator/verification_codes/{phone_id}: the code last sent to a number, if unused."""
        phone_id: str = request.path_params["phone_id"]
        with self.store.lock:
            code = self.runtime.codes.get(phone_id)
            if code is None:
                return _control_error(404, "NotFound", f"no pending verification code for {phone_id}", "$")
            return JSONResponse(code.describe(phone_id, self.state.settings.code_ttl_seconds, self.clock.now()))

    async def get_clock(self, request: Request) -> Response:
        """GET /_emulator/clock: the emulator's time."""
        return JSONResponse(self.clock.describe())

    async def set_clock(self, request: Request) -> Response:
        """POST /_emulator/clock: {"advance": seconds} or {"set": unix seconds}."""
        body = await _json_object(request)
        keys = set(body or {}) & {"advance", "set"}
        if body is None or len(keys) != 1 or set(body) != keys:
            return _control_error(400, "InvalidClock", 'expected {"advance": seconds} or {"set": unix seconds}', "$")
        (key,) = keys
        value = body[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            return _control_error(400, "InvalidClock", "expected a number of seconds", f"$.{key}")
        if key == "advance":
            self.clock.advance(float(value))
        else:
            self.clock.set(float(value))
        return JSONResponse(self.clock.describe())

    async def list_uploads(self, request: Request) -> Response:
        """GET /_emulator/uploads: every resumable-upload session, with the SHA-256 of complete ones."""
        with self.store.lock:
            uploads = [upload.describe() for upload in self.runtime.uploads.values()]
        return JSONResponse({"uploads": uploads})

    async def list_deliveries(self, request: Request) -> Response:
        """GET /_emulator/deliveries: every webhook attempt and handshake, and how many are still retrying."""
        return JSONResponse({"deliveries": self.webhooks.entries(), "pending": self.webhooks.pending})

    async def clear_deliveries(self, request: Request) -> Response:
        """DELETE /_emulator/deliveries: forget the attempts logged so far."""
        return JSONResponse({"deleted": self.webhooks.clear()})

    # -- control API: faults and calls ------------------------------------------------

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


async def _json_object(request: Request) -> dict[str, Any] | None:
    try:
        document = json.loads(await request.body())
    except json.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None


def _apply(target: dict[str, Any], changes: Mapping[str, Any]) -> None:
    for key, value in changes.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value


def _control_error(status: int, kind: str, message: str, location: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"type": kind, "message": message, "location": location}},
        status_code=status,
    )


def create_app(
    state: Mapping[str, Any] | None = None,
    *,
    seed: int | None = None,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """Return a fresh emulator app over `state` (the demo data set when None).

    `webhook_transport` replaces the network for webhooks and handshakes (tests may route them
    to an in-process app). Raises StateError when `state` is malformed. The Emulator is at
    `app.state.emulator`.
    """
    emulator = Emulator(
        parse_state(demo_document() if state is None else state), seed, webhook_transport=webhook_transport
    )
    routes = [
        Route("/_emulator/state", emulator.get_state, methods=["GET"]),
        Route("/_emulator/state", emulator.put_state, methods=["PUT"]),
        Route("/_emulator/reset", emulator.reset_all, methods=["POST"]),
        Route("/_emulator/phone_numbers/{phone_id}", emulator.change_number, methods=["POST"]),
        Route("/_emulator/wabas/{waba_id}", emulator.change_waba, methods=["POST"]),
        Route("/_emulator/webhooks", emulator.push_webhook, methods=["POST"]),
        Route("/_emulator/verification_codes", emulator.list_codes, methods=["GET"]),
        Route("/_emulator/verification_codes/{phone_id}", emulator.get_code, methods=["GET"]),
        Route("/_emulator/clock", emulator.get_clock, methods=["GET"]),
        Route("/_emulator/clock", emulator.set_clock, methods=["POST"]),
        Route("/_emulator/uploads", emulator.list_uploads, methods=["GET"]),
        Route("/_emulator/deliveries", emulator.list_deliveries, methods=["GET"]),
        Route("/_emulator/deliveries", emulator.clear_deliveries, methods=["DELETE"]),
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
