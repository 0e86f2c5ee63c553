"""Customer spaces and their phone numbers: creation, listing, and the atomic apply of a sync."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..domain.errors import WabaOfAnotherAccount
from ..domain.phone_numbers import MetaNumber, StoredNumber
from ..ids import new_space_id
from ..secretbox import SecretBox
from .accounts import NotFound
from .dialect import upsert
from .engine import write
from .tables import phone_numbers, spaces, waba_blocks

# Columns a sync may overwrite; the CAMS-side settings (callback URLs) are deliberately absent.
_META_COLUMNS = (
    "position",
    "display_phone_number",
    "verified_name",
    "status",
    "quality_rating",
    "code_verification_status",
    "name_status",
    "new_name_status",
    "messaging_limit_tier",
    "portfolio_messaging_limit",
    "is_official",
    "node",
    "sync_generation",
    "synced_at",
    "removed_at",
)


# Tables whose rows belong to a space and go with it, children first.
SPACE_DEPENDENTS = (phone_numbers,)


class SpaceInUse(ValueError):
    """A space that still holds numbers is not deleted without saying so."""


@dataclass(frozen=True, slots=True)
class Space:
    id: str
    account_id: str
    waba_id: str
    graph_token: str | None
    status_callback_url: str | None
    up_callback_url: str | None
    last_sync_at: datetime | None
    last_sync_code: str | None
    last_sync_message: str | None
    # Until when Meta asked us not to call for this space's WABA (epoch seconds), if it did.
    waba_blocked_until: float | None = None
    # UpdateAccountWebhook: where number-state events go, and whether by HTTP and/or queue.
    webhook_url: str | None = None
    webhook_http: bool = False
    webhook_queue: bool = False


def _stored(row: Any) -> StoredNumber:
    meta = MetaNumber(
        id=row.phone_number_id,
        display_phone_number=row.display_phone_number,
        verified_name=row.verified_name,
        status=row.status,
        quality_rating=row.quality_rating,
        code_verification_status=row.code_verification_status,
        name_status=row.name_status,
        new_name_status=row.new_name_status,
        messaging_limit_tier=row.messaging_limit_tier,
        portfolio_messaging_limit=row.portfolio_messaging_limit,
        is_official=row.is_official,
    )
    return StoredNumber(meta, row.status_callback_url, row.up_callback_url, row.queue_flag)


_UPSERTS: dict[str, Any] = {}
_ONE_UPSERTS: dict[str, Any] = {}
# What storing one number read from Meta overwrites: a sync's columns but its place in the list.
_ONE_NUMBER_COLUMNS = tuple(c for c in _META_COLUMNS if c != "position")
# Built once: the space is read on every call.
_SPACE = (
    select(spaces, waba_blocks.c.blocked_until)
    .outerjoin(waba_blocks, waba_blocks.c.waba_id == spaces.c.waba_id)
    .where(spaces.c.id == bindparam("space_id"))
)


def _upsert_numbers(dialect: str) -> Any:
    """The numbers upsert for a dialect, built once: compiling it is a measurable share of a sync."""
    if dialect not in _UPSERTS:
        _UPSERTS[dialect] = upsert(dialect, phone_numbers, ("space_id", "phone_number_id"), _META_COLUMNS)
    return _UPSERTS[dialect]


def _upsert_one_number(dialect: str) -> Any:
    """The single-number upsert for a dialect (a number's step at Meta), built once."""
    if dialect not in _ONE_UPSERTS:
        _ONE_UPSERTS[dialect] = upsert(dialect, phone_numbers, ("space_id", "phone_number_id"), _ONE_NUMBER_COLUMNS)
    return _ONE_UPSERTS[dialect]


class SpaceStore:
    """All SQL about customer spaces and their numbers."""

    def __init__(self, engine: AsyncEngine, box: SecretBox) -> None:
        self.engine = engine
        self.box = box

    def _space(self, row: Any) -> Space:
        token = self.box.open(row.graph_token_enc) if row.graph_token_enc else None
        return Space(
            row.id,
            row.account_id,
            row.waba_id,
            token,
            row.status_callback_url,
            row.up_callback_url,
            row.last_sync_at,
            row.last_sync_code,
            row.last_sync_message,
            getattr(row, "blocked_until", None),
            row.webhook_url,
            bool(row.webhook_http),
            bool(row.webhook_queue),
        )

    async def create_space(
        self,
        account_id: str,
        waba_id: str,
        *,
        graph_token: str | None = None,
        status_callback_url: str | None = None,
        up_callback_url: str | None = None,
        space_id: str | None = None,
    ) -> Space:
        space_id = space_id or new_space_id()
        async with write(self.engine) as conn:
            await conn.execute(
                spaces.insert().values(
                    id=space_id,
                    account_id=account_id,
                    waba_id=waba_id,
                    graph_token_enc=self.box.seal(graph_token) if graph_token else None,
                    status_callback_url=status_callback_url,
                    up_callback_url=up_callback_url,
                    created_at=datetime.now(UTC),
                    sync_generation=0,
                )
            )
        return await self.get_space(space_id)

    async def get_space(self, space_id: str) -> Space:
        """The space, with its WABA's block from Meta read in the same query."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(_SPACE, {"space_id": space_id})).first()
        if row is None:
            raise NotFound(f"space {space_id} does not exist")
        return self._space(row)

    async def find_space(self, space_id: str) -> Space | None:
        try:
            return await self.get_space(space_id)
        except NotFound:
            return None

    async def list_spaces(self, account_id: str) -> list[Space]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(spaces).where(spaces.c.account_id == account_id).order_by(spaces.c.created_at, spaces.c.id)
                )
            ).all()
        return [self._space(r) for r in rows]

    async def list_numbers(self, space_id: str, *, include_removed: bool = False) -> list[StoredNumber]:
        async with self.engine.connect() as conn:
            return await self._numbers(conn, space_id, include_removed=include_removed)

    async def _numbers(
        self, conn: AsyncConnection, space_id: str, *, include_removed: bool = False
    ) -> list[StoredNumber]:
        query = select(phone_numbers).where(phone_numbers.c.space_id == space_id)
        if not include_removed:
            query = query.where(phone_numbers.c.removed_at.is_(None))
        rows = (await conn.execute(query.order_by(phone_numbers.c.position, phone_numbers.c.phone_number_id))).all()
        return [_stored(r) for r in rows]

    async def spaces_of_waba(self, waba_id: str) -> list[Space]:
        """Every space bound to a WABA, oldest first."""
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(select(spaces).where(spaces.c.waba_id == waba_id).order_by(spaces.c.created_at))
            ).all()
        return [self._space(r) for r in rows]

    async def bind_waba(self, account_id: str, waba_id: str) -> tuple[Space, bool]:
        """The account's space for a WABA, created if it has none: (space, created).

        WabaOfAnotherAccount if a space of another account is bound to it. One transaction,
        serialised per WABA (an advisory lock on PostgreSQL, SQLite's single writer), so two binds
        at once never create two spaces.
        """
        space_id = new_space_id()
        async with write(self.engine) as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(select(func.pg_advisory_xact_lock(func.hashtext("bind:" + waba_id))))
            rows = (
                await conn.execute(
                    select(spaces.c.id, spaces.c.account_id)
                    .where(spaces.c.waba_id == waba_id)
                    .order_by(spaces.c.created_at)
                )
            ).all()
            if any(r.account_id != account_id for r in rows):
                raise WabaOfAnotherAccount("The WhatsApp Business Account is bound to another account.")
            created = not rows
            if created:
                await conn.execute(
                    spaces.insert().values(
                        id=space_id,
                        account_id=account_id,
                        waba_id=waba_id,
                        created_at=datetime.now(UTC),
                        sync_generation=0,
                    )
                )
            else:
                space_id = rows[0].id
        return await self.get_space(space_id), created

    async def set_space_webhook(self, space_id: str, *, url: str | None, http: bool, queue: bool) -> None:
        """Set where the space's number-state events go (one statement)."""
        async with write(self.engine) as conn:
            await conn.execute(
                update(spaces)
                .where(spaces.c.id == space_id)
                .values(webhook_url=url, webhook_http=http, webhook_queue=queue)
            )

    async def set_number_callbacks(self, space_id: str, phone_number_id: str, changes: dict[str, Any]) -> None:
        """Set some of a number's delivery settings in one statement; the others are left as they are.

        One UPDATE of only the named columns: two calls changing different URLs of one number at
        once both take effect (a read-then-write lost one of them).
        """
        allowed = {"status_callback_url", "up_callback_url", "queue_flag"}
        if not changes or not set(changes) <= allowed:
            raise ValueError(f"callback columns must be among {sorted(allowed)}")
        async with write(self.engine) as conn:
            await conn.execute(
                update(phone_numbers)
                .where(phone_numbers.c.space_id == space_id, phone_numbers.c.phone_number_id == phone_number_id)
                .values(**changes)
            )

    async def apply_sync(
        self, space_id: str, nodes: Sequence[tuple[MetaNumber, dict[str, Any]]], fetch_started_at: float
    ) -> list[StoredNumber]:
        """Store one complete fetch in one transaction and return the space's numbers after it.

        A fetch that started before the one already stored is not applied: the newer data stays.
        Numbers absent from the fetch are marked removed; returning ones keep their old settings.
        """
        now = datetime.now(UTC)
        serialized = [json.dumps(node, separators=(",", ":"), sort_keys=True) for _, node in nodes]
        digest = hashlib.sha256("\n".join(serialized).encode()).hexdigest()
        async with write(self.engine) as conn:
            query = select(spaces).where(spaces.c.id == space_id)
            if conn.dialect.name == "postgresql":
                # Serialises syncs of one space across processes; SQLite's BEGIN IMMEDIATE already does.
                query = query.with_for_update()
            space = (await conn.execute(query)).first()
            if space is None:
                raise NotFound(f"space {space_id} does not exist")
            if space.fetch_started_at is not None and fetch_started_at < space.fetch_started_at:
                return await self._numbers(conn, space_id)
            unchanged = space.content_digest == digest and space.sync_generation > 0
            # Meta usually answers what it answered last time: then no number row is written.
            generation = space.sync_generation if unchanged else space.sync_generation + 1
            if not unchanged:
                await self._write_numbers(conn, space, nodes, serialized, generation, now)
            await conn.execute(
                update(spaces)
                .where(spaces.c.id == space_id)
                .values(
                    sync_generation=generation,
                    fetch_started_at=fetch_started_at,
                    content_digest=digest,
                    last_sync_at=now,
                    last_sync_code="OK",
                    last_sync_message=None,
                )
            )
            # The answer is the fetch itself plus each number's settings: only those are read back.
            settings = {
                r.phone_number_id: (r.status_callback_url, r.up_callback_url, r.queue_flag)
                for r in await conn.execute(
                    select(
                        phone_numbers.c.phone_number_id,
                        phone_numbers.c.status_callback_url,
                        phone_numbers.c.up_callback_url,
                        phone_numbers.c.queue_flag,
                    ).where(phone_numbers.c.space_id == space_id, phone_numbers.c.sync_generation == generation)
                )
            }
            return [StoredNumber(meta, *settings[meta.id]) for meta, _ in nodes]

    async def _write_numbers(
        self,
        conn: AsyncConnection,
        space: Any,
        nodes: Sequence[tuple[MetaNumber, dict[str, Any]]],
        serialized: list[str],
        generation: int,
        now: datetime,
    ) -> None:
        """Upsert the fetched numbers as `generation`; mark every other number of the space removed."""
        rows = [
            {
                "space_id": space.id,
                "phone_number_id": meta.id,
                "position": position,
                "display_phone_number": meta.display_phone_number,
                "verified_name": meta.verified_name,
                "status": meta.status,
                "quality_rating": meta.quality_rating,
                "code_verification_status": meta.code_verification_status,
                "name_status": meta.name_status,
                "new_name_status": meta.new_name_status,
                "messaging_limit_tier": meta.messaging_limit_tier,
                "portfolio_messaging_limit": meta.portfolio_messaging_limit,
                "is_official": meta.is_official,
                "node": serialized[position],
                # A new number takes the space's defaults; an existing one keeps its own (not in _META_COLUMNS).
                "status_callback_url": space.status_callback_url,
                "up_callback_url": space.up_callback_url,
                "sync_generation": generation,
                "first_seen_at": now,
                "synced_at": now,
                "removed_at": None,
            }
            for position, (meta, _) in enumerate(nodes)
        ]
        if rows:
            await conn.execute(_upsert_numbers(conn.dialect.name), rows)
        await conn.execute(
            update(phone_numbers)
            .where(
                phone_numbers.c.space_id == space.id,
                phone_numbers.c.sync_generation != generation,
                phone_numbers.c.removed_at.is_(None),
            )
            .values(removed_at=now)
        )

    async def store_number(
        self, space_id: str, meta: MetaNumber, node: dict[str, Any], read_started_at: float
    ) -> StoredNumber:
        """Store one number as Meta has it now (read after a step of its life) and return it as stored.

        One transaction that upserts by (space, Meta phone-number id), exactly as a sync does and
        with the same columns (never the callback URLs or the queue flag; a new number takes the
        space's defaults and goes after the others). It holds the same lock as a sync's apply, so
        the two never interleave. The read counts as a fetch: one that started before the stored
        fetch is not applied (the newer data stays), and once applied, a full fetch that started
        before it is not applied either, since it holds older data for this number. The stored
        digest is cleared, so the next sync writes every row again whatever Meta answers.
        """
        now = datetime.now(UTC)
        async with write(self.engine) as conn:
            query = select(spaces).where(spaces.c.id == space_id)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            space = (await conn.execute(query)).first()
            if space is None:
                raise NotFound(f"space {space_id} does not exist")
            if space.fetch_started_at is None or read_started_at >= space.fetch_started_at:
                last = await conn.scalar(
                    select(func.max(phone_numbers.c.position)).where(phone_numbers.c.space_id == space_id)
                )
                row = {
                    "space_id": space_id,
                    "phone_number_id": meta.id,
                    "position": 0 if last is None else last + 1,
                    "display_phone_number": meta.display_phone_number,
                    "verified_name": meta.verified_name,
                    "status": meta.status,
                    "quality_rating": meta.quality_rating,
                    "code_verification_status": meta.code_verification_status,
                    "name_status": meta.name_status,
                    "new_name_status": meta.new_name_status,
                    "messaging_limit_tier": meta.messaging_limit_tier,
                    "portfolio_messaging_limit": meta.portfolio_messaging_limit,
                    "is_official": meta.is_official,
                    "node": json.dumps(node, separators=(",", ":"), sort_keys=True),
                    "status_callback_url": space.status_callback_url,
                    "up_callback_url": space.up_callback_url,
                    "sync_generation": space.sync_generation,
                    "first_seen_at": now,
                    "synced_at": now,
                    "removed_at": None,
                }
                await conn.execute(_upsert_one_number(conn.dialect.name), row)
                await conn.execute(
                    update(spaces)
                    .where(spaces.c.id == space_id)
                    .values(fetch_started_at=read_started_at, content_digest=None)
                )
            stored = (
                await conn.execute(
                    select(phone_numbers).where(
                        phone_numbers.c.space_id == space_id, phone_numbers.c.phone_number_id == meta.id
                    )
                )
            ).first()
        if stored is None:
            # A newer fetch was stored and did not have this number: Meta no longer lists it.
            raise NotFound(f"number {meta.id} is not in space {space_id}")
        return _stored(stored)

    async def record_sync_failure(self, space_id: str, code: str, message: str) -> None:
        """Remember the last sync's outcome without touching the stored numbers."""
        async with write(self.engine) as conn:
            await conn.execute(
                update(spaces)
                .where(spaces.c.id == space_id)
                .values(last_sync_at=datetime.now(UTC), last_sync_code=code, last_sync_message=message[:500])
            )

    async def delete_space(self, space_id: str, *, with_numbers: bool = False) -> int:
        """Delete a space (and, with `with_numbers`, its numbers); how many numbers went with it.

        SpaceInUse while it holds numbers Meta still lists and `with_numbers` is not given.
        """
        async with write(self.engine) as conn:
            exists = await conn.scalar(select(spaces.c.id).where(spaces.c.id == space_id))
            if exists is None:
                raise NotFound(f"space {space_id} does not exist")
            held = await conn.scalar(
                select(func.count()).where(phone_numbers.c.space_id == space_id, phone_numbers.c.removed_at.is_(None))
            )
            if held and not with_numbers:
                raise SpaceInUse(
                    f"space {space_id} still holds {held} phone number(s): "
                    "delete it with --with-numbers to drop them too"
                )
            for table in SPACE_DEPENDENTS:
                await conn.execute(delete(table).where(table.c.space_id == space_id))
            await conn.execute(delete(spaces).where(spaces.c.id == space_id))
        return int(held or 0)
