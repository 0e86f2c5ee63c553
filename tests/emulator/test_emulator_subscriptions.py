"""WABA `subscribed_apps` and app-level webhook `subscriptions`, with Meta's hub.challenge handshake."""

from __future__ import annotations

import httpx
import pytest

from .helpers import (
    APP_ID,
    APP_TOKEN,
    LIFE_AUTH,
    OTHER_APP_ID,
    OTHER_APP_TOKEN,
    W1,
    W2_TOKEN,
    graph_error,
)
from .receiver import VERIFY_TOKEN, Receiver

pytestmark = pytest.mark.asyncio

EDGE = f"/v23.0/{W1}/subscribed_apps"
APP_SUBS = f"/v23.0/{APP_ID}/subscriptions"


def app_data(app_id: str, name: str) -> dict[str, str]:
    return {"link": f"https://www.facebook.com/games/?app_id={app_id}", "name": name, "id": app_id}


class TestSubscribedApps:
    async def test_subscribe_list_unsubscribe(self, life: httpx.AsyncClient) -> None:
        assert (await life.get(EDGE, headers=LIFE_AUTH)).json() == {"data": []}
        assert (await life.post(EDGE, headers=LIFE_AUTH)).json() == {"success": True}
        assert (await life.post(EDGE, headers=LIFE_AUTH)).json() == {"success": True}  # idempotent
        other = await life.post(EDGE, headers={"Authorization": f"Bearer {OTHER_APP_TOKEN}"})
        assert other.json() == {"success": True}
        listing = await life.get(EDGE, headers=LIFE_AUTH)
        assert listing.json() == {
            "data": [
                {"whatsapp_business_api_data": app_data(APP_ID, "Life Test App")},
                {"whatsapp_business_api_data": app_data(OTHER_APP_ID, "Other App")},
            ]
        }
        stored = (await life.get("/_emulator/state")).json()["wabas"][W1]["subscribed_apps"]
        assert stored == [{"app_id": APP_ID}, {"app_id": OTHER_APP_ID}]
        assert (await life.delete(EDGE, headers=LIFE_AUTH)).json() == {"success": True}
        listing = await life.get(EDGE, headers=LIFE_AUTH)
        assert listing.json() == {"data": [{"whatsapp_business_api_data": app_data(OTHER_APP_ID, "Other App")}]}
        assert (await life.delete(EDGE, headers=LIFE_AUTH)).json() == {"success": True}

    @pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
    async def test_token_without_the_waba_gets_permission_error(self, life: httpx.AsyncClient, method: str) -> None:
        response = await life.request(method, EDGE, headers={"Authorization": f"Bearer {W2_TOKEN}"})
        assert response.status_code == 403
        error = graph_error(response)
        assert error["code"] == 200
        assert error["type"] == "OAuthException"

    async def test_override_needs_a_verify_token(self, life: httpx.AsyncClient) -> None:
        response = await life.post(
            EDGE, headers=LIFE_AUTH, data={"override_callback_uri": "https://hooks.example.com/w"}
        )
        assert response.status_code == 400
        assert graph_error(response)["message"] == "(#100) The parameter verify_token is required"

    async def test_override_must_be_a_url(self, life: httpx.AsyncClient) -> None:
        response = await life.post(
            EDGE, headers=LIFE_AUTH, json={"override_callback_uri": "ftp://x", "verify_token": "t"}
        )
        assert response.status_code == 400
        assert graph_error(response)["code"] == 100

    async def test_override_is_verified_then_listed(
        self, life: httpx.AsyncClient, receiver: tuple[Receiver, str]
    ) -> None:
        hooks, url = receiver
        hook = f"{url}/meta/hook"
        response = await life.post(
            EDGE, headers=LIFE_AUTH, json={"override_callback_uri": hook, "verify_token": VERIFY_TOKEN}
        )
        assert response.json() == {"success": True}
        (get,) = hooks.requests("GET")
        assert get["path"] == "/meta/hook"
        assert get["query"]["hub.mode"] == "subscribe"
        assert get["query"]["hub.verify_token"] == VERIFY_TOKEN
        assert get["query"]["hub.challenge"].isdigit()
        listing = (await life.get(EDGE, headers=LIFE_AUTH)).json()
        assert listing["data"] == [
            {"whatsapp_business_api_data": app_data(APP_ID, "Life Test App"), "override_callback_uri": hook}
        ]
        (attempt,) = (await life.get("/_emulator/deliveries")).json()["deliveries"]
        assert attempt["kind"] == "verification"
        assert (attempt["url"], attempt["status"], attempt["outcome"]) == (hook, 200, "verified")
        assert attempt["challenge"] == get["query"]["hub.challenge"]

    @pytest.mark.parametrize(
        ("mode", "token", "detail"),
        [
            ("echo", "wrong-token", "HTTP Status Code = 403; HTTP Message = Forbidden"),
            ("404", VERIFY_TOKEN, "HTTP Status Code = 404; HTTP Message = Not Found"),
            ("wrong", VERIFY_TOKEN, 'received="not-the-challenge"'),
        ],
    )
    async def test_failed_handshake_is_2200_and_nothing_is_kept(
        self, life: httpx.AsyncClient, receiver: tuple[Receiver, str], mode: str, token: str, detail: str
    ) -> None:
        hooks, url = receiver
        hooks.handshake = mode
        response = await life.post(EDGE, headers=LIFE_AUTH, data={"override_callback_uri": url, "verify_token": token})
        assert response.status_code == 400
        error = graph_error(response)
        assert error["code"] == 2200
        assert error["type"] == "OAuthException"
        assert error["message"].startswith("(#2200) Callback verification failed with the following errors: ")
        assert detail in error["message"]
        assert (await life.get(EDGE, headers=LIFE_AUTH)).json() == {"data": []}

    async def test_unreachable_callback_is_2200(self, life: httpx.AsyncClient) -> None:
        response = await life.post(
            EDGE, headers=LIFE_AUTH, data={"override_callback_uri": "http://127.0.0.1:9/hook", "verify_token": "t"}
        )
        error = graph_error(response)
        assert error["code"] == 2200
        assert "curl_errno = 7" in error["message"]


