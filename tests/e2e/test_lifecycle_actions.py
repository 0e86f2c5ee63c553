"""A number's life through the SDKs: add, verification code, registration, metrics, deregistration; Meta's refusals.

Every refusal of Meta's is checked for its CAMS code, its message (Meta's code and the next step)
and for leaving the stored numbers exactly as they were. Every code and PIN read from the
emulator joins the session's log scan.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ..harness import legacy_action, node_action, node_available
from .business import BLOCKED, FIRST, LUCKY, World
from .onboarding import (
    DAY_MS,
    advance_clock,
    change_number,
    into_the_log_scan,
    meta_number,
    meta_pin,
    now_ms,
    number_id,
    stored_pin,
    verification_code,
)

CC, LOCAL = "1", "5550100777"
NEW = CC + LOCAL  # what every later action calls it
IN_ANOTHER_WABA = ("44", "7700900123")  # the Unbound Shrub WABA's number


@pytest.fixture(autouse=True)
def pins_and_codes_join_the_log_scan(world: World) -> Iterator[None]:
    yield
    into_the_log_scan(world.emulator)


def numbers(world: World, space: str) -> dict[str, dict[str, Any]]:
    """QueryChatappPhoneNumbers, by number."""
    body = world.call("QueryChatappPhoneNumbers", cust_space_id=space)
    return {n["PhoneNumber"]: n for n in body.to_map()["PhoneNumbers"]}


def synced(world: World, space: str) -> dict[str, dict[str, Any]]:
    body = world.call("ChatappSyncPhoneNumber", cust_space_id=space)
    return {n["PhoneNumber"]: n for n in body.to_map()["PhoneNumbers"]}


def added(world: World) -> tuple[str, str]:
    """A synced space with NEW added to it: (space, Meta's id of NEW)."""
    space = world.synced()
    world.call("AddChatappPhoneNumber", cust_space_id=space, cc=CC, phone_number=LOCAL, verified_name="Lucky Kiosk")
    return space, number_id(world.emulator, NEW)


def registered(world: World) -> tuple[str, str]:
    """A synced space with NEW added, verified and registered through opencams."""
    space, phone_id = added(world)
    world.call("GetChatappVerifyCode", cust_space_id=space, phone_number=NEW, method="SMS", locale="en_US")
    code = verification_code(world.emulator, phone_id)
    world.call("ChatappVerifyAndRegister", cust_space_id=space, phone_number=NEW, verify_code=code)
    return space, phone_id


def refused(world: World, action: str, meta_code: str, next_step: str, **params: Any) -> None:
    """The action fails with ERR-FB-001 naming Meta's code and the next step, and stores nothing."""
    space = params["cust_space_id"]
    before = world.admin.raw_rows(space)
    error = world.error(action, **params)
    assert (error.code, error.status_code) == ("ERR-FB-001", 400)
    message = error.data["Message"]  # as opencams wrote it (the SDK's `message` adds code and RequestId)
    assert message.startswith(f"Meta refused the request ({meta_code}): "), message
    assert next_step in message and re.search(r"\. fbtrace_id=[A-Za-z0-9_-]+$", message), message
    assert world.admin.raw_rows(space) == before


# --- the whole life -------------------------------------------------------------------------------


def test_a_numbers_life_through_the_new_sdk(world: World) -> None:
    space = world.synced()
    body = world.call(
        "AddChatappPhoneNumber", cust_space_id=space, cc=CC, phone_number=LOCAL, verified_name="Lucky Kiosk"
    )
    assert (body.code, body.success) == ("OK", True)
    phone_id = number_id(world.emulator, NEW)
    # Stored at once, as Meta has it: no sync needed to see it.
    assert numbers(world, space)[NEW] == {
        "PhoneNumber": NEW,
        "VerifiedName": "Lucky Kiosk",
        "Status": "PENDING",
        "QualityRating": "UNKNOWN",
        "CodeVerificationStatus": "NOT_VERIFIED",
        "NameStatus": "Pending_Review",
    }

    body = world.call("GetChatappVerifyCode", cust_space_id=space, phone_number=NEW, method="sms", locale="en_US")
    assert (body.code, body.success) == ("OK", True)
    sent = httpx.get(f"{world.emulator.url}/_emulator/verification_codes/{phone_id}").json()
    assert (sent["code_method"], sent["language"]) == ("SMS", "en_US")
    code = verification_code(world.emulator, phone_id)

    world.emulator.clear_calls()
    body = world.call("ChatappVerifyAndRegister", cust_space_id=space, phone_number=NEW, verify_code=code)
    assert (body.code, body.success) == ("OK", True)
    after = numbers(world, space)[NEW]
    assert (after["Status"], after["CodeVerificationStatus"]) == ("CONNECTED", "VERIFIED")
    # The PIN: set at Meta before registering, the same one kept sealed, never in a URL.
    pin = meta_pin(world.emulator, phone_id)
    sealed, kept = stored_pin(world.admin, phone_id)
    assert pin is not None and len(pin) == 6 and pin.isdigit() and kept == pin
    assert sealed is not None and sealed.startswith("v2:") and pin not in sealed
    posts = [c["path"].split("/", 2)[-1] for c in world.emulator.calls() if c["method"] == "POST"]
    assert posts == [f"{phone_id}/verify_code", phone_id, f"{phone_id}/register"]
    assert not any(pin in str(c["query"]) or code in str(c["query"]) for c in world.emulator.calls())

    # A sync agrees with what was stored after each step.
    assert synced(world, space)[NEW] == after == numbers(world, space)[NEW]

    start = now_ms() - 3 * DAY_MS
    metric = world.call("GetChatappPhoneNumberMetric", cust_space_id=space, phone_number=NEW, start=start, end=now_ms())
    points = metric.to_map()["Data"]
    assert 3 <= len(points) <= 4
    for point in points:
        assert point["PhoneNumber"] == NEW and point["Granularity"] == "DAILY"
        assert point["End"] - point["Start"] == DAY_MS and point["Start"] % DAY_MS == 0
        assert 0 <= point["DeliveredCount"] <= point["SentCount"]
    assert points[0]["Start"] <= start < points[0]["End"]

    body = world.call("ChatappPhoneNumberDeregister", cust_space_id=space, phone_number=NEW)
    assert body.code == "OK" and "Success" not in body.to_map()
    assert numbers(world, space)[NEW]["Status"] == "DISCONNECTED"
    assert synced(world, space)[NEW]["Status"] == "DISCONNECTED" == numbers(world, space)[NEW]["Status"]
    # Registering again reuses the kept PIN: nothing is set at Meta a second time.
    world.emulator.clear_calls()
    world.call("ChatappPhoneNumberRegister", cust_space_id=space, phone_number=NEW)
    posts = [c["path"].split("/", 2)[-1] for c in world.emulator.calls() if c["method"] == "POST"]
    assert posts == [f"{phone_id}/register"]
    assert numbers(world, space)[NEW]["Status"] == "CONNECTED" and stored_pin(world.admin, phone_id)[1] == pin


def test_the_same_life_through_the_legacy_sdk(world: World) -> None:
    space = world.synced()

    def legacy(action: str, **params: str) -> dict[str, Any]:
        body: dict[str, Any] = legacy_action(world.server, world.key, action, CustSpaceId=space, **params)
        assert body["Code"] == "OK", body
        return body

    assert legacy("AddChatappPhoneNumber", Cc=CC, PhoneNumber=LOCAL, VerifiedName="Lucky Kiosk")["Success"] is True
    phone_id = number_id(world.emulator, NEW)
    legacy("GetChatappVerifyCode", PhoneNumber=NEW, Method="VOICE", Locale="zh_CN")
    legacy("ChatappVerifyAndRegister", PhoneNumber=NEW, VerifyCode=verification_code(world.emulator, phone_id))
    row = next(n for n in legacy("ChatappSyncPhoneNumber")["PhoneNumbers"] if n["PhoneNumber"] == NEW)
    assert (row["Status"], row["CodeVerificationStatus"]) == ("CONNECTED", "VERIFIED")
    metric = legacy(
        "GetChatappPhoneNumberMetric",
        PhoneNumber=NEW,
        Start=str(now_ms() - 2 * 3_600_000),
        End=str(now_ms()),
        Granularity="HALF_HOUR",
    )
    assert len(metric["Data"]) in (4, 5) and {p["Granularity"] for p in metric["Data"]} == {"HALF_HOUR"}
    assert all(p["End"] - p["Start"] == 1_800_000 for p in metric["Data"])
    legacy("ChatappPhoneNumberDeregister", PhoneNumber=NEW)  # the legacy SDK sends this one as a form body
    row = next(n for n in legacy("ChatappSyncPhoneNumber")["PhoneNumbers"] if n["PhoneNumber"] == NEW)
    assert row["Status"] == "DISCONNECTED"
    legacy("ChatappPhoneNumberRegister", PhoneNumber=NEW)
    assert numbers(world, space)[NEW]["Status"] == "CONNECTED"
    meta_pin(world.emulator, phone_id)  # into the log scan


def test_the_same_life_through_the_node_sdk(world: World) -> None:
    if not node_available():
        pytest.skip("the Node SDK is not installed (tests/node)")
    space = world.synced()

    def node(action: str, **params: Any) -> dict[str, Any]:
        answer = node_action(world.server, world.key, action, custSpaceId=space, **params)
        assert answer.get("body", {}).get("Code") == "OK", answer  # this SDK's models have no Success
        return answer["body"]  # type: ignore[no-any-return]

    node("AddChatappPhoneNumber", cc=CC, phoneNumber=LOCAL, verifiedName="Lucky Kiosk")
    phone_id = number_id(world.emulator, NEW)
    node("GetChatappVerifyCode", phoneNumber=NEW, method="SMS", locale="en_US")
    node("ChatappVerifyAndRegister", phoneNumber=NEW, verifyCode=verification_code(world.emulator, phone_id))
    assert numbers(world, space)[NEW]["Status"] == "CONNECTED"
    metric = node("GetChatappPhoneNumberMetric", start=now_ms() - DAY_MS, end=now_ms())
    assert {p["PhoneNumber"] for p in metric["Data"]} == {FIRST, BLOCKED, NEW}
    node("ChatappPhoneNumberDeregister", phoneNumber=NEW)
    assert numbers(world, space)[NEW]["Status"] == "DISCONNECTED"
    meta_pin(world.emulator, phone_id)


# --- Meta's refusals ------------------------------------------------------------------------------


def test_a_wrong_code(world: World) -> None:
    space, phone_id = added(world)
    world.call("GetChatappVerifyCode", cust_space_id=space, phone_number=NEW, method="SMS", locale="en_US")
    code = verification_code(world.emulator, phone_id)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    refused(world, "ChatappVerifyAndRegister", "code 136025",
            "the verification code is wrong or has expired; request a new one with GetChatappVerifyCode, then retry",
            cust_space_id=space, phone_number=NEW, verify_code=wrong)  # fmt: skip
    assert meta_number(world.emulator, phone_id)["code_verification_status"] == "NOT_VERIFIED"
    assert stored_pin(world.admin, phone_id) == (None, None)
    # The right code still works (a wrong one does not spend it).
    world.call("ChatappVerifyAndRegister", cust_space_id=space, phone_number=NEW, verify_code=code)


def test_an_expired_code(world: World) -> None:
    space, phone_id = added(world)
    world.call("GetChatappVerifyCode", cust_space_id=space, phone_number=NEW, method="SMS", locale="en_US")
    code = verification_code(world.emulator, phone_id)
    advance_clock(world.emulator, 601)  # Meta's codes live 10 minutes
    refused(world, "ChatappVerifyAndRegister", "code 136025",
            "the verification code is wrong or has expired; request a new one with GetChatappVerifyCode, then retry",
            cust_space_id=space, phone_number=NEW, verify_code=code)  # fmt: skip
    # The next step the message names works.
    world.call("GetChatappVerifyCode", cust_space_id=space, phone_number=NEW, method="SMS", locale="en_US")
    fresh = verification_code(world.emulator, phone_id)
    world.call("ChatappVerifyAndRegister", cust_space_id=space, phone_number=NEW, verify_code=fresh)
    assert numbers(world, space)[NEW]["Status"] == "CONNECTED"


def test_too_many_code_requests(world: World) -> None:
    space, phone_id = added(world)
    for _ in range(5):  # Meta sends at most 5 codes an hour to a number (the emulator's setting)
        world.call("GetChatappVerifyCode", cust_space_id=space, phone_number=NEW, method="SMS", locale="en_US")
        verification_code(world.emulator, phone_id)
    refused(world, "GetChatappVerifyCode", "code 136024",
            "too many were requested for this number; wait an hour, then call GetChatappVerifyCode again",
            cust_space_id=space, phone_number=NEW, method="SMS", locale="en_US")  # fmt: skip
    advance_clock(world.emulator, 3601)
    world.call("GetChatappVerifyCode", cust_space_id=space, phone_number=NEW, method="VOICE", locale="en_US")
    verification_code(world.emulator, phone_id)


def test_ten_registrations_in_72_hours(world: World) -> None:
    space, phone_id = registered(world)  # attempt 1
    for attempt in range(2, 11):
        action = "ChatappPhoneNumberDeregister" if attempt % 2 == 0 else "ChatappPhoneNumberRegister"
        world.call(action, cust_space_id=space, phone_number=NEW)
    assert numbers(world, space)[NEW]["Status"] == "DISCONNECTED"
    refused(world, "ChatappPhoneNumberRegister", "code 133016",
            "Meta allows 10 attempts in 72 hours); retry when the oldest of them is 72 hours old",
            cust_space_id=space, phone_number=NEW)  # fmt: skip
    assert meta_number(world.emulator, phone_id)["status"] == "DISCONNECTED"
    advance_clock(world.emulator, 72 * 3600 + 60)
    world.call("ChatappPhoneNumberRegister", cust_space_id=space, phone_number=NEW)
    assert numbers(world, space)[NEW]["Status"] == "CONNECTED"
    meta_pin(world.emulator, phone_id)


def test_deregistering_a_number_that_is_not_registered(world: World) -> None:
    space, _ = added(world)
    refused(world, "ChatappPhoneNumberDeregister", "code 100, subcode 2207051",
            "the number is not registered on the WhatsApp Business Platform, so there is nothing to deregister",
            cust_space_id=space, phone_number=NEW)  # fmt: skip


def test_a_number_already_in_another_waba(world: World) -> None:
    space = world.synced()
    cc, local = IN_ANOTHER_WABA
    refused(world, "AddChatappPhoneNumber", "code 200000",
            "the number is already in another WhatsApp Business Account; remove it there",
            cust_space_id=space, cc=cc, phone_number=local, verified_name="Mine Now")  # fmt: skip
    assert cc + local not in numbers(world, space)


def test_a_number_registered_elsewhere_with_a_pin_opencams_does_not_know(world: World) -> None:
    space = world.synced()
    first = number_id(world.emulator, FIRST)
    theirs = meta_pin(world.emulator, first)  # 111111, set outside opencams; Meta reports is_pin_enabled
    assert theirs is not None and meta_number(world.emulator, first)["is_pin_enabled"] is True
    refused(world, "ChatappPhoneNumberRegister", "code 133005",
            "turn off two-step verification for the number in WhatsApp Manager, or ask whoever set it to, "
            "then retry: opencams then sets its own PIN", cust_space_id=space, phone_number=FIRST)  # fmt: skip
    # Their PIN was not replaced, and opencams kept none.
    assert meta_pin(world.emulator, first) == theirs and stored_pin(world.admin, first) == (None, None)
    # The owner turns two-step verification off (WhatsApp Manager): the retry sets opencams's PIN.
    change_number(world.emulator, first, {"pin": None, "is_pin_enabled": False})
    assert world.call("ChatappPhoneNumberRegister", cust_space_id=space, phone_number=FIRST).code == "OK"
    ours = meta_pin(world.emulator, first)
    assert ours is not None and ours != theirs and stored_pin(world.admin, first)[1] == ours


def test_a_number_meta_wants_verified_first(world: World) -> None:
    space, phone_id = added(world)
    world.emulator.add_fault({"path": f"*/{phone_id}/register", "action": {"error": {"code": 133006}}})
    refused(world, "ChatappPhoneNumberRegister", "code 133006",
            "request a code with GetChatappVerifyCode, then call ChatappVerifyAndRegister with it",
            cust_space_id=space, phone_number=NEW)  # fmt: skip


def test_a_refusal_after_the_code_was_accepted_still_stores_the_verification(world: World) -> None:
    space, phone_id = added(world)
    world.call("GetChatappVerifyCode", cust_space_id=space, phone_number=NEW, method="SMS", locale="en_US")
    code = verification_code(world.emulator, phone_id)
    world.emulator.add_fault({"path": f"*/{phone_id}/register", "action": {"error": {"code": 133016}}})
    error = world.error("ChatappVerifyAndRegister", cust_space_id=space, phone_number=NEW, verify_code=code)
    assert error.code == "ERR-FB-001" and "(code 133016)" in error.message
    row = numbers(world, space)[NEW]
    assert (row["Status"], row["CodeVerificationStatus"]) == ("PENDING", "VERIFIED")


def test_meta_echoing_a_pin_or_code_does_not_pass_it_on(world: World) -> None:
    space, phone_id = added(world)
    world.call("GetChatappVerifyCode", cust_space_id=space, phone_number=NEW, method="SMS", locale="en_US")
    code = verification_code(world.emulator, phone_id)
    world.emulator.add_fault(
        {"path": f"*/{phone_id}/verify_code", "action": {"error": {"code": 100, "message": f"(#100) bad code {code}"}}}
    )
    error = world.error("ChatappVerifyAndRegister", cust_space_id=space, phone_number=NEW, verify_code=code)
    assert code not in error.message and "bad code ***" in error.message


# --- parameters and lookups -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "code", "named"),
    [
        ({"cc": "44", "phone_number": "7" * 14}, "InvalidParameter", "PhoneNumber"),  # 16 digits in all
        ({"cc": "1", "phone_number": "5" * 15}, "InvalidParameter", "PhoneNumber"),
        ({"cc": "1", "phone_number": "555"}, "InvalidParameter", "PhoneNumber"),
        ({"cc": "0", "phone_number": LOCAL}, "InvalidParameter", "Cc"),
        ({"cc": "+1", "phone_number": "+15550100777"}, "InvalidParameter", "PhoneNumber"),
        ({"cc": "1", "phone_number": LOCAL, "verified_name": "x" * 76}, "InvalidParameter", "VerifiedName"),
        ({"cc": "1", "phone_number": LOCAL, "pre_validate_id": "abc"}, "InvalidParameter", "PreValidateId"),
        ({"phone_number": LOCAL}, "MissingCc", "Cc"),
    ],
)
def test_add_refusals(world: World, params: dict[str, str], code: str, named: str) -> None:
    space = world.synced()
    params = {"verified_name": "Lucky Kiosk", **params}
    error = world.error("AddChatappPhoneNumber", cust_space_id=space, **params)
    assert (error.code, error.status_code) == (code, 400) and named in error.message


