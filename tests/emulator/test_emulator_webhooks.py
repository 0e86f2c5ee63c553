"""Webhooks out, as Meta sends them: which changes send what, envelope, signature, retries, the log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import opencams.emulator
from opencams.emulator import create_app, demo_document
from opencams.emulator.server import LIFECYCLE_FIELDS, serve_in_thread, with_webhooks

from .helpers import (
    APP_ID,
    APP_SECRET,
    APP_TOKEN,
    CONNECTED,
    LIFE_AUTH,
    OTHER_APP_ID,
    PENDING,
    UK,
    W1,
    W2,
    life_state,
)
from .receiver import VERIFY_TOKEN, Receiver, signature_ok

Deliveries = list[dict[str, Any]]


def wait_for(url: str, done: Callable[[Deliveries], bool], timeout: float = 10) -> Deliveries:
    """Poll the delivery log until `done` holds and nothing is pending."""
    deadline = time.monotonic() + timeout
    while True:
        body = httpx.get(f"{url}/_emulator/deliveries").json()
        if done(body["deliveries"]) and body["pending"] == 0:
            deliveries: Deliveries = body["deliveries"]
            return deliveries
        assert time.monotonic() < deadline, f"deliveries never settled: {body}"
        time.sleep(0.02)


def events(deliveries: Deliveries) -> Deliveries:
    return [d for d in deliveries if d["kind"] == "event"]


def hooked_state(callback: str, fields: tuple[str, ...] = LIFECYCLE_FIELDS) -> dict[str, Any]:
    """The lifecycle data set with the app subscribed to W1 and to `fields` at `callback`."""
    state = life_state()
    state["apps"][APP_ID]["subscriptions"] = [
        {"object": "whatsapp_business_account", "callback_url": callback, "fields": list(fields)}
    ]
    state["wabas"][W1]["subscribed_apps"] = [{"app_id": APP_ID}]
    return state


@pytest.fixture
def hooked(receiver: tuple[Receiver, str]) -> Iterator[tuple[str, Receiver, str]]:
    """(emulator URL, receiver, callback URL): a live emulator whose app sends lifecycle webhooks."""
    hooks, url = receiver
    callback = f"{url}/meta/webhook"
    with serve_in_thread(create_app(hooked_state(callback), seed=3)) as emulator:
        yield emulator, hooks, callback


def change(emulator: str, kind: str, node_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{emulator}/_emulator/{kind}/{node_id}", json=changes)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def one_event(emulator: str, hooks: Receiver, kind: str, node_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Make a change that sends exactly one webhook; return its envelope as received."""
    assert change(emulator, kind, node_id, changes)["webhooks"] == 1
    wait_for(emulator, lambda d: len(events(d)) == 1)
    (received,) = hooks.events()
    return received


def value_of(envelope: dict[str, Any], field: str) -> dict[str, Any]:
    (entry,) = envelope["entry"]
    (item,) = entry["changes"]
    assert item["field"] == field
    value: dict[str, Any] = item["value"]
    return value


class TestEnvelopeAndSignature:
    def test_quality_update_as_meta_sends_it(self, hooked: tuple[str, Receiver, str]) -> None:
        emulator, hooks, callback = hooked
        httpx.post(f"{emulator}/_emulator/clock", json={"set": 1_761_200_607})
        answer = change(emulator, "phone_numbers", CONNECTED, {"whatsapp_business_manager_messaging_limit": "TIER_10K"})
        assert answer["webhooks"] == 1
        assert answer["waba_id"] == W1
        assert answer["phone_number"]["whatsapp_business_manager_messaging_limit"] == "TIER_10K"
        (delivery,) = wait_for(emulator, lambda d: len(d) == 1)
        (post,) = hooks.requests("POST")
        assert post["path"] == "/meta/webhook"
        assert post["headers"]["content-type"] == "application/json"
        assert post["headers"]["user-agent"] == "facebookexternalua"
        assert signature_ok(post, APP_SECRET)
        assert post["headers"]["x-hub-signature"].startswith("sha1=")
        envelope = json.loads(post["body"])
        assert envelope == {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": W1,
                    "time": envelope["entry"][0]["time"],
                    "changes": [
                        {
                            "value": {
                                "display_phone_number": "16315550100",
                                "event": "UPGRADE",
                                "current_limit": "TIER_10K",
                                "old_limit": "TIER_2K",
                                "max_daily_conversations_per_business": "TIER_10K",
                            },
                            "field": "phone_number_quality_update",
                        }
                    ],
                }
            ],
        }
        assert abs(envelope["entry"][0]["time"] - 1_761_200_607) < 5
        assert b": " not in post["body"]  # compact JSON, signed byte for byte
        assert delivery == {
            "id": delivery["id"],
            "kind": "event",
            "attempt": 1,
            "time": delivery["time"],
            "url": callback,
            "app_id": APP_ID,
            "waba_id": W1,
            "field": "phone_number_quality_update",
            "status": 200,
            "error": None,
            "outcome": "delivered",
            "body": envelope,
        }
        assert delivery["time"].startswith("2025-10-23T")


