"""The WABA `analytics` field: periods, repeatable counts, delivered <= sent, and Meta's parameter errors."""

from __future__ import annotations

import calendar
from typing import Any

import httpx
import pytest

from .helpers import LIFE_AUTH, W1, graph_error

pytestmark = pytest.mark.asyncio

NOW = 1_750_000_000  # 2025-06-15T15:06:40Z
DAY = 86_400
NUMBER = "16315550100"


@pytest.fixture(autouse=True)
async def _fixed_clock(life: httpx.AsyncClient) -> None:
    await life.post("/_emulator/clock", json={"set": NOW})


async def analytics(http: httpx.AsyncClient, expression: str, fields: str = "") -> httpx.Response:
    return await http.get(f"/v23.0/{W1}", headers=LIFE_AUTH, params={"fields": fields + expression})


def spec(start: int, end: int, granularity: str, numbers: str = f'["{NUMBER}"]') -> str:
    text = f"analytics.start({start}).end({end}).granularity({granularity})"
    return text + (f".phone_numbers({numbers})" if numbers else "")


async def test_daily_points(life: httpx.AsyncClient) -> None:
    start = NOW - 3 * DAY
    response = await analytics(life, spec(start, NOW, "DAY"), "id,name,")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["id", "name", "analytics"]
    result: dict[str, Any] = body["analytics"]
    assert result["phone_numbers"] == [NUMBER]
    assert result["granularity"] == "DAY"
    points = result["data_points"]
    first = start - start % DAY
    assert [(p["start"], p["end"]) for p in points] == [(first + i * DAY, first + (i + 1) * DAY) for i in range(4)]
    assert all(0 <= p["delivered"] <= p["sent"] for p in points)
    assert sum(p["sent"] for p in points) > 0
    again = await analytics(life, spec(start, NOW, "DAY"), "id,name,")
    assert again.json() == body


async def test_half_hours_and_future_periods_are_zero(life: httpx.AsyncClient) -> None:
    response = await analytics(life, spec(NOW - 3600, NOW + 3600, "HALF_HOUR"))
    points = response.json()["analytics"]["data_points"]
    assert all(p["end"] - p["start"] == 1800 for p in points)
    assert len(points) == 5
    assert all(p["sent"] == 0 for p in points if p["start"] >= NOW)


async def test_months_follow_the_calendar(life: httpx.AsyncClient) -> None:
    start = calendar.timegm((2025, 1, 20, 0, 0, 0))
    response = await analytics(life, spec(start, NOW, "MONTH"))
    points = response.json()["analytics"]["data_points"]
    assert [p["start"] for p in points] == [calendar.timegm((2025, m, 1, 0, 0, 0)) for m in range(1, 7)]
    assert points[-1]["end"] == calendar.timegm((2025, 7, 1, 0, 0, 0))


async def test_all_numbers_by_default_and_strangers_count_nothing(life: httpx.AsyncClient) -> None:
    start = NOW - 2 * DAY
    default = (await analytics(life, spec(start, NOW, "DAY", numbers=""))).json()["analytics"]
    assert default["phone_numbers"] == ["16315550100", "16315550101", "16315550102"]
    stranger = (await analytics(life, spec(start, NOW, "DAY", numbers="[447700900123]"))).json()["analytics"]
    assert stranger["phone_numbers"] == ["447700900123"]
    assert all(p["sent"] == 0 for p in stranger["data_points"])
    one = (await analytics(life, spec(start, NOW, "DAY"))).json()["analytics"]["data_points"]
    two = (await analytics(life, spec(start, NOW, "DAY", numbers='["16315550100","16315550101"]'))).json()
    both = two["analytics"]["data_points"]
    assert all(b["sent"] >= a["sent"] and b["delivered"] >= a["delivered"] for a, b in zip(one, both, strict=True))


async def test_country_codes_are_echoed(life: httpx.AsyncClient) -> None:
    response = await analytics(life, spec(NOW - DAY, NOW, "DAY") + ".country_codes([US,GB])")
    assert response.json()["analytics"]["country_codes"] == ["US", "GB"]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (spec(NOW, NOW, "DAY"), "(#100) Param end must be greater than start"),
        (spec(NOW, NOW - 10, "DAY"), "(#100) Param end must be greater than start"),
        (
            spec(NOW - DAY, NOW, "DAILY"),
            '(#100) Param granularity must be one of {HALF_HOUR, DAY, MONTH} - got "DAILY"',
        ),
        (spec(NOW - 366 * DAY, NOW, "DAY"), "(#100) Param start must not be more than 365 days in the past"),
        (f"analytics.end({NOW}).granularity(DAY)", "(#100) The parameter start is required"),
        (f"analytics.start({NOW - DAY}).granularity(DAY)", "(#100) The parameter end is required"),
        (f"analytics.start({NOW - DAY}).end({NOW})", "(#100) The parameter granularity is required"),
        (spec(NOW - DAY, NOW, "DAY") + ".dimensions([PHONE])", "(#100) Unknown modifier dimensions on field analytics"),
        (
            "analytics.start(yesterday).end(1).granularity(DAY)",
            "(#100) Param start must be a Unix timestamp in seconds",
        ),
        ("analytics", "(#100) The parameter start is required"),
    ],
)
async def test_errors(life: httpx.AsyncClient, expression: str, message: str) -> None:
    response = await analytics(life, expression)
    assert response.status_code == 400
    error = graph_error(response)
    assert (error["code"], error["message"]) == (100, message)


async def test_too_many_points(life: httpx.AsyncClient) -> None:
    response = await analytics(life, spec(NOW - 364 * DAY, NOW + 200 * DAY, "HALF_HOUR"))
    assert graph_error(response)["message"].startswith("(#100) Too many data points")
