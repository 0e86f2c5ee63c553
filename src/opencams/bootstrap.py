"""The composition root: Settings in, a wired application out. Nothing is built at import time."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import stamina
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from . import logs, metrics, probes
from .actions import build_registry
from .config import Settings
from .db.accounts import AccountStore
from .db.budget import WabaBudgetStore
from .db.engine import create_engine, is_unavailable
from .db.limits import AccountRateStore
from .db.nonces import DatabaseNonceStore
from .db.pins import PinStore
from .db.ram import RamStore
from .db.spaces import SpaceStore
from .graph.client import AnswerLimits, GraphClient
from .outbound import OutboundPolicy
from .ratelimit import RateLimiter, build_rate_limiter
from .replay import RedisNonceStore
from .rpc.auth import NonceStore
from .rpc.gateway import GatewayPorts, IpNetwork, create_gateway_app
from .rpc.registry import Registry
from .secretbox import SecretBox, load_or_create_key
from .services import Services
from .services.authorization import Authorizer
from .services.lifecycle import LifecycleService
from .services.meta import MetaService
from .services.metrics import MetricsService
from .services.profile import ProfileService
from .services.spaces import SpaceService
from .services.sync import SyncService
from .services.throttle import AccountThrottle, parse_rate_overrides
from .services.waba import WabaService


@dataclass
class Container:
    """Every long-lived object of one process."""

    settings: Settings
    engine: AsyncEngine
    box: SecretBox
    accounts: AccountStore
    spaces: SpaceStore
    graph: GraphClient
    services: Services
    limiter: RateLimiter
    registry: Registry

    async def aclose(self) -> None:
        await self.graph.aclose()
        await self.limiter.close()
        await self.engine.dispose()


def secret_box(settings: Settings) -> SecretBox:
    """The deployment's SecretBox: OPENCAMS_SECRET_KEY, or the key generated in the data directory."""
    if settings.secret_key is not None:
        return SecretBox(settings.secret_key.get_secret_value())
    return SecretBox(load_or_create_key(settings.data_dir))


def trusted_networks(text: str) -> tuple[IpNetwork, ...]:
    """Parse OPENCAMS_TRUSTED_PROXIES; ValueError names the bad entry."""
    networks = []
    for entry in filter(None, (e.strip() for e in text.split(","))):
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"OPENCAMS_TRUSTED_PROXIES: {entry!r} is not an address or CIDR") from None
    return tuple(networks)


def build_container(settings: Settings) -> Container:
    """Wire stores, clients and actions for `settings`."""
    box = secret_box(settings)
    engine = create_engine(settings.effective_database_url, pool_size=settings.db_pool_size)
    accounts = AccountStore(engine, box)
    spaces = SpaceStore(engine, box)
    graph = GraphClient(
        settings.graph_url,
        settings.graph_version,
        connect_timeout=settings.graph_connect_timeout,
        read_timeout=settings.graph_read_timeout,
        deadline=settings.sync_deadline,
        limits=AnswerLimits(settings.graph_max_answer_bytes, settings.graph_max_depth, settings.graph_max_numbers),
    )
    token = settings.graph_token.get_secret_value() if settings.graph_token else None
    meta = MetaService(graph, WabaBudgetStore(engine), default_token=token, app_id=settings.meta_app_id)
    outbound = OutboundPolicy(allow_private=settings.outbound_allow_private)
    services = Services(
        spaces=SpaceService(spaces, outbound, queues_available=bool(settings.redis_url)),
        meta=meta,
        sync=SyncService(spaces, meta),
        waba=WabaService(meta, spaces),
        profile=ProfileService(meta, outbound),
        lifecycle=LifecycleService(meta, spaces, PinStore(engine, box)),
        metrics=MetricsService(meta),
    )
    registry = build_registry(services)
    limiter = build_rate_limiter(settings.redis_url, settings.rate_limit_on_redis_failure)
    return Container(settings, engine, box, accounts, spaces, graph, services, limiter, registry)


def create_app(settings: Settings | None = None) -> Starlette:
    """The ASGI application; `opencams serve` runs it as a uvicorn factory in every worker."""
    settings = settings or Settings()
    logs.configure(settings.log_level, settings.log_format)
    # Retries are logged by the Graph client itself, saying what is retried and why.
    stamina.instrumentation.set_on_retry_hooks([])
    container = build_container(settings)
    nonces: NonceStore = DatabaseNonceStore(container.engine)
    redis_nonces: RedisNonceStore | None = None
    if settings.redis_url and settings.rate_limit_on_redis_failure == "reject":
        # Under `local` the deployment keeps serving through a Redis outage, so nonces must live
        # where an outage cannot hide them: the database (replay.py says why).
        redis_nonces = RedisNonceStore(settings.redis_url)
        nonces = redis_nonces
    ports = GatewayPorts(
        registry=container.registry,
        credentials=container.accounts,
        nonces=nonces,
        throttle=AccountThrottle(
            container.limiter, parse_rate_overrides(settings.rate_limits), AccountRateStore(container.engine)
        ),
        authorizer=Authorizer(RamStore(container.engine, container.box)),
        clock=time.time,
        trusted_proxies=trusted_networks(settings.trusted_proxies),
        observe=metrics.observe_call,
        unavailable=is_unavailable,
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        if redis_nonces is not None:
            await redis_nonces.close()
        await container.aclose()

    app = create_gateway_app(ports, extra_routes=probes.routes(container.engine, settings.redis_url))
    app.router.lifespan_context = lifespan
    app.state.container = container
    return app
