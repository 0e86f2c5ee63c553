"""Messages sent and delivered per number, from Meta's WABA `analytics` field, within the limits opencams sets.

CAMS counts in milliseconds with DAILY or HALF_HOUR; Meta's `analytics` takes Unix seconds with
DAY or HALF_HOUR, keeps a year of history, and sums its data points over every number it is
given. So each number gets its own Graph call (lifecycle.md 1.5), and a range is refused before
Meta is called when it is reversed or empty (End named), reaches further back than Meta keeps
(Start named), or is longer than opencams answers in one call (End named):

    DAILY       at most 365 days   (Meta's whole lookback: 365 points per number)
    HALF_HOUR   at most 31 days    (1,488 points per number)

Without PhoneNumber the space's numbers are all counted, at most MAX_NUMBERS of them: each
costs one call from the WABA's hourly budget at Meta.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..db.spaces import Space
from ..domain.errors import InvalidValue
from ..domain.phone_numbers import StoredNumber
from ..graph.client import FetchReport
from ..graph.errors import GraphProtocolError
from .meta import MetaService

DAY = 86_400
# CAMS's granularity -> Meta's (the `analytics` field spells it DAY, not DAILY).
GRANULARITIES = {"DAILY": "DAY", "HALF_HOUR": "HALF_HOUR"}
# Meta keeps analytics for a year (lifecycle.md 1.5: "lookback limited to 1 year").
LOOKBACK_DAYS = 365
MAX_SPAN_DAYS = {"DAILY": 365, "HALF_HOUR": 31}
MAX_NUMBERS = 20
# Graph calls in flight at once for one CAMS call.
CONCURRENCY = 4


@dataclass(frozen=True, slots=True)
class DataPoint:
    """One of Meta's periods for one number; times in Unix seconds as Meta gives them."""

    phone_number: str
    start: int
    end: int
    sent: int
    delivered: int


def _count(point: dict[str, Any], key: str) -> int:
    value = point.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise GraphProtocolError(f"Meta's analytics data point has a {key} that is not a count")
    return value


class MetricsService:
    """Send and delivery counts of the caller's numbers."""

    def __init__(self, meta: MetaService, *, clock: Callable[[], float] | None = None) -> None:
        self.meta = meta
        self.clock = clock or meta.clock

    def check_range(self, granularity: str, start_ms: int, end_ms: int) -> None:
        """InvalidValue naming Start or End for a range opencams does not ask Meta about."""
        if end_ms <= start_ms:
            raise InvalidValue("End", "It must be later than Start.")
        oldest = self.clock() - LOOKBACK_DAYS * DAY
        if start_ms / 1000 < oldest:
            raise InvalidValue("Start", f"Meta keeps analytics for {LOOKBACK_DAYS} days: it must be within them.")
        span = MAX_SPAN_DAYS[granularity]
        if end_ms - start_ms > span * DAY * 1000:
            raise InvalidValue("End", f"It may be at most {span} days after Start for {granularity} data.")

    def numbers_to_count(self, numbers: Sequence[StoredNumber]) -> list[StoredNumber]:
        """The space's numbers for a call without PhoneNumber; InvalidValue if there are too many."""
        counted = [n for n in numbers if n.digits]
        if len(counted) > MAX_NUMBERS:
            raise InvalidValue(
                "PhoneNumber",
                f"It is mandatory when the customer space has more than {MAX_NUMBERS} numbers "
                f"(this one has {len(counted)}): each number costs one call to Meta.",
            )
        return counted

    async def sent_and_delivered(
        self, space: Space, numbers: Sequence[StoredNumber], granularity: str, start_ms: int, end_ms: int
    ) -> list[DataPoint]:
        """Meta's data points for each number, numbers in the given order, each in time order."""
        self.check_range(granularity, start_ms, end_ms)
        start = start_ms // 1000
        end = -(-end_ms // 1000)  # rounded up: the periods cover every millisecond asked for
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(token: str, report: FetchReport, digits: str) -> list[DataPoint]:
            expression = (
                f"analytics.start({start}).end({end}).granularity({GRANULARITIES[granularity]})"
                f'.phone_numbers(["{digits}"])'
            )
            async with gate:
                answer = await self.meta.graph.get(space.waba_id, token, {"fields": expression}, report)
            return _points(answer, digits)

        async def every(token: str, report: FetchReport) -> list[list[DataPoint]]:
            return await asyncio.gather(*(one(token, report, n.digits) for n in numbers))

        per_number = await self.meta.in_space(space, every)
        return [point for points in per_number for point in points]


def _points(answer: dict[str, Any], digits: str) -> list[DataPoint]:
    """The data points of one number's `analytics` answer (none when Meta has no analytics)."""
    analytics = answer.get("analytics")
    if analytics is None:
        return []
    if not isinstance(analytics, dict) or not isinstance(analytics.get("data_points", []), list):
        raise GraphProtocolError("Meta's analytics answer has no data_points list")
    points = []
    for point in analytics.get("data_points", []):
        if not isinstance(point, dict):
            raise GraphProtocolError("Meta's analytics data point is not an object")
        start, end = point.get("start"), point.get("end")
        if isinstance(start, bool) or isinstance(end, bool) or not isinstance(start, int) or not isinstance(end, int):
            raise GraphProtocolError("Meta's analytics data point has no start and end")
        points.append(DataPoint(digits, start, end, _count(point, "sent"), _count(point, "delivered")))
    return sorted(points, key=lambda p: p.start)