class TestAppSubscriptions:
    async def test_user_tokens_get_code_15(self, life: httpx.AsyncClient) -> None:
        for method in ("GET", "POST", "DELETE"):
            response = await life.request(method, APP_SUBS, headers=LIFE_AUTH)
            assert response.status_code == 400
            error = graph_error(response)
            assert error["code"] == 15
            assert error["message"] == "(#15) This method must be called with an app access_token."

    async def test_another_apps_token_gets_code_15(self, life: httpx.AsyncClient) -> None:
        response = await life.get(APP_SUBS, params={"access_token": f"{OTHER_APP_ID}|other-secret"})
        assert graph_error(response)["code"] == 15

    async def test_wrong_app_secret_is_not_an_app_token(self, life: httpx.AsyncClient) -> None:
        response = await life.get(APP_SUBS, params={"access_token": f"{APP_ID}|guess"})
        assert response.status_code == 401
        assert graph_error(response)["code"] == 190

    async def test_subscribe_merge_fields_and_delete(
        self, life: httpx.AsyncClient, receiver: tuple[Receiver, str]
    ) -> None:
        hooks, url = receiver
        token = {"access_token": APP_TOKEN}
        assert (await life.get(APP_SUBS, params=token)).json() == {"data": []}
        first = await life.post(
            APP_SUBS,
            params=token,
            data={
                "object": "whatsapp_business_account",
                "callback_url": url,
                "verify_token": VERIFY_TOKEN,
                "fields": '["account_update","phone_number_quality_update"]',
            },
        )
        assert first.json() == {"success": True}
        assert len(hooks.requests("GET")) == 1
        # Fields are added to those already there; no callback means no new handshake.
        more = await life.post(
            APP_SUBS, params=token, data={"object": "whatsapp_business_account", "fields": "account_update,messages"}
        )
        assert more.json() == {"success": True}
        assert len(hooks.requests("GET")) == 1
        listing = (await life.get("/v24.0/" + APP_ID + "/subscriptions", params=token)).json()
        assert listing == {
            "data": [
                {
                    "object": "whatsapp_business_account",
                    "callback_url": url,
                    "active": True,
                    "fields": [
                        {"name": "account_update", "version": "v24.0"},
                        {"name": "phone_number_quality_update", "version": "v24.0"},
                        {"name": "messages", "version": "v24.0"},
                    ],
                }
            ]
        }
        stored = (await life.get("/_emulator/state")).json()["apps"][APP_ID]["subscriptions"]
        assert stored[0]["verify_token"] == VERIFY_TOKEN
        dropped = await life.delete(
            APP_SUBS, params={**token, "object": "whatsapp_business_account", "fields": "messages"}
        )
        assert dropped.json() == {"success": True}
        fields = (await life.get(APP_SUBS, params=token)).json()["data"][0]["fields"]
        assert [f["name"] for f in fields] == ["account_update", "phone_number_quality_update"]
        assert (await life.delete(APP_SUBS, params={**token, "object": "whatsapp_business_account"})).json() == {
            "success": True
        }
        assert (await life.get(APP_SUBS, params=token)).json() == {"data": []}

    @pytest.mark.parametrize(
        ("form", "message"),
        [
            ({}, "(#100) The parameter object is required"),
            ({"object": "whatsapp_business_account"}, "(#100) The parameter callback_url is required"),
            (
                {"object": "whatsapp_business_account", "callback_url": "http://127.0.0.1:9/x"},
                "(#100) The parameter verify_token is required",
            ),
            (
                {"object": "page_views", "callback_url": "http://127.0.0.1:9/x", "verify_token": "t"},
                '(#100) Param object must be one of {whatsapp_business_account, application, page, permissions, user} - got "page_views"',
            ),
            (
                {"object": "whatsapp_business_account", "callback_url": "not a url", "verify_token": "t"},
                "(#100) Param callback_url must be a valid http(s) URL",
            ),
            (
                {
                    "object": "whatsapp_business_account",
                    "callback_url": "http://127.0.0.1:9/x",
                    "verify_token": "t",
                    "fields": "messages,quality_of_life",
                },
                '(#100) Invalid field "quality_of_life" for object whatsapp_business_account',
            ),
        ],
    )
    async def test_bad_requests(self, life: httpx.AsyncClient, form: dict[str, str], message: str) -> None:
        response = await life.post(APP_SUBS, params={"access_token": APP_TOKEN}, data=form)
        assert response.status_code == 400
        error = graph_error(response)
        assert (error["code"], error["message"]) == (100, message)

    async def test_failed_handshake(self, life: httpx.AsyncClient, receiver: tuple[Receiver, str]) -> None:
        _, url = receiver
        response = await life.post(
            APP_SUBS,
            params={"access_token": APP_TOKEN},
            data={"object": "whatsapp_business_account", "callback_url": url, "verify_token": "not-it"},
        )
        assert graph_error(response)["code"] == 2200
        assert (await life.get(APP_SUBS, params={"access_token": APP_TOKEN})).json() == {"data": []}
