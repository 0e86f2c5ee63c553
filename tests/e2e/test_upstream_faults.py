"""Meta's failure classes through the emulator's fault rules: retried, waited out, or refused at once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from alibabacloud_cams20200606 import models
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException

from opencams.bootstrap import create_app
from opencams.config import Settings

from ..harness import WABA_250, Admin, Emulator, new_sdk, serve_app

EDGE = f"*/{WABA_250}/phone_numbers"
DEADLINE = 6.0


@pytest.fixture
def fast(settings: Settings) -> Iterator[str]:
    """A server with a short read timeout and deadline, and no throttling in the way."""
    settings.graph_read_timeout = 1.0
    settings.sync_deadline = DEADLINE
    settings.rate_limits = "ChatappSyncPhoneNumber=1000/s"
    with serve_app(create_app(settings)) as url:
        yield url.removeprefix("http://")


@pytest.fixture
def owner(admin: Admin) -> tuple[tuple[str, str], str]:
    account = admin.account()
    return admin.key(account), admin.space(account)


def err(code: int, status: int, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "status": status, "message": f"fault {code}", **extra}}


TRANSIENT = [
    ("code 1", err(1, 400)),
    ("code 2", err(2, 503)),
    ("code 131000", err(131000, 500)),
    ("code 131016", err(131016, 503)),
    ("is_transient", err(9999, 400, is_transient=True)),
    ("bare 502", err(9998, 502)),
    ("timeout", {"delay": 2.0}),
    ("dropped connection", {"drop": True}),
    ("malformed body", {"malformed": True}),
    ("truncated body", {"truncated": True}),
]


def first_page_calls(emulator: Emulator) -> int:
    return sum(1 for c in emulator.calls() if c["path"].endswith("/phone_numbers") and "after" not in c["query"])


def call(server: str, owner: tuple[tuple[str, str], str]) -> Any:
    client = new_sdk(server, owner[0])
    client._read_timeout = 60000
    return client.chatapp_sync_phone_number(models.ChatappSyncPhoneNumberRequest(cust_space_id=owner[1]))


@pytest.mark.parametrize(("name", "action"), TRANSIENT, ids=[t[0] for t in TRANSIENT])
def test_transient_fault_that_clears_ends_in_success(
    fast: str, emulator: Emulator, owner: tuple[tuple[str, str], str], name: str, action: dict[str, Any]
) -> None:
    emulator.add_fault({"path": EDGE, "times": 2, "action": action})
    response = call(fast, owner)
    assert response.body.code == "OK"
    assert len(response.body.phone_numbers) == 250
    if "delay" in action:
        time.sleep(action["delay"] + 0.5)  # a timed-out request is logged when its delay ends
    assert first_page_calls(emulator) == 3


@pytest.mark.parametrize(("name", "action"), TRANSIENT, ids=[t[0] for t in TRANSIENT])
def test_persistent_transient_fault_ends_in_service_unavailable_within_deadline(
    fast: str, emulator: Emulator, owner: tuple[tuple[str, str], str], name: str, action: dict[str, Any]
) -> None:
    emulator.add_fault({"path": EDGE, "action": action})
    started = time.monotonic()
    with pytest.raises(ServerException) as info:
        call(fast, owner)
    elapsed = time.monotonic() - started
    assert info.value.code == "ServiceUnavailable"
    assert info.value.status_code == 503
    assert elapsed < DEADLINE + 1.5
    if "delay" in action:
        time.sleep(action["delay"] + 0.5)
    assert 2 <= first_page_calls(emulator) <= 5


PERMANENT = [
    ("token expired 190", err(190, 401, subcode=463, type="OAuthException")),
    ("no token 104", err(104, 401)),
    ("permission 10", err(10, 403)),
    ("no waba access 200", err(200, 403)),
    ("unknown waba 100/33", err(100, 400, subcode=33, type="GraphMethodException")),
    ("capability 3", err(3, 500)),
    ("policy block 368", err(368, 403)),
]


@pytest.mark.parametrize(("name", "action"), PERMANENT, ids=[t[0] for t in PERMANENT])
def test_permanent_fault_is_not_retried(
    fast: str, emulator: Emulator, owner: tuple[tuple[str, str], str], name: str, action: dict[str, Any]
) -> None:
    emulator.add_fault({"path": EDGE, "action": action})
    with pytest.raises(ClientException) as info:
        call(fast, owner)
    assert info.value.code == "ERR-FB-001"
    assert info.value.status_code == 400
    assert f"code={action['error']['code']}" in info.value.message
    assert first_page_calls(emulator) == 1


RATE_LIMITS = [("app 4", 4), ("user 17", 17), ("page 32", 32), ("waba 80007", 80007)]


@pytest.mark.parametrize(("name", "code"), RATE_LIMITS, ids=[r[0] for r in RATE_LIMITS])
def test_rate_limit_codes_wait_instead_of_retrying(
    fast: str, emulator: Emulator, owner: tuple[tuple[str, str], str], name: str, code: int
) -> None:
    import httpx

    from ..harness import sign_v1, v1_params

    emulator.add_fault({"path": EDGE, "action": err(code, 400)})
    (ak, secret), space = owner
    response = httpx.post(f"http://{fast}/", params=sign_v1(v1_params(ak, CustSpaceId=space), secret))
    assert response.status_code == 503
    assert response.json()["Code"] == "ServiceUnavailable"
    # Meta gave no usage header, so opencams waits its default minute before calling again.
    assert 55 <= int(response.headers["Retry-After"]) <= 60
    assert first_page_calls(emulator) == 1


def test_waba_block_makes_one_call_in_two_minutes(
    fast: str, emulator: Emulator, owner: tuple[tuple[str, str], str]
) -> None:
    import httpx

    from ..harness import sign_v1, v1_params

    usage = {
        WABA_250: [
            {
                "type": "whatsapp_business_management",
                "call_count": 100,
                "total_cputime": 5,
                "total_time": 5,
                "estimated_time_to_regain_access": 2,
            }
        ]
    }
    emulator.add_fault({"path": EDGE, "action": {**err(80007, 400), "headers": {"X-Business-Use-Case-Usage": usage}}})
    (ak, secret), space = owner
    retry_after = []
    for _ in range(100):
        response = httpx.post(f"http://{fast}/", params=sign_v1(v1_params(ak, CustSpaceId=space), secret))
        assert response.status_code == 503
        assert response.json()["Code"] == "ServiceUnavailable"
        retry_after.append(int(response.headers["Retry-After"]))
    assert len(emulator.calls()) == 1
    assert 110 <= retry_after[0] <= 120
    assert all(0 < r <= 120 for r in retry_after)
    assert retry_after == sorted(retry_after, reverse=True)
    time.sleep(1.1)
    later = httpx.post(f"http://{fast}/", params=sign_v1(v1_params(ak, CustSpaceId=space), secret))
    assert int(later.headers["Retry-After"]) < retry_after[0]
    assert len(emulator.calls()) == 1
