"""Property: whatever arrives, the answer is a well-formed envelope with a RequestId, never a 500.

On SQLite and PostgreSQL: random methods and paths, parameters repeated and holding control
characters, hostile header values, and bodies that are empty, binary, over the limit or chunked.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
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
controls = st.text(st.characters(max_codepoint=0x9F), min_size=1, max_size=5)
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
    st.builds(lambda a, b: a + b, text, controls),
)
# Any header byte an HTTP parser lets through: httpx itself refuses CR, LF and NUL.
header_values = st.text(st.characters(min_codepoint=1, max_codepoint=255, exclude_characters="\r\n"), max_size=60)
LIMIT = 1 << 20
bodies = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([b"x" * (LIMIT + 1), b"CustSpaceId=" + b"\x00" * 100, b"\xff\xfe" * 1000]),
)


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
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"]),
    path=st.sampled_from(["/", "/", "/", "/healthz", "/x/y", "/%00", "/console"]),
    query=st.lists(st.tuples(st.one_of(st.sampled_from(COMMON), text), values), max_size=10),
    repeat=st.booleans(),
    headers=st.dictionaries(st.sampled_from(HEADERS), header_values, max_size=6),
    body=bodies,
    chunked=st.booleans(),
    start_from_valid=st.booleans(),
)
def test_random_requests_get_envelopes(
    client: tuple[asyncio.AbstractEventLoop, httpx.AsyncClient, dict[str, str]],
    method: str,
    path: str,
    query: list[tuple[str, str]],
    repeat: bool,
    headers: dict[str, str],
    body: bytes,
    chunked: bool,
    start_from_valid: bool,
) -> None:
    loop, http, valid = client
    params = [*valid.items(), *query] if start_from_valid else list(query)
    if repeat and params:
        params.append(params[0])  # a parameter given twice

    async def stream() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 65536):
            yield body[i : i + 65536]

    content: Any = stream() if chunked else body
    raw_headers = {k: v.encode("latin-1") for k, v in headers.items()}  # bytes: any octet, as sent
    response = loop.run_until_complete(http.request(method, path, params=params, headers=raw_headers, content=content))
    assert response.status_code < 500, response.text
    if path == "/healthz" and method in ("GET", "HEAD") and response.status_code == 200:
        return  # the liveness probe, not an API call
    request_id = response.headers["x-acs-request-id"]
    if method == "HEAD":
        return
    if response.headers["content-type"].startswith("text/xml"):
        assert f"<RequestId>{request_id}</RequestId>" in response.text
        return
    payload: dict[str, Any] = json.loads(response.text)
    assert payload["RequestId"] == request_id
    assert isinstance(payload["Code"], str) and payload["Code"]
    if response.status_code != 200:
        assert set(payload) >= {"RequestId", "HostId", "Code", "Message", "Recommend"}
    if len(body) > LIMIT:
        assert response.status_code in (400, 413)
