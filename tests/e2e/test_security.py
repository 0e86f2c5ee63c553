"""Attacks a hostile client or a hostile upstream tried, each reproduced as they did it, and the
variants they would try next: all must now fail."""

from __future__ import annotations

import json
import threading
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest
from alibabacloud_cams20200606 import models

from opencams.config import Settings

from ..harness import (
    SECRETS,
    WABA_250,
    Admin,
    Emulator,
    RawResponse,
    new_sdk,
    raw_request,
    serve_app,
    sign_v1,
    sign_v3,
    v1_params,
)

NUMBER = "15550783881"


@pytest.fixture
def owner(admin: Admin) -> tuple[str, tuple[str, str], str]:
    account = admin.account()
    return account, admin.key(account), admin.space(account)


def send(server: str, query: str, headers: dict[str, str] | list[tuple[str, str]], body: bytes = b"") -> RawResponse:
    """POST exactly these header values (raw: httpx would refuse or tidy the hostile ones)."""
    pairs = list(headers.items()) if isinstance(headers, dict) else headers
    pairs = [(k, v) for k, v in pairs if k.lower() != "content-length"]
    return raw_request(server, "POST", f"/?{query}" if query else "/", pairs, body)


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def first_number(admin: Admin, space: str) -> str:
    return digits(admin.numbers(space)[0].meta.display_phone_number)


def stored(admin: Admin, space: str, number: str) -> Any:
    return next(n for n in admin.numbers(space) if digits(n.meta.display_phone_number) == number)


# --- 1. Replay: every value used after verification is the value that was signed ---------------

NONCE_VARIANTS = [
    ("trailing space", lambda n: n + " "),
    ("trailing tab", lambda n: n + "\t"),
    ("leading space", lambda n: " " + n),
    ("spaces around", lambda n: "  " + n + "  "),
    ("non-breaking space", lambda n: n + "\xa0"),
]


@pytest.mark.parametrize(("name", "edit"), NONCE_VARIANTS, ids=[v[0] for v in NONCE_VARIANTS])
def test_v3_replay_with_whitespace_around_the_nonce_is_refused(
    server: str, owner: tuple[str, tuple[str, str], str], name: str, edit: Any
) -> None:
    _, key, space = owner
    query, headers = sign_v3(*key, server, action="QueryChatappPhoneNumbers", query={"CustSpaceId": space})
    assert send(server, query, headers).json()["Code"] == "OK"
    replay = {**headers, "x-acs-signature-nonce": edit(headers["x-acs-signature-nonce"])}
    again = send(server, query, replay)
    assert again.status_code == 400
    assert again.json()["Code"] in ("SignatureNonceUsed", "InvalidParameter")


def test_v3_replay_with_other_header_spellings_is_refused(server: str, owner: tuple[str, tuple[str, str], str]) -> None:
    _, key, space = owner
    query, headers = sign_v3(*key, server, action="QueryChatappPhoneNumbers", query={"CustSpaceId": space})
    assert send(server, query, headers).json()["Code"] == "OK"
    nonce = headers["x-acs-signature-nonce"]
    rest = [(k, v) for k, v in headers.items() if k != "x-acs-signature-nonce"]
    variants: list[list[tuple[str, str]]] = [
        [*rest, ("X-ACS-Signature-Nonce", nonce)],  # another letter case of the name
        [*rest, ("x-acs-signature-nonce", nonce), ("x-acs-signature-nonce", nonce)],  # sent twice
        [*rest, ("x-acs-signature-nonce", nonce), ("x-acs-signature-nonce", "")],  # plus an empty one
        [*rest, ("x-acs-signature-nonce", nonce + " "), ("x-acs-date", headers["x-acs-date"] + " ")],
    ]
    for variant in variants:
        answer = send(server, query, variant)
        assert answer.status_code == 400, variant
        assert answer.json()["Code"] in ("SignatureNonceUsed", "SignatureDoesNotMatch", "InvalidParameter")


