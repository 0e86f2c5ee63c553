"""The sync of one customer space: fetch every page from Meta, then apply it atomically.

Concurrent syncs of one space in this process share one fetch (single flight); across processes
the apply transaction is serialised by the store and an older fetch never overwrites a newer one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from ..db.spaces import Space
from ..domain.errors import DomainError, NoGraphToken, WabaBlocked
from ..domain.phone_numbers import GRAPH_FIELDS, InvalidNode, MetaNumber, StoredNumber
from ..graph.client import FetchReport
from ..graph.errors import GraphApiError, GraphContentError, GraphError
from ..metrics import SYNCS
from ..redact import redact
from .meta import MetaService
from .ports import SpaceRepository

log = logging.getLogger("opencams.sync")

SyncCause = GraphError | DomainError


class SyncFailed(Exception):
    """A sync that got no usable answer from Meta; storage was left unchanged."""

    def __init__(self, cause: SyncCause, report: FetchReport, elapsed: float) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.report = report
        self.elapsed = elapsed


class SyncService:
    """Runs syncs; one instance per process."""

    def __init__(self, spaces: SpaceRepository, meta: MetaService, *, clock: Callable[[], float] | None = None) -> None:
        self.spaces = spaces
        self.meta = meta
        self.clock = clock or meta.clock
        self._in_flight: dict[str, asyncio.Future[list[StoredNumber]]] = {}

    async def sync(self, space: Space) -> list[StoredNumber]:
        """The space's numbers after a fresh fetch; SyncFailed leaves storage unchanged."""
        running = self._in_flight.get(space.id)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[list[StoredNumber]] = asyncio.get_running_loop().create_future()
        self._in_flight[space.id] = future
        try:
            result = await self._sync(space)
        except BaseException as exc:
            future.set_exception(exc)
            # Mark it retrieved: waiters may have none, and the error is re-raised here anyway.
            future.exception()
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._in_flight[space.id]

    async def _sync(self, space: Space) -> list[StoredNumber]:
        started = self.clock()
        report = FetchReport()
        try:
            token = self.meta.token(space)
            nodes = await self.meta.call(
                space.waba_id,
                space.waba_blocked_until,
                lambda r: self.meta.graph.list_phone_numbers(space.waba_id, token, GRAPH_FIELDS, r),
                report,
            )
            parsed = _parse_nodes(nodes)
        except WabaBlocked as exc:
            if exc.meta_code is not None:  # Meta throttled this very call: an outcome worth recording
                await self._record_failure(space, exc)
            SYNCS.labels(failure_code(exc)).inc()
            raise SyncFailed(exc, report, self.clock() - started) from exc
        except (GraphError, NoGraphToken) as exc:
            await self._record_failure(space, exc)
            SYNCS.labels(failure_code(exc)).inc()
            raise SyncFailed(exc, report, self.clock() - started) from exc
        numbers = await self.spaces.apply_sync(space.id, parsed, started)
        SYNCS.labels("OK").inc()
        return numbers

    async def _record_failure(self, space: Space, exc: Exception) -> None:
        message = redact(str(exc), self.meta.secrets_for(space))
        await self.spaces.record_sync_failure(space.id, failure_code(exc), message)


def _parse_nodes(nodes: list[dict[str, object]]) -> list[tuple[MetaNumber, dict[str, object]]]:
    parsed: list[tuple[MetaNumber, dict[str, object]]] = []
    seen: set[str] = set()
    for node in nodes:
        try:
            meta = MetaNumber.from_node(node)
        except InvalidNode as exc:
            raise GraphContentError(f"Meta sent an unusable phone number: {exc}") from None
        # Meta's cursors can shift when numbers are added mid-fetch; keep the first occurrence.
        if meta.id in seen:
            continue
        seen.add(meta.id)
        parsed.append((meta, node))
    return parsed


def failure_code(exc: Exception) -> str:
    """The CAMS code a failed sync is remembered by (shown by `admin space list`)."""
    if isinstance(exc, GraphApiError) and not (exc.retryable or exc.rate_limited):
        return "ERR-FB-001"
    if isinstance(exc, NoGraphToken):
        return "ERR-FB-001"
    return "ServiceUnavailable"
