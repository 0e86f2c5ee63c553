"""Per-key call rate limiting (moving window) in memory or shared through Redis."""

from __future__ import annotations

from .memory import MemoryRateLimiter
from .rate import (
    Admission,
    Rate,
    RateLimiter,
    RateLimitUnavailable,
)
from .redis_backend import FailurePolicy, RedisRateLimiter

__all__ = [
    "Admission",
    "FailurePolicy",
    "MemoryRateLimiter",
    "Rate",
    "RateLimitUnavailable",
    "RateLimiter",
    "RedisRateLimiter",
    "build_rate_limiter",
]


def build_rate_limiter(redis_url: str | None, on_failure: str) -> RateLimiter:
    """Redis-backed when ``redis_url`` is set, else in-process memory.

    ``on_failure`` ("reject" or "local") is validated even without Redis so a
    typo in configuration fails at startup rather than at the first outage.
    """
    policy: FailurePolicy
    if on_failure == "reject":
        policy = "reject"
    elif on_failure == "local":
        policy = "local"
    else:
        raise ValueError(f"rate limit failure policy must be 'reject' or 'local', got {on_failure!r}")
    if not redis_url:
        return MemoryRateLimiter()
    return RedisRateLimiter(redis_url, on_failure=policy)
