"""Meta's per-WABA blocks in the database, so every process stops calling a blocked WABA."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from .dialect import upsert
from .tables import waba_blocks


class WabaBudgetStore:
    """When Meta said a WABA may be called again."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def blocked_until(self, waba_id: str) -> float | None:
        async with self.engine.connect() as conn:
            value = await conn.scalar(select(waba_blocks.c.blocked_until).where(waba_blocks.c.waba_id == waba_id))
        return float(value) if value is not None else None

    async def block(self, waba_id: str, until: float, reason: str) -> None:
        stmt = upsert(self.engine.dialect.name, waba_blocks, ("waba_id",), ("blocked_until", "reason"))
        async with self.engine.begin() as conn:
            await conn.execute(stmt, [{"waba_id": waba_id, "blocked_until": until, "reason": reason[:64]}])
