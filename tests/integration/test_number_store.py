"""One number stored after a step of its life, next to syncs of the same space; PINs kept sealed, once."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Coroutine
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import select, update

from opencams.bootstrap import Container
from opencams.db.engine import write
from opencams.db.pins import PinStore
from opencams.db.reseal import reseal
from opencams.db.tables import number_pins
from opencams.domain.phone_numbers import MetaNumber

from ..harness import Admin


def node(number_id: str, digits: str, status: str = "CONNECTED") -> dict[str, Any]:
    return {"id": number_id, "display_phone_number": f"+{digits}", "status": status, "verified_name": "Shop"}


def fetched(*nodes: dict[str, Any]) -> list[tuple[MetaNumber, dict[str, Any]]]:
    return [(MetaNumber.from_node(n), n) for n in nodes]


A, B, C = node("1001", "15550001001"), node("1002", "15550001002"), node("1003", "15550001003", "PENDING")


def test_a_stored_number_is_listed_at_once_and_the_next_sync_decides(admin: Admin) -> None:
    account = admin.account()
    space_id = admin.space(account, status_callback_url="https://cb.example/status")

    async def run(c: Container) -> None:
        store = c.spaces
        await store.apply_sync(space_id, fetched(A, B), 100.0)
        new = await store.store_number(space_id, MetaNumber.from_node(C), C, 200.0)
        assert (new.meta.status, new.status_callback_url) == ("PENDING", "https://cb.example/status")
        listed = await store.list_numbers(space_id)
        assert [n.meta.id for n in listed] == ["1001", "1002", "1003"]  # after the others
        # A full fetch that started before that read holds older data for it: not applied.
        answer = await store.apply_sync(space_id, fetched(A, B), 150.0)
        assert [n.meta.id for n in answer] == ["1001", "1002", "1003"]
        # The same answer as the stored fetch, but newer: it is applied (the digest was cleared), and
        # the number Meta no longer lists is removed.
        answer = await store.apply_sync(space_id, fetched(A, B), 300.0)
        assert [n.meta.id for n in answer] == ["1001", "1002"]
        assert [n.meta.id for n in await store.list_numbers(space_id)] == ["1001", "1002"]
        # A read older than the stored fetch changes nothing.
        stale = await store.store_number(space_id, MetaNumber.from_node(node("1001", "15550001001", "BANNED")), A, 250)
        assert stale.meta.status == "CONNECTED"

    admin.run(run)


def test_a_stored_number_keeps_its_settings_and_place(admin: Admin) -> None:
    account = admin.account()
    space_id = admin.space(account)

    async def run(c: Container) -> None:
        store = c.spaces
        await store.apply_sync(space_id, fetched(A, B), 100.0)
        await store.set_number_callbacks(
            space_id, "1001", {"status_callback_url": "https://mine.example/s", "queue_flag": True}
        )
        changed = node("1001", "15550001001", "DISCONNECTED")
        stored = await store.store_number(space_id, MetaNumber.from_node(changed), changed, 200.0)
        assert (stored.meta.status, stored.status_callback_url, stored.queue_flag) == (
            "DISCONNECTED",
            "https://mine.example/s",
            True,
        )
        assert [n.meta.id for n in await store.list_numbers(space_id)] == ["1001", "1002"]
        rows = await store.apply_sync(space_id, fetched(A, B), 300.0)
        assert rows[0].status_callback_url == "https://mine.example/s" and rows[0].meta.status == "CONNECTED"

    admin.run(run)


def test_steps_and_syncs_at_once_never_corrupt_the_space(admin: Admin) -> None:
    account = admin.account()
    space_id = admin.space(account)

    async def run(c: Container) -> None:
        store = c.spaces
        await store.apply_sync(space_id, fetched(A, B), 1.0)
        jobs: list[Coroutine[Any, Any, object]] = []
        for i in range(20):
            jobs.append(store.apply_sync(space_id, fetched(A, B, C), 10.0 + i))
            jobs.append(store.store_number(space_id, MetaNumber.from_node(C), C, 10.5 + i))
        await asyncio.gather(*jobs)
        listed = await store.list_numbers(space_id, include_removed=True)
        assert sorted(n.meta.id for n in listed) == ["1001", "1002", "1003"]
        assert all(n.meta.status for n in listed)

    admin.run(run)


def test_a_pin_is_kept_once_sealed_and_resealed(admin: Admin) -> None:
    async def run(c: Container) -> tuple[list[str], str, int, str]:
        pins = PinStore(c.engine, c.box)
        kept = await asyncio.gather(*(pins.keep("2001", f"{i:06d}") for i in range(10)))
        async with c.engine.connect() as conn:
            sealed = (
                await conn.execute(select(number_pins.c.pin_enc).where(number_pins.c.phone_number_id == "2001"))
            ).scalar_one()
        legacy = Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"test-deployment-key").digest()))
        async with write(c.engine) as conn:
            await conn.execute(
                update(number_pins)
                .where(number_pins.c.phone_number_id == "2001")
                .values(pin_enc=legacy.encrypt(kept[0].encode()).decode())
            )
        count = await reseal(c.engine, c.box)
        return list(kept), sealed, count, await pins.pin("2001") or ""

    kept, sealed, count, after = admin.run(run)
    assert len(set(kept)) == 1 and kept[0] not in sealed and sealed.startswith("v2:")
    assert count == 1 and after == kept[0]
    assert admin.run(lambda c: PinStore(c.engine, c.box).pin("2002")) is None