def test_v1_replay_variants_are_refused(server: str, owner: tuple[str, tuple[str, str], str]) -> None:
    _, (ak, secret), space = owner
    params = sign_v1(v1_params(ak, action="QueryChatappPhoneNumbers", CustSpaceId=space), secret)
    assert httpx.post(f"http://{server}/", params=params).json()["Code"] == "OK"
    nonce = params["SignatureNonce"]
    for variant in (
        {**params, "SignatureNonce": nonce + " "},
        {**params, "SignatureNonce": " " + nonce},
        {**params, "SignatureNonce": nonce.upper()},
    ):
        assert httpx.post(f"http://{server}/", params=variant).status_code == 400
    # The same parameters spelled differently on the wire (lower-case escapes, every character
    # escaped) decode to the same request: still the nonce already used.
    respelled = "&".join(f"{k}=" + "".join(f"%{b:02x}" for b in v.encode()) for k, v in params.items())
    again = httpx.post(f"http://{server}/?{respelled}")
    assert again.json()["Code"] == "SignatureNonceUsed"


def test_captured_update_phone_webhook_cannot_put_an_old_url_back(
    server: str, admin: Admin, owner: tuple[str, tuple[str, str], str]
) -> None:
    _, key, space = owner
    new_sdk(server, key).chatapp_sync_phone_number(models.ChatappSyncPhoneNumberRequest(cust_space_id=space))
    number = first_number(admin, space)

    def update(url: str) -> tuple[str, dict[str, str]]:
        params = {"CustSpaceId": space, "PhoneNumber": number, "StatusCallbackUrl": url}
        return sign_v3(*key, server, action="UpdatePhoneWebhook", query=params)

    old_query, old_headers = update("https://old.example.com/status")
    assert send(server, old_query, old_headers).json()["Code"] == "OK"
    new_query, new_headers = update("https://new.example.com/status")
    assert send(server, new_query, new_headers).json()["Code"] == "OK"
    for edit in (" ", "\t", "  "):
        replay = {**old_headers, "x-acs-signature-nonce": old_headers["x-acs-signature-nonce"] + edit}
        assert send(server, old_query, replay).status_code == 400
    assert stored(admin, space, number).status_callback_url == "https://new.example.com/status"


def test_v3_body_params_need_a_signed_content_type(server: str, owner: tuple[str, tuple[str, str], str]) -> None:
    _, key, space = owner
    body = f"CustSpaceId={space}".encode()
    query, headers = sign_v3(*key, server, action="QueryChatappPhoneNumbers", body=body)
    assert send(server, query, headers, body).json()["Code"] == "OK"
    # Signed without content-type, the body could be read as parameters or not: refused.
    query, headers = sign_v3(*key, server, action="QueryChatappPhoneNumbers", body=body)
    unsigned = {k: v for k, v in headers.items() if k != "content-type"}
    auth = unsigned["authorization"].replace("content-type;", "")
    answer = send(server, query, {**unsigned, "authorization": auth, "content-type": headers["content-type"]}, body)
    assert answer.status_code == 400
    assert answer.json()["Code"] == "SignatureDoesNotMatch"


def test_a_parameter_given_twice_is_refused_after_the_signature(
    server: str, owner: tuple[str, tuple[str, str], str]
) -> None:
    _, (ak, secret), space = owner
    params = v1_params(ak, action="QueryChatappPhoneNumbers", CustSpaceId=space)
    pairs = [*params.items(), ("CustSpaceId", "another")]
    import base64
    import hashlib
    import hmac
    from urllib.parse import quote

    def enc(s: str) -> str:
        return quote(s, safe="-_.~")

    canonical = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(pairs))
    digest = hmac.new(f"{secret}&".encode(), f"POST&%2F&{enc(canonical)}".encode(), hashlib.sha1).digest()
    query = canonical + "&Signature=" + enc(base64.b64encode(digest).decode())
    answer = httpx.post(f"http://{server}/?{query}")
    assert answer.status_code == 400
    assert answer.json()["Code"] == "InvalidParameter"
    assert "CustSpaceId" in answer.json()["Message"] and "more than once" in answer.json()["Message"]


# --- 3. Lost writes ----------------------------------------------------------------------------


@pytest.fixture
def unthrottled(settings: Settings) -> Any:
    """A server whose actions are not rate limited, for tests that call faster than 10/s."""
    from opencams.bootstrap import create_app

    fast = settings.model_copy(update={"rate_limits": "UpdatePhoneWebhook=10000/s,ChatappSyncPhoneNumber=10000/s"})
    with serve_app(create_app(fast)) as url:
        yield url.removeprefix("http://")


