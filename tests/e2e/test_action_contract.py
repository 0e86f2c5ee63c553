"""Every declared action keeps CAMS's promises: its four documented errors, RAM's access levels,
and a clear error naming the parameter for every malformed input, never a 500."""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from alibabacloud_cams20200606 import models
from alibabacloud_tea_openapi.exceptions import ClientException, ThrottlingException

from opencams.actions import declared_actions
from opencams.config import Settings
from opencams.db.limits import CACHE_SECONDS, AccountRateStore
from opencams.db.ram import RamStore
from opencams.ratelimit import Rate
from opencams.rpc.registry import Param

from ..harness import SECRETS, Admin, Emulator, load_fixture, new_sdk, sdk_call, serve_app, sign_v3, snake
from .business import APP_ID, FIRST, LUCKY
from .onboarding import DAY_MS, now_ms, public_key_pem

ACTIONS = {declaration.name: declaration for declaration, _ in declared_actions()}


@dataclass
class Tenant:
    server: str
    admin: Admin
    account: str
    key: tuple[str, str]
    space: str

    def params(self, action: str) -> dict[str, str]:
        """A value for every required parameter of `action` (CAMS names)."""
        values = {
            "CustSpaceId": self.space,
            "PhoneNumber": FIRST,
            "WabaId": LUCKY,
            "NodeType": "waba",
            "Cc": "1",
            "VerifiedName": "Lucky Shrub",
            "Method": "SMS",
            "Locale": "en_US",
            "VerifyCode": "123456",
            "Start": str(now_ms() - DAY_MS),
            "End": str(now_ms()),
            "EncryptionPublicKey": public_key_pem(),
        }
        return {p.name: values.get(p.name, "x") for p in ACTIONS[action].params if p.required}

    def user(self, name: str, *policies: str) -> tuple[str, str]:
        async def setup(c: Any) -> Any:
            store = RamStore(c.engine, c.box)
            await store.create_user(self.account, name)
            for policy in policies:
                await store.attach_policy(self.account, "user", name, policy)
            return await c.accounts.create_access_key(self.account, name)

        key = self.admin.run(setup)
        SECRETS.add(key.secret)
        return key.id, key.secret


@pytest.fixture
def tenant(settings: Settings, admin: Admin, emulator: Emulator) -> Iterator[Tenant]:
    from opencams.bootstrap import create_app

    emulator.set_state(load_fixture("business.json"))
    with serve_app(create_app(settings.model_copy(update={"meta_app_id": APP_ID}))) as url:
        server = url.removeprefix("http://")
        account = admin.account()
        key = admin.key(account)
        space = sdk_call(new_sdk(server, key), "ChatappBindWaba", waba_id=LUCKY).data.cust_space_id
        sdk_call(new_sdk(server, key), "ChatappSyncPhoneNumber", cust_space_id=space)
        yield Tenant(server, admin, account, key, space)


def sdk_error(key: tuple[str, str], tenant: Tenant, action: str, **extra: Any) -> ClientException:
    params = {snake(k): v for k, v in tenant.params(action).items()}
    with pytest.raises((ClientException, ThrottlingException)) as info:
        sdk_call(new_sdk(tenant.server, key), action, **params, **extra)
    return info.value  # type: ignore[return-value]


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_the_four_documented_errors(tenant: Tenant, action: str) -> None:
    other = tenant.admin.account()
    if "resource_owner_id" in inspect.signature(getattr(models, f"{action}Request")).parameters:
        owner_error = sdk_error(tenant.key, tenant, action, resource_owner_id=int(other))
        assert (owner_error.code, owner_error.status_code) == ("Unknown.ResourceOwnerId", 400)
    else:
        # Signed by hand: GetPreValidatePhoneId's SDK request model has no ResourceOwnerId.
        query, headers = sign_v3(
            *tenant.key, tenant.server, action=action, query={**tenant.params(action), "ResourceOwnerId": other}
        )
        owner = httpx.post(f"http://{tenant.server}/?{query}", headers=headers)
        assert (owner.json()["Code"], owner.status_code) == ("Unknown.ResourceOwnerId", 400)

    nobody = tenant.user("nobody")
    denied = sdk_error(nobody, tenant, action)
    assert (denied.code, denied.status_code) == ("Ram.PermissionDeny", 400)
    assert denied.access_denied_detail["AuthAction"] == f"cams:{action}"

    tenant.admin.run(lambda c: AccountRateStore(c.engine).set_rate(tenant.account, action, Rate.parse("1/60s")))
    time.sleep(CACHE_SECONDS + 0.1)  # each process re-reads per-account rates once a second
    first = tenant.params(action)
    query, headers = sign_v3(*tenant.key, tenant.server, action=action, query=first)
    assert httpx.post(f"http://{tenant.server}/?{query}", headers=headers).json()["Code"] != "System.LimitControl"
    throttled = sdk_error(tenant.key, tenant, action)
    assert (throttled.code, throttled.status_code) == ("System.LimitControl", 400)

    tenant.admin.run(lambda c: c.accounts.update_account(tenant.account, cams_enabled=False))
    unsubscribed = sdk_error(tenant.key, tenant, action)
    assert (unsubscribed.code, unsubscribed.status_code) == ("Product.Unsubscript", 400)


def test_read_only_access_allows_exactly_the_get_level_actions(tenant: Tenant) -> None:
    reader = tenant.user("reader", "AliyunCAMSReadOnlyAccess")
    for action, declaration in sorted(ACTIONS.items()):
        query, headers = sign_v3(*reader, tenant.server, action=action, query=tenant.params(action))
        code = httpx.post(f"http://{tenant.server}/?{query}", headers=headers).json()["Code"]
        if declaration.access == "get":
            assert code != "Ram.PermissionDeny", action
        else:
            assert code == "Ram.PermissionDeny", action


def _bad_values(param: Param) -> list[str]:
    values = ["x" * (param.max_length + 1)]
    if param.kind in ("long", "integer", "millis"):
        values += ["12a", "1.5", "9" * 30, "-"]
    if param.kind == "millis":
        values += ["1693107714", "99999999999999"]  # seconds, not milliseconds; far future
    if param.kind == "flag":
        values += ["y", "yes", "1", "true"]
    if param.kind == "json_list":
        values += ["[1]", "{}", "[", '"a"']
    if param.enum:
        values += ["NOT_AN_OPTION"]
    if param.pattern:
        values += ["abc"]
    if not param.multiline:
        values += ["a\nb", "a\tb"]
    return values


CASES = [(action, p) for action, d in sorted(ACTIONS.items()) for p in d.params]


@pytest.mark.parametrize(("action", "param"), CASES, ids=[f"{a}.{p.name}" for a, p in CASES])
def test_malformed_parameters_are_named(tenant: Tenant, action: str, param: Param) -> None:
    for value in _bad_values(param):
        params = {**tenant.params(action), param.name: value}
        query, headers = sign_v3(*tenant.key, tenant.server, action=action, query=params)
        answer = httpx.post(f"http://{tenant.server}/?{query}", headers=headers)
        assert answer.status_code == 400, (value, answer.text)
        assert answer.json()["Code"] == "InvalidParameter", (value, answer.text)
        assert param.name in answer.json()["Message"]
    if param.required:
        params = {k: v for k, v in tenant.params(action).items() if k != param.name}
        query, headers = sign_v3(*tenant.key, tenant.server, action=action, query=params)
        answer = httpx.post(f"http://{tenant.server}/?{query}", headers=headers)
        assert (answer.status_code, answer.json()["Code"]) == (400, f"Missing{param.name}")
        assert answer.json()["Message"] == f"{param.name} is mandatory for this action."
