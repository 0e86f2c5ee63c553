"""Migrations are the schema: they match the models, and upgrading keeps every row."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text

from opencams.config import Settings
from opencams.db.engine import create_engine
from opencams.db.migrate import current_revision, head_revision, upgrade
from opencams.db.tables import metadata


def test_models_and_migrations_agree(settings: Settings) -> None:
    async def diff() -> list[object]:
        engine = create_engine(settings.effective_database_url)
        async with engine.connect() as conn:
            result = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), metadata)
            )
        await engine.dispose()
        return list(result)

    assert asyncio.run(diff()) == []


def test_upgrade_from_first_revision_keeps_every_row(database_url: str) -> None:
    upgrade(database_url, "0001")
    now = datetime.now(UTC)
    rows = {
        "accounts": [
            {
                "id": f"10000000000000{i:02d}",
                "name": f"a{i}",
                "cams_enabled": True,
                "queue_delivery": False,
                "created_at": now,
            }
            for i in range(5)
        ],
        "access_keys": [
            {
                "id": f"LTAI{i:020d}",
                "account_id": "1000000000000000",
                "secret_enc": "x",
                "active": True,
                "created_at": now,
            }
            for i in range(7)
        ],
        "spaces": [
            {"id": f"cs-{i}", "account_id": "1000000000000001", "waba_id": "1", "created_at": now, "sync_generation": 1}
            for i in range(3)
        ],
        "phone_numbers": [
            {
                "space_id": "cs-0",
                "phone_number_id": str(i),
                "position": i,
                "node": "{}",
                "sync_generation": 1,
                "first_seen_at": now,
                "synced_at": now,
                "status_callback_url": f"https://cb/{i}",
            }
            for i in range(40)
        ],
        "nonces": [{"key": f"k{i}", "expires_at": 1e12} for i in range(9)],
    }

    async def seed_and_count(seed: bool) -> dict[str, int]:
        engine = create_engine(database_url)
        async with engine.begin() as conn:
            if seed:
                for table, values in rows.items():
                    await conn.execute(metadata.tables[table].insert(), values)
            counts = {t: await conn.scalar(select(func.count()).select_from(metadata.tables[t])) for t in rows}
            urls = (
                (await conn.execute(text("SELECT status_callback_url FROM phone_numbers ORDER BY position")))
                .scalars()
                .all()
            )
        await engine.dispose()
        assert urls == [f"https://cb/{i}" for i in range(40)]
        return {t: int(c or 0) for t, c in counts.items()}

    before = asyncio.run(seed_and_count(True))
    assert before == {t: len(v) for t, v in rows.items()}
    upgrade(database_url)

    async def revision() -> str | None:
        engine = create_engine(database_url)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    assert asyncio.run(revision()) == head_revision()
    assert asyncio.run(seed_and_count(False)) == before