def test_concurrent_webhook_updates_of_one_number_both_stay(
    unthrottled: str, admin: Admin, owner: tuple[str, tuple[str, str], str]
) -> None:
    server = unthrottled
    _, key, space = owner
    client = new_sdk(server, key)
    client.chatapp_sync_phone_number(models.ChatappSyncPhoneNumberRequest(cust_space_id=space))
    number = first_number(admin, space)
    for trial in range(30):
        status_url = f"https://status.example.com/{trial}"
        up_url = f"https://up.example.com/{trial}"
        barrier = threading.Barrier(2)

        def update(barrier: threading.Barrier = barrier, **urls: str) -> None:
            barrier.wait()
            request = models.UpdatePhoneWebhookRequest(cust_space_id=space, phone_number=number, **urls)
            assert new_sdk(server, key).update_phone_webhook(request).body.code == "OK"

        threads = [
            threading.Thread(target=update, kwargs={"status_callback_url": status_url}),
            threading.Thread(target=update, kwargs={"up_callback_url": up_url}),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        row = stored(admin, space, number)
        assert (row.status_callback_url, row.up_callback_url) == (status_url, up_url), trial


# --- 4. Control characters and NUL, on both databases ------------------------------------------

COMMON_TARGETS = ["AccessKeyId", "SignatureNonce", "Timestamp", "Action", "Version", "Format", "SecurityToken"]


@pytest.mark.parametrize("param", COMMON_TARGETS)
@pytest.mark.parametrize("char", ["\x00", "\x01", "\n", "\r", "\x7f", "\x85"])
def test_control_characters_in_unauthenticated_parameters_are_refused(
    server: str, owner: tuple[str, tuple[str, str], str], param: str, char: str
) -> None:
    _, (ak, secret), space = owner
    params = v1_params(ak, CustSpaceId=space)
    params[param] = params.get(param, "CAIS") + char
    answer = httpx.post(f"http://{server}/", params=sign_v1(params, secret))
    assert answer.status_code == 400
    assert answer.json()["Code"] == "InvalidParameter"
    assert param in answer.json()["Message"] and "control character" in answer.json()["Message"]


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\t", "\n"])
def test_control_characters_in_action_parameters_are_refused(
    server: str, owner: tuple[str, tuple[str, str], str], char: str
) -> None:
    _, (ak, secret), space = owner
    for param in ("CustSpaceId", "Status", "IsvCode", "ResourceOwnerAccount"):
        params = v1_params(ak, action="QueryChatappPhoneNumbers", CustSpaceId=space)
        params[param] = params.get(param, "x") + char
        answer = httpx.post(f"http://{server}/", params=sign_v1(params, secret))
        assert answer.status_code == 400, (param, answer.text)
        assert answer.json()["Code"] == "InvalidParameter"
        assert param in answer.json()["Message"]


def test_control_characters_in_headers_and_names_are_refused(
    server: str, owner: tuple[str, tuple[str, str], str]
) -> None:
    _, key, space = owner
    query, headers = sign_v3(*key, server, action="QueryChatappPhoneNumbers", query={"CustSpaceId": space})
    for name in ("x-acs-signature-nonce", "x-acs-date", "x-acs-security-token", "authorization"):
        for char in ("\x7f", "\x00", "\x01", "\x85", "\xff"):
            edited = {**headers, name: headers.get(name, "CAIS") + char}
            answer = send(server, query, edited)
            assert answer.status_code == 400, (name, char)
            # The HTTP parser refuses some bytes itself; either way the answer is an envelope.
            assert answer.json()["Code"] in ("InvalidParameter", "MalformedRequest")
            assert answer.json()["RequestId"] == answer.headers["x-acs-request-id"]
    answer = httpx.post(f"http://{server}/?Cust%00SpaceId=1")
    assert answer.status_code == 400 and answer.json()["Code"] == "InvalidParameter"


def test_overlong_values_never_reach_the_database(server: str, owner: tuple[str, tuple[str, str], str]) -> None:
    _, (ak, secret), space = owner
    for param, value in (("AccessKeyId", "L" * 5000), ("SignatureNonce", "n" * 5000)):
        params = v1_params(ak, CustSpaceId=space)
        params[param] = value
        answer = httpx.post(f"http://{server}/", data=sign_v1(params, secret))
        assert answer.status_code in (400, 404), answer.text
        assert answer.json()["Code"] in ("InvalidAccessKeyId.NotFound", "InvalidParameter", "SignatureDoesNotMatch")


# --- 5. Hostile numbers and shapes from Meta ---------------------------------------------------

EDGE = f"*/{WABA_250}/phone_numbers"


def usage(value: str) -> dict[str, str]:
    entry = '{"type":"whatsapp_business_management","call_count":100,"estimated_time_to_regain_access":'
    return {"X-Business-Use-Case-Usage": f'{{"{WABA_250}":[{entry}{value}}}]}}'}


@pytest.mark.parametrize(
    ("value", "blocked"),
    [("Infinity", False), ("-Infinity", False), ("NaN", False), ("-5", False), ("1e12", True), ("1e308", True)],
)
def test_hostile_usage_numbers_never_break_a_waba(
    server: str, admin: Admin, emulator: Emulator, owner: tuple[str, tuple[str, str], str], value: str, blocked: bool
) -> None:
    _, key, space = owner
    emulator.add_fault({"path": EDGE, "times": 1, "action": {"headers": usage(value)}})
    query, headers = sign_v3(*key, server, query={"CustSpaceId": space})
    first = send(server, query, headers)
    assert first.status_code == 200  # the answer itself was good: the data is stored
    query, headers = sign_v3(*key, server, query={"CustSpaceId": space})
    second = send(server, query, headers)
    if not blocked:
        assert second.status_code == 200, second.text
        return
    assert second.status_code == 503
    assert second.json()["Code"] == "ServiceUnavailable"
    assert 0 < int(second.headers["retry-after"]) <= 86400
    assert int(second.headers["x-acs-retry-after"]) == int(second.headers["retry-after"]) * 1000
    # The operator can lift it.
    from opencams.db.budget import WabaBudgetStore

    assert admin.run(lambda c: WabaBudgetStore(c.engine).clear(WABA_250)) is True
    query, headers = sign_v3(*key, server, query={"CustSpaceId": space})
    assert send(server, query, headers).status_code == 200


def test_a_block_stored_as_infinity_before_the_fix_answers_503_not_500(
    server: str, admin: Admin, owner: tuple[str, tuple[str, str], str]
) -> None:
    _, key, space = owner
    from sqlalchemy import insert

    from opencams.db.engine import write
    from opencams.db.tables import waba_blocks

    async def store_inf(c: Any) -> None:
        async with write(c.engine) as conn:
            await conn.execute(insert(waba_blocks).values(waba_id=WABA_250, blocked_until=float("inf"), reason="x"))

    admin.run(store_inf)
    query, headers = sign_v3(*key, server, query={"CustSpaceId": space})
    answer = send(server, query, headers)
    assert answer.status_code == 503
    assert 0 < int(answer.headers["retry-after"]) <= 86400


def _malformed(body: str) -> dict[str, Any]:
    return {"path": EDGE, "action": {"malformed": body}}


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("100,000 levels deep", '{"data":' + "[" * 100_000 + "]" * 100_000 + "}"),
        ("40 levels deep", '{"data":[{"id":"1","x":' + "[" * 40 + "]" * 40 + "}]}"),
        ("100,000 numbers in one page", json.dumps({"data": [{"id": str(10**14 + i)} for i in range(100_000)]})),
        ("a 50 MB page", json.dumps({"data": [{"id": "1", "verified_name": "x" * (50 << 20)}]})),
        ("a number id that is not Meta's", json.dumps({"data": [{"id": "x" * 200}]})),
        ("a NUL in a name", json.dumps({"data": [{"id": "1", "verified_name": "a\u0000b"}]})),
        ("a lone surrogate", '{"data":[{"id":"1","verified_name":"a\\ud800b"}]}'),
        ("a 10,000-character status", json.dumps({"data": [{"id": "1", "status": "C" * 10_000}]})),
    ],
)
def test_hostile_pages_are_refused_and_nothing_is_stored(
    server: str, admin: Admin, emulator: Emulator, owner: tuple[str, tuple[str, str], str], name: str, body: str
) -> None:
    _, key, space = owner
    query, headers = sign_v3(*key, server, query={"CustSpaceId": space})
    assert send(server, query, headers).status_code == 200
    before = admin.raw_rows(space)
    emulator.add_fault(_malformed(body))
    query, headers = sign_v3(*key, server, query={"CustSpaceId": space})
    answer = send(server, query, headers)
    assert answer.status_code == 503, answer.text[:300]
    assert answer.json()["Code"] == "ServiceUnavailable"
    assert admin.raw_rows(space) == before
    emulator.clear_faults()


