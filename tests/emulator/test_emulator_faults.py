"""Fault injection: each action, matching, counters, probability under a seed, validation."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from opencams.emulator import create_app

from .helpers import AUTH, BASE_URL, BIG_WABA, EDGE, FIRST_ID, OTHER_TOKEN, OTHER_WABA, graph_error

pytestmark = pytest.mark.asyncio


async def add(client: httpx.AsyncClient, rule: object) -> list[dict[str, Any]]:
    response = await client.post("/_emulator/faults", json=rule)
    assert response.status_code == 201, response.text
    added: list[dict[str, Any]] = response.json()["faults"]
    return added


class TestErrorAction:
    async def test_times_limits_the_rule_and_defaults_follow_meta(self, client: httpx.AsyncClient) -> None:
        await add(client, {"times": 2, "action": {"error": {"code": 4}}})
        first = await client.get(EDGE, headers=AUTH)
        second = await client.get(EDGE, headers=AUTH)
        third = await client.get(EDGE, headers=AUTH)
        for response in (first, second):
            assert response.status_code == 400
            error = graph_error(response)
            assert error["code"] == 4
            assert error["message"] == "(#4) Application request limit reached"
            assert error["type"] == "OAuthException"
            assert error["is_transient"] is True
            assert "error_subcode" not in error
        assert third.status_code == 200
        (rule,) = (await client.get("/_emulator/faults")).json()["faults"]
        assert (rule["times"], rule["remaining"], rule["hits"]) == (2, 0, 2)

    @pytest.mark.parametrize(
        ("code", "status"),
        [
            (1, 400), (2, 503), (4, 400), (17, 400), (32, 400), (80007, 400),
            (131000, 500), (131016, 503), (190, 401), (368, 403), (10, 403),
            (200, 403), (100, 400), (104, 401), (299, 403), (424242, 400),
        ],
    )  # fmt: skip
    async def test_default_http_status_per_code(self, client: httpx.AsyncClient, code: int, status: int) -> None:
        await add(client, {"action": {"error": {"code": code}}})
        response = await client.get(EDGE, headers=AUTH)
        assert response.status_code == status
        assert graph_error(response)["code"] == code

    async def test_every_error_field_can_be_set(self, client: httpx.AsyncClient) -> None:
        await add(
            client,
            {
                "action": {
                    "error": {
                        "code": 4,
                        "subcode": 2446079,
                        "status": 429,
                        "message": "(#4) Too many calls",
                        "type": "CustomException",
                        "is_transient": False,
                        "error_user_title": "Slow down",
                        "error_user_msg": "Wait a bit",
                        "error_data": {"messaging_product": "whatsapp", "details": "BUC"},
                    }
                }
            },
        )
        response = await client.get(EDGE, headers=AUTH)
        assert response.status_code == 429
        error = graph_error(response)
        assert error == {
            "message": "(#4) Too many calls",
            "type": "CustomException",
            "code": 4,
            "error_subcode": 2446079,
            "error_user_title": "Slow down",
            "error_user_msg": "Wait a bit",
            "error_data": {"messaging_product": "whatsapp", "details": "BUC"},
            "is_transient": False,
            "fbtrace_id": error["fbtrace_id"],
        }

    async def test_faults_come_before_auth(self, client: httpx.AsyncClient) -> None:
        await add(client, {"action": {"error": {"code": 2}}})
        response = await client.get(EDGE)
        assert graph_error(response)["code"] == 2


class TestOtherActions:
    async def test_delay_then_normal_answer(self, client: httpx.AsyncClient) -> None:
        await add(client, {"times": 1, "action": {"delay": 0.3}})
        started = time.monotonic()
        response = await client.get(EDGE, headers=AUTH)
        assert time.monotonic() - started >= 0.3
        assert response.status_code == 200
        assert len(response.json()["data"]) == 25

    async def test_delay_combined_with_error(self, client: httpx.AsyncClient) -> None:
        await add(client, {"action": {"delay": 0.2, "error": {"code": 131016}}})
        started = time.monotonic()
        response = await client.get(EDGE, headers=AUTH)
        assert time.monotonic() - started >= 0.2
        assert response.status_code == 503
        assert graph_error(response)["code"] == 131016

    async def test_drop_is_a_transport_error(self, client: httpx.AsyncClient) -> None:
        await add(client, {"times": 1, "action": {"drop": True}})
        with pytest.raises(httpx.TransportError):
            await client.get(EDGE, headers=AUTH)
        assert (await client.get(EDGE, headers=AUTH)).status_code == 200
        calls = (await client.get("/_emulator/calls")).json()["calls"]
        assert [(c["status"], c["dropped"]) for c in calls] == [(None, True), (200, False)]

    async def test_malformed_is_200_without_json(self, client: httpx.AsyncClient) -> None:
        await add(client, {"action": {"malformed": True}})
        response = await client.get(EDGE, headers=AUTH)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        with pytest.raises(json.JSONDecodeError):
            response.json()

    async def test_malformed_with_a_given_body(self, client: httpx.AsyncClient) -> None:
        await add(client, {"action": {"malformed": "Service Unavailable"}})
        response = await client.get(EDGE, headers=AUTH)
        assert (response.status_code, response.text) == (200, "Service Unavailable")

    async def test_truncated_is_the_first_half_of_the_real_answer(self, client: httpx.AsyncClient) -> None:
        normal = await client.get(EDGE, headers=AUTH)
        await add(client, {"action": {"truncated": True}})
        cut = await client.get(EDGE, headers=AUTH)
        assert cut.status_code == 200
        assert cut.content == normal.content[: len(normal.content) // 2]
        assert int(cut.headers["content-length"]) == len(cut.content)
        with pytest.raises(json.JSONDecodeError):
            cut.json()

    async def test_headers_are_added_to_the_normal_answer(self, client: httpx.AsyncClient) -> None:
        buc = {BIG_WABA: [{"type": "whatsapp_business_management", "call_count": 95,
                           "total_cputime": 10, "total_time": 12,
                           "estimated_time_to_regain_access": 0}]}  # fmt: skip
        await add(
            client,
            {"action": {"headers": {"X-Business-Use-Case-Usage": buc,
                                    "X-App-Usage": '{"call_count":42,"total_cputime":1,"total_time":2}'}}},
        )  # fmt: skip
        response = await client.get(EDGE, headers=AUTH)
        assert response.status_code == 200
        assert len(response.json()["data"]) == 25
        assert json.loads(response.headers["x-business-use-case-usage"]) == buc
        assert json.loads(response.headers["x-app-usage"])["call_count"] == 42

    async def test_headers_combined_with_an_error(self, client: httpx.AsyncClient) -> None:
        await add(
            client,
            {"action": {"error": {"code": 80007},
                        "headers": {"X-Business-Use-Case-Usage": {BIG_WABA: [
                            {"type": "whatsapp_business_management", "call_count": 100,
                             "estimated_time_to_regain_access": 7}]}}}},
        )  # fmt: skip
        response = await client.get(EDGE, headers=AUTH)
        assert response.status_code == 400
        assert graph_error(response)["is_transient"] is True
        usage = json.loads(response.headers["x-business-use-case-usage"])
        assert usage[BIG_WABA][0]["estimated_time_to_regain_access"] == 7


class TestMatching:
    async def test_path_glob(self, client: httpx.AsyncClient) -> None:
        await add(client, {"path": "/v*/*/phone_numbers", "action": {"error": {"code": 1}}})
        assert (await client.get(EDGE, headers=AUTH)).status_code == 400
        assert (await client.get(f"/v23.0/{FIRST_ID}", headers=AUTH)).status_code == 200

    async def test_path_regex(self, client: httpx.AsyncClient) -> None:
        await add(client, {"path_regex": r"^/v23\.0/[0-9]+$", "action": {"error": {"code": 1}}})
        assert (await client.get(EDGE, headers=AUTH)).status_code == 200
        assert (await client.get(f"/v23.0/{FIRST_ID}", headers=AUTH)).status_code == 400

    async def test_waba_id_covers_the_edge_the_node_and_its_numbers(self, client: httpx.AsyncClient) -> None:
        await add(client, {"waba_id": BIG_WABA, "action": {"error": {"code": 368}}})
        assert (await client.get(EDGE, headers=AUTH)).status_code == 403
        assert (await client.get(f"/v23.0/{BIG_WABA}", headers=AUTH)).status_code == 403
        assert (await client.get(f"/v23.0/{FIRST_ID}", headers=AUTH)).status_code == 403
        other = await client.get(f"/v23.0/{OTHER_WABA}/phone_numbers", params={"access_token": OTHER_TOKEN})
        assert other.status_code == 200

    async def test_skip_fails_exactly_the_third_page(self, client: httpx.AsyncClient) -> None:
        await add(client, {"path": f"*/{BIG_WABA}/phone_numbers", "skip": 2, "times": 1,
                           "action": {"error": {"code": 131000}}})  # fmt: skip
        url = f"{EDGE}?limit=100"
        statuses = []
        for _ in range(3):
            response = await client.get(url, headers=AUTH)
            statuses.append(response.status_code)
            url = response.json().get("paging", {}).get("next", url)
        assert statuses == [200, 200, 500]
        assert (await client.get(EDGE, headers=AUTH)).status_code == 200
        (rule,) = (await client.get("/_emulator/faults")).json()["faults"]
        assert (rule["skip_remaining"], rule["remaining"], rule["hits"]) == (0, 0, 1)

    async def test_control_api_is_never_faulted(self, client: httpx.AsyncClient) -> None:
        await add(client, {"action": {"drop": True}})
        assert (await client.get("/_emulator/state")).status_code == 200

    async def test_first_outcome_wins_and_later_ones_are_not_spent(self, client: httpx.AsyncClient) -> None:
        await add(
            client,
            [
                {"times": 1, "action": {"error": {"code": 2}}},
                {"times": 1, "action": {"error": {"code": 4}}},
                {"action": {"headers": {"X-App-Usage": "{}"}}},
            ],
        )
        codes = []
        for _ in range(3):
            response = await client.get(EDGE, headers=AUTH)
            assert response.headers["x-app-usage"] == "{}"
            codes.append(response.json().get("error", {}).get("code"))
        assert codes == [2, 4, None]
        hits = [r["hits"] for r in (await client.get("/_emulator/faults")).json()["faults"]]
        assert hits == [1, 1, 3]


async def outcome_pattern(seed: int, requests: int = 40) -> list[int]:
    app = create_app(seed=seed)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        await add(http, {"probability": 0.5, "action": {"error": {"code": 2}}})
        statuses = []
        for _ in range(requests):
            response = await http.get("/v23.0/104857600112233/phone_numbers", params={"access_token": "demo-token"})
            statuses.append(response.status_code)
    return statuses


class TestProbability:
    async def test_same_seed_same_pattern(self) -> None:
        first, second = await outcome_pattern(7), await outcome_pattern(7)
        assert first == second
        assert set(first) == {200, 503}

    async def test_different_seed_different_pattern(self) -> None:
        assert await outcome_pattern(7) != await outcome_pattern(8)

    async def test_reset_replays_the_seed(self, waba250_state: dict[str, Any]) -> None:
        app = create_app(waba250_state, seed=99)
        rule = {"probability": 0.3, "action": {"error": {"code": 1}}}
        runs = []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
            for _ in range(2):
                await http.post("/_emulator/reset")
                await add(http, rule)
                runs.append([(await http.get(EDGE, headers=AUTH)).status_code for _ in range(30)])
        assert runs[0] == runs[1]
        assert 400 in runs[0] and 200 in runs[0]

    @pytest.mark.parametrize(("probability", "status"), [(0, 200), (1, 400)])
    async def test_extremes(self, client: httpx.AsyncClient, probability: float, status: int) -> None:
        await add(client, {"probability": probability, "action": {"error": {"code": 1}}})
        assert {(await client.get(EDGE, headers=AUTH)).status_code for _ in range(10)} == {status}


class TestFaultControl:
    async def test_list_delete_one_and_clear(self, client: httpx.AsyncClient) -> None:
        added = await add(
            client,
            [{"action": {"delay": 0}}, {"path": "/x", "times": 3, "action": {"drop": True}}],
        )
        assert [r["id"] for r in added] == [1, 2]
        assert added[1] == {
            "id": 2, "path": "/x", "times": 3, "action": {"drop": True},
            "skip_remaining": 0, "remaining": 3, "hits": 0,
        }  # fmt: skip
        assert (await client.delete("/_emulator/faults/1")).json() == {"deleted": 1}
        assert (await client.delete("/_emulator/faults/1")).status_code == 404
        listed = (await client.get("/_emulator/faults")).json()["faults"]
        assert [r["id"] for r in listed] == [2]
        assert (await client.delete("/_emulator/faults")).json() == {"deleted": 1}
        assert (await client.get("/_emulator/faults")).json() == {"faults": []}

    @pytest.mark.parametrize(
        ("rule", "location"),
        [
            ("nope", "$"),
            ({}, "$.action"),
            ({"action": {}}, "$.action"),
            ({"action": {"explode": True}}, "$.action"),
            ({"action": {"error": {"code": 4}, "drop": True}}, "$.action"),
            ({"action": {"error": {"status": 400}}}, "$.action.error.code"),
            ({"action": {"error": {"code": "4"}}}, "$.action.error.code"),
            ({"action": {"error": {"code": 4, "status": 200}}}, "$.action.error.status"),
            ({"action": {"error": {"code": 4, "colour": "red"}}}, "$.action.error"),
            ({"action": {"delay": -1}}, "$.action.delay"),
            ({"action": {"drop": False}}, "$.action.drop"),
            ({"action": {"malformed": 5}}, "$.action.malformed"),
            ({"action": {"drop": True, "headers": {"X-A": "1"}}}, "$.action"),
            ({"action": {"headers": {"Bad Header": "1"}}}, "$.action.headers.Bad Header"),
            ({"times": 0, "action": {"drop": True}}, "$.times"),
            ({"skip": -1, "action": {"drop": True}}, "$.skip"),
            ({"probability": 1.5, "action": {"drop": True}}, "$.probability"),
            ({"path_regex": "(", "action": {"drop": True}}, "$.path_regex"),
            ({"method": "GET", "action": {"drop": True}}, "$"),
        ],
    )
    async def test_invalid_rules_are_400(self, client: httpx.AsyncClient, rule: object, location: str) -> None:
        response = await client.post("/_emulator/faults", json=rule)
        assert response.status_code == 400
        error = response.json()["error"]
        assert (error["type"], error["location"]) == ("InvalidFault", location)

    async def test_a_bad_rule_in_a_list_adds_none(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/_emulator/faults", json=[{"action": {"drop": True}}, {"action": {"drop": 1}}])
        assert response.status_code == 400
        assert response.json()["error"]["location"] == "$[1].action.drop"
        assert (await client.get("/_emulator/faults")).json() == {"faults": []}
