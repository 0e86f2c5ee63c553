"""Meta's own Python SDK (facebook_business) against the emulator on a real port."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from facebook_business.adobjects.whatsappbusinessaccount import WhatsAppBusinessAccount  # type: ignore[import-untyped]
from facebook_business.api import FacebookAdsApi, FacebookResponse  # type: ignore[import-untyped]
from facebook_business.exceptions import FacebookRequestError  # type: ignore[import-untyped]
from facebook_business.session import FacebookSession  # type: ignore[import-untyped]

from opencams.emulator import create_app
from opencams.emulator.server import serve_in_thread

from .helpers import BIG_WABA, EXPIRED_TOKEN, TOKEN

# The SDK has no phone-number class, so it warns that the generic object "does not allow"
# each field (meta-graph.md §7); harmless here.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:facebook_business")

SYNC_FIELDS = [
    "id",
    "display_phone_number",
    "verified_name",
    "status",
    "quality_rating",
    "code_verification_status",
    "name_status",
    "new_name_status",
    "messaging_limit_tier",
    "whatsapp_business_manager_messaging_limit",
    "is_official_business_account",
    "platform_type",
    "throughput",
    "account_mode",
]


def sdk_api(base_url: str, token: str, app_secret: str = "app-secret") -> FacebookAdsApi:
    session = FacebookSession("1234567890", app_secret, token)
    session.GRAPH = base_url
    return FacebookAdsApi(session, api_version="v23.0")


@pytest.fixture
def waba(live_url: str) -> Iterator[WhatsAppBusinessAccount]:
    yield WhatsAppBusinessAccount(BIG_WABA, api=sdk_api(live_url, TOKEN))


def test_sdk_pages_through_all_250_numbers_in_order(
    waba: WhatsAppBusinessAccount, waba250_state: dict[str, Any], live_url: str
) -> None:
    cursor = waba.get_phone_numbers(fields=SYNC_FIELDS, params={"limit": 100})
    got = [dict(number.export_all_data()) for number in cursor]
    stored = waba250_state["wabas"][BIG_WABA]["phone_numbers"]
    assert [n["id"] for n in got] == [n["id"] for n in stored]
    # every field the number has and the sync asked for comes back unchanged
    assert got == [{k: v for k, v in n.items() if k in SYNC_FIELDS} for n in stored]
    assert cursor.total() == 250  # from summary=true, which the SDK always sends

    calls = httpx.get(f"{live_url}/_emulator/calls").json()["calls"]
    assert len(calls) == 3
    for call in calls:
        assert call["auth"] == "query"
        assert call["query"]["appsecret_proof"] == "<redacted>"
        assert call["query"]["summary"] == "true"
        assert call["query"]["limit"] == "100"


def test_sdk_node_read(live_url: str, waba250_state: dict[str, Any]) -> None:
    first = waba250_state["wabas"][BIG_WABA]["phone_numbers"][0]
    response = sdk_api(live_url, TOKEN).call("GET", (first["id"],), params={"fields": "status,display_phone_number"})
    assert isinstance(response, FacebookResponse)
    assert response.json() == {
        "status": first["status"],
        "display_phone_number": first["display_phone_number"],
        "id": first["id"],
    }


@pytest.mark.parametrize(("token", "subcode"), [("wrong-token", 467), (EXPIRED_TOKEN, 463)])
def test_bad_token_raises_190(live_url: str, token: str, subcode: int) -> None:
    waba = WhatsAppBusinessAccount(BIG_WABA, api=sdk_api(live_url, token))
    with pytest.raises(FacebookRequestError) as caught:
        list(waba.get_phone_numbers(fields=["id"], params={"limit": 100}))
    assert caught.value.api_error_code() == 190
    assert caught.value.api_error_subcode() == subcode
    assert caught.value.http_status() == 401
    assert caught.value.api_error_type() == "OAuthException"


def test_unknown_field_raises_100(waba: WhatsAppBusinessAccount) -> None:
    with pytest.raises(FacebookRequestError) as caught:
        list(waba.get_phone_numbers(fields=["id", "unified_cert_status"], params={"limit": 100}))
    assert caught.value.api_error_code() == 100
    assert caught.value.http_status() == 400
    assert "unified_cert_status" in caught.value.api_error_message()


def test_injected_transient_error_reaches_the_sdk(waba: WhatsAppBusinessAccount, live_url: str) -> None:
    httpx.post(
        f"{live_url}/_emulator/faults",
        json={"times": 1, "action": {"error": {"code": 4, "subcode": 2446079}}},
    )
    with pytest.raises(FacebookRequestError) as caught:
        list(waba.get_phone_numbers(fields=["id"], params={"limit": 100}))
    assert caught.value.api_error_code() == 4
    assert caught.value.api_error_subcode() == 2446079
    assert caught.value.api_transient_error() is True
    assert len(list(waba.get_phone_numbers(fields=["id"], params={"limit": 100}))) == 250


@pytest.mark.parametrize(("sdk_secret", "ok"), [("app-secret", True), ("other-secret", False)])
def test_appsecret_proof_from_the_sdk_is_verified(waba250_state: dict[str, Any], sdk_secret: str, ok: bool) -> None:
    app = create_app({**waba250_state, "app_secret": "app-secret"})
    with serve_in_thread(app) as url:
        waba = WhatsAppBusinessAccount(BIG_WABA, api=sdk_api(url, TOKEN, sdk_secret))
        if ok:
            assert len(list(waba.get_phone_numbers(fields=["id"], params={"limit": 100}))) == 250
        else:
            with pytest.raises(FacebookRequestError) as caught:
                list(waba.get_phone_numbers(fields=["id"], params={"limit": 100}))
            assert caught.value.api_error_code() == 100
            assert caught.value.api_error_type() == "GraphMethodException"
