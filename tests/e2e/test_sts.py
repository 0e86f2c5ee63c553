"""STS temporary credentials on real calls: signing with a token (V3 and V1), expiry, mismatches, session policies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from alibabacloud_tea_openapi.exceptions import ClientException
from sqlalchemy import select

from opencams.config import Settings
from opencams.db.ram import RamStore, StsSession
from opencams.db.tables import sts_credentials
from opencams.iam.diagnostic import decode_diagnostic

from ..harness import SECRETS, Admin, new_sdk, sign_v1, v1_params
from .test_ram import denied, doc, query, ram, sync, user_with

ALGORITHMS = [None, "v2"]
IDS = ["v3", "v1"]
QUERY_ONLY = doc({"Effect": "Allow", "Action": "cams:Query*", "Resource": "*"})


@pytest.fixture
def tenant(admin: Admin) -> tuple[str, str]:
    """An account with a space and a role `ops` (FullAccess) that user `alice` may assume."""
    account = admin.account()
    space = admin.space(account)
    user_with(admin, account, "alice")

    async def role(store: RamStore) -> None:
        await store.create_role(account, "ops", ("alice",))
        await store.attach_policy(account, "role", "ops", "AliyunCAMSFullAccess")

    ram(admin, role)
    return account, space


def assume(admin: Admin, account: str, **kwargs: Any) -> StsSession:
    kwargs.setdefault("role_name", "ops")
    kwargs.setdefault("session_name", "s1")
    session: StsSession = ram(admin, lambda s: s.assume_role(account, **kwargs))
    SECRETS.update({session.access_key_secret, session.security_token})
    return session


def client_for(server: str, session: StsSession, algorithm: str | None, token: str | None = None) -> Any:
    key = (session.access_key_id, session.access_key_secret)
    return new_sdk(server, key, algorithm=algorithm, token=session.security_token if token is None else token)


def sdk_error(call: Any, *args: Any) -> ClientException:
    with pytest.raises(ClientException) as info:
        call(*args)
    return info.value


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=IDS)
def test_sts_credential_works_as_the_role(
    server: str, admin: Admin, tenant: tuple[str, str], algorithm: str | None
) -> None:
    account, space = tenant
    session = assume(admin, account, user_name="alice")
    assert session.access_key_id.startswith("STS.")
    assert session.security_token.startswith("CAIS")
    assert session.arn == f"acs:ram::{account}:role/ops/s1"
    client = client_for(server, session, algorithm)
    response = sync(client, space)
    assert response.body.code == "OK"
    assert len(response.body.phone_numbers) == 250
    assert query(client, space).body.code == "OK"


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=IDS)
def test_sts_credential_works_until_it_expires(
    server: str, admin: Admin, tenant: tuple[str, str], algorithm: str | None
) -> None:
    account, space = tenant
    # Issued 900 s minus a moment ago with the shortest duration: it expires a few seconds from now.
    session = assume(admin, account, duration=900, now=time.time() - 897)
    client = client_for(server, session, algorithm)
    assert query(client, space).body.code == "OK"
    time.sleep(max(0.0, session.expires_at - time.time()) + 0.2)
    error = sdk_error(query, client, space)
    assert error.code == "InvalidSecurityToken.Expired"
    assert error.status_code == 400
    assert "Specified SecurityToken is expired." in error.message


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=IDS)
def test_expired_credential(server: str, admin: Admin, tenant: tuple[str, str], algorithm: str | None) -> None:
    account, space = tenant
    session = assume(admin, account, duration=900, now=time.time() - 3600)
    assert sdk_error(sync, client_for(server, session, algorithm), space).code == "InvalidSecurityToken.Expired"


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=IDS)
def test_token_mismatches(server: str, admin: Admin, tenant: tuple[str, str], algorithm: str | None) -> None:
    account, space = tenant
    mine, other = assume(admin, account), assume(admin, account, session_name="s2")
    # Another credential's token: well-formed, but not this key's.
    error = sdk_error(query, client_for(server, mine, algorithm, token=other.security_token), space)
    assert (error.code, error.status_code) == ("InvalidSecurityToken.MismatchWithAccessKey", 400)
    error = sdk_error(query, client_for(server, mine, algorithm, token="not-a-token"), space)
    assert (error.code, error.status_code) == ("InvalidSecurityToken.Malformed", 400)
    # A token sent with the account's long-lived key is not one issued for it.
    root = new_sdk(server, admin.key(account), algorithm=algorithm, token=mine.security_token)
    assert sdk_error(query, root, space).code == "InvalidSecurityToken.MismatchWithAccessKey"


def test_sts_key_without_token(server: str, admin: Admin, tenant: tuple[str, str]) -> None:
    account, space = tenant
    session = assume(admin, account)
    params = sign_v1(
        v1_params(session.access_key_id, action="QueryChatappPhoneNumbers", CustSpaceId=space),
        session.access_key_secret,
    )
    response = httpx.post(f"http://{server}/", params=params)
    assert response.status_code == 400
    assert response.json()["Code"] == "MissingSecurityToken"
    with_token = sign_v1(
        v1_params(
            session.access_key_id,
            action="QueryChatappPhoneNumbers",
            CustSpaceId=space,
            SecurityToken=session.security_token,
        ),
        session.access_key_secret,
    )
    assert httpx.post(f"http://{server}/", params=with_token).status_code == 200


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=IDS)
def test_session_policy_narrows_the_role(
    server: str, admin: Admin, tenant: tuple[str, str], algorithm: str | None
) -> None:
    account, space = tenant
    client = client_for(server, assume(admin, account, session_name="reader", session_policy=QUERY_ONLY), algorithm)
    assert query(client, space).body.code == "OK"
    detail = denied(sync, client, space)
    assert detail["AuthAction"] == "cams:ChatappSyncPhoneNumber"
    assert detail["AuthPrincipalType"] == "AssumedRoleUser"
    assert detail["AuthPrincipalOwnerId"] == account
    assert detail["AuthPrincipalDisplayName"] == "ops:reader"
    assert detail["NoPermissionType"] == "ImplicitDeny"
    assert detail["PolicyType"] == "SessionPolicy"
    diagnostic = decode_diagnostic(detail["EncodedDiagnosticMessage"])
    assert diagnostic["PolicyType"] == "SessionPolicy"
    assert diagnostic["AuthPrincipal"] == f"acs:ram::{account}:role/ops/reader"


def test_session_policy_explicit_deny(server: str, admin: Admin, tenant: tuple[str, str]) -> None:
    account, space = tenant
    policy = doc(
        {"Effect": "Allow", "Action": "cams:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "cams:ChatappSyncPhoneNumber", "Resource": "*"},
    )
    client = client_for(server, assume(admin, account, session_policy=policy), None)
    detail = denied(sync, client, space)
    assert (detail["NoPermissionType"], detail["PolicyType"]) == ("ExplicitDeny", "SessionPolicy")
    assert decode_diagnostic(detail["EncodedDiagnosticMessage"])["StatementIndex"] == 1


def test_session_policy_cannot_widen_the_role(server: str, admin: Admin, tenant: tuple[str, str]) -> None:
    account, space = tenant
    ram(admin, lambda s: s.detach_policy(account, "role", "ops", "AliyunCAMSFullAccess"))
    ram(admin, lambda s: s.attach_policy(account, "role", "ops", "AliyunCAMSReadOnlyAccess"))
    everything = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    client = client_for(server, assume(admin, account, session_policy=everything), None)
    assert query(client, space).body.code == "OK"
    detail = denied(sync, client, space)
    assert (detail["NoPermissionType"], detail["PolicyType"]) == ("ImplicitDeny", "AccountLevelIdentityBasedPolicy")
    assert detail["AuthPrincipalType"] == "AssumedRoleUser"


def test_role_policy_changes_apply_to_live_sessions(server: str, admin: Admin, tenant: tuple[str, str]) -> None:
    account, space = tenant
    client = client_for(server, assume(admin, account), None)
    assert query(client, space).body.code == "OK"
    ram(admin, lambda s: s.detach_policy(account, "role", "ops", "AliyunCAMSFullAccess"))
    assert denied(query, client, space)["AuthPrincipalType"] == "AssumedRoleUser"


def test_sts_secrets_are_stored_encrypted(admin: Admin, tenant: tuple[str, str]) -> None:
    account, _ = tenant
    session = assume(admin, account, session_policy=QUERY_ONLY)

    async def row(c: Any) -> Any:
        async with c.engine.connect() as conn:
            return (
                await conn.execute(select(sts_credentials).where(sts_credentials.c.id == session.access_key_id))
            ).one()

    stored = admin.run(row)
    text = json.dumps([str(v) for v in stored])
    assert session.access_key_secret not in text
    assert session.security_token not in text
    assert stored.session_policy == QUERY_ONLY
    assert stored.expires_at == session.expires_at


def test_assume_role_refusals(admin: Admin, tenant: tuple[str, str]) -> None:
    from opencams.db.accounts import NotFound
    from opencams.db.ram import RamError
    from opencams.iam.policy import PolicyError

    account, _ = tenant
    user_with(admin, account, "mallory")
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"user_name": "mallory"}, RamError, "not trusted by role ops"),
        ({"role_name": "nope"}, NotFound, "role nope does not exist"),
        ({"duration": 899}, RamError, "DurationSeconds must be 900 to 43200"),
        ({"duration": 43201}, RamError, "DurationSeconds must be 900 to 43200"),
        ({"session_name": "x"}, RamError, "session name 'x' is not valid"),
        ({"session_policy": '{"Version":"1"}'}, PolicyError, 'missing required element "Statement"'),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            assume(admin, account, **kwargs)


def test_cli_issued_credentials_work(server: str, settings: Settings, admin: Admin, tenant: tuple[str, str]) -> None:
    account, space = tenant
    env = {
        **os.environ,
        "OPENCAMS_DATA_DIR": str(settings.data_dir),
        "OPENCAMS_DATABASE_URL": settings.effective_database_url,
        "OPENCAMS_SECRET_KEY": "test-deployment-key",
    }
    opencams = str(Path(sys.executable).parent / "opencams")
    args = ["admin", "sts", "assume-role", "--account", account, "--role", "ops", "--session", "cli", "--user", "alice"]
    done = subprocess.run(
        [opencams, *args, "--policy", "-", "--json"],
        input=QUERY_ONLY,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    credentials = json.loads(done.stdout)["Credentials"]
    key = (credentials["AccessKeyId"], credentials["AccessKeySecret"])
    for algorithm in ALGORITHMS:
        client = new_sdk(server, key, algorithm=algorithm, token=credentials["SecurityToken"])
        assert query(client, space).body.code == "OK"
        assert denied(sync, client, space)["PolicyType"] == "SessionPolicy"
