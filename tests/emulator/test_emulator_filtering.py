"""`filtering` (EQUAL on three fields) and `sort` (last_onboarded_time) on the edge."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from .helpers import AUTH, BIG_WABA, EDGE, graph_error

pytestmark = pytest.mark.asyncio


def numbers(state: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = state["wabas"][BIG_WABA]["phone_numbers"]
    return found


async def all_ids(client: httpx.AsyncClient, **params: str) -> list[str]:
    response = await client.get(EDGE, headers=AUTH, params={"limit": "100", "fields": "id", **params})
    assert response.status_code == 200, response.text
    body = response.json()
    ids = [n["id"] for n in body["data"]]
    while "next" in body.get("paging", {}):
        body = (await client.get(body["paging"]["next"], headers=AUTH)).json()
        ids += [n["id"] for n in body["data"]]
    return ids


def filtering(field: str, value: object, operator: str = "EQUAL") -> str:
    return json.dumps([{"field": field, "operator": operator, "value": value}])


class TestFiltering:
    async def test_account_mode(self, client: httpx.AsyncClient, waba250_state: dict[str, Any]) -> None:
        expected = [n["id"] for n in numbers(waba250_state) if n.get("account_mode") == "SANDBOX"]
        assert len(expected) == 19
        assert await all_ids(client, filtering=filtering("account_mode", "SANDBOX")) == expected

    async def test_messaging_limit_tier(self, client: httpx.AsyncClient, waba250_state: dict[str, Any]) -> None:
        expected = [n["id"] for n in numbers(waba250_state) if n.get("messaging_limit_tier") == "TIER_10K"]
        assert expected
        assert await all_ids(client, filtering=filtering("messaging_limit_tier", "TIER_10K")) == expected

    @pytest.mark.parametrize("value", [True, False])
    async def test_is_official_business_account_boolean(
        self, client: httpx.AsyncClient, waba250_state: dict[str, Any], value: bool
    ) -> None:
        expected = [n["id"] for n in numbers(waba250_state) if bool(n.get("is_official_business_account")) is value]
        got = await all_ids(client, filtering=filtering("is_official_business_account", value))
        assert got == expected
        assert len(got) == (84 if value else 166)  # absent counts as false

    async def test_conditions_combine(self, client: httpx.AsyncClient, waba250_state: dict[str, Any]) -> None:
        both = json.dumps(
            [
                {"field": "account_mode", "operator": "EQUAL", "value": "LIVE"},
                {"field": "is_official_business_account", "operator": "EQUAL", "value": True},
            ]
        )
        expected = [
            n["id"]
            for n in numbers(waba250_state)
            if n["account_mode"] == "LIVE" and n.get("is_official_business_account") is True
        ]
        assert await all_ids(client, filtering=both) == expected

    async def test_no_match_gives_empty_data(self, client: httpx.AsyncClient) -> None:
        response = await client.get(EDGE, headers=AUTH, params={"filtering": filtering("account_mode", "NOPE")})
        assert response.json() == {"data": []}

    @pytest.mark.parametrize(
        "raw",
        [
            "not json",
            '{"field": "account_mode", "operator": "EQUAL", "value": "LIVE"}',
            filtering("status", "CONNECTED"),
            filtering("account_mode", "LIVE", operator="CONTAINS"),
            filtering("is_official_business_account", "false"),
            filtering("account_mode", 1),
            '[{"field": "account_mode", "value": "LIVE"}]',
        ],
    )
    async def test_bad_filtering_is_100(self, client: httpx.AsyncClient, raw: str) -> None:
        response = await client.get(EDGE, headers=AUTH, params={"filtering": raw})
        assert response.status_code == 400
        assert graph_error(response)["code"] == 100

    async def test_string_boolean_gets_the_misleading_message(self, client: httpx.AsyncClient) -> None:
        response = await client.get(
            EDGE,
            headers=AUTH,
            params={"filtering": filtering("is_official_business_account", "false")},
        )
        assert "operation 'equal' is not supported" in graph_error(response)["message"]


class TestSort:
    @pytest.mark.parametrize(
        "raw",
        [
            "last_onboarded_time_ascending",
            '["last_onboarded_time_ascending"]',
            "['last_onboarded_time_ascending']",
        ],
    )
    async def test_ascending_with_missing_times_last(
        self, client: httpx.AsyncClient, waba250_state: dict[str, Any], raw: str
    ) -> None:
        with_time = [n for n in numbers(waba250_state) if "last_onboarded_time" in n]
        without = [n["id"] for n in numbers(waba250_state) if "last_onboarded_time" not in n]
        expected = [n["id"] for n in sorted(with_time, key=lambda n: n["last_onboarded_time"])]
        assert without
        assert await all_ids(client, sort=raw) == expected + without

    async def test_descending_is_stored_order_for_waba250(
        self, client: httpx.AsyncClient, waba250_state: dict[str, Any]
    ) -> None:
        stored = [n["id"] for n in numbers(waba250_state)]
        with_time = [n["id"] for n in numbers(waba250_state) if "last_onboarded_time" in n]
        without = [i for i in stored if i not in with_time]
        assert await all_ids(client, sort="last_onboarded_time_descending") == with_time + without

    @pytest.mark.parametrize(
        "raw", ["last_onboarded_time.asc", "creation_time_ascending", "status_descending", "sideways"]
    )
    async def test_bad_sort_is_100(self, client: httpx.AsyncClient, raw: str) -> None:
        response = await client.get(EDGE, headers=AUTH, params={"sort": raw})
        assert response.status_code == 400
        assert graph_error(response)["code"] == 100