class TestWhatSendsWhat:
    @pytest.mark.parametrize(
        ("changes", "value"),
        [
            (
                {"whatsapp_business_manager_messaging_limit": "TIER_250"},
                {"event": "DOWNGRADE", "current_limit": "TIER_250", "old_limit": "TIER_2K", "max_daily_conversations_per_business": "TIER_250"},
            ),
            ({"status": "FLAGGED"}, {"event": "FLAGGED", "current_limit": "TIER_2K"}),
            ({"quality_rating": "RED"}, {"event": "FLAGGED", "current_limit": "TIER_2K"}),
            ({"messaging_limit_tier": "TIER_1K", "whatsapp_business_manager_messaging_limit": None}, {"event": "UPGRADE", "current_limit": "TIER_1K"}),
        ],
    )  # fmt: skip
    def test_phone_number_quality_update(
        self, hooked: tuple[str, Receiver, str], changes: dict[str, Any], value: dict[str, Any]
    ) -> None:
        emulator, hooks, _ = hooked
        received = one_event(emulator, hooks, "phone_numbers", CONNECTED, changes)
        assert value_of(received, "phone_number_quality_update") == {"display_phone_number": "16315550100", **value}

    def test_unflagged(self, hooked: tuple[str, Receiver, str]) -> None:
        emulator, hooks, _ = hooked
        change(emulator, "phone_numbers", CONNECTED, {"status": "FLAGGED", "quality_rating": "RED"})
        wait_for(emulator, lambda d: len(d) == 1)
        change(emulator, "phone_numbers", CONNECTED, {"status": "CONNECTED", "quality_rating": "GREEN"})
        wait_for(emulator, lambda d: len(d) == 2)
        assert [value_of(e, "phone_number_quality_update")["event"] for e in hooks.events()] == ["FLAGGED", "UNFLAGGED"]

    @pytest.mark.parametrize(
        ("phone_id", "changes", "value"),
        [
            (PENDING, {"name_status": "APPROVED"}, {"decision": "APPROVED", "requested_verified_name": "Life Shop Two", "rejection_reason": None}),
            (PENDING, {"name_status": "DECLINED", "name_rejection_reason": "NAME_FORMAT_UNACCEPTABLE"}, {"decision": "REJECTED", "requested_verified_name": "Life Shop Two", "rejection_reason": "NAME_FORMAT_UNACCEPTABLE"}),
            (PENDING, {"name_status": "DECLINED"}, {"decision": "REJECTED", "requested_verified_name": "Life Shop Two", "rejection_reason": "UNKNOWN"}),
            (CONNECTED, {"new_name_status": "PENDING_REVIEW", "requested_verified_name": "Life Shop & Cafe"}, {"decision": "PENDING", "requested_verified_name": "Life Shop & Cafe", "rejection_reason": None}),
        ],
    )  # fmt: skip
    def test_phone_number_name_update(
        self, hooked: tuple[str, Receiver, str], phone_id: str, changes: dict[str, Any], value: dict[str, Any]
    ) -> None:
        emulator, hooks, _ = hooked
        received = one_event(emulator, hooks, "phone_numbers", phone_id, changes)
        digits = "16315550101" if phone_id == PENDING else "16315550100"
        assert value_of(received, "phone_number_name_update") == {"display_phone_number": digits, **value}

    @pytest.mark.parametrize(
        ("changes", "field", "value"),
        [
            ({"account_review_status": "REJECTED"}, "account_review_update", {"decision": "REJECTED"}),
            (
                {"ban_info": {"waba_ban_state": "DISABLE", "waba_ban_date": "October 22, 2025"}},
                "account_update",
                {"event": "DISABLED_UPDATE", "ban_info": {"waba_ban_state": "DISABLE", "waba_ban_date": "October 22, 2025"}},
            ),
            (
                {"restriction_info": [{"restriction_type": "RESTRICTED_ADD_PHONE_NUMBER_ACTION", "expiration": "2026-04-19T13:59:20+0000"}]},
                "account_update",
                {"event": "ACCOUNT_RESTRICTION", "restriction_info": [{"restriction_type": "RESTRICTED_ADD_PHONE_NUMBER_ACTION", "expiration": "2026-04-19T13:59:20+0000"}]},
            ),
            (
                {"violation_info": {"violation_type": "SCAM"}},
                "account_update",
                {"event": "ACCOUNT_VIOLATION", "violation_info": {"violation_type": "SCAM"}},
            ),
            (
                {"primary_business_location": "BR"},
                "account_update",
                {"event": "BUSINESS_PRIMARY_LOCATION_COUNTRY_UPDATE", "country": "BR"},
            ),
            (
                {"auth_international_rate_eligibility": {"start_time": 1761200607, "exception_countries": [{"country_code": "IN", "start_time": 1761200607}]}},
                "account_update",
                {"event": "AUTH_INTL_PRICE_ELIGIBILITY_UPDATE", "auth_international_rate_eligibility": {"start_time": 1761200607, "exception_countries": [{"country_code": "IN", "start_time": 1761200607}]}},
            ),
            (
                {"business_capability": {"max_daily_conversations_per_business": 2000, "max_phone_numbers_per_waba": 25}},
                "business_capability_update",
                {"max_daily_conversations_per_business": 2000, "max_phone_numbers_per_waba": 25},
            ),
        ],
    )  # fmt: skip
    def test_waba_changes(
        self, hooked: tuple[str, Receiver, str], changes: dict[str, Any], field: str, value: dict[str, Any]
    ) -> None:
        emulator, hooks, _ = hooked
        received = one_event(emulator, hooks, "wabas", W1, changes)
        assert value_of(received, field) == value
        assert received["entry"][0]["id"] == W1

    def test_changes_without_a_webhook(self, hooked: tuple[str, Receiver, str]) -> None:
        emulator, hooks, _ = hooked
        assert (
            change(emulator, "phone_numbers", CONNECTED, {"verified_name": "Renamed", "quality_rating": "YELLOW"})[
                "webhooks"
            ]
            == 0
        )
        assert change(emulator, "wabas", W1, {"account_review_status": "RESTRICTED", "name": "X"})["webhooks"] == 0
        # Graph writes go through the same diff, and a deregistration is not one of these fields
        httpx.post(f"{emulator}/v23.0/{CONNECTED}/deregister", headers=LIFE_AUTH)
        time.sleep(0.1)
        assert wait_for(emulator, lambda d: True) == []
        assert hooks.requests() == []

    def test_put_state_diffs_old_and_new(self, hooked: tuple[str, Receiver, str]) -> None:
        emulator, hooks, _ = hooked
        document = httpx.get(f"{emulator}/_emulator/state").json()
        document["wabas"][W1]["account_review_status"] = "PENDING"
        document["wabas"][W1]["phone_numbers"][0]["whatsapp_business_manager_messaging_limit"] = "TIER_UNLIMITED"
        document["wabas"][W2]["account_review_status"] = "REJECTED"  # the app is not subscribed to W2
        assert httpx.put(f"{emulator}/_emulator/state", json=document).status_code == 200
        wait_for(emulator, lambda d: len(d) == 2)
        fields = sorted(e["entry"][0]["changes"][0]["field"] for e in hooks.events())
        assert fields == ["account_review_update", "phone_number_quality_update"]

    def test_reset_sends_nothing(self, hooked: tuple[str, Receiver, str]) -> None:
        emulator, hooks, _ = hooked
        change(emulator, "wabas", W1, {"account_review_status": "REJECTED"})
        wait_for(emulator, lambda d: len(d) == 1)
        httpx.post(f"{emulator}/_emulator/reset")
        time.sleep(0.1)
        assert len(hooks.requests("POST")) == 1
        assert httpx.get(f"{emulator}/_emulator/deliveries").json() == {"deliveries": [], "pending": 0}


