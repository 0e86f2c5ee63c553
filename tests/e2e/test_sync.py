"""ChatappSyncPhoneNumber end to end: official SDK -> opencams -> Graph emulator -> database."""

from __future__ import annotations

import copy
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from alibabacloud_cams20200606 import models
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException, ThrottlingException

from ..harness import WABA_250, Admin, Emulator, load_fixture, new_sdk

NAME = {"APPROVED": "Approval", "PENDING_REVIEW": "Pending_Review", "DECLINED": "Rejected"}


def expected_item(node: dict[str, Any], status_url: str | None = None, up_url: str | None = None) -> dict[str, Any]:
    """cams.md §3.3, written out independently of opencams' own mapping code."""
    item: dict[str, Any] = {"PhoneNumber": re.sub(r"[^0-9]", "", node["display_phone_number"])}
    if node.get("verified_name"):
        item["VerifiedName"] = node["verified_name"]
    if node.get("status"):
        item["Status"] = node["status"]
    if node.get("quality_rating"):
        item["QualityRating"] = "UNKNOWN" if node["quality_rating"] == "NA" else node["quality_rating"]
    if node.get("code_verification_status"):
        item["CodeVerificationStatus"] = node["code_verification_status"]
    for meta, cams in (("name_status", "NameStatus"), ("new_name_status", "NewNameStatus")):
        if node.get(meta):
            item[cams] = NAME.get(node[meta], node[meta])
    tier = node.get("messaging_limit_tier") or node.get("whatsapp_business_manager_messaging_limit")
    if tier:
        item["MessagingLimitTier"] = tier
    if "is_official_business_account" in node:
        item["IsOfficial"] = "true" if node["is_official_business_account"] else "false"
    if status_url:
        item["StatusCallbackUrl"] = status_url
    if up_url:
        item["UpCallbackUrl"] = up_url
    return item


@pytest.fixture
def owner(admin: Admin) -> tuple[str, tuple[str, str], str]:
    account = admin.account()
    return account, admin.key(account), admin.space(account)


def sync_raw(server: str, key: tuple[str, str], space: str) -> dict[str, Any]:
    response = new_sdk(server, key).chatapp_sync_phone_number(models.ChatappSyncPhoneNumberRequest(cust_space_id=space))
    assert response.status_code == 200
    return response.body.to_map()  # type: ignore[no-any-return]


def test_sync_maps_all_250_in_metas_order(server: str, owner: tuple[str, tuple[str, str], str]) -> None:
    _, key, space = owner
    nodes = load_fixture("waba_250.json")["wabas"][WABA_250]["phone_numbers"]
    body = sync_raw(server, key, space)
    assert body["Code"] == "OK" and body["Message"] == "OK" and body["Success"] is True
    assert "AccessDeniedDetail" not in body
    items = body["PhoneNumbers"]
    assert len(items) == 250
    assert items == [expected_item(n) for n in nodes]
    assert all(v is not None for item in items for v in item.values())
    # The fixture covers every case the mapping must handle.
    assert {i["Status"] for i in items} >= {
        "PENDING",
        "DELETED",
        "MIGRATED",
        "BANNED",
        "RESTRICTED",
        "RATE_LIMITED",
        "FLAGGED",
        "CONNECTED",
        "DISCONNECTED",
        "UNKNOWN",
        "UNVERIFIED",
    }
    assert {i["QualityRating"] for i in items} == {"GREEN", "YELLOW", "RED", "UNKNOWN"}
    assert "EXPIRED" in {i["CodeVerificationStatus"] for i in items}
    assert {i.get("NameStatus") for i in items} >= {
        "Approval",
        "Pending_Review",
        "Rejected",
        "EXPIRED",
        "NONE",
        None,
    }
    assert any("MessagingLimitTier" not in i for i in items)
    assert any(
        n.get("messaging_limit_tier") is None and n.get("whatsapp_business_manager_messaging_limit") for n in nodes
    )
    assert any(n["display_phone_number"].isdigit() for n in nodes)


