"""10 calls per second per account, through the official SDK and raw requests."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from alibabacloud_cams20200606 import models
from alibabacloud_tea_openapi.exceptions import ThrottlingException

from opencams.db.limits import AccountRateStore
from opencams.ratelimit import Rate

from ..harness import Admin, new_sdk, sign_v1, v1_params

SMALL_WABA = "109876543210987"  # 3 numbers, readable with other-token: syncs are quick


def small_space(admin: Admin, account: str) -> str:
    return admin.space(account, SMALL_WABA, graph_token="other-token")


def burst(server: str, key: tuple[str, str], space: str, n: int) -> list[httpx.Response]:
    """n signed calls sent at once."""
    requests = [sign_v1(v1_params(key[0], CustSpaceId=space), key[1]) for _ in range(n)]
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda p: httpx.post(f"http://{server}/", params=p, timeout=30), requests))


def codes(responses: list[httpx.Response]) -> list[str]:
    return sorted(r.json()["Code"] for r in responses)


def test_eleventh_call_in_a_second_is_throttled(server: str, admin: Admin) -> None:
    account = admin.account()
    key = admin.key(account)
    space = small_space(admin, account)
    responses = burst(server, key, space, 15)
    assert codes(responses) == ["OK"] * 10 + ["System.LimitControl"] * 5
    for r in responses:
        if r.json()["Code"] == "System.LimitControl":
            assert r.status_code == 400
            assert r.json()["Message"] == "The system is under flow control."
            assert 1 <= int(r.headers["Retry-After"]) <= 1


def test_accounts_are_limited_separately(server: str, admin: Admin) -> None:
    owners = []
    for _ in range(2):
        account = admin.account()
        owners.append((admin.key(account), small_space(admin, account)))
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda o: burst(server, o[0], o[1], 13), owners))
    for responses in results:
        assert codes(responses) == ["OK"] * 10 + ["System.LimitControl"] * 3


def test_sdk_sees_limit_control_as_throttling_exception_with_its_wait(server: str, admin: Admin) -> None:
    account = admin.account()
    key = admin.key(account)
    space = small_space(admin, account)
    admin.run(lambda c: AccountRateStore(c.engine).set_rate(account, "ChatappSyncPhoneNumber", Rate.parse("2/10s")))
    client = new_sdk(server, key)
    request = models.ChatappSyncPhoneNumberRequest(cust_space_id=space)
    assert client.chatapp_sync_phone_number(request).body.code == "OK"
    assert client.chatapp_sync_phone_number(request).body.code == "OK"
    with pytest.raises(ThrottlingException) as info:
        client.chatapp_sync_phone_number(request)
    assert info.value.code == "System.LimitControl"
    assert info.value.status_code == 400
    assert "The system is under flow control." in info.value.message
    # x-acs-retry-after is in milliseconds: the window of 10 s frees a call within 10 s.
    assert 1000 <= info.value.retry_after <= 10_000


def test_throttled_calls_cost_no_meta_call(server: str, admin: Admin, emulator: Any) -> None:
    account = admin.account()
    key = admin.key(account)
    space = small_space(admin, account)
    emulator.clear_calls()
    responses = burst(server, key, space, 20)
    admitted = sum(r.json()["Code"] == "OK" for r in responses)
    assert admitted == 10
    # Concurrent admitted syncs of one space share fetches, so Meta sees at most one call each.
    assert 1 <= len(emulator.calls()) <= admitted
