"""Meta's usage headers: when a block ends."""

from __future__ import annotations

import json

from opencams.graph.usage import APP_BLOCK_SECONDS, regain_access_seconds


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
