"""Metric ranges opencams refuses before Meta, and what is asked of and read from Meta's analytics."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from opencams.db.spaces import Space
from opencams.domain.errors import InvalidValue
from opencams.domain.phone_numbers import MetaNumber, StoredNumber
from opencams.graph.client import FetchReport
from opencams.graph.errors import GraphProtocolError
from opencams.services.meta import MetaService
from opencams.services.metrics import MAX_NUMBERS, MetricsService

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z
DAY_MS = 86_400_000
NOW_MS = int(NOW * 1000)
SPACE = Space("cs-1", "1000", "300000000000001", None, None, None, None, None, None)


def number(digits: str) -> StoredNumber:
    meta = MetaNumber(digits, f"+{digits}", None, None, None, None, None, None, None, None, None)
    return StoredNumber(meta, None, None)


class FakeGraph:
    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def get(
        self, path: str, token: str, params: Mapping[str, str] | None = None, report: FetchReport | None = None
    ) -> dict[str, Any]:
        expression = (params or {})["fields"]
        self.asked.append(expression)
        digits = expression.split('phone_numbers(["')[1].split('"')[0]
        answer: dict[str, Any] = self.answers[digits]
        return answer


class NoBudget:
    async def block(self, waba_id: str, until: float, reason: str) -> None:
        raise AssertionError("no block expected")


def metrics(graph: Any = None) -> MetricsService:
    fake: Any = graph or FakeGraph({})  # only `get` is used
    meta = MetaService(fake, NoBudget(), default_token="t", clock=lambda: NOW)
    return MetricsService(meta)


@pytest.mark.parametrize(
    ("granularity", "start", "end", "param", "why"),
    [
        ("DAILY", NOW_MS, NOW_MS, "End", "later than Start"),
        ("DAILY", NOW_MS, NOW_MS - 1, "End", "later than Start"),
        ("DAILY", NOW_MS - 365 * DAY_MS - 1, NOW_MS, "Start", "365 days"),
        ("DAILY", NOW_MS - DAY_MS, NOW_MS + 364 * DAY_MS + 1, "End", "at most 365 days after Start for DAILY"),
        ("HALF_HOUR", NOW_MS - 31 * DAY_MS - 1, NOW_MS, "End", "at most 31 days after Start for HALF_HOUR"),
    ],
)
def test_ranges_refused_before_meta(granularity: str, start: int, end: int, param: str, why: str) -> None:
    with pytest.raises(InvalidValue) as info:
        metrics().check_range(granularity, start, end)
    assert info.value.param == param and why in info.value.why


@pytest.mark.parametrize(
    ("granularity", "start", "end"),
    [
        ("DAILY", NOW_MS - 365 * DAY_MS, NOW_MS),
        ("HALF_HOUR", NOW_MS - 31 * DAY_MS, NOW_MS),
        ("HALF_HOUR", NOW_MS, NOW_MS + 1),
        ("DAILY", NOW_MS + DAY_MS, NOW_MS + 2 * DAY_MS),  # the future counts nothing, but may be asked
    ],
)
def test_ranges_at_the_limits_pass(granularity: str, start: int, end: int) -> None:
    metrics().check_range(granularity, start, end)


def test_one_call_per_number_in_seconds_with_metas_granularity() -> None:
    answers = {
        "15550001": {"analytics": {"data_points": [{"start": 86_400, "end": 172_800, "sent": 3, "delivered": 2},
                                                   {"start": 0, "end": 86_400, "sent": 1, "delivered": 1}]}},
        "15550002": {"id": "300000000000001"},  # Meta has no analytics for it
    }  # fmt: skip
    graph = FakeGraph(answers)
    points = asyncio.run(
        metrics(graph).sent_and_delivered(
            SPACE, [number("15550001"), number("15550002")], "DAILY", NOW_MS - DAY_MS + 1, NOW_MS + 1
        )
    )
    assert [(p.phone_number, p.start, p.sent, p.delivered) for p in points] == [
        ("15550001", 0, 1, 1),
        ("15550001", 86_400, 3, 2),
    ]
    start, end = int(NOW) - 86_400, int(NOW) + 1  # start rounded down, end rounded up
    assert sorted(graph.asked) == [
        f'analytics.start({start}).end({end}).granularity(DAY).phone_numbers(["15550001"])',
        f'analytics.start({start}).end({end}).granularity(DAY).phone_numbers(["15550002"])',
    ]


@pytest.mark.parametrize(
    "analytics",
    [
        "nope",
        {"data_points": "nope"},
        {"data_points": [{"start": 0, "end": 1, "sent": -1, "delivered": 0}]},
        {"data_points": [{"start": "0", "end": 1}]},
        {"data_points": [7]},
    ],
)
def test_answers_meta_does_not_document_are_refused(analytics: Any) -> None:
    graph = FakeGraph({"1555": {"analytics": analytics}})
    with pytest.raises(GraphProtocolError):
        asyncio.run(metrics(graph).sent_and_delivered(SPACE, [number("1555")], "DAILY", NOW_MS - DAY_MS, NOW_MS))


def test_a_space_with_too_many_numbers_needs_phone_number() -> None:
    many = [number(f"1555000{i:04d}") for i in range(MAX_NUMBERS + 1)]
    assert len(metrics().numbers_to_count(many[:MAX_NUMBERS])) == MAX_NUMBERS
    with pytest.raises(InvalidValue) as info:
        metrics().numbers_to_count(many)
    assert info.value.param == "PhoneNumber" and f"more than {MAX_NUMBERS}" in info.value.why
