"""The sync of one customer space: fetch every page from Meta, then apply it atomically.

Concurrent syncs of one space in this process share one fetch (single flight); across processes
the apply transaction is serialised by the store and an older fetch never overwrites a newer one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from ..db.spaces import Space, SpaceStore
from ..domain.phone_numbers import GRAPH_FIELDS, InvalidNode, MetaNumber, StoredNumber
from ..graph.client import FetchReport, GraphClient
from ..graph.errors import GraphApiError, GraphError, GraphProtocolError

log = logging.getLogger("opencams.sync")


class NoGraphToken(Exception):
    """Neither the space nor the deployment has a Meta token."""


class SyncFailed(Exception):
    """A sync that got no usable answer from Meta; storage was left unchanged."""

    def __init__(self, cause: GraphError | NoGraphToken, report: FetchReport, elapsed: float) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.report = report
        self.elapsed = elapsed


class SyncService:
    """Runs syncs; one instance per process."""

    def __init__(
        self,
        spaces: SpaceStore,
        graph: GraphClient,
        *,
        default_token: str | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.spaces = spaces
        self.graph = graph
        self.default_token = default_token
        self.clock = clock
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
        token = space.graph_token or self.default_token
        started = self.clock()
        report = FetchReport()
        try:
            if not token:
                raise NoGraphToken("no Meta token is configured for this space or the deployment")
            nodes = await self.graph.list_phone_numbers(space.waba_id, token, GRAPH_FIELDS, report)
            parsed = _parse_nodes(nodes)
        except (GraphError, NoGraphToken) as exc:
            await self.spaces.record_sync_failure(space.id, _failure_code(exc), str(exc))
            raise SyncFailed(exc, report, self.clock() - started) from exc
        return await self.spaces.apply_sync(space.id, parsed, started)


def _parse_nodes(nodes: list[dict[str, object]]) -> list[tuple[MetaNumber, dict[str, object]]]:
    parsed: list[tuple[MetaNumber, dict[str, object]]] = []
    seen: set[str] = set()
    for node in nodes:
        try:
            meta = MetaNumber.from_node(node)
        except InvalidNode as exc:
            raise GraphProtocolError(f"Meta sent an unusable phone number: {exc}") from None
        # Meta's cursors can shift when numbers are added mid-fetch; keep the first occurrence.
        if meta.id in seen:
            continue
        seen.add(meta.id)
        parsed.append((meta, node))
    return parsed


def _failure_code(exc: Exception) -> str:
    if isinstance(exc, GraphApiError):
        return "ERR-FB-001" if not (exc.retryable or exc.rate_limited) else "ServiceUnavailable"
    if isinstance(exc, NoGraphToken):
        return "ERR-FB-001"
    return "ServiceUnavailable"
