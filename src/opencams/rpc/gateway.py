"""The RPC endpoint: parse > authenticate > throttle > subscription > authorize > bind > invoke.

CAMS-agnostic: actions, stores, limiter and authorizer are injected; it imports no adapter.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import (
    ApiError,
    InternalError,
    InvalidActionNotFound,
    InvalidVersion,
    ProductUnsubscribed,
    UnsupportedHTTPMethod,
)
from ..principal import Principal
from . import envelope
from .auth import CredentialStore, NonceStore, authenticate
from .registry import API_VERSION, ActionSpec, Invocation, Registry
from .request import RpcRequest, parse_request

log = logging.getLogger("opencams.rpc")
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Throttle(Protocol):
    """Admits or refuses a call of `action` by `account_id` (raises System.LimitControl)."""

    async def admit(self, account_id: str, action: ActionSpec) -> None: ...


class Subscriptions(Protocol):
    """Tells whether an account has the product enabled."""

    async def is_subscribed(self, account_id: str) -> bool: ...


class Authorizer(Protocol):
    """Raises Ram.PermissionDeny when the principal may not call the action."""

    async def authorize(self, principal: Principal, action: ActionSpec, request: CallContext) -> None: ...


@dataclass(frozen=True, slots=True)
class CallContext:
    """Facts about the call that RAM conditions may test."""

    source_ip: str
    secure_transport: bool
    now: float


@dataclass
class GatewayPorts:
    """Everything the gateway needs from the rest of the system."""

    registry: Registry
    credentials: CredentialStore
    nonces: NonceStore
    throttle: Throttle
    subscriptions: Subscriptions
    authorizer: Authorizer
    clock: Callable[[], float]
    trusted_proxies: Sequence[IpNetwork] = field(default_factory=tuple)


def source_ip(peer: str, forwarded_for: str | None, trusted: Sequence[IpNetwork]) -> str:
    """The peer, or X-Forwarded-For's first address when the peer is a trusted proxy."""
    if not forwarded_for or not trusted:
        return peer
    try:
        peer_addr = ipaddress.ip_address(peer)
    except ValueError:
        return peer
    if not any(peer_addr in net for net in trusted):
        return peer
    first = forwarded_for.split(",")[0].strip()
    try:
        return str(ipaddress.ip_address(first))
    except ValueError:
        return peer


class Gateway:
    """Runs one RPC request through the pipeline and renders exactly one envelope."""

    def __init__(self, ports: GatewayPorts) -> None:
        self.ports = ports

    async def handle(self, request: Request) -> Response:
        request_id = envelope.new_request_id()
        host = request.headers.get("host", "")
        fmt = "JSON"
        try:
            if request.method not in ("GET", "POST"):
                raise UnsupportedHTTPMethod()
            body = await request.body()
            rpc = parse_request(
                request.method,
                request.url.path,
                request.scope.get("query_string", b""),
                [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]],
                body,
            )
            fmt = rpc.format
            result = await self._run(rpc, request, request_id)
            return envelope.success(rpc.action, result, request_id=request_id, fmt=fmt)
        except ApiError as err:
            return envelope.error(err, request_id=request_id, host=host, fmt=fmt)
        except Exception:
            # The one catch-all: details stay in the log under the RequestId, never in the answer.
            log.exception("unhandled error", extra={"request_id": request_id})
            return envelope.error(InternalError(), request_id=request_id, host=host, fmt=fmt)

    async def _run(self, rpc: RpcRequest, request: Request, request_id: str) -> dict[str, object]:
        ports = self.ports
        if rpc.version != API_VERSION:
            raise InvalidVersion()
        spec = ports.registry.get(rpc.action)
        if spec is None:
            raise InvalidActionNotFound()
        principal = await authenticate(rpc, ports.credentials, ports.nonces, ports.clock)
        await ports.throttle.admit(principal.account_id, spec)
        if not await ports.subscriptions.is_subscribed(principal.account_id):
            raise ProductUnsubscribed()
        peer = request.client.host if request.client else ""
        ip = source_ip(peer, request.headers.get("x-forwarded-for"), ports.trusted_proxies)
        ctx = CallContext(ip, request.url.scheme == "https", ports.clock())
        await ports.authorizer.authorize(principal, spec, ctx)
        kwargs = spec.bind(rpc.params)
        return await spec.handler(Invocation(principal, request_id, ip), **kwargs)


def create_gateway_app(ports: GatewayPorts, *, extra_routes: Sequence[Route] = ()) -> Starlette:
    """An ASGI app serving the RPC endpoint on `/` (any method, answered in the envelope)."""
    gateway = Gateway(ports)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    methods = ["GET", "POST", "PUT", "DELETE", "PATCH"]
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        *extra_routes,
        Route("/", gateway.handle, methods=methods),
        Route("/{path:path}", gateway.handle, methods=methods),
    ]
    return Starlette(routes=routes)
