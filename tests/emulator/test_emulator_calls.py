"""The call log: what was asked of "Meta", with secrets redacted."""

from __future__ import annotations

import httpx
import pytest

from .helpers import AUTH, EDGE, TOKEN

pytestmark = pytest.mark.asyncio


async def test_calls_are_recorded_in_order_with_secrets_redacted(
    client: httpx.AsyncClient,
) -> None:
    await client.get(
        EDGE,
        params={"access_token": TOKEN, "appsecret_proof": "abc", "fields": "id", "limit": "5"},
    )
    await client.get(EDGE, headers=AUTH)
    await client.get(EDGE)
    calls = (await client.get("/_emulator/calls")).json()["calls"]
    assert [c["seq"] for c in calls] == [1, 2, 3]
    first = calls[0]
    assert first["method"] == "GET"
    assert first["path"] == EDGE
    assert first["query"] == {
        "access_token": "<redacted>",
        "appsecret_proof": "<redacted>",
        "fields": "id",
        "limit": "5",
    }
    assert TOKEN not in str(calls)
    assert [c["auth"] for c in calls] == ["query", "header", None]
    assert [c["status"] for c in calls] == [200, 200, 401]
    assert first["time"].endswith("Z") and first["faults"] == []
    assert first["dropped"] is False


async def test_fault_ids_are_logged(client: httpx.AsyncClient) -> None:
    added = await client.post("/_emulator/faults", json={"times": 1, "action": {"error": {"code": 2}}})
    rule_id = added.json()["faults"][0]["id"]
    await client.get(EDGE, headers=AUTH)
    await client.get(EDGE, headers=AUTH)
    calls = (await client.get("/_emulator/calls")).json()["calls"]
    assert [(c["status"], c["faults"]) for c in calls] == [(503, [rule_id]), (200, [])]


async def test_control_calls_are_not_logged_and_delete_clears(
    client: httpx.AsyncClient,
) -> None:
    await client.get(EDGE, headers=AUTH)
    await client.get("/_emulator/state")
    assert len((await client.get("/_emulator/calls")).json()["calls"]) == 1
    assert (await client.delete("/_emulator/calls")).json() == {"deleted": 1}
    assert (await client.get("/_emulator/calls")).json() == {"calls": []}
    await client.get(EDGE, headers=AUTH)
    assert (await client.get("/_emulator/calls")).json()["calls"][0]["seq"] == 2
