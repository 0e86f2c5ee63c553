"""Property: whatever arrives at `/`, the answer is a well-formed envelope with a RequestId, never a 500."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opencams.bootstrap import create_app
from opencams.config import Settings

from ..harness import Admin, v1_params

COMMON = [
    "Action",
    "Version",
    "Format",
    "AccessKeyId",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
    "Signature",
    "SecurityToken",
    "CustSpaceId",
    "ResourceOwnerId",
    "OwnerId",
    "RegionId",
]
HEADERS = [
    "authorization",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
    "x-acs-security-token",
    "content-type",
    "x-forwarded-for",
]
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
values = st.one_of(
    text,
    st.sampled_from(
        [
            "",
            "2020-06-06",
            "ChatappSyncPhoneNumber",
            "HMAC-SHA1",
            "1.0",
            "XML",
            "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=00",
            "application/x-www-form-urlencoded",
            "2026-11-26T20:14:38Z",
            "9" * 30,
        ]
    ),
)
ascii_values = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60)


@pytest.fixture
def client(
    settings: Settings, admin: Admin
) -> Iterator[tuple[asyncio.AbstractEventLoop, httpx.AsyncClient, dict[str, str]]]:
    account = admin.account()
    ak, _ = admin.key(account)
    loop = asyncio.new_event_loop()
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings)), base_url="http://opencams.test")
    yield loop, http, v1_params(ak, CustSpaceId=admin.space(account))
    loop.run_until_complete(http.aclose())
    loop.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
    query=st.dictionaries(st.one_of(st.sampled_from(COMMON), text), values, max_size=10),
    headers=st.dictionaries(st.sampled_from(HEADERS), ascii_values, max_size=6),
    body=st.binary(max_size=200),
    start_from_valid=st.booleans(),
)
def test_random_requests_get_envelopes(
    client: tuple[asyncio.AbstractEventLoop, httpx.AsyncClient, dict[str, str]],
    method: str,
    query: dict[str, str],
    headers: dict[str, str],
    body: bytes,
    start_from_valid: bool,
) -> None:
    loop, http, valid = client
    params = {**valid, **query} if start_from_valid else query
    response = loop.run_until_complete(http.request(method, "/", params=params, headers=headers, content=body))
    assert response.status_code < 500, response.text
    request_id = response.headers["x-acs-request-id"]
    if response.headers["content-type"].startswith("text/xml"):
        assert f"<RequestId>{request_id}</RequestId>" in response.text
        return
    payload: dict[str, Any] = json.loads(response.text)
    assert payload["RequestId"] == request_id
    assert isinstance(payload["Code"], str) and payload["Code"]
    if response.status_code != 200:
        assert set(payload) >= {"RequestId", "HostId", "Code", "Message", "Recommend"}
