"""RAM users and their policies, judged on real calls through the official SDK and raw signed requests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from alibabacloud_cams20200606 import models
from alibabacloud_tea_openapi.exceptions import ClientException, ThrottlingException

from opencams.config import Settings
from opencams.db.ram import RamStore
from opencams.iam.diagnostic import decode_diagnostic

from ..harness import SECRETS, Admin, new_sdk, serve_app, sign_v1, v1_params

SYNC = "cams:ChatappSyncPhoneNumber"
DETAIL_FIELDS = {
    "AuthAction",
    "AuthPrincipalType",
    "AuthPrincipalOwnerId",
    "AuthPrincipalDisplayName",
    "NoPermissionType",
    "PolicyType",
    "EncodedDiagnosticMessage",
}


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


def ram(admin: Admin, fn: Any) -> Any:
    """Run `fn(RamStore)` against the test database."""

    async def call(c: Any) -> Any:
        return await fn(RamStore(c.engine, c.box))

    return admin.run(call)


def user_with(
    admin: Admin, account: str, name: str, *policies: str, custom: dict[str, str] | None = None
) -> tuple[str, str]:
    """A RAM user with `custom` policies created, `policies` attached (in order), and a fresh AccessKey."""

    async def setup(store: RamStore) -> None:
        await store.create_user(account, name)
        for policy_name, document in (custom or {}).items():
            await store.create_policy(account, policy_name, document)
        for policy in policies:
            await store.attach_policy(account, "user", name, policy)

    ram(admin, setup)
    key = admin.run(lambda c: c.accounts.create_access_key(account, name))
    SECRETS.add(key.secret)
    return key.id, key.secret


def sync(client: Any, space: str) -> Any:
    return client.chatapp_sync_phone_number(models.ChatappSyncPhoneNumberRequest(cust_space_id=space))


def query(client: Any, space: str) -> Any:
    return client.query_chatapp_phone_numbers(models.QueryChatappPhoneNumbersRequest(cust_space_id=space))


def denied(call: Any, *args: Any) -> dict[str, Any]:
    """Run a call that must be refused by RAM; the SDK's AccessDeniedDetail."""
    with pytest.raises(ClientException) as info:
        call(*args)
    assert info.value.code == "Ram.PermissionDeny", info.value.message
    assert info.value.status_code == 400
    assert "You are not authorized to perform the operation." in info.value.message
    detail = info.value.access_denied_detail
    assert isinstance(detail, dict)
    assert set(detail) == DETAIL_FIELDS
    return detail


@pytest.fixture
def tenant(admin: Admin) -> tuple[str, str]:
    account = admin.account()
    return account, admin.space(account)


@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["v3", "v1"])
def test_full_access_user_syncs(server: str, admin: Admin, tenant: tuple[str, str], algorithm: str | None) -> None:
    account, space = tenant
    key = user_with(admin, account, "alice", "AliyunCAMSFullAccess")
    response = sync(new_sdk(server, key, algorithm=algorithm), space)
    assert response.body.code == "OK"
    assert len(response.body.phone_numbers) == 250
    # The user acts inside its account: another account's space stays invisible.
    other = admin.space(admin.account())
    with pytest.raises(ClientException) as info:
        sync(new_sdk(server, key, algorithm=algorithm), other)
    assert info.value.code == "Unknown.ResourceOwnerId"


