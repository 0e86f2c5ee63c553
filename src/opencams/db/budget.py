"""Meta's per-WABA blocks in the database, so every process stops calling a blocked WABA.

They are read along with the space (`SpaceStore.get_space`); this store writes, lists and clears them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ..graph.usage import MAX_BLOCK_SECONDS
from .dialect import upsert
from .engine import write
from .tables import waba_blocks


@dataclass(frozen=True, slots=True)
class WabaBlock:
    waba_id: str
    blocked_until: float
    reason: str


class WabaBudgetStore:
    """When Meta said a WABA may be called again."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def block(self, waba_id: str, until: float, reason: str) -> None:
        """Block the WABA until `until` (epoch seconds), never longer than a day from now."""
        latest = time.time() + MAX_BLOCK_SECONDS
        until = min(until, latest) if math.isfinite(until) else latest
        stmt = upsert(self.engine.dialect.name, waba_blocks, ("waba_id",), ("blocked_until", "reason"))
        async with write(self.engine) as conn:
            await conn.execute(stmt, [{"waba_id": waba_id, "blocked_until": until, "reason": reason[:64]}])

    async def clear(self, waba_id: str) -> bool:
        """Lift a block (an operator's decision); whether there was one."""
        async with write(self.engine) as conn:
            result = await conn.execute(delete(waba_blocks).where(waba_blocks.c.waba_id == waba_id))
        return bool(result.rowcount)

    async def list_blocks(self) -> list[WabaBlock]:
        """Every stored block, current or past, soonest end first."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(waba_blocks).order_by(waba_blocks.c.blocked_until))).all()
        return [WabaBlock(r.waba_id, r.blocked_until, r.reason) for r in rows]