class TestWhoReceives:
    def test_only_subscribed_fields(self, receiver: tuple[Receiver, str]) -> None:
        hooks, url = receiver
        with serve_in_thread(create_app(hooked_state(url, fields=("account_update",)))) as emulator:
            assert change(emulator, "wabas", W1, {"account_review_status": "REJECTED"})["webhooks"] == 0
            assert change(emulator, "wabas", W1, {"violation_info": {"violation_type": "SPAM"}})["webhooks"] == 1
            wait_for(emulator, lambda d: len(d) == 1)
        assert len(hooks.events()) == 1

    def test_every_subscribed_app_with_its_own_secret(self, receiver: tuple[Receiver, str]) -> None:
        hooks, url = receiver
        state = hooked_state(f"{url}/first")
        state["apps"][OTHER_APP_ID]["subscriptions"] = [
            {"object": "whatsapp_business_account", "callback_url": f"{url}/second", "fields": ["account_update"]}
        ]
        state["wabas"][W1]["subscribed_apps"].append({"app_id": OTHER_APP_ID})
        with serve_in_thread(create_app(state)) as emulator:
            assert change(emulator, "wabas", W1, {"ban_info": {"waba_ban_state": "REINSTATE"}})["webhooks"] == 2
            wait_for(emulator, lambda d: len(d) == 2)
        by_path = {r["path"]: r for r in hooks.requests("POST")}
        assert signature_ok(by_path["/first"], APP_SECRET)
        assert signature_ok(by_path["/second"], "other-secret")
        assert not signature_ok(by_path["/second"], APP_SECRET)

    def test_override_uri_takes_message_fields_only(self, receiver: tuple[Receiver, str]) -> None:
        hooks, url = receiver
        state = hooked_state(f"{url}/app", fields=(*LIFECYCLE_FIELDS, "messages"))
        state["wabas"][W1]["subscribed_apps"] = [{"app_id": APP_ID, "override_callback_uri": f"{url}/override"}]
        with serve_in_thread(create_app(state)) as emulator:
            message = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": CONNECTED}, "messages": []}
            pushed = httpx.post(
                f"{emulator}/_emulator/webhooks", json={"waba_id": W1, "field": "messages", "value": message}
            )
            assert pushed.json() == {"queued": 1}
            change(emulator, "wabas", W1, {"account_review_status": "REJECTED"})
            wait_for(emulator, lambda d: len(d) == 2)
        paths = {r["path"]: json.loads(r["body"])["entry"][0]["changes"][0]["field"] for r in hooks.requests("POST")}
        assert paths == {"/override": "messages", "/app": "account_review_update"}

    def test_set_up_through_graph_like_a_bsp(self, receiver: tuple[Receiver, str]) -> None:
        hooks, url = receiver
        with serve_in_thread(create_app(life_state())) as emulator:
            subscribed = httpx.post(
                f"{emulator}/v23.0/{APP_ID}/subscriptions",
                params={"access_token": APP_TOKEN},
                data={
                    "object": "whatsapp_business_account",
                    "callback_url": f"{url}/hook",
                    "verify_token": VERIFY_TOKEN,
                    "fields": json.dumps(list(LIFECYCLE_FIELDS)),
                },
            )
            assert subscribed.json() == {"success": True}
            assert change(emulator, "wabas", W1, {"account_review_status": "REJECTED"})["webhooks"] == 0
            assert httpx.post(f"{emulator}/v23.0/{W1}/subscribed_apps", headers=LIFE_AUTH).json() == {"success": True}
            assert change(emulator, "wabas", W1, {"account_review_status": "APPROVED"})["webhooks"] == 1
            deliveries = wait_for(emulator, lambda d: len(events(d)) == 1)
        assert [d["kind"] for d in deliveries] == ["verification", "event"]
        assert value_of(hooks.events()[0], "account_review_update") == {"decision": "APPROVED"}
        assert signature_ok(hooks.requests("POST")[0], APP_SECRET)


