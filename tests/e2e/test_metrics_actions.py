"""Send-volume metrics through the SDKs: one Graph call per number, and the ranges refused before Meta."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .business import BLOCKED, FIRST, LUCKY, World
from .onboarding import DAY_MS, now_ms


def test_metric_of_every_number_of_the_space(world: World) -> None:
    world.synced()  # no CustSpaceId below: the account's only space
    end = now_ms()
    data = world.call("GetChatappPhoneNumberMetric", start=end - 2 * DAY_MS, end=end).to_map()["Data"]
    by_number: dict[str, list[dict[str, Any]]] = {}
    for point in data:
        by_number.setdefault(point["PhoneNumber"], []).append(point)
    assert set(by_number) == {FIRST, BLOCKED}
    assert all(len(points) in (2, 3) for points in by_number.values())
    assert all([p["Start"] for p in points] == sorted(p["Start"] for p in points) for points in by_number.values())
    # One Graph call per number, each asking for that number alone.
    asked = [
        re.findall(r"phone_numbers\(\[\"([0-9]+)\"\]\)", str(c["query"]))
        for c in world.emulator.calls()
        if c["path"].endswith(LUCKY) and "analytics" in str(c["query"])
    ]
    assert sorted(asked) == sorted([[FIRST], [BLOCKED]])


@pytest.mark.parametrize(
    ("granularity", "start_days", "end_days", "named", "why"),
    [
        ("DAILY", -1, -1, "End", "It must be later than Start."),
        ("DAILY", -1, -2, "End", "It must be later than Start."),
        ("DAILY", -366, -300, "Start", "Meta keeps analytics for 365 days"),
        ("DAILY", -365 + 0.01, 1, "End", "at most 365 days after Start for DAILY"),
        ("HALF_HOUR", -32, 0, "End", "at most 31 days after Start for HALF_HOUR"),
    ],
)
def test_metric_ranges_meta_would_refuse(
    world: World, granularity: str, start_days: float, end_days: float, named: str, why: str
) -> None:
    space = world.synced()
    world.emulator.clear_calls()
    now = now_ms()
    error = world.error("GetChatappPhoneNumberMetric", cust_space_id=space, phone_number=FIRST,
                        granularity=granularity, start=int(now + start_days * DAY_MS),
                        end=int(now + end_days * DAY_MS))  # fmt: skip
    assert (error.code, error.status_code) == ("InvalidParameter", 400)
    assert error.data["Message"].startswith(f"Specified parameter {named} is not valid.") and why in error.message
    assert world.emulator.calls() == []


def test_metric_limits_are_inclusive(world: World) -> None:
    space = world.synced()
    end = now_ms()
    data = world.call("GetChatappPhoneNumberMetric", cust_space_id=space, phone_number=FIRST,
                      granularity="HALF_HOUR", start=end - 31 * DAY_MS, end=end).to_map()["Data"]  # fmt: skip
    assert 31 * 48 <= len(data) <= 31 * 48 + 1


def test_metric_without_space_id_needs_exactly_one_space(world: World) -> None:
    world.synced()
    world.bind("300000000000002")
    error = world.error("GetChatappPhoneNumberMetric", start=now_ms() - DAY_MS, end=now_ms())
    assert error.code == "MissingCustSpaceId"
    # With a number, it is found among the account's spaces.
    data = world.call("GetChatappPhoneNumberMetric", phone_number=FIRST, start=now_ms() - DAY_MS, end=now_ms())
    assert {p["PhoneNumber"] for p in data.to_map()["Data"]} == {FIRST}
