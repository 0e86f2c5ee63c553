"""Replay protection on Redis: a nonce is new iff `SET key NX` succeeds, shared by every process.

Used when OPENCAMS_REDIS_URL is set, so signature checks write nothing to the database (a throttled
call then costs no database write at all). When Redis is unreachable the outage policy applies:
`reject` answers ServiceUnavailable, `local` falls back to the database nonce store.
"""

from __future__ import annotations

import logging
import time

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from .errors import ServiceUnavailable
from .ratelimit.redis_backend import redact_url
from .rpc.auth import NonceStore

log = logging.getLogger("opencams.replay")
# After a failure Redis is tried again at most this often; calls in between use the policy.
RETRY_INTERVAL = 0.5


class RedisNonceStore:
    """NonceStore on Redis with a fallback store and an outage policy."""

    def __init__(self, url: str, fallback: NonceStore, *, on_failure: str, key_prefix: str = "opencams") -> None:
        # One immediate retry reconnects pooled connections that died with a Redis restart.
        self._redis = Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5, retry=Retry(NoBackoff(), 1))
        self._fallback = fallback
        self._on_failure = on_failure
        self._prefix = f"{key_prefix}:nonce:"
        self._url = redact_url(url)
        self._down_since: float | None = None
        self._next_try = 0.0

    async def use_nonce(self, key: str, ttl: float) -> bool:
        now = time.monotonic()
        if self._down_since is None or now >= self._next_try:
            try:
                created = await self._redis.set(self._prefix + key, b"1", nx=True, px=int(ttl * 1000))
            except (RedisError, OSError) as exc:
                if self._down_since is None:
                    log.warning("Redis at %s is unreachable for nonces (%s)", self._url, type(exc).__name__)
                    self._down_since = now
                self._next_try = now + RETRY_INTERVAL
            else:
                if self._down_since is not None:
                    log.warning("Redis at %s is reachable again for nonces", self._url)
                    self._down_since = None
                return bool(created)
        if self._on_failure == "local":
            return await self._fallback.use_nonce(key, ttl)
        raise ServiceUnavailable(retry_after=1)

    async def close(self) -> None:
        await self._redis.aclose()