class TestRetries:
    def test_not_200_is_retried_with_backoff(self, hooked: tuple[str, Receiver, str]) -> None:
        emulator, hooks, _ = hooked
        hooks.statuses.extend([500, 204])
        change(emulator, "wabas", W1, {"account_review_status": "REJECTED"})
        deliveries = wait_for(emulator, lambda d: any(x["outcome"] == "delivered" for x in d))
        assert [(d["attempt"], d["status"], d["outcome"]) for d in deliveries] == [
            (1, 500, "retrying"),
            (2, 204, "retrying"),
            (3, 200, "delivered"),
        ]
        assert len({d["id"] for d in deliveries}) == 1
        bodies = {r["body"] for r in hooks.requests("POST")}
        assert len(bodies) == 1  # the same signed bytes every time

    def test_gives_up_after_max_attempts(self, receiver: tuple[Receiver, str]) -> None:
        hooks, url = receiver
        state = hooked_state(url)
        state["settings"]["webhook_max_attempts"] = 3
        hooks.statuses.extend([503] * 10)
        with serve_in_thread(create_app(state)) as emulator:
            started = time.monotonic()
            change(emulator, "wabas", W1, {"account_review_status": "REJECTED"})
            deliveries = wait_for(emulator, lambda d: any(x["outcome"] == "failed" for x in d))
            elapsed = time.monotonic() - started
        assert [(d["attempt"], d["outcome"]) for d in deliveries] == [(1, "retrying"), (2, "retrying"), (3, "failed")]
        assert elapsed >= 0.05 + 0.1  # base 0.05 s, doubling
        assert len(hooks.requests("POST")) == 3

    def test_unreachable_callback(self) -> None:
        state = hooked_state("http://127.0.0.1:9/hook")
        state["settings"]["webhook_max_attempts"] = 2
        with serve_in_thread(create_app(state)) as emulator:
            change(emulator, "wabas", W1, {"account_review_status": "REJECTED"})
            deliveries = wait_for(emulator, lambda d: len(d) == 2)
        assert [d["status"] for d in deliveries] == [None, None]
        assert deliveries[0]["error"].startswith("ConnectError")
        assert deliveries[1]["outcome"] == "failed"

    def test_deliveries_do_not_block_answers(self, hooked: tuple[str, Receiver, str]) -> None:
        emulator, hooks, _ = hooked
        hooks.delay = 1.0
        started = time.monotonic()
        change(emulator, "wabas", W1, {"account_review_status": "REJECTED"})
        assert time.monotonic() - started < 0.5
        assert httpx.get(f"{emulator}/_emulator/deliveries").json()["pending"] == 1
        wait_for(emulator, lambda d: len(d) == 1)

    def test_delete_clears_the_log(self, hooked: tuple[str, Receiver, str]) -> None:
        emulator, _, _ = hooked
        change(emulator, "wabas", W1, {"account_review_status": "REJECTED"})
        wait_for(emulator, lambda d: len(d) == 1)
        assert httpx.delete(f"{emulator}/_emulator/deliveries").json() == {"deleted": 1}
        assert httpx.get(f"{emulator}/_emulator/deliveries").json() == {"deliveries": [], "pending": 0}


