"""Meta's per-WABA blocks in the database, so every process stops calling a blocked WABA.

They are read along with the space (`SpaceStore.get_space`); this store only writes them.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from .dialect import upsert
from .engine import write
from .tables import waba_blocks


class WabaBudgetStore:
    """When Meta said a WABA may be called again."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def block(self, waba_id: str, until: float, reason: str) -> None:
        stmt = upsert(self.engine.dialect.name, waba_blocks, ("waba_id",), ("blocked_until", "reason"))
        async with write(self.engine) as conn:
            await conn.execute(stmt, [{"waba_id": waba_id, "blocked_until": until, "reason": reason[:64]}])
