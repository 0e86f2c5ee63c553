"""Meta's outbound webhooks: which state changes send which fields, signing, retried delivery, handshakes.

Any change of the data set (Graph write, control endpoint, `PUT /_emulator/state`) is diffed
old against new (`derive_changes`); each resulting change goes to every app subscribed to the
WABA (`subscribed_apps`) whose `whatsapp_business_account` subscription lists the field. As at
Meta (lifecycle.md 1.1), a WABA's `override_callback_uri` redirects only the message-type
fields; account and number fields always go to the app's own callback URL.

Deliveries run as background tasks on the server's event loop: a POST of the lifecycle.md §A.1
envelope, signed with the app secret, retried with exponential backoff until a 200.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from .clock import Clock, iso
from .errors import callback_verification_failed
from .state import App, GraphState, Waba, digits
from .wire import render_json

WABA_OBJECT = "whatsapp_business_account"
USER_AGENT = "facebookexternalua"
# Webhook fields of the whatsapp_business_account object that a subscription may name.
WABA_WEBHOOK_FIELDS: tuple[str, ...] = (
    "account_alerts",
    "account_review_update",
    "account_settings_update",
    "account_update",
    "automatic_events",
    "business_capability_update",
    "business_status_update",
    "calls",
    "flows",
    "group_lifecycle_update",
    "group_participants_update",
    "group_settings_update",
    "group_status_update",
    "history",
    "message_echoes",
    "message_template_components_update",
    "message_template_quality_update",
    "message_template_status_update",
    "messages",
    "messaging_handovers",
    "partner_solutions",
    "payment_configuration_update",
    "phone_number_name_update",
    "phone_number_quality_update",
    "security",
    "smb_app_state_sync",
    "smb_message_echoes",
    "standby",
    "template_category_update",
    "template_correct_category_detection",
    "tracking_events",
    "user_preferences",
)
# The fields a WABA's override_callback_uri applies to (lifecycle.md 1.1).
OVERRIDABLE_FIELDS = frozenset(
    {
        "messages",
        "message_echoes",
        "calls",
        "consumer_profile",
        "messaging_handovers",
        "standby",
        "smb_message_echoes",
        "smb_app_state_sync",
        "history",
        "account_settings_update",
    }
)
# Messaging-limit tiers from lowest to highest, to tell UPGRADE from DOWNGRADE.
TIER_ORDER: tuple[str, ...] = (
    "TIER_NOT_SET",
    "TIER_50",
    "TIER_250",
    "TIER_1K",
    "TIER_2K",
    "TIER_10K",
    "TIER_100K",
    "TIER_UNLIMITED",
)
# name_status values that are a review decision, and the decision phone_number_name_update sends.
_NAME_DECISIONS = {
    "APPROVED": "APPROVED",
    "AVAILABLE_WITHOUT_REVIEW": "APPROVED",
    "DECLINED": "REJECTED",
    "REJECTED": "REJECTED",
    "PENDING_REVIEW": "PENDING",
    "PENDING": "PENDING",
    "DEFERRED": "DEFERRED",
}
_REVIEW_DECISIONS = frozenset({"APPROVED", "REJECTED", "PENDING", "DEFERRED"})
# WABA private key -> account_update event it sends when it changes to a non-null value.
_ACCOUNT_EVENTS = (
    ("ban_info", "DISABLED_UPDATE"),
    ("restriction_info", "ACCOUNT_RESTRICTION"),
    ("violation_info", "ACCOUNT_VIOLATION"),
)
_LOG_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class Change:
    """One webhook change: `entry[].changes[]` of a WABA."""

    waba_id: str
    field: str
    value: Mapping[str, Any]


def derive_changes(old: GraphState, new: GraphState) -> list[Change]:
    """Return the webhooks Meta would send for the difference between two data sets."""
    changes: list[Change] = []
    for waba_id, waba in new.wabas.items():
        before = old.wabas.get(waba_id)
        if before is None:
            continue
        changes += [Change(waba_id, f, v) for f, v in _waba_changes(before, waba)]
        previous = {n["id"]: n for n in before.numbers}
        for number in waba.numbers:
            if number["id"] in previous:
                changes += [Change(waba_id, f, v) for f, v in _number_changes(previous[number["id"]], number)]
    return changes


def _rank(tier: object) -> int:
    return TIER_ORDER.index(tier) if isinstance(tier, str) and tier in TIER_ORDER else -1


def _limit(number: Mapping[str, Any]) -> Any:
    return number.get("whatsapp_business_manager_messaging_limit") or number.get("messaging_limit_tier")


def _flagged(number: Mapping[str, Any]) -> bool:
    # The legacy FLAGGED/UNFLAGGED events follow a drop to (or recovery from) low quality.
    return number.get("status") == "FLAGGED" or number.get("quality_rating") == "RED"


def _number_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    display = digits(new.get("display_phone_number", ""))
    out: list[tuple[str, dict[str, Any]]] = []
    for key in ("whatsapp_business_manager_messaging_limit", "messaging_limit_tier"):
        before, after = old.get(key), new.get(key)
        if after is not None and before != after:
            value: dict[str, Any] = {
                "display_phone_number": display,
                "event": "UPGRADE" if _rank(after) >= _rank(before) else "DOWNGRADE",
                "current_limit": after,
            }
            if before is not None:
                value["old_limit"] = before
            if key == "whatsapp_business_manager_messaging_limit":
                value["max_daily_conversations_per_business"] = after
            out.append(("phone_number_quality_update", value))
            break
    if _flagged(old) != _flagged(new):
        value = {"display_phone_number": display, "event": "FLAGGED" if _flagged(new) else "UNFLAGGED"}
        if _limit(new) is not None:
            value["current_limit"] = _limit(new)
        out.append(("phone_number_quality_update", value))
    for key in ("name_status", "new_name_status"):
        after = new.get(key)
        decision = _NAME_DECISIONS.get(after) if isinstance(after, str) else None
        if decision is None or old.get(key) == after:
            continue
        requested = new.get("verified_name")
        if key == "new_name_status":
            requested = new.get("requested_verified_name") or requested
        rejection = (new.get("name_rejection_reason") or "UNKNOWN") if decision == "REJECTED" else None
        out.append(
            (
                "phone_number_name_update",
                {
                    "display_phone_number": display,
                    "decision": decision,
                    "requested_verified_name": requested,
                    "rejection_reason": rejection,
                },
            )
        )
    return out


def _waba_changes(old: Waba, new: Waba) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    review = new.fields.get("account_review_status")
    if review != old.fields.get("account_review_status") and review in _REVIEW_DECISIONS:
        out.append(("account_review_update", {"decision": review}))
    for key, event in _ACCOUNT_EVENTS:
        after = new.private(key)
        if after is not None and after != old.private(key):
            out.append(("account_update", {"event": event, key: after}))
    country = new.fields.get("primary_business_location")
    if country is not None and country != old.fields.get("primary_business_location"):
        out.append(("account_update", {"event": "BUSINESS_PRIMARY_LOCATION_COUNTRY_UPDATE", "country": country}))
    eligibility = new.fields.get("auth_international_rate_eligibility")
    if eligibility is not None and eligibility != old.fields.get("auth_international_rate_eligibility"):
        out.append(
            (
                "account_update",
                {"event": "AUTH_INTL_PRICE_ELIGIBILITY_UPDATE", "auth_international_rate_eligibility": eligibility},
            )
        )
    capability = new.private("business_capability")
    if capability is not None and capability != old.private("business_capability"):
        out.append(("business_capability_update", dict(capability)))
    return out


def targets(state: GraphState, waba_id: str, field: str) -> list[tuple[App, str]]:
    """Return (app, callback URL) for every app that should receive `field` for this WABA."""
    waba = state.wabas.get(waba_id)
    if waba is None:
        return []
    found: list[tuple[App, str]] = []
    for entry in waba.subscribed_apps:
        app = state.apps[entry["app_id"]]
        subscription = app.subscription(WABA_OBJECT)
        if subscription is None or field not in subscription.get("fields", []):
            continue
        override = entry.get("override_callback_uri")
        overridable = field in OVERRIDABLE_FIELDS or field.startswith("group_")
        found.append((app, override if override and overridable else subscription["callback_url"]))
    return found


def envelope(change: Change, now: float) -> dict[str, Any]:
    """Return the webhook body for one change (lifecycle.md §A.1)."""
    return {
        "object": WABA_OBJECT,
        "entry": [
            {"id": change.waba_id, "time": int(now), "changes": [{"value": change.value, "field": change.field}]}
        ],
    }


def signature_headers(body: bytes, secret: str | None) -> dict[str, str]:
    """Return X-Hub-Signature-256 (and Meta's legacy SHA-1 twin) for a body; none without a secret."""
    if secret is None:
        return {}
    key = secret.encode()
    return {
        "X-Hub-Signature-256": "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest(),
        "X-Hub-Signature": "sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest(),
    }


@dataclass(frozen=True, slots=True)
class _Delivery:
    id: int
    url: str
    app_id: str
    change: Change
    body: bytes
    secret: str | None
    max_attempts: int
    retry_base: float
    timeout: float


class WebhookBook:
    """Sends webhooks and handshakes, and keeps the log of every attempt."""

    def __init__(self, clock: Clock, *, transport: httpx.AsyncBaseTransport | None = None, seed: int | None = None):
        self._clock = clock
        self._transport = transport
        self._rng = random.Random(seed)
        self._log: deque[dict[str, Any]] = deque(maxlen=_LOG_LIMIT)
        self._next_id = 1
        self._tasks: set[asyncio.Task[None]] = set()

    # -- sending ------------------------------------------------------------------------

    def publish(self, state: GraphState, changes: Iterable[Change]) -> int:
        """Queue every delivery the changes call for; return how many were queued."""
        settings = state.settings
        queued = 0
        for change in changes:
            for app, url in targets(state, change.waba_id, change.field):
                delivery = _Delivery(
                    id=self._take_id(),
                    url=url,
                    app_id=app.id,
                    change=change,
                    body=render_json(envelope(change, self._clock.now())),
                    secret=app.secret,
                    max_attempts=settings.webhook_max_attempts,
                    retry_base=settings.webhook_retry_base_seconds,
                    timeout=settings.webhook_timeout_seconds,
                )
                self._schedule(delivery)
                queued += 1
        return queued

    def _take_id(self) -> int:
        delivery_id = self._next_id
        self._next_id += 1
        return delivery_id

    def _schedule(self, delivery: _Delivery) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # Only reachable when the state is changed outside a request; nothing can send then.
            self._record(delivery, 1, None, "no running event loop to send from", "failed")
            return
        task = loop.create_task(self._deliver(delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, delivery: _Delivery) -> None:
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        headers.update(signature_headers(delivery.body, delivery.secret))
        for attempt in range(1, delivery.max_attempts + 1):
            status: int | None = None
            error: str | None = None
            try:
                async with self._client(delivery.timeout) as http:
                    response = await http.post(delivery.url, content=delivery.body, headers=headers)
                status = response.status_code
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            if status == 200:
                self._record(delivery, attempt, status, None, "delivered")
                return
            last = attempt == delivery.max_attempts
            self._record(delivery, attempt, status, error, "failed" if last else "retrying")
            if not last:
                # Meta retries undelivered webhooks with decreasing frequency; doubling from a base.
                await asyncio.sleep(delivery.retry_base * 2 ** (attempt - 1))

    def _record(self, delivery: _Delivery, attempt: int, status: int | None, error: str | None, outcome: str) -> None:
        self._log.append(
            {
                "id": delivery.id,
                "kind": "event",
                "attempt": attempt,
                "time": iso(self._clock.now()),
                "url": delivery.url,
                "app_id": delivery.app_id,
                "waba_id": delivery.change.waba_id,
                "field": delivery.change.field,
                "status": status,
                "error": error,
                "outcome": outcome,
                "body": json.loads(delivery.body),
            }
        )

    def _client(self, timeout: float) -> httpx.AsyncClient:
        # trust_env=False: proxy variables must not divert loopback callbacks.
        return httpx.AsyncClient(transport=self._transport, timeout=timeout, trust_env=False)

    # -- verification handshake -----------------------------------------------------------

    async def handshake(self, url: str, verify_token: str, timeout: float) -> None:
        """GET `url` with hub.mode/hub.challenge/hub.verify_token; raise GraphError 2200 unless echoed.

        Meta requires HTTP 200 and a body equal to the challenge (lifecycle.md §A.3).
        """
        challenge = str(self._rng.randrange(10**9, 2 * 10**9))
        params = {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": verify_token}
        entry: dict[str, Any] = {
            "id": self._take_id(),
            "kind": "verification",
            "attempt": 1,
            "time": iso(self._clock.now()),
            "url": url,
            "challenge": challenge,
            "status": None,
            "error": None,
            "outcome": "failed",
        }
        self._log.append(entry)
        try:
            async with self._client(timeout) as http:
                response = await http.get(url, params=params, headers={"User-Agent": USER_AGENT})
        except httpx.TimeoutException:
            entry["error"] = "timeout"
            raise callback_verification_failed(
                f"curl_errno = 28; curl_error = Operation timed out after {int(timeout * 1000)} milliseconds"
            ) from None
        except httpx.HTTPError as exc:
            entry["error"] = type(exc).__name__
            raise callback_verification_failed("curl_errno = 7; curl_error = Couldn't connect to server") from None
        entry["status"] = response.status_code
        if response.status_code != 200:
            raise callback_verification_failed(
                f"HTTP Status Code = {response.status_code}; HTTP Message = {response.reason_phrase}"
            )
        if response.text != challenge:
            received = response.text[:100]
            raise callback_verification_failed(
                f'Response does not match challenge, expected value="{challenge}", received="{received}"'
            )
        entry["outcome"] = "verified"

    # -- log ----------------------------------------------------------------------------------

    def entries(self) -> list[dict[str, Any]]:
        """Return every attempt so far, oldest first."""
        return list(self._log)

    @property
    def pending(self) -> int:
        """How many deliveries are still being attempted."""
        return len(self._tasks)

    def clear(self) -> int:
        """Forget the log (deliveries under way keep going); return how many entries there were."""
        count = len(self._log)
        self._log.clear()
        return count

    def reset(self, seed: int | None) -> None:
        """Stop every delivery under way, forget the log and replay the seed."""
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()
        self._log.clear()
        self._next_id = 1
        self._rng = random.Random(seed)
