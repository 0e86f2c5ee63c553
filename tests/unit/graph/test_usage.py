"""Meta's usage headers: when a block ends."""

from __future__ import annotations

import json

from opencams.graph.usage import APP_BLOCK_SECONDS, MAX_BLOCK_SECONDS, regain_access_seconds


def buc(minutes: object) -> str:
    return json.dumps(
        {
            "102290129340398": [
                {"type": "whatsapp_business_management", "call_count": 100, "estimated_time_to_regain_access": minutes}
            ]
        }
    )


def test_business_use_case_minutes_become_seconds() -> None:
    assert regain_access_seconds({"x-business-use-case-usage": buc(2)}) == 120.0
    assert regain_access_seconds({"x-business-use-case-usage": buc(0)}) == 0.0


def test_app_usage_at_100_percent_blocks() -> None:
    assert regain_access_seconds({"x-app-usage": json.dumps({"call_count": 100, "total_time": 3})}) == APP_BLOCK_SECONDS
    assert regain_access_seconds({"x-app-usage": json.dumps({"call_count": 99, "total_cputime": 50})}) == 0.0


def test_the_longer_block_wins_and_garbage_is_ignored() -> None:
    both = {"x-business-use-case-usage": buc(5), "x-app-usage": json.dumps({"call_count": 100})}
    assert regain_access_seconds(both) == 300.0
    for junk in (
        "not json",
        "[1, 2]",
        json.dumps({"x": "y"}),
        json.dumps({"a": [{"estimated_time_to_regain_access": True}]}),
    ):
        assert regain_access_seconds({"x-business-use-case-usage": junk, "x-app-usage": junk}) == 0.0
    assert regain_access_seconds({}) == 0.0


def raw_buc(minutes: str) -> str:
    return '{"1":[{"estimated_time_to_regain_access":' + minutes + "}]}"


def test_hostile_numbers_are_ignored_or_capped_at_a_day() -> None:
    for ignored in ("Infinity", "-Infinity", "NaN", "1e400", "-5", "-1e400", '"5"', "null", "[]", "{}"):
        assert regain_access_seconds({"x-business-use-case-usage": raw_buc(ignored)}) == 0.0, ignored
    for huge in ("1e12", "1e308", str(10**400)):
        assert regain_access_seconds({"x-business-use-case-usage": raw_buc(huge)}) == MAX_BLOCK_SECONDS, huge
    assert regain_access_seconds({"x-app-usage": '{"call_count": Infinity}'}) == 0.0
    deep = "[" * 100_000 + "]" * 100_000
    assert regain_access_seconds({"x-business-use-case-usage": deep, "x-app-usage": deep}) == 0.0
