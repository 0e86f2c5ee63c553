"""GetWhatsappHealthStatus and GetPhoneNumberVerificationStatus through the SDKs: read live from Meta."""

from __future__ import annotations

from typing import Any

import pytest

from ..harness import legacy_action, node_action, node_available
from .business import BLOCKED, FIRST, LUCKY, UNBOUND, World

# --- GetWhatsappHealthStatus / GetPhoneNumberVerificationStatus ----------------------------------


def test_health_of_the_waba_and_of_a_number(world: World) -> None:
    space = world.synced()
    waba = world.call("GetWhatsappHealthStatus", cust_space_id=space, node_type="waba").data.to_map()
    assert waba["CanSendMessage"] == "LIMITED"
    by_type = {e["EntityType"]: e for e in waba["Entities"]}
    assert by_type["WABA"] == {
        "EntityType": "WABA",
        "CanSendMessage": "LIMITED",
        "WabaId": LUCKY,
        "Errors": [
            {
                "ErrorCode": "141010",
                "ErrorDescription": "The Business has not passed business verification.",
                "PossibleSolution": "Visit business settings and start or resolve the business verification request.",
            }
        ],
    }
    assert by_type["BUSINESS"]["BusinessId"] == "777000000000001"
    assert "PHONE_NUMBER" not in by_type
    phone = world.call("GetWhatsappHealthStatus", cust_space_id=space, node_type="phone", phone_number=BLOCKED).data
    assert phone.can_send_message == "BLOCKED"
    number = next(e for e in phone.entities if e.entity_type == "PHONE_NUMBER")
    assert (number.phone_number, number.can_send_message, number.errors[0].error_code) == (BLOCKED, "BLOCKED", "131031")
    legacy = legacy_action(
        world.server, world.key, "GetWhatsappHealthStatus", CustSpaceId=space, NodeType="PHONE", PhoneNumber=FIRST
    )
    assert legacy["Data"]["CanSendMessage"] == "LIMITED"  # the WABA's limit weighs on its numbers too


@pytest.mark.parametrize(
    ("params", "code", "named"),
    [
        ({"node_type": "flow"}, "InvalidParameter", "NodeType"),
        ({"node_type": "phone"}, "InvalidParameter", "PhoneNumber"),
        ({"node_type": "phone", "phone_number": "15550000000"}, "ERR-OPERATION-MAAP-0065", ""),
        ({"node_type": "waba", "waba_id": UNBOUND}, "InvalidParameter", "WabaId"),
        ({"node_type": "template"}, "InvalidParameter", "TemplateCode"),
        ({}, "MissingNodeType", "NodeType"),
    ],
)
def test_health_refusals(world: World, params: dict[str, str], code: str, named: str) -> None:
    space = world.synced()
    error = world.error("GetWhatsappHealthStatus", cust_space_id=space, **params)
    assert error.code == code
    assert named in error.message


def test_health_is_limited_to_five_calls_a_second(world: World) -> None:
    space = world.synced()
    codes = []
    for _ in range(7):
        try:
            codes.append(world.call("GetWhatsappHealthStatus", cust_space_id=space, node_type="waba").code)
        except Exception as exc:  # the new SDK raises ThrottlingException for System.LimitControl
            codes.append(getattr(exc, "code", "?"))
    assert codes.count("OK") == 5 and codes.count("System.LimitControl") == 2


def test_verification_status_is_read_live(world: World) -> None:
    space = world.synced()
    body = world.call("GetPhoneNumberVerificationStatus", cust_space_id=space, phone_number=BLOCKED)
    assert body.data.to_map() == {"PhoneNumber": BLOCKED, "Id": "310000000000002", "CodeVerificationStatus": "EXPIRED"}
    world.emulator.set_state(
        _with_number_field(world.emulator.state(), "310000000000002", "code_verification_status", "VERIFIED")
    )
    again = world.call("GetPhoneNumberVerificationStatus", cust_space_id=space, phone_number="+1 555-078-3882")
    assert again.data.code_verification_status == "VERIFIED"
    assert world.error("GetPhoneNumberVerificationStatus", cust_space_id=space, phone_number="123").code == (
        "ERR-OPERATION-MAAP-0065"
    )
    legacy = legacy_action(
        world.server, world.key, "GetPhoneNumberVerificationStatus", CustSpaceId=space, PhoneNumber=FIRST
    )
    assert legacy["Data"]["CodeVerificationStatus"] == "VERIFIED"
    if node_available():
        node = node_action(
            world.server, world.key, "GetPhoneNumberVerificationStatus", custSpaceId=space, phoneNumber=FIRST
        )
        assert node["body"]["Data"]["Id"] == "310000000000001"


def _with_number_field(state: dict[str, Any], number_id: str, key: str, value: Any) -> dict[str, Any]:
    for waba in state["wabas"].values():
        for number in waba["phone_numbers"]:
            if number["id"] == number_id:
                number[key] = value
    return state
