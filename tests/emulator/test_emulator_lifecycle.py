"""A number's life, Meta's state machine: add, request/verify code, two-step PIN, register, deregister."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from opencams.emulator import create_app

from .helpers import (
    BASE_URL,
    CONNECTED,
    ELSEWHERE,
    LIFE_AUTH,
    PENDING,
    UK,
    W1,
    W2,
    W2_TOKEN,
    graph_error,
    life_state,
)

pytestmark = pytest.mark.asyncio

NODE_FIELDS = "display_phone_number,verified_name,status,code_verification_status,name_status"


async def node(http: httpx.AsyncClient, phone_id: str, fields: str = NODE_FIELDS) -> dict[str, Any]:
    response = await http.get(f"/v23.0/{phone_id}", headers=LIFE_AUTH, params={"fields": fields})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def request_code(http: httpx.AsyncClient, phone_id: str) -> str:
    response = await http.post(
        f"/v23.0/{phone_id}/request_code", headers=LIFE_AUTH, params={"code_method": "SMS", "language": "en_US"}
    )
    assert response.json() == {"success": True}, response.text
    code: str = (await http.get(f"/_emulator/verification_codes/{phone_id}")).json()["code"]
    return code


async def advance(http: httpx.AsyncClient, seconds: float) -> None:
    assert (await http.post("/_emulator/clock", json={"advance": seconds})).status_code == 200


def assert_whatsapp_error(response: httpx.Response, code: int, details: str) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    error = graph_error(response)
    assert error["code"] == code
    assert error["type"] == "OAuthException"
    assert error["message"].startswith(f"(#{code}) ")
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert details in error["error_data"]["details"]
    assert error["is_transient"] is False
    return error


async def app_with(settings: dict[str, Any]) -> httpx.AsyncClient:
    state = life_state()
    state["settings"].update(settings)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(state, seed=7)), base_url=BASE_URL)


class TestAddNumber:
    async def test_new_number_is_pending_and_listed(self, life: httpx.AsyncClient) -> None:
        response = await life.post(
            f"/v23.0/{W1}/phone_numbers",
            headers=LIFE_AUTH,
            data={"cc": "1", "phone_number": "6315550177", "verified_name": "Life Kiosk"},
        )
        assert response.status_code == 200
        (new_id,) = response.json().values()
        assert list(response.json()) == ["id"] and new_id.isdigit() and len(new_id) == 15
        assert await node(life, new_id, NODE_FIELDS + ",quality_rating,platform_type") == {
            "display_phone_number": "+1 6315550177",
            "verified_name": "Life Kiosk",
            "status": "PENDING",
            "code_verification_status": "NOT_VERIFIED",
            "name_status": "PENDING_REVIEW",
            "quality_rating": "NA",
            "platform_type": "NOT_APPLICABLE",
            "id": new_id,
        }
        listing = await life.get(f"/v23.0/{W1}/phone_numbers", headers=LIFE_AUTH, params={"fields": "id"})
        assert [n["id"] for n in listing.json()["data"]][-1] == new_id
        stored = (await life.get("/_emulator/state")).json()["wabas"][W1]["phone_numbers"][-1]
        assert stored["id"] == new_id
        # the same number in the same starting state gets the same id
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(life_state())), base_url=BASE_URL
        ) as fresh:
            again = await fresh.post(
                f"/v23.0/{W1}/phone_numbers",
                headers=LIFE_AUTH,
                json={"cc": 1, "phone_number": "6315550177", "verified_name": "Life Kiosk"},
            )
        assert again.json() == {"id": new_id}

    @pytest.mark.parametrize(
        ("form", "message"),
        [
            ({"phone_number": "6315550177", "verified_name": "X"}, "(#100) The parameter cc is required"),
            ({"cc": "1", "verified_name": "X"}, "(#100) The parameter phone_number is required"),
            ({"cc": "1", "phone_number": "6315550177"}, "(#100) The parameter verified_name is required"),
            ({"cc": "+1", "phone_number": "6315550177", "verified_name": "X"}, "(#100) Param cc must be a country calling code of 1 to 3 digits"),
            ({"cc": "1234", "phone_number": "6315550177", "verified_name": "X"}, "(#100) Param cc must be a country calling code of 1 to 3 digits"),
            ({"cc": "1", "phone_number": "631-555-0177", "verified_name": "X"}, "(#100) Param phone_number must be the phone number without the country code or +"),
            ({"cc": "1", "phone_number": "123", "verified_name": "X"}, "(#100) Param phone_number must be the phone number without the country code or +"),
            ({"cc": "86", "phone_number": "13800001234567", "verified_name": "X"}, "(#100) Param phone_number must be the phone number without the country code or +"),
            ({"cc": "1", "phone_number": "6315550177", "verified_name": "X", "migrate_phone_number": "maybe"}, "(#100) Param migrate_phone_number must be a boolean"),
        ],
    )  # fmt: skip
    async def test_bad_parameters(self, life: httpx.AsyncClient, form: dict[str, str], message: str) -> None:
        response = await life.post(f"/v23.0/{W1}/phone_numbers", headers=LIFE_AUTH, data=form)
        assert response.status_code == 400
        error = graph_error(response)
        assert (error["code"], error["message"]) == (100, message)

    async def test_number_already_in_this_waba(self, life: httpx.AsyncClient) -> None:
        response = await life.post(
            f"/v23.0/{W1}/phone_numbers",
            headers=LIFE_AUTH,
            data={"cc": "1", "phone_number": "6315550100", "verified_name": "Dup"},
        )
        assert response.status_code == 400
        error = graph_error(response)
        assert (error["code"], error["type"]) == (100, "GraphMethodException")
        assert error["message"] == "Phone number is already registered with WhatsApp Business"

    async def test_number_of_another_waba_unless_migrating(self, life: httpx.AsyncClient) -> None:
        form = {"cc": "44", "phone_number": "7700900123", "verified_name": "Moved"}
        response = await life.post(f"/v23.0/{W1}/phone_numbers", headers=LIFE_AUTH, data=form)
        assert response.status_code == 400
        error = graph_error(response)
        assert error["code"] == 200000
        assert error["message"] == "(#200000) Cannot add phone number to WhatsApp Business Account"
        migrated = await life.post(
            f"/v23.0/{W1}/phone_numbers", headers=LIFE_AUTH, data={**form, "migrate_phone_number": "true"}
        )
        assert migrated.status_code == 200
        assert (await node(life, migrated.json()["id"]))["status"] == "PENDING"

    async def test_token_without_the_waba(self, life: httpx.AsyncClient) -> None:
        response = await life.post(
            f"/v23.0/{W1}/phone_numbers",
            headers={"Authorization": f"Bearer {W2_TOKEN}"},
            data={"cc": "1", "phone_number": "6315550177", "verified_name": "X"},
        )
        assert response.status_code == 403
        assert graph_error(response)["code"] == 200


class TestRequestCode:
    async def test_code_is_only_visible_to_the_control_api(self, life: httpx.AsyncClient) -> None:
        code = await request_code(life, PENDING)
        assert len(code) == 6 and code.isdigit()
        view = (await life.get(f"/_emulator/verification_codes/{PENDING}")).json()
        assert view["code_method"] == "SMS" and view["language"] == "en_US"
        assert view["expired"] is False and view["failed_attempts"] == 0
        assert (await life.get("/_emulator/verification_codes")).json()["verification_codes"] == [view]
        assert code not in (await life.get("/_emulator/state")).text
        assert (await node(life, PENDING))["code_verification_status"] == "NOT_VERIFIED"

    async def test_voice_and_json_body(self, life: httpx.AsyncClient) -> None:
        response = await life.post(
            f"/v23.0/{PENDING}/request_code", headers=LIFE_AUTH, json={"code_method": "VOICE", "language": "pt_BR"}
        )
        assert response.json() == {"success": True}
        assert (await life.get(f"/_emulator/verification_codes/{PENDING}")).json()["code_method"] == "VOICE"

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ({"language": "en_US"}, "(#100) The parameter code_method is required"),
            ({"code_method": "SMS"}, "(#100) The parameter language is required"),
            ({"code_method": "EMAIL", "language": "en_US"}, '(#100) Param code_method must be one of {SMS, VOICE} - got "EMAIL"'),
            ({"code_method": "sms", "language": "en_US"}, '(#100) Param code_method must be one of {SMS, VOICE} - got "sms"'),
            ({"code_method": "SMS", "language": "English"}, '(#100) Param language must be a language code such as en_US - got "English"'),
        ],
    )  # fmt: skip
    async def test_bad_parameters(self, life: httpx.AsyncClient, query: dict[str, str], message: str) -> None:
        response = await life.post(f"/v23.0/{PENDING}/request_code", headers=LIFE_AUTH, params=query)
        assert response.status_code == 400
        assert graph_error(response)["message"] == message
        assert (await life.get(f"/_emulator/verification_codes/{PENDING}")).status_code == 404

    async def test_too_many_requests_is_136024_until_the_window_passes(self, life: httpx.AsyncClient) -> None:
        codes = [await request_code(life, PENDING) for _ in range(5)]
        assert (await life.get(f"/_emulator/verification_codes/{PENDING}")).json()["code"] == codes[-1]
        response = await life.post(
            f"/v23.0/{PENDING}/request_code", headers=LIFE_AUTH, params={"code_method": "SMS", "language": "en_US"}
        )
        error = assert_whatsapp_error(response, 136024, "too many verification codes were requested")
        assert error["message"] == "(#136024) Request code error"
        assert error["error_user_title"] == "Too many attempts"
        # other numbers have their own budget
        await request_code(life, ELSEWHERE)
        await advance(life, 3601)
        await request_code(life, PENDING)

    async def test_limit_is_configurable(self) -> None:
        async with await app_with({"request_code_max": 1, "request_code_window_seconds": 60}) as http:
            await request_code(http, PENDING)
            response = await http.post(
                f"/v23.0/{PENDING}/request_code", headers=LIFE_AUTH, params={"code_method": "SMS", "language": "en"}
            )
            assert graph_error(response)["code"] == 136024
            await advance(http, 61)
            await request_code(http, PENDING)

    async def test_unknown_number_is_100_33(self, life: httpx.AsyncClient) -> None:
        response = await life.post(
            "/v23.0/123123123123123/request_code", headers=LIFE_AUTH, params={"code_method": "SMS", "language": "en"}
        )
        error = graph_error(response)
        assert (error["code"], error["error_subcode"]) == (100, 33)
        assert error["message"].startswith("Unsupported post request. Object with ID '123123123123123'")

    async def test_get_is_not_served(self, life: httpx.AsyncClient) -> None:
        response = await life.get(f"/v23.0/{PENDING}/request_code", headers=LIFE_AUTH)
        assert graph_error(response)["message"].startswith("Unsupported get request.")


class TestVerifyCode:
    async def test_right_code_verifies_once(self, life: httpx.AsyncClient) -> None:
        code = await request_code(life, PENDING)
        response = await life.post(f"/v23.0/{PENDING}/verify_code", headers=LIFE_AUTH, data={"code": code})
        assert response.json() == {"success": True}
        assert (await node(life, PENDING))["code_verification_status"] == "VERIFIED"
        assert (await life.get(f"/_emulator/verification_codes/{PENDING}")).status_code == 404
        again = await life.post(f"/v23.0/{PENDING}/verify_code", headers=LIFE_AUTH, data={"code": code})
        assert_whatsapp_error(again, 136025, "no verification code is pending")

    async def test_without_a_code_requested(self, life: httpx.AsyncClient) -> None:
        response = await life.post(f"/v23.0/{PENDING}/verify_code", headers=LIFE_AUTH, params={"code": "123456"})
        error = assert_whatsapp_error(response, 136025, "no verification code is pending")
        assert error["message"] == "(#136025) Verify code error"

    async def test_wrong_code_counts_and_too_many_voids_it(self, life: httpx.AsyncClient) -> None:
        code = await request_code(life, PENDING)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for attempt in range(1, 5):
            response = await life.post(f"/v23.0/{PENDING}/verify_code", headers=LIFE_AUTH, data={"code": wrong})
            error = assert_whatsapp_error(response, 136025, "the code you entered is incorrect")
            assert error["error_user_title"] == "Incorrect code"
            view = (await life.get(f"/_emulator/verification_codes/{PENDING}")).json()
            assert view["failed_attempts"] == attempt
        fifth = await life.post(f"/v23.0/{PENDING}/verify_code", headers=LIFE_AUTH, data={"code": wrong})
        assert_whatsapp_error(fifth, 136025, "wrong code too many times")
        late = await life.post(f"/v23.0/{PENDING}/verify_code", headers=LIFE_AUTH, data={"code": code})
        assert_whatsapp_error(late, 136025, "no verification code is pending")
        assert (await node(life, PENDING))["code_verification_status"] == "NOT_VERIFIED"

    async def test_expired_code(self, life: httpx.AsyncClient) -> None:
        code = await request_code(life, PENDING)
        await advance(life, 599)
        assert (await life.get(f"/_emulator/verification_codes/{PENDING}")).json()["expired"] is False
        await advance(life, 2)
        assert (await life.get(f"/_emulator/verification_codes/{PENDING}")).json()["expired"] is True
        response = await life.post(f"/v23.0/{PENDING}/verify_code", headers=LIFE_AUTH, data={"code": code})
        error = assert_whatsapp_error(response, 136025, "the verification code has expired")
        assert error["error_user_title"] == "Code expired"
        assert (await node(life, PENDING))["code_verification_status"] == "NOT_VERIFIED"
        fresh = await request_code(life, PENDING)
        ok = await life.post(f"/v23.0/{PENDING}/verify_code", headers=LIFE_AUTH, data={"code": fresh})
        assert ok.json() == {"success": True}

    @pytest.mark.parametrize(
        ("form", "message"),
        [
            ({}, "(#100) The parameter code is required"),
            ({"code": "12345"}, "(#100) Invalid verification code format"),
            ({"code": "12345a"}, "(#100) Invalid verification code format"),
        ],
    )
    async def test_bad_format(self, life: httpx.AsyncClient, form: dict[str, str], message: str) -> None:
        await request_code(life, PENDING)
        response = await life.post(f"/v23.0/{PENDING}/verify_code", headers=LIFE_AUTH, data=form)
        assert response.status_code == 400
        assert graph_error(response)["message"] == message
        assert (await life.get(f"/_emulator/verification_codes/{PENDING}")).json()["failed_attempts"] == 0


class TestPin:
    async def test_set_pin(self, life: httpx.AsyncClient) -> None:
        response = await life.post(f"/v23.0/{PENDING}", headers=LIFE_AUTH, data={"pin": "246810"})
        assert response.json() == {"success": True}
        assert await node(life, PENDING, "is_pin_enabled") == {"is_pin_enabled": True, "id": PENDING}
        stored = (await life.get("/_emulator/state")).json()["wabas"][W1]["phone_numbers"][1]
        assert stored["pin"] == "246810"

    async def test_pin_is_never_a_field(self, life: httpx.AsyncClient) -> None:
        response = await life.get(f"/v23.0/{CONNECTED}", headers=LIFE_AUTH, params={"fields": "pin"})
        assert graph_error(response)["message"] == (
            "(#100) Tried accessing nonexisting field (pin) on node type (WhatsAppBusinessPhoneNumber)"
        )

    @pytest.mark.parametrize(
        ("form", "message"),
        [
            ({}, "(#100) The parameter pin is required"),
            ({"pin": "12345"}, "(#100) Invalid PIN format. PIN must be exactly 6 digits"),
            ({"pin": "abcdef"}, "(#100) Invalid PIN format. PIN must be exactly 6 digits"),
        ],
    )
    async def test_bad_pin(self, life: httpx.AsyncClient, form: dict[str, str], message: str) -> None:
        response = await life.post(f"/v23.0/{PENDING}", headers=LIFE_AUTH, data=form)
        assert graph_error(response)["message"] == message

    async def test_delete_on_a_number_is_not_served(self, life: httpx.AsyncClient) -> None:
        response = await life.delete(f"/v23.0/{PENDING}", headers=LIFE_AUTH)
        assert graph_error(response)["message"].startswith("Unsupported delete request.")


REGISTER = {"messaging_product": "whatsapp", "pin": "123456"}


class TestRegister:
    async def test_the_whole_path_add_code_verify_register(self, life: httpx.AsyncClient) -> None:
        added = await life.post(
            f"/v23.0/{W1}/phone_numbers",
            headers=LIFE_AUTH,
            json={"cc": "1", "phone_number": "6315550190", "verified_name": "Life Pop-up"},
        )
        phone_id = added.json()["id"]
        code = await request_code(life, phone_id)
        await life.post(f"/v23.0/{phone_id}/verify_code", headers=LIFE_AUTH, json={"code": code})
        response = await life.post(f"/v23.0/{phone_id}/register", headers=LIFE_AUTH, json=REGISTER)
        assert response.json() == {"success": True}
        assert await node(life, phone_id, "status,code_verification_status,platform_type,is_pin_enabled") == {
            "status": "CONNECTED",
            "code_verification_status": "VERIFIED",
            "platform_type": "CLOUD_API",
            "is_pin_enabled": True,
            "id": phone_id,
        }
        listing = await life.get(
            f"/v23.0/{W1}/phone_numbers",
            headers=LIFE_AUTH,
            params={"fields": "status", "filtering": '[{"field":"account_mode","operator":"EQUAL","value":"LIVE"}]'},
        )
        assert {"status": "CONNECTED", "id": phone_id} in listing.json()["data"]

    async def test_unverified_number_without_pin_is_133006(self, life: httpx.AsyncClient) -> None:
        response = await life.post(f"/v23.0/{PENDING}/register", headers=LIFE_AUTH, json=REGISTER)
        error = assert_whatsapp_error(response, 133006, "needs to be verified before registering")
        assert error["message"] == "(#133006) Phone number re-verification needed"
        assert (await node(life, PENDING))["status"] == "PENDING"

    async def test_pin_set_elsewhere_must_match(self, life: httpx.AsyncClient) -> None:
        wrong = await life.post(f"/v23.0/{ELSEWHERE}/register", headers=LIFE_AUTH, json=REGISTER)
        error = assert_whatsapp_error(wrong, 133005, "PIN")
        assert error["message"] == "(#133005) Two step verification PIN Mismatch"
        assert (await node(life, ELSEWHERE))["status"] == "MIGRATED"
        right = await life.post(
            f"/v23.0/{ELSEWHERE}/register", headers=LIFE_AUTH, json={"messaging_product": "whatsapp", "pin": "808080"}
        )
        assert right.json() == {"success": True}
        assert (await node(life, ELSEWHERE))["status"] == "CONNECTED"

    async def test_a_pin_set_beforehand_registers(self, life: httpx.AsyncClient) -> None:
        await life.post(f"/v23.0/{PENDING}", headers=LIFE_AUTH, data={"pin": "123456"})
        response = await life.post(f"/v23.0/{PENDING}/register", headers=LIFE_AUTH, json=REGISTER)
        assert response.json() == {"success": True}

    async def test_verified_register_sets_the_pin(self, life: httpx.AsyncClient) -> None:
        code = await request_code(life, PENDING)
        await life.post(f"/v23.0/{PENDING}/verify_code", headers=LIFE_AUTH, data={"code": code})
        await life.post(f"/v23.0/{PENDING}/register", headers=LIFE_AUTH, json=REGISTER)
        other_pin = await life.post(
            f"/v23.0/{PENDING}/register", headers=LIFE_AUTH, json={"messaging_product": "whatsapp", "pin": "999999"}
        )
        assert graph_error(other_pin)["code"] == 133005

    async def test_reregistering_a_connected_number(self, life: httpx.AsyncClient) -> None:
        response = await life.post(
            f"/v23.0/{CONNECTED}/register", headers=LIFE_AUTH, data={"messaging_product": "whatsapp", "pin": "111111"}
        )
        assert response.json() == {"success": True}

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"pin": "123456"}, "(#100) The parameter messaging_product is required"),
            ({"messaging_product": "whatsapp"}, "(#100) The parameter pin is required"),
            ({"messaging_product": "instagram", "pin": "123456"}, '(#100) Param messaging_product must be one of {whatsapp} - got "instagram"'),
            ({"messaging_product": "whatsapp", "pin": "12 34 56"}, "(#100) Invalid PIN format. PIN must be exactly 6 digits"),
        ],
    )  # fmt: skip
    async def test_bad_parameters(self, life: httpx.AsyncClient, body: dict[str, str], message: str) -> None:
        response = await life.post(f"/v23.0/{CONNECTED}/register", headers=LIFE_AUTH, json=body)
        assert response.status_code == 400
        assert graph_error(response)["message"] == message

    async def test_eleventh_register_or_deregister_in_72_hours_is_133016(self, life: httpx.AsyncClient) -> None:
        for _ in range(5):
            assert (await life.post(f"/v23.0/{CONNECTED}/deregister", headers=LIFE_AUTH)).status_code == 200
            ok = await life.post(
                f"/v23.0/{CONNECTED}/register",
                headers=LIFE_AUTH,
                json={"messaging_product": "whatsapp", "pin": "111111"},
            )
            assert ok.status_code == 200
        response = await life.post(f"/v23.0/{CONNECTED}/deregister", headers=LIFE_AUTH)
        error = assert_whatsapp_error(response, 133016, "too many attempts for this phone number")
        assert error["message"] == "(#133016) Account register deregister rate limit exceeded"
        assert (await node(life, CONNECTED))["status"] == "CONNECTED"
        await advance(life, 72 * 3600 - 60)
        assert graph_error(await life.post(f"/v23.0/{CONNECTED}/deregister", headers=LIFE_AUTH))["code"] == 133016
        await advance(life, 120)
        assert (await life.post(f"/v23.0/{CONNECTED}/deregister", headers=LIFE_AUTH)).json() == {"success": True}

    async def test_failed_attempts_count_too(self, life: httpx.AsyncClient) -> None:
        for _ in range(10):
            wrong = await life.post(f"/v23.0/{ELSEWHERE}/register", headers=LIFE_AUTH, json=REGISTER)
            assert graph_error(wrong)["code"] == 133005
        right = await life.post(
            f"/v23.0/{ELSEWHERE}/register", headers=LIFE_AUTH, json={"messaging_product": "whatsapp", "pin": "808080"}
        )
        assert graph_error(right)["code"] == 133016

    async def test_register_limit_is_configurable(self) -> None:
        async with await app_with({"register_max": 1}) as http:
            assert (await http.post(f"/v23.0/{CONNECTED}/deregister", headers=LIFE_AUTH)).status_code == 200
            second = await http.post(f"/v23.0/{UK}/deregister", headers=LIFE_AUTH)
            assert second.status_code == 200  # per number
            third = await http.post(f"/v23.0/{CONNECTED}/register", headers=LIFE_AUTH, json=REGISTER)
            assert graph_error(third)["code"] == 133016


class TestDeregister:
    async def test_deregister_then_not_registered(self, life: httpx.AsyncClient) -> None:
        assert (await life.post(f"/v23.0/{CONNECTED}/deregister", headers=LIFE_AUTH)).json() == {"success": True}
        assert (await node(life, CONNECTED))["status"] == "DISCONNECTED"
        again = await life.post(f"/v23.0/{CONNECTED}/deregister", headers=LIFE_AUTH)
        assert again.status_code == 400
        error = graph_error(again)
        assert (error["code"], error["error_subcode"], error["type"]) == (100, 2207051, "OAuthException")
        assert error["message"] == "Phone number not registered on the WhatsApp Business Platform."

    async def test_pending_number_is_not_registered(self, life: httpx.AsyncClient) -> None:
        response = await life.post(f"/v23.0/{PENDING}/deregister", headers=LIFE_AUTH)
        assert graph_error(response)["error_subcode"] == 2207051

    async def test_other_wabas_number_is_invisible(self, life: httpx.AsyncClient) -> None:
        response = await life.post(f"/v23.0/{CONNECTED}/deregister", headers={"Authorization": f"Bearer {W2_TOKEN}"})
        assert graph_error(response)["error_subcode"] == 33
        ok = await life.post(f"/v23.0/{UK}/deregister", headers={"Authorization": f"Bearer {W2_TOKEN}"})
        assert ok.json() == {"success": True}
        stored = (await life.get("/_emulator/state")).json()["wabas"][W2]["phone_numbers"][0]
        assert stored["status"] == "DISCONNECTED"


class TestClockControl:
    async def test_advance_and_set(self, life: httpx.AsyncClient) -> None:
        before = (await life.get("/_emulator/clock")).json()
        assert before["offset"] == 0
        after = (await life.post("/_emulator/clock", json={"advance": 3600})).json()
        assert after["offset"] == 3600 and after["now"] - before["now"] >= 3600
        fixed = (await life.post("/_emulator/clock", json={"set": 1_750_000_000})).json()
        assert abs(fixed["now"] - 1_750_000_000) < 5
        assert fixed["iso"].startswith("2025-06-15T")
        await life.post("/_emulator/reset")
        assert (await life.get("/_emulator/clock")).json()["offset"] == 0

    @pytest.mark.parametrize("body", [{}, {"advance": "1"}, {"advance": 1, "set": 2}, {"jump": 1}, [], {"set": True}])
    async def test_bad_bodies(self, life: httpx.AsyncClient, body: object) -> None:
        response = await life.post("/_emulator/clock", json=body)
        assert response.status_code == 400
        assert response.json()["error"]["type"] == "InvalidClock"

    async def test_reset_forgets_codes_and_attempts(self, life: httpx.AsyncClient) -> None:
        await request_code(life, PENDING)
        await life.post("/_emulator/reset")
        assert (await life.get("/_emulator/verification_codes")).json() == {"verification_codes": []}
        assert (await life.get(f"/_emulator/verification_codes/{PENDING}")).json()["error"]["type"] == "NotFound"
