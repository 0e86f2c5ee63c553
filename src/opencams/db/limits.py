"""Operator-set rate limits per account and action."""

from __future__ import annotations

import time

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ..ratelimit import Rate
from .dialect import upsert
from .tables import account_rate_limits

# How long a process trusts what it read: an operator's change reaches every process within this.
CACHE_SECONDS = 1.0


class AccountRateStore:
    """Per-account overrides of an action's rate; read on every call, so cached briefly."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._cache: dict[tuple[str, str], tuple[float, Rate | None]] = {}

    async def rate_for(self, account_id: str, action: str) -> Rate | None:
        now = time.monotonic()
        cached = self._cache.get((account_id, action))
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        async with self.engine.connect() as conn:
            text = await conn.scalar(
                select(account_rate_limits.c.rate).where(
                    account_rate_limits.c.account_id == account_id, account_rate_limits.c.action == action
                )
            )
        rate = Rate.parse(text) if text else None
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[(account_id, action)] = (now, rate)
        return rate

    async def set_rate(self, account_id: str, action: str, rate: Rate | None) -> None:
        """Set (or with None, remove) an account's rate for an action."""
        async with self.engine.begin() as conn:
            if rate is None:
                await conn.execute(
                    delete(account_rate_limits).where(
                        account_rate_limits.c.account_id == account_id, account_rate_limits.c.action == action
                    )
                )
                return
            stmt = upsert(self.engine.dialect.name, account_rate_limits, ("account_id", "action"), ("rate",))
            await conn.execute(stmt, [{"account_id": account_id, "action": action, "rate": str(rate)}])
        self._cache.pop((account_id, action), None)
