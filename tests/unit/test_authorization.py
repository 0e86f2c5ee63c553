"""The Authorizer against a real database: policy loading, condition keys, denial details, query count."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event

from opencams.db.accounts import AccountStore
from opencams.db.engine import create_engine
from opencams.db.ram import RamStore
from opencams.db.tables import ram_policies
from opencams.errors import PermissionDenied
from opencams.iam.diagnostic import decode_diagnostic
from opencams.principal import CallContext, Principal
from opencams.secretbox import SecretBox
from opencams.services.authorization import Authorizer

SYNC = "cams:ChatappSyncPhoneNumber"
QUERY = "cams:QueryChatappPhoneNumbers"
CALL = CallContext(source_ip="127.0.0.1", secure_transport=False, now=time.time())


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


def allow(action: str = "cams:*", **condition: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    return statement


@dataclass
class World:
    ram: RamStore
    authorizer: Authorizer
    account: str
    selects: list[str]

    def user(self, name: str, key: str = "LTAIuserkey") -> Principal:
        return Principal(self.account, "user", key, user_name=name)

    async def given(self, name: str, *policies: str, custom: dict[str, str] | None = None) -> Principal:
        await self.ram.create_user(self.account, name)
        for policy_name, document in (custom or {}).items():
            await self.ram.create_policy(self.account, policy_name, document)
        for policy in policies:
            await self.ram.attach_policy(self.account, "user", name, policy)
        return self.user(name)

    async def denial(self, principal: Principal, action: str = SYNC, call: CallContext = CALL) -> dict[str, str]:
        with pytest.raises(PermissionDenied) as info:
            await self.authorizer.authorize(principal, action, call)
        assert info.value.code == "Ram.PermissionDeny"
        return info.value.detail


@pytest.fixture
def migrated(migrated_database_url: str) -> str:
    return migrated_database_url


@pytest.fixture
async def world(migrated: str) -> AsyncIterator[World]:
    engine = create_engine(migrated)
    box = SecretBox("unit")
    selects: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    account = (await AccountStore(engine, box).create_account("unit")).id
    ram = RamStore(engine, box)
    try:
        yield World(ram, Authorizer(ram), account, selects)
    finally:
        await engine.dispose()


async def test_root_is_allowed_without_a_query(world: World) -> None:
    world.selects.clear()
    await world.authorizer.authorize(Principal(world.account, "root", "LTAIroot"), SYNC, CALL)
    assert world.selects == []


async def test_one_query_per_call(world: World) -> None:
    custom = {"mine": doc(allow("cams:Query*")), "other": doc(allow("cams:Get*"))}
    alice = await world.given(
        "alice", "AliyunCAMSReadOnlyAccess", "mine", "other", "AliyunCAMSFullAccess", custom=custom
    )
    world.selects.clear()
    await world.authorizer.authorize(alice, SYNC, CALL)
    assert len(world.selects) == 1
    world.selects.clear()
    await world.denial(world.user("nobody-here"))
    assert len(world.selects) == 1


async def test_denial_detail(world: World) -> None:
    bob = await world.given("bob", "AliyunCAMSReadOnlyAccess")
    await world.authorizer.authorize(bob, QUERY, CALL)
    detail = await world.denial(bob)
    encoded = detail.pop("EncodedDiagnosticMessage")
    assert detail == {
        "AuthAction": "cams:ChatappSyncPhoneNumber",
        "AuthPrincipalType": "SubUser",
        "AuthPrincipalOwnerId": world.account,
        "AuthPrincipalDisplayName": "bob",
        "NoPermissionType": "ImplicitDeny",
        "PolicyType": "AccountLevelIdentityBasedPolicy",
    }
    diagnostic = decode_diagnostic(encoded)
    assert diagnostic["AuthPrincipal"] == f"acs:ram::{world.account}:user/bob"
    assert diagnostic["AuthResource"] == f"acs:cams:*:{world.account}:*"


async def test_explicit_deny_names_policy_and_statement(world: World) -> None:
    guard = doc(allow("cams:Query*"), {"Effect": "Deny", "NotAction": "cams:Query*", "Resource": "*"})
    carol = await world.given("carol", "AliyunCAMSFullAccess", "guard", custom={"guard": guard})
    detail = await world.denial(carol)
    assert detail["NoPermissionType"] == "ExplicitDeny"
    diagnostic = decode_diagnostic(detail["EncodedDiagnosticMessage"])
    assert (diagnostic["PolicyName"], diagnostic["StatementIndex"], diagnostic["PolicyType"]) == (
        "guard",
        1,
        "AccountLevelIdentityBasedPolicy",
    )


async def test_attachment_changes_take_effect_immediately(world: World) -> None:
    dave = await world.given("dave")
    await world.denial(dave)
    await world.ram.attach_policy(world.account, "user", "dave", "AliyunCAMSFullAccess")
    await world.authorizer.authorize(dave, SYNC, CALL)
    await world.ram.detach_policy(world.account, "user", "dave", "AliyunCAMSFullAccess")
    await world.denial(dave)


@pytest.mark.parametrize(
    ("condition", "call", "allowed"),
    [
        ({"IpAddress": {"acs:SourceIp": "127.0.0.0/8"}}, CALL, True),
        ({"IpAddress": {"acs:SourceIp": "127.0.0.0/8"}}, CallContext("192.0.2.1", False, CALL.now), False),
        ({"IpAddress": {"acs:SourceIp": "2001:db8::/32"}}, CallContext("2001:db8::7", False, CALL.now), True),
        ({"Bool": {"acs:SecureTransport": "true"}}, CALL, False),
        ({"Bool": {"acs:SecureTransport": "true"}}, CallContext("127.0.0.1", True, CALL.now), True),
        ({"Bool": {"acs:MFAPresent": "true"}}, CALL, False),
        ({"Bool": {"acs:MFAPresent": "false"}}, CALL, True),
        ({"StringEquals": {"acs:AccessId": "LTAIuserkey"}}, CALL, True),
        ({"StringEquals": {"acs:AccessId": "LTAIotherkey"}}, CALL, False),
        ({"DateLessThan": {"acs:CurrentTime": "2099-01-01T00:00:00Z"}}, CALL, True),
        ({"DateLessThan": {"acs:CurrentTime": "2020-01-01T00:00:00Z"}}, CALL, False),
        (
            {"DateGreaterThanEquals": {"acs:CurrentTime": "2026-03-01T12:00:00Z"}},
            CallContext("127.0.0.1", False, datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp()),
            True,
        ),
        (
            {"DateGreaterThanEquals": {"acs:CurrentTime": "2026-03-01T12:00:00Z"}},
            CallContext("127.0.0.1", False, datetime(2026, 3, 1, 11, 59, 59, tzinfo=UTC).timestamp()),
            False,
        ),
    ],
)
async def test_condition_keys(world: World, condition: dict[str, Any], call: CallContext, allowed: bool) -> None:
    erin = await world.given("erin", "cond", custom={"cond": doc(allow(**condition))})
    if allowed:
        await world.authorizer.authorize(erin, SYNC, call)
    else:
        assert (await world.denial(erin, call=call))["NoPermissionType"] == "ImplicitDeny"


async def test_role_session_and_session_policy(world: World) -> None:
    await world.given("alice")
    await world.ram.create_role(world.account, "ops", ("alice",))
    await world.ram.attach_policy(world.account, "role", "ops", "AliyunCAMSFullAccess")
    session = Principal(world.account, "role", "STS.x", role_name="ops", session_name="s1")
    await world.authorizer.authorize(session, SYNC, CALL)
    narrowed = Principal(
        world.account, "role", "STS.x", role_name="ops", session_name="s1", session_policy=doc(allow("cams:Query*"))
    )
    await world.authorizer.authorize(narrowed, QUERY, CALL)
    detail = await world.denial(narrowed)
    assert detail["AuthPrincipalType"] == "AssumedRoleUser"
    assert detail["AuthPrincipalDisplayName"] == "ops:s1"
    assert detail["PolicyType"] == "SessionPolicy"
    # The user's own policies do not reach the role, nor the role's the user.
    assert (await world.denial(world.user("alice")))["AuthPrincipalType"] == "SubUser"


async def test_same_names_in_another_account_do_not_leak(world: World) -> None:
    await world.given("frank")
    other = (await AccountStore(world.ram.engine, world.ram.box).create_account("other")).id
    await world.ram.create_user(other, "frank")
    await world.ram.attach_policy(other, "user", "frank", "AliyunCAMSFullAccess")
    await world.authorizer.authorize(Principal(other, "user", "LTAIx", user_name="frank"), SYNC, CALL)
    detail = await world.denial(world.user("frank"))
    assert detail["AuthPrincipalOwnerId"] == world.account


async def test_a_stored_policy_that_no_longer_parses_denies(world: World) -> None:
    # Written behind the store's back, as if the policy language had become stricter since.
    async with world.ram.engine.begin() as conn:
        await conn.execute(
            ram_policies.insert().values(
                account_id=world.account,
                name="stale",
                document='{"Version":"1","Statement":"oops"}',
                created_at=datetime.now(UTC),
            )
        )
    grace = await world.given("grace", "AliyunCAMSFullAccess")
    await world.ram.attach_policy(world.account, "user", "grace", "stale")
    detail = await world.denial(grace)
    assert detail["NoPermissionType"] == "ExplicitDeny"
    assert decode_diagnostic(detail["EncodedDiagnosticMessage"])["PolicyName"] == "stale"