# --- 6/7. Who the caller is, and whose quota it spends ----------------------------------------


def test_denied_calls_never_use_up_the_accounts_quota(server: str, admin: Admin) -> None:
    from opencams.db.ram import RamStore

    account = admin.account()
    root_key = admin.key(account)
    space = admin.space(account)

    async def reader(c: Any) -> Any:
        store = RamStore(c.engine, c.box)
        await store.create_user(account, "reader")
        await store.attach_policy(account, "user", "reader", "AliyunCAMSReadOnlyAccess")
        return await c.accounts.create_access_key(account, "reader")

    key = admin.run(reader)
    SECRETS.add(key.secret)
    codes = []
    for _ in range(30):
        query, headers = sign_v3(key.id, key.secret, server, query={"CustSpaceId": space})
        codes.append(send(server, query, headers).json()["Code"])
    assert codes[:10] == ["Ram.PermissionDeny"] * 10
    # The denied caller is slowed down on its own budget...
    assert set(codes[10:]) <= {"Ram.PermissionDeny", "System.LimitControl"} and "System.LimitControl" in codes
    # ... while the account's permitted caller still has all 10 of its calls.
    root = []
    for _ in range(10):
        query, headers = sign_v3(*root_key, server, query={"CustSpaceId": space})
        root.append(send(server, query, headers).json()["Code"])
    assert root == ["OK"] * 10


