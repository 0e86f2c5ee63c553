"""Paging: limit bounds, opaque cursors, absolute next/previous links, summary, empty pages."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from opencams.emulator.paging import encode_cursor

from .helpers import AUTH, BASE_URL, BIG_WABA, EDGE, TOKEN, graph_error

pytestmark = pytest.mark.asyncio


def stored_ids(state: dict[str, Any]) -> list[str]:
    return [n["id"] for n in state["wabas"][BIG_WABA]["phone_numbers"]]


class TestLimit:
    async def test_default_is_25(self, client: httpx.AsyncClient) -> None:
        response = await client.get(EDGE, headers=AUTH)
        assert len(response.json()["data"]) == 25

    @pytest.mark.parametrize("limit", ["1", "100", "37"])
    async def test_in_range(self, client: httpx.AsyncClient, limit: str) -> None:
        response = await client.get(EDGE, headers=AUTH, params={"limit": limit})
        assert len(response.json()["data"]) == int(limit)

    @pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "2.5", ""])
    async def test_out_of_range_or_not_an_integer(self, client: httpx.AsyncClient, limit: str) -> None:
        response = await client.get(EDGE, headers=AUTH, params={"limit": limit})
        assert response.status_code == 400
        error = graph_error(response)
        assert error["code"] == 100
        assert "limit" in error["message"]


class TestPagingThroughWaba250:
    async def test_three_pages_by_following_next(
        self, client: httpx.AsyncClient, waba250_state: dict[str, Any]
    ) -> None:
        url = f"{EDGE}?access_token={TOKEN}&fields=id,status&limit=100"
        pages: list[dict[str, Any]] = []
        while url:
            response = await client.get(url)
            assert response.status_code == 200
            pages.append(response.json())
            url = pages[-1].get("paging", {}).get("next", "")
        assert [len(p["data"]) for p in pages] == [100, 100, 50]
        seen = [n["id"] for p in pages for n in p["data"]]
        assert seen == stored_ids(waba250_state)
        assert all(set(n) <= {"id", "status"} for p in pages for n in p["data"])

    async def test_next_is_absolute_on_the_emulator_and_keeps_the_query(self, client: httpx.AsyncClient) -> None:
        response = await client.get(
            EDGE,
            params={"access_token": TOKEN, "fields": "id,status", "limit": "100", "summary": "true"},
        )
        paging = response.json()["paging"]
        parts = urlsplit(paging["next"])
        assert f"{parts.scheme}://{parts.netloc}" == BASE_URL
        assert parts.path == f"/v23.0/{BIG_WABA}/phone_numbers"
        query = parse_qs(parts.query)
        assert query["access_token"] == [TOKEN]
        assert query["fields"] == ["id,status"]
        assert query["limit"] == ["100"]
        assert query["summary"] == ["true"]
        assert query["after"] == [paging["cursors"]["after"]]
        assert "before" not in query
        assert "previous" not in paging  # first page

    async def test_next_has_no_token_when_the_request_used_a_header(self, client: httpx.AsyncClient) -> None:
        response = await client.get(EDGE, headers=AUTH)
        query = parse_qs(urlsplit(response.json()["paging"]["next"]).query)
        assert "access_token" not in query
        assert query["limit"] == ["25"]  # Graph spells out the limit in links

    async def test_last_page_keeps_cursors_but_has_no_next(self, client: httpx.AsyncClient) -> None:
        first = (await client.get(EDGE, headers=AUTH, params={"limit": "100"})).json()
        second = (
            await client.get(EDGE, headers=AUTH, params={"limit": "100", "after": first["paging"]["cursors"]["after"]})
        ).json()
        third = (
            await client.get(EDGE, headers=AUTH, params={"limit": "100", "after": second["paging"]["cursors"]["after"]})
        ).json()
        assert len(third["data"]) == 50
        assert set(third["paging"]["cursors"]) == {"before", "after"}
        assert "next" not in third["paging"]
        assert "previous" in third["paging"]

    async def test_previous_goes_back_one_page(self, client: httpx.AsyncClient, waba250_state: dict[str, Any]) -> None:
        first = (await client.get(EDGE, headers=AUTH, params={"limit": "10"})).json()
        second = (await client.get(first["paging"]["next"], headers=AUTH)).json()
        assert [n["id"] for n in second["data"]] == stored_ids(waba250_state)[10:20]
        back = (await client.get(second["paging"]["previous"], headers=AUTH)).json()
        assert back["data"] == first["data"]
        assert "previous" not in back["paging"]

    async def test_cursors_are_opaque(self, client: httpx.AsyncClient) -> None:
        response = await client.get(EDGE, headers=AUTH, params={"limit": "5"})
        cursors = response.json()["paging"]["cursors"]
        for cursor in cursors.values():
            assert not cursor.isdigit()
            assert cursor != base64.b64encode(b"5").decode()
        assert cursors["before"] != cursors["after"]

    @pytest.mark.parametrize("param", ["after", "before"])
    @pytest.mark.parametrize("cursor", ["5", "not-a-cursor!", base64.b64encode(b"offset:3").decode()])
    async def test_invalid_cursor_is_100(self, client: httpx.AsyncClient, param: str, cursor: str) -> None:
        response = await client.get(EDGE, headers=AUTH, params={param: cursor})
        assert response.status_code == 400
        error = graph_error(response)
        assert error["code"] == 100
        assert "cursor" in error["message"]


class TestSummaryAndEmpty:
    async def test_summary_total_count(self, client: httpx.AsyncClient) -> None:
        response = await client.get(EDGE, headers=AUTH, params={"summary": "true", "limit": "3"})
        assert response.json()["summary"] == {"total_count": 250}

    async def test_no_summary_unless_asked(self, client: httpx.AsyncClient) -> None:
        response = await client.get(EDGE, headers=AUTH)
        assert "summary" not in response.json()

    async def test_empty_waba_has_data_only(self, client: httpx.AsyncClient, waba250_state: dict[str, Any]) -> None:
        waba250_state["wabas"][BIG_WABA]["phone_numbers"] = []
        assert (await client.put("/_emulator/state", json=waba250_state)).status_code == 200
        response = await client.get(EDGE, headers=AUTH, params={"summary": "true"})
        assert response.status_code == 200
        assert response.json() == {"data": [], "summary": {"total_count": 0}}

    async def test_cursor_past_the_end_gives_an_empty_page(self, client: httpx.AsyncClient) -> None:
        last = (await client.get(EDGE, headers=AUTH, params={"limit": "100", "after": encode_cursor(149)})).json()
        assert len(last["data"]) == 100
        assert "next" not in last["paging"]
        beyond = await client.get(EDGE, headers=AUTH, params={"after": last["paging"]["cursors"]["after"]})
        assert beyond.json() == {"data": []}