class TestControlErrors:
    @pytest.fixture
    def emulator(self) -> Iterator[str]:
        with serve_in_thread(create_app(life_state())) as url:
            yield url

    @pytest.mark.parametrize(
        ("path", "body", "status", "kind", "location"),
        [
            (f"phone_numbers/{CONNECTED}", [], 400, "InvalidChange", "$"),
            (f"phone_numbers/{CONNECTED}", {"id": "1"}, 400, "InvalidChange", "$.id"),
            (f"phone_numbers/{CONNECTED}", {"status": 3}, 400, "InvalidChange", f"$.wabas.{W1}.phone_numbers[0].status"),
            (f"phone_numbers/{CONNECTED}", {"colour": "red"}, 400, "InvalidChange", f"$.wabas.{W1}.phone_numbers[0]"),
            (f"phone_numbers/{CONNECTED}", {"pin": "12"}, 400, "InvalidChange", f"$.wabas.{W1}.phone_numbers[0].pin"),
            ("phone_numbers/123", {"status": "CONNECTED"}, 404, "NotFound", "$"),
            (f"wabas/{W1}", {"phone_numbers": []}, 400, "InvalidChange", "$.phone_numbers"),
            (f"wabas/{W1}", {"business_id": "42"}, 400, "InvalidChange", f"$.wabas.{W1}.business_id"),
            (f"wabas/{W1}", {"health": {"can_send_message": "MAYBE"}}, 400, "InvalidChange", f"$.wabas.{W1}.health.can_send_message"),
            ("wabas/123", {}, 404, "NotFound", "$"),
            ("webhooks", {"waba_id": W1, "field": "messages"}, 400, "InvalidWebhook", "$.value"),
            ("webhooks", {"waba_id": "123", "field": "messages", "value": {}}, 404, "NotFound", "$.waba_id"),
        ],
    )  # fmt: skip
    def test_bad_changes(self, emulator: str, path: str, body: object, status: int, kind: str, location: str) -> None:
        before = httpx.get(f"{emulator}/_emulator/state").json()
        response = httpx.post(f"{emulator}/_emulator/{path}", json=body)
        assert response.status_code == status
        error = response.json()["error"]
        assert (error["type"], error["location"]) == (kind, location)
        assert httpx.get(f"{emulator}/_emulator/state").json() == before

    def test_null_removes_a_key(self, emulator: str) -> None:
        answer = change(emulator, "phone_numbers", CONNECTED, {"pin": None, "is_pin_enabled": False})
        assert "pin" not in answer["phone_number"] and answer["phone_number"]["is_pin_enabled"] is False
        waba = change(emulator, "wabas", W2, {"currency": "GBP"})
        assert waba == {"waba": {"name": "Life Shop UK", "currency": "GBP"}, "webhooks": 0}
        node = httpx.get(f"{emulator}/v23.0/{UK}", headers=LIFE_AUTH, params={"fields": "status"})
        assert node.json() == {"status": "CONNECTED", "id": UK}


