"""The WABA-level actions through the official SDKs (new Python, legacy Python, Node) against the emulator."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from alibabacloud_tea_openapi.exceptions import ClientException

from ..harness import legacy_action, new_sdk, node_action, node_available, sdk_call
from .business import APP_ID, LUCKY, RESTRICTED, UNBOUND, World

# --- ChatappBindWaba ----------------------------------------------------------------------------


def test_bind_checks_the_waba_subscribes_the_app_and_creates_the_space(world: World) -> None:
    world.emulator.clear_calls()
    body = world.call("ChatappBindWaba", waba_id=LUCKY)
    assert body.code == "OK" and body.success is True
    assert body.data.waba_id == LUCKY
    space = world.admin.run(lambda c: c.spaces.get_space(body.data.cust_space_id))
    assert (space.account_id, space.waba_id) == (world.account, LUCKY)
    calls = [(c["method"], c["path"]) for c in world.emulator.calls()]
    assert ("GET", f"/v23.0/{LUCKY}") in calls
    assert ("POST", f"/v23.0/{LUCKY}/subscribed_apps") in calls
    subscribed = world.emulator.state()["wabas"][LUCKY]["subscribed_apps"]
    assert [s["app_id"] for s in subscribed] == [APP_ID]


def test_binding_again_answers_the_same_space_even_at_once(world: World) -> None:
    first = world.bind()
    with ThreadPoolExecutor(8) as pool:
        spaces = set(pool.map(lambda _: world.bind(), range(8)))
    assert spaces == {first}
    assert len(world.admin.run(lambda c: c.spaces.spaces_of_waba(LUCKY))) == 1


def test_a_waba_bound_by_another_account_is_refused(world: World) -> None:
    world.bind()
    other = world.admin.account()
    other_sdk = new_sdk(world.server, world.admin.key(other))
    with pytest.raises(ClientException) as info:
        sdk_call(other_sdk, "ChatappBindWaba", waba_id=LUCKY)
    assert info.value.code == "Unknown.ResourceOwnerId"
    assert "bound to another account" in info.value.message
    assert world.admin.run(lambda c: c.spaces.list_spaces(other)) == []


def test_a_waba_meta_does_not_know_is_refused_with_metas_words(world: World) -> None:
    error = world.error("ChatappBindWaba", waba_id="399999999999999")
    assert error.code == "ERR-FB-001"
    assert "code=100" in error.message and "fbtrace_id=" in error.message
    assert world.admin.run(lambda c: c.spaces.list_spaces(world.account)) == []


@pytest.mark.parametrize(
    ("waba", "code"), [("12ab", "InvalidParameter"), ("", "MissingWabaId"), ("1" * 40, "InvalidParameter")]
)
def test_bind_parameters(world: World, waba: str, code: str) -> None:
    error = world.error("ChatappBindWaba", waba_id=waba or None)
    assert error.code == code
    assert "WabaId" in error.message


def test_bind_through_the_legacy_and_node_sdks(world: World) -> None:
    body = legacy_action(world.server, world.key, "ChatappBindWaba", WabaId=RESTRICTED)
    assert body["Code"] == "OK" and body["Data"]["WabaId"] == RESTRICTED
    if node_available():
        again = node_action(world.server, world.key, "ChatappBindWaba", wabaId=RESTRICTED)
        assert again["body"]["Data"]["CustSpaceId"] == body["Data"]["CustSpaceId"]


# --- QueryChatappBindWaba -----------------------------------------------------------------------


def test_query_bind_waba_maps_metas_waba(world: World) -> None:
    space = world.bind()
    data = world.call("QueryChatappBindWaba", cust_space_id=space).data.to_map()
    assert data == {
        "Id": LUCKY,
        "Name": "Lucky Shrub",
        "Currency": "USD",
        "AccountReviewStatus": "APPROVED",
        "MessageTemplateNamespace": "93e6b26e_8a67_4163_a093_ebfe645a66b0",
        "PrimaryBusinessLocation": "US",
        "AuthInternationalRateEligibility": {
            "start_time": 1721952000,
            "exception_countries": [{"country_code": "IN", "start_time": 1727395200}],
        },
        "MarketingMessageLiteStatus": "ONBOARDED",
        "BusinessId": "777000000000001",
        "BusinessName": "Lucky Shrub Holdings",
    }


def test_restricted_is_what_cams_calls_disabled(world: World) -> None:
    space = world.bind(RESTRICTED)
    data = world.call("QueryChatappBindWaba", cust_space_id=space).data
    assert data.account_review_status == "DISABLED"
    assert data.business_id is None  # Meta gave no owner: left out, never null


def test_without_cust_space_id_the_accounts_only_space_is_meant(world: World) -> None:
    world.bind()
    assert world.call("QueryChatappBindWaba").data.id == LUCKY
    world.bind(RESTRICTED)
    error = world.error("QueryChatappBindWaba")
    assert error.code == "MissingCustSpaceId"
    assert "exactly one" in error.message


def test_query_bind_waba_of_another_accounts_space(world: World) -> None:
    other = world.admin.account()
    space = world.admin.space(other, UNBOUND)
    assert world.error("QueryChatappBindWaba", cust_space_id=space).code == "Unknown.ResourceOwnerId"
    assert world.error("QueryChatappBindWaba", cust_space_id="nope").code == "Unknown.ResourceOwnerId"


def test_query_bind_waba_when_meta_refuses(world: World) -> None:
    space = world.bind()
    world.emulator.add_fault({"path": f"*/{LUCKY}", "action": {"error": {"code": 200, "status": 403}}})
    error = world.error("QueryChatappBindWaba", cust_space_id=space)
    assert error.code == "ERR-FB-001" and "code=200" in error.message


def test_query_bind_waba_through_legacy_and_node(world: World) -> None:
    space = world.bind()
    assert legacy_action(world.server, world.key, "QueryChatappBindWaba", CustSpaceId=space)["Data"]["Id"] == LUCKY
    if node_available():
        body = node_action(world.server, world.key, "QueryChatappBindWaba", custSpaceId=space)["body"]
        assert body["Data"]["Name"] == "Lucky Shrub"


# --- QueryWabaBusinessInfo ------------------------------------------------------------------------


def test_business_info(world: World) -> None:
    space = world.bind()
    body = world.call("QueryWabaBusinessInfo", cust_space_id=space, waba_id=LUCKY)
    assert body.success is True
    assert body.data.to_map() == {
        "BusinessId": "777000000000001",
        "BusinessName": "Lucky Shrub Holdings",
        "VerificationStatus": "verified",
        "Vertical": "RETAIL",
    }
    legacy = legacy_action(world.server, world.key, "QueryWabaBusinessInfo", CustSpaceId=space, WabaId=LUCKY)
    assert legacy["Data"]["BusinessName"] == "Lucky Shrub Holdings"
    if node_available():
        node = node_action(world.server, world.key, "QueryWabaBusinessInfo", custSpaceId=space, wabaId=LUCKY)
        assert node["body"]["Data"]["VerificationStatus"] == "verified"


def test_business_info_errors(world: World) -> None:
    space = world.bind()
    wrong = world.error("QueryWabaBusinessInfo", cust_space_id=space, waba_id=UNBOUND)
    assert wrong.code == "InvalidParameter" and "WabaId" in wrong.message
    assert world.error("QueryWabaBusinessInfo", cust_space_id=space).code == "MissingWabaId"
    restricted = world.bind(RESTRICTED)
    no_owner = world.error("QueryWabaBusinessInfo", cust_space_id=restricted, waba_id=RESTRICTED)
    assert no_owner.code == "ServiceUnavailable"


# --- UpdateAccountWebhook -------------------------------------------------------------------------


def test_account_webhook_is_stored_and_flags_apply(world: World) -> None:
    space = world.bind()
    body = world.call(
        "UpdateAccountWebhook", cust_space_id=space, status_callback_url="https://hooks.example.com/cams", http_flag="Y"
    )
    assert body.code == "OK"
    stored = world.admin.run(lambda c: c.spaces.get_space(space))
    assert (stored.webhook_url, stored.webhook_http, stored.webhook_queue) == (
        "https://hooks.example.com/cams",
        True,
        False,
    )
    world.call("UpdateAccountWebhook", cust_space_id=space, http_flag="N")
    stored = world.admin.run(lambda c: c.spaces.get_space(space))
    assert (stored.webhook_url, stored.webhook_http) == ("https://hooks.example.com/cams", False)
    legacy = legacy_action(world.server, world.key, "UpdateAccountWebhook", CustSpaceId=space, HttpFlag="Y")
    assert legacy["Code"] == "OK"
    if node_available():
        assert (
            node_action(world.server, world.key, "UpdateAccountWebhook", custSpaceId=space, httpFlag="N")["body"][
                "Code"
            ]
            == "OK"
        )


@pytest.mark.parametrize(
    ("params", "code", "named"),
    [
        ({"status_callback_url": "http://127.0.0.1:8080/"}, "InvalidParameter", "StatusCallbackUrl"),
        ({"status_callback_url": "ftp://hooks.example.com/"}, "InvalidParameter", "StatusCallbackUrl"),
        ({"http_flag": "Y"}, "InvalidParameter", "StatusCallbackUrl"),
        ({"http_flag": "yes"}, "InvalidParameter", "HttpFlag"),
        ({"queue_flag": "Y"}, "InvalidParameter", "QueueFlag"),
        ({"queue_flag": "true"}, "InvalidParameter", "QueueFlag"),
    ],
)
def test_account_webhook_refusals(world: World, params: dict[str, str], code: str, named: str) -> None:
    space = world.bind()
    error = world.error("UpdateAccountWebhook", cust_space_id=space, **params)
    assert error.code == code
    assert named in error.message
    stored = world.admin.run(lambda c: c.spaces.get_space(space))
    assert (stored.webhook_url, stored.webhook_http, stored.webhook_queue) == (None, False, False)