@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["v3", "v1"])
def test_read_only_user_queries_but_cannot_sync(
    server: str, admin: Admin, tenant: tuple[str, str], algorithm: str | None
) -> None:
    account, space = tenant
    client = new_sdk(server, user_with(admin, account, "reader", "AliyunCAMSReadOnlyAccess"), algorithm=algorithm)
    assert query(client, space).body.code == "OK"
    detail = denied(sync, client, space)
    assert detail["AuthAction"] == SYNC
    assert detail["AuthPrincipalType"] == "SubUser"
    assert detail["AuthPrincipalOwnerId"] == account
    assert detail["AuthPrincipalDisplayName"] == "reader"
    assert detail["NoPermissionType"] == "ImplicitDeny"
    assert detail["PolicyType"] == "AccountLevelIdentityBasedPolicy"
    diagnostic = decode_diagnostic(detail["EncodedDiagnosticMessage"])
    assert diagnostic["AuthAction"] == SYNC
    assert diagnostic["AuthPrincipal"] == f"acs:ram::{account}:user/reader"
    assert diagnostic["AuthResource"] == f"acs:cams:*:{account}:*"
    assert diagnostic["AccountId"] == account
    assert diagnostic["NoPermissionType"] == "ImplicitDeny"
    # An implicit deny has no deciding statement: nothing allowed it.
    assert diagnostic["PolicyName"] is None
    assert diagnostic["StatementIndex"] is None


def test_user_without_policy_is_denied_everything(server: str, admin: Admin, tenant: tuple[str, str]) -> None:
    account, space = tenant
    client = new_sdk(server, user_with(admin, account, "nobody"))
    for call in (sync, query):
        detail = denied(call, client, space)
        assert detail["AuthPrincipalType"] == "SubUser"
        assert detail["AuthPrincipalOwnerId"] == account
        assert detail["AuthPrincipalDisplayName"] == "nobody"
        assert detail["NoPermissionType"] == "ImplicitDeny"
        assert detail["PolicyType"] == "AccountLevelIdentityBasedPolicy"
    assert denied(sync, client, space)["AuthAction"] == SYNC
    assert denied(query, client, space)["AuthAction"] == "cams:QueryChatappPhoneNumbers"


@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["v3", "v1"])
def test_explicit_deny_beats_full_access(
    server: str, admin: Admin, tenant: tuple[str, str], algorithm: str | None
) -> None:
    account, space = tenant
    no_sync = doc(
        {"Effect": "Allow", "Action": "cams:Query*", "Resource": "*"},
        {"Effect": "Deny", "Action": ["cams:ChatappSync*", "cams:Update*"], "Resource": "acs:cams:*:*:*"},
    )
    key = user_with(admin, account, "bob", "AliyunCAMSFullAccess", "no-sync", custom={"no-sync": no_sync})
    client = new_sdk(server, key, algorithm=algorithm)
    detail = denied(sync, client, space)
    assert detail["AuthAction"] == SYNC
    assert detail["AuthPrincipalType"] == "SubUser"
    assert detail["AuthPrincipalOwnerId"] == account
    assert detail["AuthPrincipalDisplayName"] == "bob"
    assert detail["NoPermissionType"] == "ExplicitDeny"
    assert detail["PolicyType"] == "AccountLevelIdentityBasedPolicy"
    diagnostic = decode_diagnostic(detail["EncodedDiagnosticMessage"])
    assert diagnostic["PolicyName"] == "no-sync"
    assert diagnostic["StatementIndex"] == 1
    assert diagnostic["NoPermissionType"] == "ExplicitDeny"
    assert query(client, space).body.code == "OK"


def test_policy_changes_apply_on_the_next_call(server: str, admin: Admin, tenant: tuple[str, str]) -> None:
    account, space = tenant
    client = new_sdk(server, user_with(admin, account, "carol", "AliyunCAMSFullAccess"))
    assert query(client, space).body.code == "OK"
    ram(admin, lambda s: s.detach_policy(account, "user", "carol", "AliyunCAMSFullAccess"))
    assert denied(query, client, space)["NoPermissionType"] == "ImplicitDeny"
    ram(admin, lambda s: s.attach_policy(account, "user", "carol", "AliyunCAMSReadOnlyAccess"))
    assert query(client, space).body.code == "OK"


def test_disabled_user_key_is_inactive(server: str, admin: Admin, tenant: tuple[str, str]) -> None:
    account, space = tenant
    key = user_with(admin, account, "dave", "AliyunCAMSFullAccess")
    admin.run(lambda c: c.accounts.set_access_key_active(key[0], False))
    with pytest.raises(ClientException) as info:
        query(new_sdk(server, key), space)
    assert info.value.code == "InvalidAccessKeyId.Inactive"
    assert info.value.status_code == 400


