"""Field selection on the edge and the node, and the routing errors around them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .helpers import AUTH, BIG_WABA, EDGE, FIRST_ID, graph_error

pytestmark = pytest.mark.asyncio

DEFAULT_SET = [
    "verified_name",
    "code_verification_status",
    "display_phone_number",
    "quality_rating",
    "platform_type",
    "throughput",
    "last_onboarded_time",
    "webhook_configuration",
    "id",
]


def stored(state: dict[str, Any], index: int) -> dict[str, Any]:
    number: dict[str, Any] = state["wabas"][BIG_WABA]["phone_numbers"][index]
    return number


class TestDefaultFields:
    async def test_edge_returns_the_es_doc_set(self, client: httpx.AsyncClient, waba250_state: dict[str, Any]) -> None:
        response = await client.get(EDGE, headers=AUTH)
        first = response.json()["data"][0]
        # number 0 has every default field, and fields outside the set stay hidden
        assert list(first) == DEFAULT_SET
        source = stored(waba250_state, 0)
        assert first == {name: source[name] for name in DEFAULT_SET}
        assert "status" in source and "status" not in first

    async def test_missing_fields_are_omitted_not_null(
        self, client: httpx.AsyncClient, waba250_state: dict[str, Any]
    ) -> None:
        # number 3 has no throughput and no webhook_configuration
        response = await client.get(EDGE, headers=AUTH)
        third = response.json()["data"][3]
        assert "throughput" not in stored(waba250_state, 3)
        assert "throughput" not in third and "webhook_configuration" not in third
        assert third["id"] == stored(waba250_state, 3)["id"]

    async def test_node_returns_the_same_default_set_without_data_wrapper(
        self, client: httpx.AsyncClient, waba250_state: dict[str, Any]
    ) -> None:
        response = await client.get(f"/v23.0/{FIRST_ID}", headers=AUTH)
        assert response.status_code == 200
        body = response.json()
        assert "data" not in body
        assert list(body) == DEFAULT_SET
        assert body["display_phone_number"] == stored(waba250_state, 0)["display_phone_number"]

    async def test_empty_fields_means_defaults(self, client: httpx.AsyncClient) -> None:
        response = await client.get(EDGE, headers=AUTH, params={"fields": ""})
        assert list(response.json()["data"][0]) == DEFAULT_SET


class TestRequestedFields:
    async def test_only_requested_fields_plus_id(
        self, client: httpx.AsyncClient, waba250_state: dict[str, Any]
    ) -> None:
        response = await client.get(EDGE, headers=AUTH, params={"fields": "status,name_status,messaging_limit_tier"})
        first = response.json()["data"][0]
        source = stored(waba250_state, 0)
        assert first == {
            "status": source["status"],
            "name_status": source["name_status"],
            "messaging_limit_tier": source["messaging_limit_tier"],
            "id": source["id"],
        }

    async def test_requested_but_unset_field_is_left_out(
        self, client: httpx.AsyncClient, waba250_state: dict[str, Any]
    ) -> None:
        # number 6 has no name_status at all
        assert "name_status" not in stored(waba250_state, 6)
        response = await client.get(EDGE, headers=AUTH, params={"fields": "id,name_status"})
        assert response.json()["data"][6] == {"id": stored(waba250_state, 6)["id"]}

    async def test_subfield_syntax_is_reduced_to_the_field(
        self, client: httpx.AsyncClient, waba250_state: dict[str, Any]
    ) -> None:
        response = await client.get(
            EDGE,
            headers=AUTH,
            params={"fields": "throughput{level},webhook_configuration{application,phone_number},id"},
        )
        first = response.json()["data"][0]
        source = stored(waba250_state, 0)
        assert first == {
            "throughput": source["throughput"],
            "webhook_configuration": source["webhook_configuration"],
            "id": source["id"],
        }

    async def test_host_platform_is_an_alias_of_platform_type(
        self, client: httpx.AsyncClient, waba250_state: dict[str, Any]
    ) -> None:
        response = await client.get(f"/v23.0/{FIRST_ID}", headers=AUTH, params={"fields": "host_platform"})
        assert response.json() == {
            "host_platform": stored(waba250_state, 0)["platform_type"],
            "id": FIRST_ID,
        }

    async def test_all_sync_fields_are_known(self, client: httpx.AsyncClient) -> None:
        sync_fields = (
            "id,display_phone_number,verified_name,status,quality_rating,"
            "code_verification_status,name_status,new_name_status,messaging_limit_tier,"
            "whatsapp_business_manager_messaging_limit,is_official_business_account,"
            "platform_type,throughput,account_mode"
        )
        response = await client.get(EDGE, headers=AUTH, params={"fields": sync_fields})
        assert response.status_code == 200

    async def test_unknown_extra_params_are_ignored(self, client: httpx.AsyncClient) -> None:
        response = await client.get(EDGE, headers=AUTH, params={"pretty": "0", "locale": "en_US", "summary": "false"})
        assert response.status_code == 200
        assert "summary" not in response.json()


class TestFieldErrors:
    @pytest.mark.parametrize("bad", ["unified_cert_status", "no_such_field", "phone_number"])
    async def test_unknown_field_rejects_the_whole_request(self, client: httpx.AsyncClient, bad: str) -> None:
        response = await client.get(EDGE, headers=AUTH, params={"fields": f"id,{bad},status"})
        assert response.status_code == 400
        error = graph_error(response)
        assert error["code"] == 100
        assert error["type"] == "OAuthException"
        assert error["message"] == (
            f"(#100) Tried accessing nonexisting field ({bad}) on node type (WhatsAppBusinessPhoneNumber)"
        )

    async def test_unknown_field_on_the_node_too(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"/v23.0/{FIRST_ID}", headers=AUTH, params={"fields": "unified_cert_status"})
        assert response.status_code == 400
        assert graph_error(response)["code"] == 100

    async def test_unbalanced_braces_are_a_syntax_error(self, client: httpx.AsyncClient) -> None:
        response = await client.get(EDGE, headers=AUTH, params={"fields": "throughput{level"})
        assert response.status_code == 400
        assert graph_error(response)["code"] == 2500


class TestRouting:
    async def test_waba_node(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"/v23.0/{BIG_WABA}", headers=AUTH)
        assert response.json() == {"id": BIG_WABA, "name": "Test Retail Group"}

    async def test_unknown_edge_on_waba(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"/v23.0/{BIG_WABA}/templates", headers=AUTH)
        error = graph_error(response)
        assert error["code"] == 100
        assert "(templates) on node type (WhatsAppBusinessAccount)" in error["message"]

    async def test_edge_on_a_phone_number(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"/v23.0/{FIRST_ID}/phone_numbers", headers=AUTH)
        error = graph_error(response)
        assert error["code"] == 100
        assert "on node type (WhatsAppBusinessPhoneNumber)" in error["message"]

    @pytest.mark.parametrize("version", ["v23", "23.0", "latest", "v23.0.1", "V23.0"])
    async def test_malformed_version_is_rejected(self, client: httpx.AsyncClient, version: str) -> None:
        response = await client.get(f"/{version}/{BIG_WABA}/phone_numbers", headers=AUTH)
        assert response.status_code == 400
        error = graph_error(response)
        assert error["code"] == 2500
        assert error["message"].startswith("Unknown path components")

    @pytest.mark.parametrize("version", ["v21.0", "v26.0", "v99.12"])
    async def test_any_well_formed_version_works(self, client: httpx.AsyncClient, version: str) -> None:
        response = await client.get(f"/{version}/{BIG_WABA}/phone_numbers", headers=AUTH)
        assert response.status_code == 200
        assert response.headers["facebook-api-version"] == version

    async def test_too_deep_path(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"{EDGE}/extra", headers=AUTH)
        error = graph_error(response)
        assert error["code"] == 2500
        assert error["message"] == "Unknown path components: /extra"

    @pytest.mark.parametrize(("method", "path"), [("POST", f"/v23.0/{BIG_WABA}/templates"), ("PUT", EDGE)])
    async def test_verbs_an_edge_lacks_are_not_emulated(
        self, client: httpx.AsyncClient, method: str, path: str
    ) -> None:
        response = await client.request(method, path, headers=AUTH)
        assert response.status_code == 400
        error = graph_error(response)
        assert error["code"] == 100
        assert error["message"].startswith(f"Unsupported {method.lower()} request.")

    async def test_json_is_written_like_graph(self, client: httpx.AsyncClient) -> None:
        response = await client.get(EDGE, headers=AUTH, params={"limit": "1"})
        # Graph escapes slashes and writes compact JSON
        assert "https:\\/\\/hooks.example.com\\/whatsapp\\/0" in response.text
        assert ": " not in response.text