def test_a_plus_before_the_country_code_is_accepted(world: World) -> None:
    space = world.synced()
    world.call("AddChatappPhoneNumber", cust_space_id=space, cc="+1", phone_number=LOCAL, verified_name="Kiosk")
    assert numbers(world, space)[NEW]["Status"] == "PENDING"


def test_steps_on_a_number_that_is_not_in_the_space(world: World) -> None:
    space = world.synced()
    for action, extra in (
        ("GetChatappVerifyCode", {"method": "SMS", "locale": "en_US"}),
        ("ChatappVerifyAndRegister", {"verify_code": "123456"}),
        ("ChatappPhoneNumberRegister", {}),
        ("ChatappPhoneNumberDeregister", {}),
    ):
        error = world.error(action, cust_space_id=space, phone_number="15550000000", **extra)
        assert (error.code, error.status_code) == ("ERR-OPERATION-MAAP-0065", 400), action
    other = world.admin.account()
    error = world.error("ChatappPhoneNumberRegister", cust_space_id=world.admin.space(other, LUCKY), phone_number=FIRST)
    assert error.code == "Unknown.ResourceOwnerId"


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"method": "EMAIL", "locale": "en_US"}, "Method"),
        ({"method": "SMS", "locale": "english"}, "Locale"),
        ({"method": "SMS", "locale": "en-US"}, "Locale"),
    ],
)
def test_verify_code_refusals(world: World, params: dict[str, str], named: str) -> None:
    space = world.synced()
    error = world.error("GetChatappVerifyCode", cust_space_id=space, phone_number=FIRST, **params)
    assert (error.code, error.status_code) == ("InvalidParameter", 400) and named in error.message


def test_pre_validated_numbers_are_alibabas_inventory(world: World) -> None:
    error = world.error("GetPreValidatePhoneId", phone_number="8613800000000", verify_code="208393")
    assert (error.code, error.status_code) == ("OperationNotSupported", 400)
    assert "Alibaba's own number inventory" in error.message and "AddChatappPhoneNumber" in error.message
    # The legacy SDK sends both parameters in a form body.
    with pytest.raises(Exception) as info:
        legacy_action(world.server, world.key, "GetPreValidatePhoneId", PhoneNumber="861380000", VerifyCode="208393")
    assert "OperationNotSupported" in str(info.value)
