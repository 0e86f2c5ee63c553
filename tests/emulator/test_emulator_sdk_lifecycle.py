"""Meta's own Python SDK against the new calls: WABA and business reads, subscriptions, a number's life."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from facebook_business.adobjects.application import Application  # type: ignore[import-untyped]
from facebook_business.adobjects.business import Business  # type: ignore[import-untyped]
from facebook_business.adobjects.whatsappbusinessaccount import WhatsAppBusinessAccount  # type: ignore[import-untyped]
from facebook_business.exceptions import FacebookRequestError  # type: ignore[import-untyped]

from .helpers import APP_ID, APP_SECRET, APP_TOKEN, BUSINESS_ID, LIFE_TOKEN, W1
from .receiver import VERIFY_TOKEN, Receiver
from .test_emulator_sdk import sdk_api

# The SDK warns about fields and edges its generated classes do not declare; harmless here.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:facebook_business")


def test_waba_and_business_reads(life_url: str) -> None:
    api = sdk_api(life_url, LIFE_TOKEN, APP_SECRET)
    waba = WhatsAppBusinessAccount(W1, api=api).api_get(
        fields=["name", "currency", "account_review_status", "owner_business_info", "health_status"]
    )
    assert waba["owner_business_info"] == {"name": "Life Holdings", "id": BUSINESS_ID}
    assert waba["health_status"]["can_send_message"] == "AVAILABLE"
    business = Business(BUSINESS_ID, api=api).api_get(fields=["id", "name", "verification_status", "vertical"])
    assert dict(business.export_all_data()) == {
        "id": BUSINESS_ID,
        "name": "Life Holdings",
        "verification_status": "verified",
        "vertical": "RETAIL",
    }


def test_analytics_through_the_sdk(life_url: str) -> None:
    now = int(httpx.get(f"{life_url}/_emulator/clock").json()["now"])
    expression = f'analytics.start({now - 86_400}).end({now}).granularity(HALF_HOUR).phone_numbers(["16315550100"])'
    waba = WhatsAppBusinessAccount(W1, api=sdk_api(life_url, LIFE_TOKEN, APP_SECRET)).api_get(fields=[expression])
    assert waba["analytics"]["granularity"] == "HALF_HOUR"
    assert len(waba["analytics"]["data_points"]) in (48, 49)


def test_wrong_appsecret_proof_is_refused(life_url: str) -> None:
    with pytest.raises(FacebookRequestError) as caught:
        WhatsAppBusinessAccount(W1, api=sdk_api(life_url, LIFE_TOKEN, "not-the-secret")).api_get(fields=["name"])
    assert caught.value.api_error_code() == 100


def test_subscribed_apps(life_url: str, receiver: tuple[Receiver, str]) -> None:
    _, url = receiver
    waba = WhatsAppBusinessAccount(W1, api=sdk_api(life_url, LIFE_TOKEN, APP_SECRET))
    # The SDK's parser drops `success` from the answer, so success shows in the listing.
    waba.create_subscribed_app(params={"override_callback_uri": f"{url}/o", "verify_token": VERIFY_TOKEN})
    (listed,) = [dict(item.export_all_data()) for item in waba.get_subscribed_apps()]
    assert listed["whatsapp_business_api_data"]["id"] == APP_ID
    assert listed["override_callback_uri"] == f"{url}/o"
    waba.delete_subscribed_apps()
    assert list(waba.get_subscribed_apps()) == []


def test_app_subscriptions_with_the_app_token(life_url: str, receiver: tuple[Receiver, str]) -> None:
    _, url = receiver
    app = Application(APP_ID, api=sdk_api(life_url, APP_TOKEN, APP_SECRET))
    app.create_subscription(
        params={
            "object": "whatsapp_business_account",
            "callback_url": f"{url}/hook",
            "verify_token": VERIFY_TOKEN,
            "fields": ["account_update", "phone_number_name_update"],
        }
    )
    (subscription,) = [dict(item.export_all_data()) for item in app.get_subscriptions()]
    assert subscription["callback_url"] == f"{url}/hook"
    assert [f["name"] for f in subscription["fields"]] == ["account_update", "phone_number_name_update"]
    with pytest.raises(FacebookRequestError) as caught:
        Application(APP_ID, api=sdk_api(life_url, LIFE_TOKEN, APP_SECRET)).get_subscriptions()
    assert caught.value.api_error_code() == 15


def test_upload_session_through_the_sdk(life_url: str) -> None:
    app = Application(APP_ID, api=sdk_api(life_url, LIFE_TOKEN, APP_SECRET))
    session = app.create_upload(params={"file_name": "logo.png", "file_length": 4, "file_type": "image/png"})
    sent = httpx.post(
        f"{life_url}/v23.0/{session['id']}",
        headers={"Authorization": f"OAuth {LIFE_TOKEN}", "file_offset": "0"},
        content=b"\x89PNG",
    )
    handle = sent.json()["h"]
    api = sdk_api(life_url, LIFE_TOKEN, APP_SECRET)
    phone = "990000000000001"
    api.call(
        "POST",
        (phone, "whatsapp_business_profile"),
        params={"messaging_product": "whatsapp", "profile_picture_handle": handle, "websites": ["https://x.example"]},
    )
    profile = api.call("GET", (phone, "whatsapp_business_profile"), params={"fields": "websites,profile_picture_url"})
    (item,) = profile.json()["data"]
    assert item["websites"] == ["https://x.example"]
    assert item["profile_picture_url"].startswith("https://pps.whatsapp.net/")


def test_a_numbers_life(life_url: str) -> None:
    api = sdk_api(life_url, LIFE_TOKEN, APP_SECRET)
    created = WhatsAppBusinessAccount(W1, api=api).create_phone_number(
        params={"cc": "1", "phone_number": "6315550123", "verified_name": "Life SDK"}
    )
    phone = created["id"]

    def call(edge: str, params: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = api.call("POST", (phone, edge), params=params).json()
        return body

    assert call("request_code", {"code_method": "SMS", "language": "en_US"}) == {"success": True}
    code = httpx.get(f"{life_url}/_emulator/verification_codes/{phone}").json()["code"]
    assert call("verify_code", {"code": code}) == {"success": True}
    assert call("register", {"messaging_product": "whatsapp", "pin": "314159"}) == {"success": True}
    node = api.call("GET", (phone,), params={"fields": "status,code_verification_status"}).json()
    assert node == {"status": "CONNECTED", "code_verification_status": "VERIFIED", "id": phone}
    with pytest.raises(FacebookRequestError) as caught:
        call("register", {"messaging_product": "whatsapp", "pin": "271828"})
    assert caught.value.api_error_code() == 133005
    assert caught.value.http_status() == 400
    assert "PIN" in json.dumps(caught.value.body())
    assert call("deregister", {}) == {"success": True}
    with pytest.raises(FacebookRequestError) as again:
        call("deregister", {})
    assert (again.value.api_error_code(), again.value.api_error_subcode()) == (100, 2207051)
