"""Replay protection on Redis: a nonce is new iff `SET key NX` succeeds, shared by every process.

Used when OPENCAMS_REDIS_URL is set with the `reject` outage policy, so signature checks write
nothing to the database. While Redis is unreachable every call is answered ServiceUnavailable:
no other store knows the nonces Redis holds, so falling back to one would accept a request that
Redis already saw. (With the `local` policy nonces live in the database, which every process
shares and which survives a Redis outage.)

Redis may also come back empty (restarted without persistence). A marker key records since when
its memory of nonces is complete: when the marker is missing, that is when this Redis started
(its clock minus its uptime). A request signed before that moment may have been accepted before
the loss, so it is refused and must be signed again; a client whose clock is right signed it after
Redis came back and never notices.
"""

from __future__ import annotations

import logging
import time

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from .errors import ServiceUnavailable, TimestampExpired
from .ratelimit.redis_backend import redact_url

log = logging.getLogger("opencams.replay")
# After a failure Redis is tried again at most this often; calls in between use the policy.
RETRY_INTERVAL = 0.5

# KEYS[1] marker, KEYS[2] nonce; ARGV[1] ttl in ms. Returns {seconds since when the memory is
# complete, 1 if the nonce is new else 0}; one round trip, atomic with the marker's creation.
_USE_NONCE = """
local since = redis.call('GET', KEYS[1])
if not since then
  local uptime = string.match(redis.call('INFO', 'server'), 'uptime_in_seconds:(%d+)')
  since = tonumber(redis.call('TIME')[1]) - tonumber(uptime)
  redis.call('SET', KEYS[1], since)
end
local new = redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1])
return {tonumber(since), new and 1 or 0}
"""


class RedisNonceStore:
    """NonceStore on Redis; ServiceUnavailable while Redis cannot be reached."""

    def __init__(self, url: str, *, key_prefix: str = "opencams") -> None:
        # One immediate retry reconnects pooled connections that died with a Redis restart.
        self._redis = Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5, retry=Retry(NoBackoff(), 1))
        self._script = self._redis.register_script(_USE_NONCE)
        self._prefix = f"{key_prefix}:nonce:"
        self._marker = f"{key_prefix}:nonce-memory-since"
        self._url = redact_url(url)
        self._down_since: float | None = None
        self._next_try = 0.0
        self._known_since: int | None = None

    async def use_nonce(self, key: str, ttl: float, signed_at: float) -> bool:
        now = time.monotonic()
        if self._down_since is None or now >= self._next_try:
            try:
                since, new = await self._script(keys=[self._marker, self._prefix + key], args=[int(ttl * 1000)])
            except (RedisError, OSError) as exc:
                if self._down_since is None:
                    log.warning("Redis at %s is unreachable for nonces (%s)", self._url, type(exc).__name__)
                    self._down_since = now
                self._next_try = now + RETRY_INTERVAL
            else:
                if self._down_since is not None:
                    log.warning("Redis at %s is reachable again for nonces", self._url)
                    self._down_since = None
                self._note_memory(int(since))
                if signed_at <= int(since):  # same second: it may have come before the loss
                    raise TimestampExpired(
                        "Specified time stamp or date value is expired: it is older than the server's record of "
                        "used nonces (which restarted); sign the request again."
                    )
                return bool(new)
        raise ServiceUnavailable(retry_after=1)

    def _note_memory(self, since: int) -> None:
        if self._known_since is not None and since > self._known_since:
            log.error(
                "Redis at %s lost its record of used nonces; requests signed before %d are refused",
                self._url,
                since,
            )
        self._known_since = since

    async def close(self) -> None:
        await self._redis.aclose()
