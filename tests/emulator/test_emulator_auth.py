"""Auth and object lookup: token forms, Meta's 104/190/200/100-33 errors, appsecret_proof."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx
import pytest

from opencams.emulator import create_app

from .helpers import (
    AUTH,
    BASE_URL,
    EDGE,
    EXPIRED_TOKEN,
    FIRST_ID,
    OTHER_TOKEN,
    OTHER_WABA,
    TOKEN,
    graph_error,
)

pytestmark = pytest.mark.asyncio


class TestTokenForms:
    async def test_bearer_header_is_accepted(self, client: httpx.AsyncClient) -> None:
        response = await client.get(EDGE, headers=AUTH)
        assert response.status_code == 200
        assert len(response.json()["data"]) == 25

    async def test_access_token_query_is_accepted(self, client: httpx.AsyncClient) -> None:
        response = await client.get(EDGE, params={"access_token": TOKEN})
        assert response.status_code == 200
        assert response.json()["data"][0]["id"] == FIRST_ID

    async def test_oauth_scheme_is_accepted(self, client: httpx.AsyncClient) -> None:
        response = await client.get(EDGE, headers={"Authorization": f"OAuth {TOKEN}"})
        assert response.status_code == 200

    async def test_query_token_wins_over_header(self, client: httpx.AsyncClient) -> None:
        response = await client.get(EDGE, params={"access_token": "bogus"}, headers=AUTH)
        assert graph_error(response)["code"] == 190


class TestAuthErrors:
    async def test_missing_token_is_104(self, client: httpx.AsyncClient) -> None:
        response = await client.get(EDGE)
        assert response.status_code == 401
        error = graph_error(response)
        assert error["code"] == 104
        assert error["type"] == "OAuthException"
        assert error["message"] == "An access token is required to request this resource."
        assert "error_subcode" not in error
        assert response.headers["www-authenticate"].startswith('OAuth "Facebook Platform"')

    @pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer ", "Bearer"])
    async def test_unusable_authorization_header_counts_as_missing(
        self, client: httpx.AsyncClient, header: str
    ) -> None:
        response = await client.get(EDGE, headers={"Authorization": header})
        assert response.status_code == 401
        assert graph_error(response)["code"] == 104

    async def test_unknown_token_is_190_467(self, client: httpx.AsyncClient) -> None:
        response = await client.get(EDGE, headers={"Authorization": "Bearer nope"})
        assert response.status_code == 401
        error = graph_error(response)
        assert (error["code"], error["error_subcode"]) == (190, 467)
        assert error["type"] == "OAuthException"
        assert error["is_transient"] is False

    async def test_expired_token_is_190_463(self, client: httpx.AsyncClient) -> None:
        response = await client.get(EDGE, params={"access_token": EXPIRED_TOKEN})
        assert response.status_code == 401
        error = graph_error(response)
        assert (error["code"], error["error_subcode"]) == (190, 463)
        assert "expired" in error["message"]

    async def test_token_without_access_to_the_waba_is_403_200(self, client: httpx.AsyncClient) -> None:
        response = await client.get(EDGE, params={"access_token": OTHER_TOKEN})
        assert response.status_code == 403
        error = graph_error(response)
        assert error["code"] == 200
        assert error["type"] == "OAuthException"

    async def test_other_token_reads_its_own_waba(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"/v23.0/{OTHER_WABA}/phone_numbers", params={"access_token": OTHER_TOKEN})
        assert response.status_code == 200
        assert [n["id"] for n in response.json()["data"]] == [
            "109876543210101",
            "109876543210102",
            "109876543210103",
        ]


class TestUnknownObjects:
    async def test_unknown_waba_is_100_33(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v23.0/999999999999999/phone_numbers", headers=AUTH)
        assert response.status_code == 400
        error = graph_error(response)
        assert (error["code"], error["error_subcode"]) == (100, 33)
        assert error["type"] == "GraphMethodException"
        assert error["message"].startswith(
            "Unsupported get request. Object with ID '999999999999999' does not exist, "
            "cannot be loaded due to missing permissions, or does not support this operation."
        )

    async def test_unknown_phone_id_is_100_33(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v23.0/123456789012345", headers=AUTH)
        assert response.status_code == 400
        error = graph_error(response)
        assert (error["code"], error["error_subcode"]) == (100, 33)
        assert "'123456789012345'" in error["message"]

    async def test_phone_of_a_waba_the_token_cannot_see_looks_unknown(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v23.0/109876543210101", params={"access_token": TOKEN})
        assert response.status_code == 400
        assert graph_error(response)["error_subcode"] == 33

    async def test_auth_is_checked_before_existence(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v23.0/999999999999999/phone_numbers")
        assert graph_error(response)["code"] == 104


class TestAppSecretProof:
    @pytest.fixture
    def secret_state(self, waba250_state: dict[str, Any]) -> dict[str, Any]:
        return {**waba250_state, "app_secret": "s3cret"}

    async def test_proof_is_verified_when_state_has_an_app_secret(self, secret_state: dict[str, Any]) -> None:
        good = hmac.new(b"s3cret", TOKEN.encode(), hashlib.sha256).hexdigest()
        transport = httpx.ASGITransport(app=create_app(secret_state))
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            ok = await http.get(EDGE, params={"access_token": TOKEN, "appsecret_proof": good})
            bad = await http.get(EDGE, params={"access_token": TOKEN, "appsecret_proof": "00" * 32})
            absent = await http.get(EDGE, params={"access_token": TOKEN})
        assert ok.status_code == 200
        assert absent.status_code == 200
        assert bad.status_code == 400
        error = graph_error(bad)
        assert error["code"] == 100
        assert error["message"] == "Invalid appsecret_proof provided in the API argument"

    async def test_proof_is_ignored_without_an_app_secret(self, client: httpx.AsyncClient) -> None:
        response = await client.get(EDGE, params={"access_token": TOKEN, "appsecret_proof": "whatever"})
        assert response.status_code == 200


class TestEnvelope:
    async def test_fbtrace_ids_differ_between_errors(self, client: httpx.AsyncClient) -> None:
        first = graph_error(await client.get(EDGE))
        second = graph_error(await client.get(EDGE))
        assert first["fbtrace_id"] != second["fbtrace_id"]
        assert not first["fbtrace_id"].isdigit()

    async def test_error_carries_trace_header_and_json_type(self, client: httpx.AsyncClient) -> None:
        response = await client.get(EDGE)
        assert response.headers["x-fb-trace-id"] == response.json()["error"]["fbtrace_id"]
        assert response.headers["content-type"] == "application/json; charset=UTF-8"
        assert response.headers["facebook-api-version"] == "v23.0"
