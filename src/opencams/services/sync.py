"""The sync of one customer space: fetch every page from Meta, then apply it atomically.

Concurrent syncs of one space in this process share one fetch (single flight); across processes
the apply transaction is serialised by the store and an older fetch never overwrites a newer one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from ..db.budget import WabaBudgetStore
from ..db.spaces import Space, SpaceStore
from ..domain.phone_numbers import GRAPH_FIELDS, InvalidNode, MetaNumber, StoredNumber
from ..graph.client import FetchReport, GraphClient
from ..graph.errors import GraphApiError, GraphContentError, GraphError
from ..graph.usage import MAX_BLOCK_SECONDS
from ..redact import redact

log = logging.getLogger("opencams.sync")


# When Meta throttles without saying for how long, the WABA is left alone this long.
DEFAULT_BLOCK_SECONDS = 60.0


class NoGraphToken(Exception):
    """Neither the space nor the deployment has a Meta token."""


class WabaBlocked(Exception):
    """Meta asked us to stop calling for this WABA; we have not called it."""


SyncCause = GraphError | NoGraphToken | WabaBlocked


class SyncFailed(Exception):
    """A sync that got no usable answer from Meta; storage was left unchanged."""

    def __init__(self, cause: SyncCause, report: FetchReport, elapsed: float, retry_after: float | None = None) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.report = report
        self.elapsed = elapsed
        self.retry_after = retry_after


class SyncService:
    """Runs syncs; one instance per process."""

    def __init__(
        self,
        spaces: SpaceStore,
        graph: GraphClient,
        budget: WabaBudgetStore,
        *,
        default_token: str | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.spaces = spaces
        self.graph = graph
        self.budget = budget
        self.default_token = default_token
        self.clock = clock
        self._in_flight: dict[str, asyncio.Future[list[StoredNumber]]] = {}

    def secrets_for(self, space: Space) -> tuple[str | None, ...]:
        """Every Meta token that could appear in a message about this space."""
        return (space.graph_token, self.default_token)

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
        until = space.waba_blocked_until
        if until is not None and until > started:
            # Meta's budget for this WABA is spent: answering at once costs it nothing more.
            # Capped: a block stored before limits were enforced may be absurdly long.
            remaining = min(until - started, MAX_BLOCK_SECONDS)
            blocked = WabaBlocked(f"Meta blocked calls for WABA {space.waba_id} for {remaining:.0f} more seconds")
            raise SyncFailed(blocked, report, 0.0, retry_after=remaining)
        try:
            if not token:
                raise NoGraphToken("no Meta token is configured for this space or the deployment")
            nodes = await self.graph.list_phone_numbers(space.waba_id, token, GRAPH_FIELDS, report)
            parsed = _parse_nodes(nodes)
        except (GraphError, NoGraphToken) as exc:
            block = await self._note_budget(space, report, exc)
            message = redact(str(exc), self.secrets_for(space))
            await self.spaces.record_sync_failure(space.id, _failure_code(exc), message)
            raise SyncFailed(exc, report, self.clock() - started, retry_after=block) from exc
        await self._note_budget(space, report, None)
        return await self.spaces.apply_sync(space.id, parsed, started)

    async def _note_budget(self, space: Space, report: FetchReport, exc: Exception | None) -> float | None:
        """Record a block Meta announced (usage header or throttling code); its length, if any."""
        rate_limited = isinstance(exc, GraphApiError) and exc.rate_limited
        if report.blocked_for <= 0 and not rate_limited:
            return None
        seconds = report.blocked_for if report.blocked_for > 0 else DEFAULT_BLOCK_SECONDS
        reason = f"meta code {exc.code}" if isinstance(exc, GraphApiError) else "usage header"
        await self.budget.block(space.waba_id, self.clock() + seconds, reason)
        log.warning("Meta blocked WABA %s for %.0f s (%s)", space.waba_id, seconds, reason)
        return seconds


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


def _failure_code(exc: Exception) -> str:
    if isinstance(exc, GraphApiError):
        return "ERR-FB-001" if not (exc.retryable or exc.rate_limited) else "ServiceUnavailable"
    if isinstance(exc, NoGraphToken):
        return "ERR-FB-001"
    return "ServiceUnavailable"
