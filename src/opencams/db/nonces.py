"""Used signature nonces in the database, so every process of a deployment refuses a replay."""

from __future__ import annotations

import time

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from .dialect import insert_ignore
from .engine import write
from .tables import nonces

# Expired nonces are purged every this many inserts, keeping the table at about one window's worth.
PURGE_EVERY = 500


class DatabaseNonceStore:
    """NonceStore on the SQL database: a nonce is new iff its row could be inserted."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._inserts = 0
        # Built once: this runs on every call.
        self._insert = insert_ignore(engine.dialect.name, nonces)

    async def use_nonce(self, key: str, ttl: float, signed_at: float = 0.0) -> bool:
        # The database keeps every nonce of the window, whatever failed before: signed_at is not needed.
        now = time.time()
        self._inserts += 1
        async with write(self.engine) as conn:
            if self._inserts % PURGE_EVERY == 0:
                await conn.execute(delete(nonces).where(nonces.c.expires_at < now))
            result = await conn.execute(self._insert, {"key": key, "expires_at": now + ttl})
            if result.rowcount == 1:
                return True
            # The key exists: it is a replay unless the old row outlived its window.
            stale = await conn.execute(delete(nonces).where(nonces.c.key == key, nonces.c.expires_at < now))
            if stale.rowcount:
                await conn.execute(nonces.insert().values(key=key, expires_at=now + ttl))
                return True
            return False