def test_denial_over_raw_v1_carries_the_detail_object(server: str, admin: Admin, tenant: tuple[str, str]) -> None:
    account, space = tenant
    ak, secret = user_with(admin, account, "erin", "AliyunCAMSReadOnlyAccess")
    response = httpx.post(f"http://{server}/", params=sign_v1(v1_params(ak, CustSpaceId=space), secret))
    assert response.status_code == 400
    body = response.json()
    assert body["Code"] == "Ram.PermissionDeny"
    assert body["RequestId"] == response.headers["x-acs-request-id"]
    assert isinstance(body["AccessDeniedDetail"], dict)
    assert body["AccessDeniedDetail"]["AuthPrincipalDisplayName"] == "erin"
    # No secret of the caller ever appears in a denial.
    assert secret not in response.text


# --- acs:SourceIp ----------------------------------------------------------------------------


def only_from(*cidrs: str) -> str:
    return doc(
        {
            "Effect": "Allow",
            "Action": "cams:*",
            "Resource": "*",
            "Condition": {"IpAddress": {"acs:SourceIp": list(cidrs)}},
        }
    )


@pytest.fixture
def proxied_server(settings: Settings) -> Iterator[str]:
    """A server that believes X-Forwarded-For from 127.0.0.1 (a reverse proxy on the same host)."""
    from opencams.bootstrap import create_app

    with serve_app(create_app(settings.model_copy(update={"trusted_proxies": "127.0.0.1"}))) as url:
        yield url.removeprefix("http://")


def raw_query(server: str, key: tuple[str, str], space: str, forwarded_for: str | None = None) -> httpx.Response:
    params = sign_v1(v1_params(key[0], action="QueryChatappPhoneNumbers", CustSpaceId=space), key[1])
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return httpx.post(f"http://{server}/", params=params, headers=headers)


def test_source_ip_through_a_trusted_proxy(proxied_server: str, admin: Admin, tenant: tuple[str, str]) -> None:
    account, space = tenant
    key = user_with(admin, account, "ip-user", "office", custom={"office": only_from("127.0.0.1", "10.1.0.0/16")})
    assert query(new_sdk(proxied_server, key), space).body.code == "OK"
    assert raw_query(proxied_server, key, space).status_code == 200
    assert raw_query(proxied_server, key, space, "10.1.2.3, 127.0.0.1").status_code == 200
    outside = raw_query(proxied_server, key, space, "203.0.113.9")
    assert outside.status_code == 400
    detail = outside.json()["AccessDeniedDetail"]
    assert detail["NoPermissionType"] == "ImplicitDeny"
    assert detail["AuthAction"] == "cams:QueryChatappPhoneNumbers"


def test_source_ip_ignores_forwarded_for_from_untrusted_peers(
    server: str, admin: Admin, tenant: tuple[str, str]
) -> None:
    account, space = tenant
    key = user_with(admin, account, "ip-user", "office", custom={"office": only_from("127.0.0.1/32")})
    # Without OPENCAMS_TRUSTED_PROXIES the header is the client's claim, not a fact.
    assert raw_query(server, key, space, "203.0.113.9").status_code == 200


