"""Operator-set rate limits per account and action."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ..ratelimit import Rate
from .dialect import upsert
from .engine import write
from .tables import account_rate_limits

# How long a process trusts what it read: an operator's change reaches every process within this.
CACHE_SECONDS = 1.0


class AccountRateStore:
    """Per-account overrides of an action's rate.

    Consulted on every call, and overrides are few (an operator sets them by hand), so each
    process keeps the whole table and reads it again at most once per CACHE_SECONDS.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._rates: dict[tuple[str, str], Rate] = {}
        self._read_at = -CACHE_SECONDS
        self._refresh = asyncio.Lock()

    async def rate_for(self, account_id: str, action: str) -> Rate | None:
        if time.monotonic() - self._read_at >= CACHE_SECONDS:
            async with self._refresh:
                if time.monotonic() - self._read_at >= CACHE_SECONDS:
                    await self._load()
        return self._rates.get((account_id, action))

    async def _load(self) -> None:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(account_rate_limits))).all()
        self._rates = {(r.account_id, r.action): Rate.parse(r.rate) for r in rows}
        self._read_at = time.monotonic()

    async def set_rate(self, account_id: str, action: str, rate: Rate | None) -> None:
        """Set (or with None, remove) an account's rate for an action."""
        async with write(self.engine) as conn:
            if rate is None:
                await conn.execute(
                    delete(account_rate_limits).where(
                        account_rate_limits.c.account_id == account_id, account_rate_limits.c.action == action
                    )
                )
                return
            stmt = upsert(self.engine.dialect.name, account_rate_limits, ("account_id", "action"), ("rate",))
            await conn.execute(stmt, [{"account_id": account_id, "action": action, "rate": str(rate)}])
        self._read_at = -CACHE_SECONDS
