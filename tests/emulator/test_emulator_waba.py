"""WABA, business and app nodes: every WABA field, owner_business_info, the business node, health_status."""

from __future__ import annotations

import httpx
import pytest

from opencams.emulator import create_app

from .helpers import (
    APP_ID,
    APP_TOKEN,
    BASE_URL,
    BUSINESS_ID,
    CONNECTED,
    LIFE_AUTH,
    OTHER_APP_ID,
    OTHER_APP_TOKEN,
    UK,
    W1,
    W2,
    W2_TOKEN,
    graph_error,
    life_state,
)

pytestmark = pytest.mark.asyncio

ALL_WABA_FIELDS = (
    "id,name,currency,timezone_id,message_template_namespace,account_review_status,"
    "business_verification_status,owner_business_info,primary_business_location,"
    "auth_international_rate_eligibility,marketing_messages_lite_api_status"
)


class TestWabaNode:
    async def test_every_stored_field_and_the_owner(self, life: httpx.AsyncClient) -> None:
        response = await life.get(f"/v23.0/{W1}", headers=LIFE_AUTH, params={"fields": ALL_WABA_FIELDS})
        assert response.status_code == 200
        assert response.json() == {
            "id": W1,
            "name": "Life Shop",
            "currency": "USD",
            "timezone_id": "7",
            "message_template_namespace": "ns_life_1",
            "account_review_status": "APPROVED",
            "business_verification_status": "VERIFIED",
            "owner_business_info": {"name": "Life Holdings", "id": BUSINESS_ID},
            "primary_business_location": "US",
            "auth_international_rate_eligibility": {"start_time": 1721952000, "exception_countries": []},
            "marketing_messages_lite_api_status": "ONBOARDED",
        }

    async def test_default_fields_are_id_and_name(self, life: httpx.AsyncClient) -> None:
        response = await life.get(f"/v23.0/{W1}", headers=LIFE_AUTH)
        assert response.json() == {"id": W1, "name": "Life Shop"}

    async def test_fields_a_waba_lacks_are_left_out(self, life: httpx.AsyncClient) -> None:
        response = await life.get(f"/v23.0/{W2}", headers=LIFE_AUTH, params={"fields": ALL_WABA_FIELDS})
        assert response.json() == {"id": W2, "name": "Life Shop UK"}

    @pytest.mark.parametrize("bad", ["owner_business", "business_id", "subscribed_apps", "health", "ban_info"])
    async def test_unknown_and_private_fields_are_100(self, life: httpx.AsyncClient, bad: str) -> None:
        response = await life.get(f"/v23.0/{W1}", headers=LIFE_AUTH, params={"fields": f"id,{bad}"})
        assert response.status_code == 400
        error = graph_error(response)
        assert error["code"] == 100
        assert (
            error["message"]
            == f"(#100) Tried accessing nonexisting field ({bad}) on node type (WhatsAppBusinessAccount)"
        )

    async def test_token_without_the_waba_is_403_200(self, life: httpx.AsyncClient) -> None:
        response = await life.get(f"/v23.0/{W1}", headers={"Authorization": f"Bearer {W2_TOKEN}"})
        assert response.status_code == 403
        assert graph_error(response)["code"] == 200

    async def test_app_token_sees_no_waba(self, life: httpx.AsyncClient) -> None:
        response = await life.get(f"/v23.0/{W1}", params={"access_token": APP_TOKEN})
        assert response.status_code == 403
        assert graph_error(response)["code"] == 200


class TestBusinessNode:
    async def test_fields(self, life: httpx.AsyncClient) -> None:
        response = await life.get(
            f"/v23.0/{BUSINESS_ID}", headers=LIFE_AUTH, params={"fields": "id,name,verification_status,vertical"}
        )
        assert response.status_code == 200
        assert response.json() == {
            "id": BUSINESS_ID,
            "name": "Life Holdings",
            "verification_status": "verified",
            "vertical": "RETAIL",
        }

    async def test_defaults(self, life: httpx.AsyncClient) -> None:
        response = await life.get(f"/v23.0/{BUSINESS_ID}", headers=LIFE_AUTH)
        assert response.json() == {"id": BUSINESS_ID, "name": "Life Holdings"}

    async def test_unknown_field(self, life: httpx.AsyncClient) -> None:
        response = await life.get(f"/v23.0/{BUSINESS_ID}", headers=LIFE_AUTH, params={"fields": "id,primary_page"})
        assert response.status_code == 400
        assert graph_error(response)["message"] == (
            "(#100) Tried accessing nonexisting field (primary_page) on node type (Business)"
        )

    async def test_a_token_without_its_wabas_cannot_see_it(self, life: httpx.AsyncClient) -> None:
        response = await life.get(f"/v23.0/{BUSINESS_ID}", headers={"Authorization": f"Bearer {W2_TOKEN}"})
        assert response.status_code == 400
        error = graph_error(response)
        assert (error["code"], error["error_subcode"]) == (100, 33)

    async def test_post_is_not_served(self, life: httpx.AsyncClient) -> None:
        response = await life.post(f"/v23.0/{BUSINESS_ID}", headers=LIFE_AUTH)
        assert graph_error(response)["message"].startswith("Unsupported post request.")


