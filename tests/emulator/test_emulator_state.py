"""State: loading, validation, GET/PUT at run time, reset, and the demo default."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from opencams.emulator import StateError, create_app, demo_document, parse_state
from opencams.emulator.state import IMPLICIT_APP_ID

from .helpers import AUTH, BASE_URL, BIG_WABA, EDGE, TOKEN

SMALL = {
    "tokens": {"t": ["111111111111111"]},
    "wabas": {
        "111111111111111": {
            "phone_numbers": [
                {"id": "222222222222222", "display_phone_number": "+1 631-555-0100"},
                {"id": "222222222222221", "display_phone_number": "16315550101"},
            ]
        }
    },
}


def bad_states() -> list[tuple[object, str]]:
    """(document, expected location) pairs that must be rejected."""
    waba = SMALL["wabas"]["111111111111111"]  # type: ignore[index]
    number = {"id": "222222222222222"}
    return [
        ([], "$"),
        ({"tokens": {}, "wabas": {}, "extra": 1}, "$"),
        ({"tokens": {"t": "111111111111111"}, "wabas": {"111111111111111": waba}}, "$.tokens.t"),
        ({"tokens": {"t": ["999999999999999"]}, "wabas": {}}, "$.tokens.t"),
        ({"wabas": {"not-numeric": {"phone_numbers": []}}}, "$.wabas.not-numeric"),
        ({"wabas": {"1": {"phone_numbers": {}}}}, "$.wabas.1.phone_numbers"),
        ({"wabas": {"1": {"phone_numbers": [{"display_phone_number": "+1"}]}}}, "$.wabas.1.phone_numbers[0]"),
        ({"wabas": {"1": {"phone_numbers": [{"id": 5}]}}}, "$.wabas.1.phone_numbers[0].id"),
        (
            {"wabas": {"1": {"phone_numbers": [{**number, "unified_cert_status": "x"}]}}},
            "$.wabas.1.phone_numbers[0]",
        ),
        ({"wabas": {"1": {"phone_numbers": [{**number, "status": 3}]}}}, "$.wabas.1.phone_numbers[0].status"),
        (
            {"wabas": {"1": {"phone_numbers": [{**number, "is_official_business_account": "true"}]}}},
            "$.wabas.1.phone_numbers[0].is_official_business_account",
        ),
        (
            {"wabas": {"1": {"phone_numbers": [{**number, "throughput": "HIGH"}]}}},
            "$.wabas.1.phone_numbers[0].throughput",
        ),
        (
            {"wabas": {"1": {"phone_numbers": [number]}, "2": {"phone_numbers": [number]}}},
            "$.wabas.2.phone_numbers[0].id",
        ),
        ({"wabas": {"1": {"phone_numbers": [{"id": "1"}]}}}, "$.wabas"),
        ({"wabas": {"1": {"phone_numbers": [], "owner": "x"}}}, "$.wabas.1"),
        ({"expired_tokens": "t"}, "$.expired_tokens"),
        ({"app_secret": ""}, "$.app_secret"),
        *new_bad_states(),
    ]


def new_bad_states() -> list[tuple[object, str]]:
    """Bad shapes of the keys added for apps, businesses, writes and webhooks."""
    app = {"name": "A", "secret": "s"}
    sub = {"object": "whatsapp_business_account", "callback_url": "https://h.example/w", "fields": ["account_update"]}
    number = {"id": "222222222222222"}

    def waba(**keys: object) -> dict[str, object]:
        return {"apps": {"9": app}, "businesses": {"8": {"name": "B"}}, "wabas": {"1": {"phone_numbers": [], **keys}}}

    def with_number(**keys: object) -> dict[str, object]:
        return {"wabas": {"1": {"phone_numbers": [{**number, **keys}]}}}

    at = "$.wabas.1.phone_numbers[0]"
    return [
        ({"apps": {"x": app}}, "$.apps.x"),
        ({"apps": {"9": {**app, "secret": ""}}}, "$.apps.9.secret"),
        ({"apps": {"9": {**app, "owner": "me"}}}, "$.apps.9"),
        ({"apps": {"9": app}, "app_secret": "s"}, "$.app_secret"),
        (
            {"apps": {"9": {**app, "subscriptions": [{**sub, "callback_url": "h.example"}]}}},
            "$.apps.9.subscriptions[0].callback_url",
        ),
        ({"apps": {"9": {**app, "subscriptions": [sub, sub]}}}, "$.apps.9.subscriptions"),
        (
            {"apps": {"9": {**app, "subscriptions": [{**sub, "fields": "messages"}]}}},
            "$.apps.9.subscriptions[0].fields",
        ),
        ({"apps": {"9": app}, "tokens": {"t": {"app": "7", "wabas": []}}}, "$.tokens.t.app"),
        ({"tokens": {"t": {"wabas": [], "scopes": []}}}, "$.tokens.t"),
        ({"businesses": {"8": {"name": "B", "country": "US"}}}, "$.businesses.8"),
        ({"businesses": {"8": {"name": 8}}}, "$.businesses.8.name"),
        (waba(business_id="7"), "$.wabas.1.business_id"),
        (waba(subscribed_apps=[{"app_id": "7"}]), "$.wabas.1.subscribed_apps[0].app_id"),
        (waba(subscribed_apps=[{"app_id": "9"}, {"app_id": "9"}]), "$.wabas.1.subscribed_apps"),
        (
            waba(subscribed_apps=[{"app_id": "9", "override_callback_uri": "mailto:x"}]),
            "$.wabas.1.subscribed_apps[0].override_callback_uri",
        ),
        (waba(health={"can_send_message": "MAYBE"}), "$.wabas.1.health.can_send_message"),
        (
            waba(health={"can_send_message": "BLOCKED", "errors": [{"error_code": "141014"}]}),
            "$.wabas.1.health.errors[0].error_code",
        ),
        (waba(restriction_info={"restriction_type": "X"}), "$.wabas.1.restriction_info"),
        (waba(auth_international_rate_eligibility="soon"), "$.wabas.1.auth_international_rate_eligibility"),
        (waba(ban_info="banned"), "$.wabas.1.ban_info"),
        (waba(currency=978), "$.wabas.1.currency"),
        (with_number(pin="1234"), f"{at}.pin"),
        (with_number(business_profile={"about": "a", "phone": "1"}), f"{at}.business_profile"),
        (with_number(business_profile={"websites": "https://a.example"}), f"{at}.business_profile.websites"),
        (with_number(business_public_key=5), f"{at}.business_public_key"),
        (with_number(health={"can_send_message": "AVAILABLE", "additional_info": "x"}), f"{at}.health.additional_info"),
        ({"settings": {"code_ttl": 5}}, "$.settings"),
        ({"settings": {"code_ttl_seconds": -1}}, "$.settings.code_ttl_seconds"),
        ({"settings": {"register_max": 2.5}}, "$.settings.register_max"),
        ({"settings": {"webhook_max_attempts": True}}, "$.settings.webhook_max_attempts"),
        ({"apps": {"1": app}, "wabas": {"1": {"phone_numbers": []}}}, "$"),
    ]


class TestParseState:
    @pytest.mark.parametrize(("document", "location"), bad_states())
    def test_bad_shapes_name_the_location(self, document: object, location: str) -> None:
        with pytest.raises(StateError) as caught:
            parse_state(document)
        assert caught.value.location == location

    def test_create_app_rejects_bad_state(self) -> None:
        with pytest.raises(StateError):
            create_app({"tokens": {"t": ["404"]}})

    def test_unknown_enum_values_are_allowed(self) -> None:
        state = copy.deepcopy(SMALL)
        state["wabas"]["111111111111111"]["phone_numbers"][0]["status"] = "OFFLINE"  # type: ignore[index]
        assert parse_state(state).summary() == {"tokens": 1, "wabas": 1, "phone_numbers": 2}

    def test_the_demo_data_set_is_valid(self) -> None:
        assert parse_state(demo_document()).summary() == {"tokens": 2, "wabas": 3, "phone_numbers": 9}

    def test_without_apps_tokens_belong_to_the_implicit_app(self) -> None:
        state = parse_state({**SMALL, "app_secret": "legacy"})
        assert list(state.apps) == [IMPLICIT_APP_ID]
        assert state.apps[IMPLICIT_APP_ID].secret == "legacy"
        assert state.token_apps == {"t": IMPLICIT_APP_ID}
        assert state.app_token(f"{IMPLICIT_APP_ID}|legacy") is state.apps[IMPLICIT_APP_ID]
        assert state.app_token(f"{IMPLICIT_APP_ID}|other") is None

    def test_list_tokens_belong_to_the_first_app(self) -> None:
        apps = {"9": {"name": "A"}, "8": {"name": "B"}}
        tokens = {"t": ["111111111111111"], "u": {"app": "8", "wabas": ["111111111111111"]}}
        state = parse_state({**SMALL, "apps": apps, "tokens": tokens})
        assert state.token_apps == {"t": "9", "u": "8"}
        assert state.tokens["u"] == {"111111111111111"}
        assert state.app_token("9|anything") is None  # an app without a secret has no app token

    def test_settings_default_to_metas_limits(self) -> None:
        settings = parse_state(SMALL).settings
        assert (settings.code_ttl_seconds, settings.register_max, settings.register_window_seconds) == (600, 10, 259200)
        assert parse_state({**SMALL, "settings": {"register_max": 3}}).settings.register_max == 3


@pytest.mark.asyncio
class TestStateControl:
    async def test_get_returns_the_loaded_document(
        self, client: httpx.AsyncClient, waba250_state: dict[str, Any]
    ) -> None:
        response = await client.get("/_emulator/state")
        assert response.json() == waba250_state

    async def test_put_replaces_the_data_set(self, client: httpx.AsyncClient) -> None:
        response = await client.put("/_emulator/state", json=SMALL)
        assert response.status_code == 200
        assert response.json() == {"status": "replaced", "tokens": 1, "wabas": 1, "phone_numbers": 2}
        listing = await client.get("/v23.0/111111111111111/phone_numbers", headers={"Authorization": "Bearer t"})
        # stored order, not sorted by id
        assert [n["id"] for n in listing.json()["data"]] == ["222222222222222", "222222222222221"]
        old = await client.get(EDGE, headers=AUTH)
        assert old.status_code == 401
        assert (await client.get("/_emulator/state")).json() == SMALL

    @pytest.mark.parametrize(("document", "location"), bad_states()[:4])
    async def test_bad_put_is_400_and_changes_nothing(
        self,
        client: httpx.AsyncClient,
        waba250_state: dict[str, Any],
        document: object,
        location: str,
    ) -> None:
        response = await client.put("/_emulator/state", json=document)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["type"] == "InvalidState"
        assert error["location"] == location
        assert error["message"]
        assert (await client.get("/_emulator/state")).json() == waba250_state
        assert (await client.get(EDGE, headers=AUTH)).status_code == 200

    async def test_put_with_a_non_json_body(self, client: httpx.AsyncClient) -> None:
        response = await client.put("/_emulator/state", content=b"{nope")
        assert response.status_code == 400
        assert response.json()["error"]["type"] == "InvalidState"

    async def test_reset_restores_the_starting_state(
        self, client: httpx.AsyncClient, waba250_state: dict[str, Any]
    ) -> None:
        await client.put("/_emulator/state", json=SMALL)
        await client.post("/_emulator/faults", json={"action": {"error": {"code": 2}}})
        response = await client.post("/_emulator/reset")
        assert response.json() == {"status": "reset", "tokens": 2, "wabas": 2, "phone_numbers": 253}
        assert (await client.get("/_emulator/state")).json() == waba250_state
        assert (await client.get("/_emulator/faults")).json() == {"faults": []}
        assert (await client.get("/_emulator/calls")).json() == {"calls": []}

    async def test_unknown_control_path_is_a_json_404(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/_emulator/nothing")
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "NotFound"
        assert (await client.get("/_emulator/calls")).json() == {"calls": []}

    async def test_health(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/_emulator/health")).json() == {"status": "ok"}


@pytest.mark.asyncio
class TestDemoDefault:
    async def test_no_state_means_the_demo_data_set(self) -> None:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            response = await http.get(
                "/v23.0/104857600112233/phone_numbers",
                params={"access_token": "demo-token", "fields": "display_phone_number,status"},
            )
            denied = await http.get("/v23.0/104857600112233/phone_numbers", params={"access_token": "demo-bagel-token"})
        assert response.json()["data"][0] == {
            "display_phone_number": "+86 138-0000-1234",
            "status": "CONNECTED",
            "id": "110293847561001",
        }
        assert denied.status_code == 403

    async def test_apps_do_not_share_state(self, waba250_state: dict[str, Any]) -> None:
        first, second = create_app(waba250_state), create_app(waba250_state)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url=BASE_URL) as http:
            await http.put("/_emulator/state", json=SMALL)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url=BASE_URL) as http:
            response = await http.get(EDGE, params={"access_token": TOKEN})
        assert response.status_code == 200
        assert BIG_WABA in response.json()["paging"]["next"]
