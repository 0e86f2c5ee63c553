"""Re-sealing of stored secrets in the current SecretBox format, after an upgrade that changed it."""

from __future__ import annotations

from sqlalchemy import Column, Table, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ..secretbox import SecretBox
from .engine import write
from .tables import access_keys, number_pins, spaces, sts_credentials

# Every encrypted column, with its table; a new one is added here when a table gains one.
SEALED_COLUMNS: tuple[tuple[Table, str], ...] = (
    (access_keys, "secret_enc"),
    (spaces, "graph_token_enc"),
    (sts_credentials, "secret_enc"),
    (sts_credentials, "token_enc"),
    (number_pins, "pin_enc"),
)


def _key_columns(table: Table) -> list[Column[object]]:
    return list(table.primary_key.columns)


async def reseal(engine: AsyncEngine, box: SecretBox) -> int:
    """Rewrite every value sealed in an older format; how many were rewritten. Idempotent."""
    count = 0
    for table, column in SEALED_COLUMNS:
        keys = _key_columns(table)
        async with write(engine) as conn:
            rows = (await conn.execute(select(*keys, table.c[column]).where(table.c[column].is_not(None)))).all()
            for row in rows:
                sealed = str(row[-1])
                if SecretBox.is_current(sealed):
                    continue
                condition = [key == row[i] for i, key in enumerate(keys)]
                await conn.execute(update(table).where(*condition).values({column: box.seal(box.open(sealed))}))
                count += 1
    return count
