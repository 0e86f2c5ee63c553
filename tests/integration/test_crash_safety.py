"""SIGKILL during syncs: the stored numbers are always exactly one whole version, never a mix."""

from __future__ import annotations

import asyncio
import json
import random
import threading
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_cams20200606 import models
from sqlalchemy import func, select, text

from opencams.config import Settings
from opencams.db.engine import create_engine
from opencams.db.tables import phone_numbers, spaces
from opencams.domain.phone_numbers import MetaNumber

from ..harness import Admin, Emulator, ServerProcess, new_sdk, server_env

pytestmark = pytest.mark.slow
WABA = "555000111222333"
ROUNDS = 50


def version(n: int, flavour: str) -> list[dict[str, Any]]:
    """1,000 numbers; version B changes every number and swaps 100 of them for others."""
    ids = range(1000) if flavour == "A" else range(100, 1100)
    return [
        {
            "id": f"7{i:014d}",
            "display_phone_number": f"+62 811-{i:04d}-{n:04d}",
            "verified_name": f"Shop {i} {flavour}",
            "status": "CONNECTED" if flavour == "A" else "FLAGGED",
            "quality_rating": "GREEN" if flavour == "A" else "YELLOW",
            "code_verification_status": "VERIFIED",
            "messaging_limit_tier": "TIER_1K" if flavour == "A" else "TIER_250",
        }
        for i in ids
    ]


def state(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"tokens": {"test-token": [WABA]}, "wabas": {WABA: {"phone_numbers": nodes}}}


def stored(settings: Settings, space: str) -> tuple[list[MetaNumber], bool]:
    async def read() -> tuple[list[MetaNumber], bool]:
        engine = create_engine(settings.effective_database_url)
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(phone_numbers)
                    .where(phone_numbers.c.space_id == space, phone_numbers.c.removed_at.is_(None))
                    .order_by(phone_numbers.c.position)
                )
            ).all()
            if engine.dialect.name == "sqlite":
                ok = (await conn.execute(text("PRAGMA integrity_check"))).scalar() == "ok"
                ok = ok and not (await conn.execute(text("PRAGMA foreign_key_check"))).all()
            else:
                orphans = await conn.scalar(
                    select(func.count())
                    .select_from(phone_numbers)
                    .where(~phone_numbers.c.space_id.in_(select(spaces.c.id)))
                )
                ok = orphans == 0
            positions = [r.position for r in rows]
            ok = ok and positions == list(range(len(rows)))
        await engine.dispose()
        numbers = [MetaNumber.from_node({"id": r.phone_number_id, **json.loads(r.node)}) for r in rows]
        return numbers, ok

    return asyncio.run(read())


def test_sigkill_mid_sync_leaves_one_whole_version(
    settings: Settings, admin: Admin, emulator: Emulator, tmp_path: Path
) -> None:
    versions = {"A": version(1, "A"), "B": version(2, "B")}
    expected = {k: [MetaNumber.from_node(n) for n in v] for k, v in versions.items()}
    settings.rate_limits = "ChatappSyncPhoneNumber=1000/s"
    account = admin.account()
    key = admin.key(account)
    space = admin.space(account, WABA)
    env = server_env(settings)
    emulator.set_state(state(versions["A"]))
    rng = random.Random(20261126)
    seen: set[str] = set()
    for round_no in range(ROUNDS):
        server = ServerProcess(env, tmp_path / f"server-{round_no}.log")
        stop = threading.Event()

        def syncs(server: ServerProcess = server, stop: threading.Event = stop) -> None:
            client = new_sdk(server.endpoint, key)
            flip = rng.choice("AB")
            while not stop.is_set():
                emulator.set_state(state(versions[flip]))
                try:
                    client.chatapp_sync_phone_number(models.ChatappSyncPhoneNumberRequest(cust_space_id=space))
                except Exception:
                    return  # the server was killed under us
                flip = "B" if flip == "A" else "A"

        worker = threading.Thread(target=syncs, daemon=True)
        worker.start()
        threading.Event().wait(rng.uniform(0.05, 0.8))
        server.kill()
        stop.set()
        worker.join(timeout=30)
        numbers, integrity_ok = stored(settings, space)
        assert integrity_ok, f"round {round_no}: integrity check failed"
        if not numbers:
            assert not seen, f"round {round_no}: data vanished after a completed sync"
            continue
        match = [k for k, v in expected.items() if numbers == v]
        assert match, f"round {round_no}: stored numbers are neither version ({len(numbers)} rows)"
        seen.add(match[0])
    assert seen == {"A", "B"}, f"only saw {seen}: the kills never caught both versions stored"
