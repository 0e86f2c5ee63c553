"""The RPC endpoint: parse > authenticate > subscription > authorize > throttle > bind > invoke.

CAMS-agnostic: actions, stores, limiter and authorizer are injected; it imports no adapter.
Every request that reaches it, whatever its method or path, is answered in Alibaba's envelope.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from ..errors import (
    ApiError,
    InternalError,
    InvalidActionNotFound,
    InvalidVersion,
    PermissionDenied,
    ProductUnsubscribed,
    RequestBodyTooLarge,
    ServiceUnavailable,
    UnsupportedHTTPMethod,
    invalid_parameter,
)
from ..logs import REQUEST_ID
from ..principal import CallContext, Principal
from ..ratelimit.rate import Rate
from . import envelope
from .auth import CredentialStore, NonceStore, authenticate
from .registry import API_VERSION, Invocation, Registry
from .request import MAX_BODY, RpcRequest, parse_request

log = logging.getLogger("opencams.rpc")
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Throttle(Protocol):
    """Admits or refuses calls (raises System.LimitControl)."""

    async def admit(self, account_id: str, action: str, default: Rate | None) -> None:
        """Count a permitted call against the account's rate for the action."""
        ...

    async def admit_denied(self, access_key_id: str) -> None:
        """Count a call RAM denied against the key's own budget of denied calls."""
        ...


class Authorizer(Protocol):
    """Raises Ram.PermissionDeny when the principal may not call the RAM action (`cams:<Action>`)."""

    async def authorize(self, principal: Principal, ram_action: str, call: CallContext) -> None: ...


@dataclass
class CallRecord:
    """What one call came to, for the access log and the metrics (filled in as the pipeline runs)."""

    request_id: str
    started: float
    action: str = "-"
    account_id: str | None = None
    http_status: int = 200
    code: str = "OK"


def _no_observer(record: CallRecord, seconds: float) -> None:
    return None


def _never_unavailable(exc: BaseException) -> bool:
    return False


@dataclass
class GatewayPorts:
    """Everything the gateway needs from the rest of the system."""

    registry: Registry
    credentials: CredentialStore
    nonces: NonceStore
    throttle: Throttle
    authorizer: Authorizer
    clock: Callable[[], float]
    trusted_proxies: Sequence[IpNetwork] = field(default_factory=tuple)
    max_body: int = MAX_BODY
    # Told of every answered call (access log, metrics); must not raise.
    observe: Callable[[CallRecord, float], None] = _no_observer
    # Whether an exception means a store (database, Redis) failed rather than a bug: answered 503.
    unavailable: Callable[[BaseException], bool] = _never_unavailable


def _address(text: str) -> IpAddress | None:
    """An address from a peer or X-Forwarded-For entry: ports, brackets and IPv4-mapped forms undone."""
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def source_ip(peer: str, forwarded_for: Sequence[str], trusted: Sequence[IpNetwork]) -> str:
    """The client's address: the peer, or the right-most X-Forwarded-For hop not in `trusted`.

    A proxy appends the address it saw to whatever the client wrote, so only the entries added
    by trusted proxies (on the right) can be believed; the first one from the right that is not
    a trusted proxy is the client. The left-most entry is the client's own claim and is ignored.
    """
    client = _address(peer)
    if client is None:
        return peer

    def is_trusted(addr: IpAddress) -> bool:
        return any(addr.version == net.version and addr in net for net in trusted)

    if not trusted or not is_trusted(client):
        return str(client)
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        addr = _address(hop)
        if addr is None:
            # Not an address: nothing left of it can be trusted; the last trusted hop stands.
            break
        client = addr
        if not is_trusted(addr):
            break
    return str(client)