def test_resync_follows_meta_and_keeps_settings(
    server: str, admin: Admin, emulator: Emulator, owner: tuple[str, tuple[str, str], str]
) -> None:
    account, key, _ = owner
    space = admin.space(
        account, status_callback_url="https://isv.example/status", up_callback_url="https://isv.example/in"
    )
    client = new_sdk(server, key)
    state = load_fixture("waba_250.json")
    nodes = state["wabas"][WABA_250]["phone_numbers"]
    first = sync_raw(server, key, space)["PhoneNumbers"]
    assert all(i["StatusCallbackUrl"] == "https://isv.example/status" for i in first)

    # Give three numbers their own callback URLs through UpdatePhoneWebhook.
    special = [nodes[i] for i in (3, 4, 5)]
    for n in special:
        client.update_phone_webhook(
            models.UpdatePhoneWebhookRequest(
                cust_space_id=space,
                phone_number=re.sub(r"\D", "", n["display_phone_number"]),
                status_callback_url=f"https://own.example/{n['id']}/status",
                up_callback_url=f"https://own.example/{n['id']}/in",
            )
        )

    changed = copy.deepcopy(state)
    numbers = changed["wabas"][WABA_250]["phone_numbers"]
    removed = [n for n in numbers if n["id"] in {special[0]["id"], special[1]["id"], nodes[10]["id"]}]
    numbers[:] = [n for n in numbers if n not in removed]
    numbers[0]["quality_rating"] = "RED" if numbers[0]["quality_rating"] != "RED" else "GREEN"
    added = {
        "id": "999000111222333",
        "display_phone_number": "+62 812-0000-9999",
        "verified_name": "New Shop",
        "status": "PENDING",
        "quality_rating": "NA",
        "code_verification_status": "NOT_VERIFIED",
    }
    numbers.append(added)
    emulator.set_state(changed)

    second = sync_raw(server, key, space)["PhoneNumbers"]

    def urls(n: dict[str, Any]) -> tuple[str, str]:
        if n["id"] in {s["id"] for s in special}:
            return f"https://own.example/{n['id']}/status", f"https://own.example/{n['id']}/in"
        return "https://isv.example/status", "https://isv.example/in"

    assert second == [expected_item(n, *urls(n)) for n in numbers]
    assert len(second) == 248

    # Restored numbers come back with the callback URLs they had before they vanished.
    emulator.set_state(state)
    for _ in range(3):
        third = sync_raw(server, key, space)["PhoneNumbers"]
    assert third == [expected_item(n, *urls(n)) for n in nodes]
    assert len(admin.numbers(space, include_removed=True)) == 251


FAILURES = [
    (
        "bad token",
        {
            "error": {
                "code": 190,
                "subcode": 463,
                "status": 401,
                "message": "Error validating access token: Session has expired",
                "type": "OAuthException",
            }
        },
        400,
        "ERR-FB-001",
    ),
    (
        "no access",
        {"error": {"code": 200, "status": 403, "message": "Permissions error", "type": "OAuthException"}},
        400,
        "ERR-FB-001",
    ),
    (
        "unknown waba",
        {
            "error": {
                "code": 100,
                "subcode": 33,
                "status": 400,
                "message": "Unsupported get request.",
                "type": "GraphMethodException",
            }
        },
        400,
        "ERR-FB-001",
    ),
    ("malformed json", {"malformed": True}, 503, "ServiceUnavailable"),
    ("truncated json", {"truncated": True}, 503, "ServiceUnavailable"),
    ("dropped connection", {"drop": True}, 503, "ServiceUnavailable"),
    ("timeout", {"delay": 30}, 503, "ServiceUnavailable"),
    (
        "rate limited",
        {"error": {"code": 80007, "status": 400, "message": "Rate limit hit"}},
        503,
        "ServiceUnavailable",
    ),
]


@pytest.mark.parametrize(("name", "action", "status", "code"), FAILURES, ids=[f[0] for f in FAILURES])
def test_upstream_failure_leaves_storage_unchanged(
    server: str,
    admin: Admin,
    emulator: Emulator,
    owner: tuple[str, tuple[str, str], str],
    name: str,
    action: dict[str, Any],
    status: int,
    code: str,
) -> None:
    _, key, space = owner
    sync_raw(server, key, space)
    before = admin.raw_rows(space)
    # Fail the last page only, so earlier pages were fetched: nothing of them may be stored.
    emulator.add_fault({"path": f"*/{WABA_250}/phone_numbers", "skip": 2, "action": action})
    client = new_sdk(server, key)
    client._read_timeout = 30000  # the SDK's own timeout must outlast opencams' sync deadline
    with pytest.raises((ClientException, ServerException, ThrottlingException)) as info:
        client.chatapp_sync_phone_number(models.ChatappSyncPhoneNumberRequest(cust_space_id=space))
    assert info.value.code == code
    assert info.value.status_code == status
    if code == "ERR-FB-001":
        assert "code=" in info.value.message and "fbtrace_id=" in info.value.message
        assert "test-token" not in info.value.message
    assert admin.raw_rows(space) == before


def test_emulator_stopped(admin: Admin, settings: Any) -> None:
    from opencams.bootstrap import create_app

    from ..harness import free_port, serve_app

    settings.graph_url = f"http://127.0.0.1:{free_port()}"
    account = admin.account()
    key = admin.key(account)
    space = admin.space(account)
    with serve_app(create_app(settings)) as url, pytest.raises(ServerException) as info:
        sync_raw(url.removeprefix("http://"), key, space)
    assert info.value.code == "ServiceUnavailable"
    assert info.value.status_code == 503
    assert admin.raw_rows(space) == []


def test_concurrent_syncs_of_one_space(settings: Any, admin: Admin, owner: tuple[str, tuple[str, str], str]) -> None:
    from opencams.bootstrap import create_app

    from ..harness import serve_app

    _, key, space = owner
    # Above the 10/s limit, so all 20 reach the sync.
    settings.rate_limits = "ChatappSyncPhoneNumber=100/s"
    with serve_app(create_app(settings)) as url, ThreadPoolExecutor(20) as pool:
        bodies = list(pool.map(lambda _: sync_raw(url.removeprefix("http://"), key, space), range(20)))
    first = bodies[0]["PhoneNumbers"]
    assert len(first) == 250
    assert all(b["PhoneNumbers"] == first for b in bodies)
    assert len({b["RequestId"] for b in bodies}) == 20
    rows = admin.raw_rows(space)
    assert len(rows) == 250
    assert len({r[1] for r in rows}) == 250
