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


# -- the lifecycle data set: an app with a secret, a business, two WABAs --------------------

APP_ID = "555000000000001"
APP_SECRET = "life-app-secret"
APP_TOKEN = f"{APP_ID}|{APP_SECRET}"
OTHER_APP_ID = "555000000000002"
LIFE_TOKEN = "life-token"  # APP_ID, both WABAs
W2_TOKEN = "life-w2-token"  # APP_ID, WABA W2 only
OTHER_APP_TOKEN = "other-app-token"  # OTHER_APP_ID, WABA W1
BUSINESS_ID = "777000000000001"
W1 = "880000000000001"
W2 = "880000000000002"
CONNECTED = "990000000000001"  # W1, registered, PIN 111111
PENDING = "990000000000002"  # W1, just added
ELSEWHERE = "990000000000003"  # W1, registered on another platform with PIN 808080
UK = "990000000000004"  # W2
LIFE_AUTH = {"Authorization": f"Bearer {LIFE_TOKEN}"}


def life_state() -> dict[str, Any]:
    """A fresh small data set for the write, lifecycle and webhook tests."""
    return {
        "apps": {
            APP_ID: {"name": "Life Test App", "secret": APP_SECRET},
            OTHER_APP_ID: {"name": "Other App", "secret": "other-secret"},
        },
        "businesses": {
            BUSINESS_ID: {"name": "Life Holdings", "verification_status": "verified", "vertical": "RETAIL"},
        },
        "tokens": {
            LIFE_TOKEN: [W1, W2],
            W2_TOKEN: {"app": APP_ID, "wabas": [W2]},
            OTHER_APP_TOKEN: {"app": OTHER_APP_ID, "wabas": [W1]},
        },
        "settings": {"webhook_retry_base_seconds": 0.05, "webhook_timeout_seconds": 2},
        "wabas": {
            W1: {
                "name": "Life Shop",
                "currency": "USD",
                "timezone_id": "7",
                "message_template_namespace": "ns_life_1",
                "account_review_status": "APPROVED",
                "business_verification_status": "VERIFIED",
                "primary_business_location": "US",
                "auth_international_rate_eligibility": {"start_time": 1721952000, "exception_countries": []},
                "marketing_messages_lite_api_status": "ONBOARDED",
                "business_id": BUSINESS_ID,
                "phone_numbers": [
                    {
                        "id": CONNECTED,
                        "display_phone_number": "+1 631-555-0100",
                        "verified_name": "Life Shop",
                        "status": "CONNECTED",
                        "quality_rating": "GREEN",
                        "code_verification_status": "VERIFIED",
                        "name_status": "APPROVED",
                        "whatsapp_business_manager_messaging_limit": "TIER_2K",
                        "pin": "111111",
                        "is_pin_enabled": True,
                    },
                    {
                        "id": PENDING,
                        "display_phone_number": "+1 631-555-0101",
                        "verified_name": "Life Shop Two",
                        "status": "PENDING",
                        "code_verification_status": "NOT_VERIFIED",
                        "name_status": "PENDING_REVIEW",
                    },
                    {
                        "id": ELSEWHERE,
                        "display_phone_number": "+1 631-555-0102",
                        "verified_name": "Life Shop Legacy",
                        "status": "MIGRATED",
                        "code_verification_status": "NOT_VERIFIED",
                        "pin": "808080",
                    },
                ],
            },
            W2: {
                "name": "Life Shop UK",
                "phone_numbers": [
                    {
                        "id": UK,
                        "display_phone_number": "+44 7700 900123",
                        "verified_name": "Life Shop UK",
                        "status": "CONNECTED",
                        "quality_rating": "GREEN",
                    }
                ],
            },
        },
    }