class Gateway:
    """Runs one RPC request through the pipeline and renders exactly one envelope."""

    def __init__(self, ports: GatewayPorts) -> None:
        self.ports = ports

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        record = CallRecord(envelope.new_request_id(), time.perf_counter())
        token = REQUEST_ID.set(record.request_id)
        try:
            response = await self._answer(request, record)
            record.http_status = response.status_code
            return response
        finally:
            self.ports.observe(record, time.perf_counter() - record.started)
            REQUEST_ID.reset(token)

    async def _answer(self, request: Request, record: CallRecord) -> Response:
        request_id = record.request_id
        host = request.headers.get("host", "")
        fmt = "JSON"
        try:
            if request.method not in ("GET", "POST"):
                raise UnsupportedHTTPMethod()
            body = await self._body(request)
            rpc = parse_request(
                request.method,
                request.url.path,
                request.scope.get("query_string", b""),
                [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]],
                body,
            )
            fmt = rpc.format
            result = await self._run(rpc, request, record)
            return envelope.success(rpc.action, result, request_id=request_id, fmt=fmt)
        except ApiError as err:
            record.code = err.code
            return envelope.error(err, request_id=request_id, host=host, fmt=fmt)
        except ClientDisconnect:
            # The client left while sending: nobody reads this answer, and it is not our failure.
            record.code = "ClientDisconnected"
            log.debug("client disconnected before its request was read")
            return Response(status_code=400)
        except Exception as exc:
            if self.ports.unavailable(exc):
                # The database or Redis failed under us: a temporary failure, not a bug of ours.
                record.code = ServiceUnavailable.code
                log.error("a store is unavailable: %s", type(exc).__name__)
                return envelope.error(ServiceUnavailable(retry_after=1), request_id=request_id, host=host, fmt=fmt)
            # The one catch-all: details stay in the log under the RequestId, never in the answer.
            record.code = InternalError.code
            log.exception("unhandled error")
            return envelope.error(InternalError(), request_id=request_id, host=host, fmt=fmt)

    async def _body(self, request: Request) -> bytes:
        """The body, refused as soon as it is known to be over the limit, never read beyond it."""
        limit = self.ports.max_body
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise RequestBodyTooLarge(limit)
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise RequestBodyTooLarge(limit)
            chunks.append(chunk)
        return b"".join(chunks)

    async def _run(self, rpc: RpcRequest, request: Request, record: CallRecord) -> dict[str, object]:
        ports = self.ports
        if rpc.version != API_VERSION:
            raise InvalidVersion()
        spec = ports.registry.get(rpc.action)
        if spec is None:
            raise InvalidActionNotFound()
        record.action = spec.name
        principal = await authenticate(rpc, ports.credentials, ports.nonces, ports.clock)
        record.account_id = principal.account_id
        if rpc.repeated:
            raise invalid_parameter(rpc.repeated[0], "It is given more than once.")
        if not principal.subscribed:
            raise ProductUnsubscribed()
        peer = request.client.host if request.client else ""
        ip = source_ip(peer, request.headers.getlist("x-forwarded-for"), ports.trusted_proxies)
        ctx = CallContext(ip, request.url.scheme == "https", ports.clock())
        try:
            await ports.authorizer.authorize(principal, spec.ram_action, ctx)
        except PermissionDenied:
            # Denied calls have their own budget: they never use up the account's permitted quota.
            await ports.throttle.admit_denied(principal.access_key_id)
            raise
        await ports.throttle.admit(principal.account_id, spec.name, spec.rate)
        kwargs = spec.bind(rpc.params, principal)
        return await spec.handler(Invocation(principal, record.request_id, ip), **kwargs)


def create_gateway_app(ports: GatewayPorts, *, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """An ASGI app serving the RPC endpoint on every path not claimed by `extra_routes`."""
    gateway = Gateway(ports)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        *extra_routes,
        # An ASGI endpoint with no method list: every method and path gets the envelope,
        # including the ones Starlette would answer with its own plain-text 404 or 405.
        Route("/{path:path}", gateway),
    ]
    return Starlette(routes=routes)