class TestAppNode:
    async def test_app_node_with_any_token(self, life: httpx.AsyncClient) -> None:
        response = await life.get(f"/v23.0/{APP_ID}", headers=LIFE_AUTH)
        assert response.json() == {
            "link": f"https://www.facebook.com/games/?app_id={APP_ID}",
            "name": "Life Test App",
            "id": APP_ID,
        }

    async def test_unknown_edge(self, life: httpx.AsyncClient) -> None:
        response = await life.get(f"/v23.0/{APP_ID}/roles", headers=LIFE_AUTH)
        assert "(roles) on node type (Application)" in graph_error(response)["message"]


def entity(kind: str, node_id: str, level: str = "AVAILABLE") -> dict[str, str]:
    return {"entity_type": kind, "id": node_id, "can_send_message": level}


class TestHealthStatus:
    async def test_waba_all_available(self, life: httpx.AsyncClient) -> None:
        response = await life.get(f"/v23.0/{W1}", headers=LIFE_AUTH, params={"fields": "health_status"})
        assert response.json() == {
            "health_status": {
                "can_send_message": "AVAILABLE",
                "entities": [entity("WABA", W1), entity("BUSINESS", BUSINESS_ID), entity("APP", APP_ID)],
            },
            "id": W1,
        }

    async def test_number_adds_a_phone_entity_first(self, life: httpx.AsyncClient) -> None:
        response = await life.get(f"/v23.0/{CONNECTED}", headers=LIFE_AUTH, params={"fields": "health_status"})
        entities = response.json()["health_status"]["entities"]
        assert [e["entity_type"] for e in entities] == ["PHONE_NUMBER", "WABA", "BUSINESS", "APP"]
        assert entities[0]["id"] == CONNECTED

    async def test_app_entity_is_the_callers_app(self, life: httpx.AsyncClient) -> None:
        response = await life.get(
            f"/v23.0/{CONNECTED}",
            headers={"Authorization": f"Bearer {OTHER_APP_TOKEN}"},
            params={"fields": "health_status"},
        )
        assert response.json()["health_status"]["entities"][-1] == entity("APP", OTHER_APP_ID)

    async def test_waba_without_business_has_no_business_entity(self, life: httpx.AsyncClient) -> None:
        response = await life.get(f"/v23.0/{UK}", headers=LIFE_AUTH, params={"fields": "health_status"})
        kinds = [e["entity_type"] for e in response.json()["health_status"]["entities"]]
        assert kinds == ["PHONE_NUMBER", "WABA", "APP"]

    async def test_overall_is_the_worst_entity_and_details_show(self) -> None:
        state = life_state()
        blocked_error = {
            "error_code": 141014,
            "error_description": "The WABA is banned.",
            "possible_solution": "Please visit Business Support Home for more details.",
        }
        state["wabas"][W1]["phone_numbers"][0]["health"] = {
            "can_send_message": "LIMITED",
            "additional_info": ["Messaging limit reached"],
        }
        state["businesses"][BUSINESS_ID]["health"] = {"can_send_message": "BLOCKED", "errors": [blocked_error]}
        transport = httpx.ASGITransport(app=create_app(state))
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            number = await http.get(f"/v23.0/{CONNECTED}", headers=LIFE_AUTH, params={"fields": "health_status"})
            listing = await http.get(
                f"/v23.0/{W1}/phone_numbers", headers=LIFE_AUTH, params={"fields": "id,health_status"}
            )
        health = number.json()["health_status"]
        assert health["can_send_message"] == "BLOCKED"
        assert health["entities"][0] == {
            **entity("PHONE_NUMBER", CONNECTED, "LIMITED"),
            "additional_info": ["Messaging limit reached"],
        }
        assert health["entities"][2] == {**entity("BUSINESS", BUSINESS_ID, "BLOCKED"), "errors": [blocked_error]}
        assert listing.json()["data"][0]["health_status"] == health
        assert listing.json()["data"][1]["health_status"]["entities"][0] == entity("PHONE_NUMBER", "990000000000002")

    async def test_limited_without_blocked(self) -> None:
        state = life_state()
        state["wabas"][W1]["health"] = {"can_send_message": "LIMITED"}
        transport = httpx.ASGITransport(app=create_app(state))
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            response = await http.get(f"/v23.0/{W1}", headers=LIFE_AUTH, params={"fields": "health_status"})
        assert response.json()["health_status"]["can_send_message"] == "LIMITED"

    async def test_a_stored_health_status_object_is_returned_verbatim(self) -> None:
        state = life_state()
        verbatim = {"can_send_message": "AVAILABLE", "entities": []}
        state["wabas"][W2]["phone_numbers"][0]["health_status"] = verbatim
        transport = httpx.ASGITransport(app=create_app(state))
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            response = await http.get(f"/v23.0/{UK}", headers=LIFE_AUTH, params={"fields": "health_status"})
        assert response.json() == {"health_status": verbatim, "id": UK}