# --- 8. Callback URLs obey the outbound address policy ----------------------------------------

REFUSED_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:6379/",
    "http://[::1]/",
    "http://10.0.0.1/",
    "http://192.168.1.1/",
    "http://172.16.0.1/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://017700000001/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[fe80::1]/",
    "http://[::]/",
    "http:///status",
    "http://:80/",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://api.localhost/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://example.com/a\r\nX-Injected: 1",
    "http://example.com/a b",
    "http://user:pass@example.com/",
    "http://@example.com/",
    "https://example.com:0/",
    "https://example.com:99999/",
    "ftp://example.com/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "javascript:alert(1)",
    "http://exa mple.com/",
    "http://example.com\\@127.0.0.1/",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_callback_urls_outside_the_policy_are_refused(
    server: str, admin: Admin, owner: tuple[str, tuple[str, str], str], url: str
) -> None:
    _, key, space = owner
    new_sdk(server, key).chatapp_sync_phone_number(models.ChatappSyncPhoneNumberRequest(cust_space_id=space))
    number = first_number(admin, space)
    for param in ("StatusCallbackUrl", "UpCallbackUrl"):
        query, headers = sign_v3(
            *key, server, action="UpdatePhoneWebhook", query={"CustSpaceId": space, "PhoneNumber": number, param: url}
        )
        answer = send(server, query, headers)
        assert answer.status_code == 400, (url, answer.text)
        assert answer.json()["Code"] == "InvalidParameter"
        assert param in answer.json()["Message"]
    row = stored(admin, space, number)
    assert row.status_callback_url is None and row.up_callback_url is None


def test_a_name_that_resolves_to_loopback_is_refused(
    server: str, admin: Admin, owner: tuple[str, tuple[str, str], str]
) -> None:
    import socket

    name = socket.gethostname()
    if not any(info[4][0].startswith("127.") for info in socket.getaddrinfo(name, 80)):
        pytest.skip(f"this machine's name {name} does not resolve to loopback")
    _, key, space = owner
    new_sdk(server, key).chatapp_sync_phone_number(models.ChatappSyncPhoneNumberRequest(cust_space_id=space))
    query, headers = sign_v3(
        *key,
        server,
        action="UpdatePhoneWebhook",
        query={"CustSpaceId": space, "PhoneNumber": first_number(admin, space), "StatusCallbackUrl": f"http://{name}/"},
    )
    answer = send(server, query, headers)
    assert answer.status_code == 400
    assert "resolves to 127." in answer.json()["Message"]


