"""Shared constants and assertions for the Graph emulator tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

FIXTURE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "graph"
WABA_250 = FIXTURE_DIR / "waba_250.json"
BIG_WABA = "102290129340398"
OTHER_WABA = "109876543210987"
TOKEN = "test-token"
OTHER_TOKEN = "other-token"
EXPIRED_TOKEN = "expired-token"
BASE_URL = "http://graph.test"
EDGE = f"/v23.0/{BIG_WABA}/phone_numbers"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FIRST_ID = "106540352242922"  # first number of the big WABA


def graph_error(response: httpx.Response) -> dict[str, Any]:
    """Return the `error` object of a Graph error response, checking the envelope shape."""
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert {"message", "type", "code", "fbtrace_id"} <= set(error)
    assert isinstance(error["fbtrace_id"], str) and len(error["fbtrace_id"]) == 23
    return error
