"""The RPC gateway through the official SDKs and raw signed requests, over real HTTP."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from alibabacloud_cams20200606 import models
from alibabacloud_tea_openapi.exceptions import ClientException
from aliyunsdkcams.request.v20200606.ChatappSyncPhoneNumberRequest import ChatappSyncPhoneNumberRequest
from aliyunsdkcore.acs_exception.exceptions import ServerException

from ..harness import Admin, legacy_call, new_sdk, sign_v1, v1_params

ALGORITHMS = [None, "ACS3-HMAC-SM3", "v2"]
IDS = ["v3-sha256", "v3-sm3", "v1-hmac-sha1"]


@pytest.fixture
def owner(admin: Admin) -> tuple[str, tuple[str, str], str]:
    account = admin.account()
    return account, admin.key(account), admin.space(account)


def sync(client: object, space: str, **kwargs: object) -> models.ChatappSyncPhoneNumberResponse:
    request = models.ChatappSyncPhoneNumberRequest(cust_space_id=space, **kwargs)
    return client.chatapp_sync_phone_number(request)  # type: ignore[attr-defined, no-any-return]


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=IDS)
def test_new_sdk_syncs_owned_space(server: str, owner: tuple[str, tuple[str, str], str], algorithm: str | None) -> None:
    _, key, space = owner
    response = sync(new_sdk(server, key, algorithm=algorithm), space)
    assert response.status_code == 200
    assert response.body.code == "OK"
    assert response.body.success is True
    assert len(response.body.phone_numbers) == 250
    assert response.headers["x-acs-request-id"] == response.body.request_id


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=IDS)
def test_new_sdk_business_errors(
    server: str, admin: Admin, owner: tuple[str, tuple[str, str], str], algorithm: str | None
) -> None:
    account, key, space = owner
    client = new_sdk(server, key, algorithm=algorithm)
    other_account = admin.account()
    other_space = admin.space(other_account)
    cases = [
        ({"cust_space_id": None}, "MissingCustSpaceId", "CustSpaceId is mandatory for this action."),
        (
            {"cust_space_id": "no-such-space"},
            "Unknown.ResourceOwnerId",
            "The resource does not belong to the current user.",
        ),
        (
            {"cust_space_id": other_space},
            "Unknown.ResourceOwnerId",
            "The resource does not belong to the current user.",
        ),
        (
            {"cust_space_id": space, "resource_owner_id": int(other_account)},
            "Unknown.ResourceOwnerId",
            "The resource does not belong to the current user.",
        ),
    ]
    for kwargs, code, message in cases:
        with pytest.raises(ClientException) as info:
            client.chatapp_sync_phone_number(models.ChatappSyncPhoneNumberRequest(**kwargs))
        assert info.value.code == code
        assert info.value.status_code == 400
        assert message in info.value.message
    # ResourceOwnerId equal to the caller's account is accepted.
    ok = client.chatapp_sync_phone_number(
        models.ChatappSyncPhoneNumberRequest(cust_space_id=space, resource_owner_id=int(account))
    )
    assert ok.body.code == "OK"


def test_unsubscribed_account_gets_product_unsubscript(server: str, admin: Admin) -> None:
    account = admin.account(cams=False)
    key = admin.key(account)
    space = admin.space(account)
    for algorithm in ALGORITHMS:
        with pytest.raises(ClientException) as info:
            sync(new_sdk(server, key, algorithm=algorithm), space)
        assert info.value.code == "Product.Unsubscript"
        assert info.value.status_code == 400
        assert "You have not subscribed to the specified product." in info.value.message
    with pytest.raises(ServerException) as legacy:
        request = ChatappSyncPhoneNumberRequest()
        request.set_CustSpaceId(space)
        legacy_call(server, key, request)
    assert legacy.value.get_error_code() == "Product.Unsubscript"


def test_legacy_sdk(server: str, admin: Admin, owner: tuple[str, tuple[str, str], str]) -> None:
    _, key, space = owner
    request = ChatappSyncPhoneNumberRequest()
    request.set_CustSpaceId(space)
    body = legacy_call(server, key, request)
    assert body["Code"] == "OK"
    assert len(body["PhoneNumbers"]) == 250
    other = admin.space(admin.account())
    cases = [
        (None, "MissingCustSpaceId"),
        ("no-such-space", "Unknown.ResourceOwnerId"),
        (other, "Unknown.ResourceOwnerId"),
    ]
    for space_id, code in cases:
        request = ChatappSyncPhoneNumberRequest()
        if space_id:
            request.set_CustSpaceId(space_id)
        with pytest.raises(ServerException) as info:
            legacy_call(server, key, request)
        assert info.value.get_error_code() == code
        assert info.value.get_http_status() == 400
    request = ChatappSyncPhoneNumberRequest()
    request.set_CustSpaceId(space)
    request.set_ResourceOwnerId(int(admin.account()))
    with pytest.raises(ServerException) as info:
        legacy_call(server, key, request)
    assert info.value.get_error_code() == "Unknown.ResourceOwnerId"


def test_legacy_sdk_wrong_secret_is_recognised(server: str, owner: tuple[str, tuple[str, str], str]) -> None:
    # The legacy SDK rewrites SignatureDoesNotMatch into InvalidAccessKeySecret only when the
    # server's string to sign equals its own: this proves our V1 string to sign is the SDK's.
    _, key, space = owner
    request = ChatappSyncPhoneNumberRequest()
    request.set_CustSpaceId(space)
    with pytest.raises(ServerException) as info:
        legacy_call(server, (key[0], "x" * 30), request)
    assert info.value.get_error_code() == "InvalidAccessKeySecret"


def post(server: str, params: dict[str, str]) -> httpx.Response:
    return httpx.post(f"http://{server}/", params=params)


def assert_error(response: httpx.Response, status: int, code: str, message: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["Code"] == code
    assert body["Message"].startswith(message), body["Message"]
    assert body["RequestId"] == response.headers["x-acs-request-id"]
    assert set(body) >= {"RequestId", "HostId", "Code", "Message", "Recommend"}


def test_gateway_errors_raw(server: str, admin: Admin, owner: tuple[str, tuple[str, str], str]) -> None:
    _, (ak, secret), space = owner
    good = sign_v1(v1_params(ak, CustSpaceId=space), secret)
    assert post(server, good).status_code == 200

    assert_error(post(server, good), 400, "SignatureNonceUsed", "Specified signature nonce was used already.")
    assert_error(
        post(server, sign_v1(v1_params("LTAI" + "x" * 20, CustSpaceId=space), secret)),
        404,
        "InvalidAccessKeyId.NotFound",
        "Specified access key is not found.",
    )
    assert_error(
        post(server, sign_v1(v1_params(ak, CustSpaceId=space), "wrong-secret")),
        400,
        "SignatureDoesNotMatch",
        "Specified signature is not matched with our calculation. server string to sign is:POST&%2F&",
    )
    old = (datetime.now(UTC) - timedelta(minutes=16)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert_error(
        post(server, sign_v1(v1_params(ak, CustSpaceId=space, Timestamp=old), secret)),
        400,
        "InvalidTimeStamp.Expired",
        "Specified time stamp or date value is expired.",
    )
    assert_error(
        post(server, sign_v1(v1_params(ak, CustSpaceId=space, Timestamp="26/11/2026"), secret)),
        400,
        "InvalidTimeStamp.Format",
        "Specified time stamp or date value is not well formatted.",
    )
    assert_error(
        post(server, sign_v1(v1_params(ak, CustSpaceId=space, Version="2017-05-25"), secret)),
        400,
        "InvalidVersion",
        "Specified parameter Version is not valid.",
    )
    assert_error(
        post(server, sign_v1(v1_params(ak, action="NoSuchAction", CustSpaceId=space), secret)),
        404,
        "InvalidAction.NotFound",
        "Specified api is not found",
    )
    for part in ("SignatureNonce", "Timestamp", "SignatureMethod", "SignatureVersion"):
        params = v1_params(ak, CustSpaceId=space)
        del params[part]
        assert_error(
            post(server, sign_v1(params, secret)),
            400,
            f"Missing{part}",
            f"{part} is mandatory for this action.",
        )
    unsigned = v1_params(ak, CustSpaceId=space)
    assert_error(post(server, unsigned), 400, "MissingSignature", "Signature is mandatory for this action.")
    assert_error(
        post(server, {"Action": "ChatappSyncPhoneNumber", "Version": "2020-06-06"}),
        400,
        "IncompleteSignature",
        "The request signature does not conform to Aliyun standards.",
    )
    assert_error(
        post(server, sign_v1(v1_params(ak, CustSpaceId=space, SignatureMethod="HMAC-SHA256"), secret)),
        400,
        "InvalidSignatureMethod",
        "Specified signature method is not supported.",
    )
    v3 = httpx.post(
        f"http://{server}/",
        headers={
            "Authorization": "ACS3-HMAC-SHA256 Credential=x",
            "x-acs-action": "ChatappSyncPhoneNumber",
            "x-acs-version": "2020-06-06",
        },
    )
    assert_error(v3, 400, "IncompleteSignature", "The request signature does not conform to Aliyun standards.")

    admin.run(lambda c: c.accounts.set_access_key_active(ak, False))
    assert_error(
        post(server, sign_v1(v1_params(ak, CustSpaceId=space), secret)),
        400,
        "InvalidAccessKeyId.Inactive",
        "Specified access key is disabled.",
    )


def test_xml_format(server: str, owner: tuple[str, tuple[str, str], str]) -> None:
    _, (ak, secret), space = owner
    response = post(server, sign_v1(v1_params(ak, CustSpaceId=space, Format="XML"), secret))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml;charset=utf-8"
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8"?><ChatappSyncPhoneNumberResponse><RequestId>')
    assert response.text.count("<PhoneNumbers>") == 250
    error = post(server, sign_v1(v1_params(ak, Format="XML"), secret))
    assert error.status_code == 400
    assert "<Error><RequestId>" in error.text and "<Code>MissingCustSpaceId</Code>" in error.text


def test_every_response_has_a_fresh_request_id(server: str) -> None:
    ids = set()
    for method in ("GET", "POST", "DELETE"):
        response = httpx.request(method, f"http://{server}/", params={"x": str(uuid.uuid4())})
        body = response.json()
        assert response.status_code < 500
        assert body["RequestId"] == response.headers["x-acs-request-id"]
        ids.add(body["RequestId"])
    assert len(ids) == 3