def test_private_addresses_need_the_development_setting(settings: Settings, admin: Admin) -> None:
    from opencams.bootstrap import create_app

    account = admin.account()
    key = admin.key(account)
    space = admin.space(account)
    dev = settings.model_copy(update={"outbound_allow_private": True})
    with serve_app(create_app(dev)) as url:
        server = url.removeprefix("http://")
        new_sdk(server, key).chatapp_sync_phone_number(models.ChatappSyncPhoneNumberRequest(cust_space_id=space))
        number = first_number(admin, space)
        for target, ok in (
            ("http://127.0.0.1:9/cb", True),
            ("http://10.1.2.3/", True),
            ("http://169.254.169.254/", False),
        ):
            query, headers = sign_v3(
                *key,
                server,
                action="UpdatePhoneWebhook",
                query={"CustSpaceId": space, "PhoneNumber": number, "StatusCallbackUrl": target},
            )
            assert (send(server, query, headers).status_code == 200) is ok, target


# --- 10. Smaller findings -----------------------------------------------------------------------


def test_v1_mismatch_message_does_not_repeat_the_sts_token(
    server: str, owner: tuple[str, tuple[str, str], str]
) -> None:
    _, (ak, _), space = owner
    token = "CAIS" + "t0k3n" * 20
    params = sign_v1(v1_params(ak, CustSpaceId=space, SecurityToken=token), "wrong-secret")
    answer = httpx.post(f"http://{server}/", params=params)
    assert answer.json()["Code"] == "SignatureDoesNotMatch"
    assert token not in answer.text and "t0k3n" not in answer.text
    assert "SecurityToken%3D%252A%252A%252A" in answer.json()["Message"]


@pytest.mark.parametrize("method", ["OPTIONS", "TRACE", "PUT", "DELETE", "PATCH", "CONNECT2"])
@pytest.mark.parametrize("path", ["/", "/healthz", "/no/such/path", "/%2e%2e/etc"])
def test_every_method_and_path_is_answered_in_the_envelope(server: str, method: str, path: str) -> None:
    if method == "CONNECT2":
        method = "PROPFIND"
    answer = httpx.request(method, f"http://{server}{path}")
    assert answer.status_code == 400
    body = answer.json()
    assert body["Code"] == "UnsupportedHTTPMethod"
    assert body["RequestId"] == answer.headers["x-acs-request-id"]


def test_head_and_unknown_paths_are_answered_in_the_envelope(server: str) -> None:
    head = httpx.head(f"http://{server}/")
    assert head.status_code == 400
    assert head.headers["x-acs-request-id"]
    assert head.content == b""
    for path in ("/nothing", "/healthz/x", "/console"):
        answer = httpx.get(f"http://{server}{path}")
        assert answer.status_code in (400, 404)
        assert answer.json()["RequestId"] == answer.headers["x-acs-request-id"]
    post_health = httpx.post(f"http://{server}/healthz")
    assert post_health.json()["RequestId"] == post_health.headers["x-acs-request-id"]


def test_stored_control_characters_make_valid_xml(
    server: str, admin: Admin, owner: tuple[str, tuple[str, str], str]
) -> None:
    _, (ak, secret), space = owner
    new_sdk(server, (ak, secret)).chatapp_sync_phone_number(models.ChatappSyncPhoneNumberRequest(cust_space_id=space))
    from sqlalchemy import update

    from opencams.db.engine import write
    from opencams.db.tables import phone_numbers

    async def corrupt(c: Any) -> None:
        async with write(c.engine) as conn:
            await conn.execute(
                update(phone_numbers).where(phone_numbers.c.space_id == space).values(verified_name="a\x01b\x1fc")
            )

    admin.run(corrupt)
    params = sign_v1(v1_params(ak, action="QueryChatappPhoneNumbers", CustSpaceId=space, Format="XML"), secret)
    answer = httpx.post(f"http://{server}/", params=params)
    assert answer.status_code == 200
    root = ET.fromstring(answer.content)
    assert root.find("PhoneNumbers/VerifiedName").text == "a\ufffdb\ufffdc"  # type: ignore[union-attr]


def test_body_over_the_limit_is_refused_with_413(server: str, owner: tuple[str, tuple[str, str], str]) -> None:
    _, (ak, secret), space = owner
    params = sign_v1(v1_params(ak, CustSpaceId=space), secret)
    big = httpx.post(f"http://{server}/", params=params, content=b"x" * ((1 << 20) + 1))
    assert big.status_code == 413
    assert big.json()["Code"] == "RequestBodyTooLarge"

    def chunks() -> Any:
        for _ in range(40):
            yield b"y" * 65536

    chunked = httpx.post(f"http://{server}/", params=params, content=chunks())
    assert chunked.status_code == 413
    assert chunked.json()["Code"] == "RequestBodyTooLarge"