@pytest.fixture
def office_user(admin: Admin, tenant: tuple[str, str]) -> tuple[str, tuple[str, str]]:
    account, space = tenant
    return space, user_with(
        admin, account, "ip-user", "office", custom={"office": only_from("127.0.0.1", "10.1.0.0/16")}
    )


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded_for", "status"),
    [
        ("", "127.0.0.1", None, 200),
        ("", "127.0.0.1", "203.0.113.9", 200),  # an untrusted peer's header is ignored
        ("", "203.0.113.9", "127.0.0.1", 400),  # ... and cannot be used to claim an allowed address
        # The proxy appends the address it saw: the right-most untrusted hop is the client, and
        # whatever the client wrote itself (on the left) is ignored.
        ("127.0.0.1", "127.0.0.1", "203.0.113.9, 10.1.2.3", 200),
        ("127.0.0.1", "127.0.0.1", "10.1.2.3, 203.0.113.9", 400),
        ("10.9.0.0/16", "10.9.3.4", "10.1.2.3", 200),
        ("10.9.0.0/16", "203.0.113.9", "10.1.2.3", 400),
    ],
)
async def test_source_ip_is_the_peer_or_a_trusted_proxys_client(
    settings: Settings,
    office_user: tuple[str, tuple[str, str]],
    trusted: str,
    peer: str,
    forwarded_for: str | None,
    status: int,
) -> None:
    # In-process, so the peer address is ours to choose (and no server in front rewrites it).
    from opencams.bootstrap import create_app

    space, (ak, secret) = office_user
    app = create_app(settings.model_copy(update={"trusted_proxies": trusted}))
    params = sign_v1(v1_params(ak, action="QueryChatappPhoneNumbers", CustSpaceId=space), secret)
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    transport = httpx.ASGITransport(app=app, client=(peer, 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://opencams") as client:
            response = await client.post("/", params=params, headers=headers)
    finally:
        await app.state.container.aclose()
    assert response.status_code == status, response.text
    if status == 400:
        assert response.json()["Code"] == "Ram.PermissionDeny"


def test_source_ip_outside_the_allowed_range_is_denied(server: str, admin: Admin, tenant: tuple[str, str]) -> None:
    account, space = tenant
    key = user_with(admin, account, "remote", "vpn", custom={"vpn": only_from("192.0.2.0/24")})
    detail = denied(sync, new_sdk(server, key), space)
    assert detail["NoPermissionType"] == "ImplicitDeny"
    assert detail["AuthPrincipalDisplayName"] == "remote"


def test_not_ip_address_deny(server: str, admin: Admin, tenant: tuple[str, str]) -> None:
    account, space = tenant
    fence = doc(
        {"Effect": "Allow", "Action": "cams:*", "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"NotIpAddress": {"acs:SourceIp": "192.0.2.0/24"}},
        },
    )
    detail = denied(
        query, new_sdk(server, user_with(admin, account, "fenced", "fence", custom={"fence": fence})), space
    )
    assert detail["NoPermissionType"] == "ExplicitDeny"
    diagnostic = decode_diagnostic(detail["EncodedDiagnosticMessage"])
    assert (diagnostic["PolicyName"], diagnostic["StatementIndex"]) == ("fence", 1)


# --- throttling ------------------------------------------------------------------------------


@pytest.fixture
def throttled_server(settings: Settings) -> Iterator[str]:
    from opencams.bootstrap import create_app

    cfg = settings.model_copy(update={"rate_limits": "QueryChatappPhoneNumbers=4/30s"})
    with serve_app(create_app(cfg)) as url:
        yield url.removeprefix("http://")


def test_users_and_sessions_share_the_account_throttle(
    throttled_server: str, admin: Admin, tenant: tuple[str, str]
) -> None:
    account, space = tenant
    root = new_sdk(throttled_server, admin.key(account))
    user = new_sdk(throttled_server, user_with(admin, account, "u1", "AliyunCAMSFullAccess"))

    async def role_session(store: RamStore) -> Any:
        await store.create_role(account, "ops", ("u1",))
        await store.attach_policy(account, "role", "ops", "AliyunCAMSFullAccess")
        return await store.assume_role(account, "ops", "s1")

    issued = ram(admin, role_session)
    SECRETS.update({issued.access_key_secret, issued.security_token})
    session = new_sdk(throttled_server, (issued.access_key_id, issued.access_key_secret), token=issued.security_token)
    for client in (root, user, session, user):
        assert query(client, space).body.code == "OK"
    for client in (root, user, session):
        with pytest.raises(ThrottlingException) as info:
            query(client, space)
        assert info.value.code == "System.LimitControl"
    # Another account has its own allowance.
    other = admin.account()
    assert query(new_sdk(throttled_server, admin.key(other)), admin.space(other)).body.code == "OK"