class TestCommandLine:
    def test_with_webhooks_subscribes_the_first_app_everywhere(self) -> None:
        document = with_webhooks(
            demo_document(), webhook_url="http://127.0.0.1:8080/hook", app_secret="s3", verify_token="v"
        )
        app_id, app = next(iter(document["apps"].items()))
        assert app["secret"] == "s3"
        assert app["subscriptions"] == [
            {
                "object": "whatsapp_business_account",
                "callback_url": "http://127.0.0.1:8080/hook",
                "verify_token": "v",
                "fields": list(LIFECYCLE_FIELDS),
            }
        ]
        for waba in document["wabas"].values():
            assert sum(entry["app_id"] == app_id for entry in waba["subscribed_apps"]) == 1

    def test_with_webhooks_on_a_fixture_without_apps(self) -> None:
        state = life_state()
        del state["apps"]
        state["tokens"] = {"t": [W1]}
        state["app_secret"] = "legacy"
        document = with_webhooks(state, webhook_url="http://127.0.0.1:8080/hook")
        assert "app_secret" not in document
        ((app_id, app),) = document["apps"].items()
        assert app["secret"] == "legacy"
        assert document["wabas"][W1]["subscribed_apps"] == [{"app_id": app_id}]

    def test_module_entry_point_sends_signed_webhooks(self, receiver: tuple[Receiver, str], tmp_path: Path) -> None:
        hooks, url = receiver
        port = _free_port()
        src = str(Path(opencams.emulator.__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
        args = [
            sys.executable, "-m", "opencams.emulator", "--port", str(port),
            "--webhook-url", f"{url}/cli", "--app-secret", "cli-secret", "--verify-token", VERIFY_TOKEN,
        ]  # fmt: skip
        log = (tmp_path / "emulator.log").open("w")
        process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 15
            while True:
                try:
                    httpx.get(f"{base}/_emulator/health", timeout=1)
                    break
                except httpx.TransportError:
                    assert process.poll() is None, (tmp_path / "emulator.log").read_text()
                    assert time.monotonic() < deadline, "emulator did not start"
                    time.sleep(0.05)
            answer = httpx.post(
                f"{base}/_emulator/phone_numbers/130572946183001",
                json={"whatsapp_business_manager_messaging_limit": "TIER_UNLIMITED"},
            )
            assert answer.json()["webhooks"] == 1
            wait_for(base, lambda d: len(d) == 1)
        finally:
            process.terminate()
            process.wait(timeout=10)
            log.close()
        (post,) = hooks.requests("POST")
        assert post["path"] == "/cli"
        assert signature_ok(post, "cli-secret")
        value = value_of(json.loads(post["body"]), "phone_number_quality_update")
        assert value["display_phone_number"] == "16315550100"
        assert value["event"] == "UPGRADE"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
