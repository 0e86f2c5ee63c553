"""Calls to Meta on behalf of a space: which token, and Meta's budget per WABA (blocks kept and obeyed).

Every Graph call of a use case goes through `MetaService.call`, so a WABA Meta asked us to leave
alone is answered at once without a call, and a throttling answer or usage header stores a block
that every process sees.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ..db.spaces import Space
from ..domain.errors import NoGraphToken, WabaBlocked
from ..graph.client import FetchReport
from ..graph.errors import GraphApiError, GraphError
from ..graph.usage import MAX_BLOCK_SECONDS
from ..metrics import WABA_BLOCKS
from .ports import BudgetPort, GraphPort

log = logging.getLogger("opencams.meta")
T = TypeVar("T")

# When Meta throttles without saying for how long, the WABA is left alone this long.
DEFAULT_BLOCK_SECONDS = 60.0


class MetaService:
    """Meta's Graph API as the use cases see it: per space, within Meta's budget."""

    def __init__(
        self,
        graph: GraphPort,
        budget: BudgetPort,
        *,
        default_token: str | None,
        app_id: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.graph = graph
        self.budget = budget
        self.default_token = default_token
        self.app_id = app_id
        self.clock = clock

    def token(self, space: Space | None) -> str:
        """The space's own token, else the deployment's; NoGraphToken if there is neither."""
        token = (space.graph_token if space else None) or self.default_token
        if not token:
            raise NoGraphToken("no Meta token is configured for this space or the deployment")
        return token

    def secrets_for(self, space: Space | None) -> tuple[str | None, ...]:
        """Every Meta token that could appear in a message about this space."""
        return (space.graph_token if space else None, self.default_token)

    def check_block(self, waba_id: str, blocked_until: float | None) -> None:
        """WabaBlocked if Meta asked us not to call for this WABA now."""
        now = self.clock()
        if blocked_until is not None and blocked_until > now:
            # Capped: a block stored before blocks were bounded may be absurdly long.
            remaining = min(blocked_until - now, MAX_BLOCK_SECONDS)
            raise WabaBlocked(f"Meta blocked calls for WABA {waba_id} for {remaining:.0f} more seconds", remaining)

    async def call(
        self,
        waba_id: str,
        blocked_until: float | None,
        fn: Callable[[FetchReport], Awaitable[T]],
        report: FetchReport | None = None,
    ) -> T:
        """Run Graph calls for a WABA within its budget: refused while blocked, blocks noted after."""
        self.check_block(waba_id, blocked_until)
        report = report if report is not None else FetchReport()
        try:
            result = await fn(report)
        except GraphError as exc:
            seconds = await self.note_budget(waba_id, report, exc)
            if isinstance(exc, GraphApiError) and exc.rate_limited:
                raise WabaBlocked(
                    f"Meta is rate limiting WABA {waba_id} (code {exc.code})",
                    seconds or DEFAULT_BLOCK_SECONDS,
                    exc.code,
                ) from exc
            raise
        await self.note_budget(waba_id, report, None)
        return result

    async def in_space(self, space: Space, fn: Callable[[str, FetchReport], Awaitable[T]]) -> T:
        """`call` for the space's WABA with the space's token."""
        token = self.token(space)
        return await self.call(space.waba_id, space.waba_blocked_until, lambda report: fn(token, report))

    async def note_budget(self, waba_id: str, report: FetchReport, exc: Exception | None) -> float | None:
        """Record a block Meta announced (usage header or throttling code); its length, if any."""
        rate_limited = isinstance(exc, GraphApiError) and exc.rate_limited
        if report.blocked_for <= 0 and not rate_limited:
            return None
        seconds = report.blocked_for if report.blocked_for > 0 else DEFAULT_BLOCK_SECONDS
        reason = f"meta code {exc.code}" if isinstance(exc, GraphApiError) else "usage header"
        await self.budget.block(waba_id, self.clock() + seconds, reason)
        WABA_BLOCKS.inc()
        log.warning("Meta blocked WABA %s for %.0f s (%s)", waba_id, seconds, reason)
        return seconds
