"""The emulator's data set: fixture loading, shape validation and the indexes routes read.

A state document is plain JSON (see the package docstring); `parse_state` checks its shape
and returns an immutable `GraphState`. Writes never edit a GraphState: store.py copies the
document, changes the copy and parses it again. Most enum values are deliberately not checked,
so tests can feed values Meta may add later and see how the client copes; the ones the
emulator computes with (health levels, PINs, URLs) are.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PHONE_NODE_TYPE = "WhatsAppBusinessPhoneNumber"
WABA_NODE_TYPE = "WhatsAppBusinessAccount"
BUSINESS_NODE_TYPE = "Business"
APP_NODE_TYPE = "Application"

# Without `$.apps` every token belongs to this app (its secret is `$.app_secret`), so older
# fixtures can still subscribe to WABAs and upload files.
IMPLICIT_APP_ID = "100000000000001"
IMPLICIT_APP_NAME = "Graph emulator app"

_STRING_FIELDS = frozenset(
    {
        "display_phone_number",
        "verified_name",
        "quality_rating",
        "status",
        "code_verification_status",
        "name_status",
        "new_name_status",
        "messaging_limit_tier",
        "whatsapp_business_manager_messaging_limit",
        "platform_type",
        "account_mode",
        "certificate",
        "new_certificate",
        "eligibility_for_api_business_global_search",
        "search_visibility",
        "country_code",
        "country_dial_code",
        "username",
    }
)
_BOOL_FIELDS = frozenset({"is_official_business_account", "is_pin_enabled", "is_preverified_number", "is_on_biz_app"})
_OBJECT_FIELDS = frozenset(
    {"quality_score", "throughput", "health_status", "webhook_configuration", "conversational_automation"}
)
# meta-graph.md §3 leaves ISO string vs Unix timestamp open, so both are stored as given.
_TIME_FIELDS = frozenset({"last_onboarded_time"})

# Fields a stored phone number may carry (meta-graph.md §3). `unified_cert_status` is absent on
# purpose: Graph rejects it with #100 although OAS v23 lists it.
STORED_FIELDS: frozenset[str] = frozenset({"id"} | _STRING_FIELDS | _BOOL_FIELDS | _OBJECT_FIELDS | _TIME_FIELDS)
# `host_platform` is a read alias of `platform_type` (meta-graph.md §3), so it is requestable
# but never stored.
FIELD_ALIASES: Mapping[str, str] = {"host_platform": "platform_type"}
KNOWN_FIELDS: frozenset[str] = STORED_FIELDS | frozenset(FIELD_ALIASES)

# What Meta keeps about a number but never returns as a node field: the two-step PIN, the
# business profile and encryption key (their own edges), webhook hints and a health override.
NUMBER_PRIVATE_KEYS: frozenset[str] = frozenset(
    {
        "pin",
        "business_profile",
        "business_public_key",
        "business_public_key_signature_status",
        "requested_verified_name",
        "name_rejection_reason",
        "health",
    }
)
PROFILE_KEYS: frozenset[str] = frozenset(
    {"about", "address", "description", "email", "websites", "vertical", "profile_picture_url"}
)

# The ES-DOC default set chosen in meta-graph.md §1, in Meta's order.
DEFAULT_FIELDS: tuple[str, ...] = (
    "verified_name",
    "code_verification_status",
    "display_phone_number",
    "quality_rating",
    "platform_type",
    "throughput",
    "last_onboarded_time",
    "webhook_configuration",
    "id",
)

# WABA node fields stored as given (lifecycle.md 1.2; FBSDK WhatsAppBusinessAccount.Field).
WABA_STORED_FIELDS: frozenset[str] = frozenset(
    {
        "name",
        "currency",
        "timezone_id",
        "message_template_namespace",
        "account_review_status",
        "business_verification_status",
        "primary_business_location",
        "auth_international_rate_eligibility",
        "marketing_messages_lite_api_status",
    }
)
# Computed on read: from `business_id`, the health overrides, and the analytics generator.
WABA_COMPUTED_FIELDS: frozenset[str] = frozenset({"owner_business_info", "health_status", "analytics"})
WABA_FIELDS: frozenset[str] = frozenset({"id"}) | WABA_STORED_FIELDS | WABA_COMPUTED_FIELDS
WABA_DEFAULT_FIELDS: tuple[str, ...] = ("id", "name")
# Kept about a WABA but not readable as fields: owner, subscriptions, and the inputs of the
# account_update / business_capability_update webhooks.
WABA_PRIVATE_KEYS: frozenset[str] = frozenset(
    {
        "business_id",
        "subscribed_apps",
        "health",
        "ban_info",
        "restriction_info",
        "violation_info",
        "business_capability",
    }
)

BUSINESS_FIELDS: frozenset[str] = frozenset({"id", "name", "verification_status", "vertical"})
BUSINESS_DEFAULT_FIELDS: tuple[str, ...] = ("id", "name")
APP_FIELDS: frozenset[str] = frozenset({"id", "name", "link"})
APP_DEFAULT_FIELDS: tuple[str, ...] = ("link", "name", "id")

HEALTH_LEVELS: tuple[str, ...] = ("AVAILABLE", "LIMITED", "BLOCKED")

_TOP_KEYS = frozenset(
    {"description", "tokens", "expired_tokens", "app_secret", "wabas", "apps", "businesses", "settings"}
)
_WABA_KEYS = WABA_STORED_FIELDS | WABA_PRIVATE_KEYS | {"phone_numbers"}
_WABA_OBJECT_KEYS = frozenset(
    {"auth_international_rate_eligibility", "ban_info", "violation_info", "business_capability"}
)
_BUSINESS_KEYS = frozenset({"name", "verification_status", "vertical", "health"})
_APP_KEYS = frozenset({"name", "secret", "subscriptions", "health"})
_SUBSCRIPTION_KEYS = frozenset({"object", "callback_url", "verify_token", "fields"})
_SUBSCRIBED_APP_KEYS = frozenset({"app_id", "override_callback_uri"})
_HEALTH_KEYS = frozenset({"can_send_message", "additional_info", "errors"})
_HEALTH_ERROR_KEYS = frozenset({"error_code", "error_description", "possible_solution"})
_TOKEN_KEYS = frozenset({"app", "wabas"})
_NUMERIC_ID = re.compile(r"^[0-9]+$")
_PIN = re.compile(r"^[0-9]{6}$")


class StateError(ValueError):
    """A state document with the wrong shape; `location` is a JSON path like `$.wabas.1.x`."""

    def __init__(self, location: str, problem: str) -> None:
        self.location = location
        self.problem = problem
        super().__init__(f"{location}: {problem}")


@dataclass(frozen=True, slots=True)
class Settings:
    """Tunable limits and timings (`$.settings`); defaults follow Meta where Meta says."""

    # Meta: codes are "typically valid for 10 minutes" (lifecycle.md 1.10).
    code_ttl_seconds: float = 600.0
    request_code_max: int = 5
    request_code_window_seconds: float = 3600.0
    verify_code_max_attempts: int = 5
    # Meta: 10 register/deregister requests per number in a 72-hour moving window.
    register_max: int = 10
    register_window_seconds: float = 72 * 3600.0
    webhook_max_attempts: int = 5
    webhook_retry_base_seconds: float = 0.5
    webhook_timeout_seconds: float = 5.0
    # Meta: analytics look back one year (lifecycle.md 1.5).
    analytics_lookback_days: int = 365


_SETTING_TYPES: Mapping[str, type] = {f.name: (int if f.type in ("int", int) else float) for f in fields(Settings)}


@dataclass(frozen=True, slots=True)
class App:
    """A Meta app: the owner of tokens, of WABA subscriptions and of webhook subscriptions."""

    id: str
    name: str
    secret: str | None
    # Each: {"object", "callback_url", "fields": [...], "verify_token"?}
    subscriptions: tuple[Mapping[str, Any], ...]
    health: Mapping[str, Any] | None

    def subscription(self, object_type: str) -> Mapping[str, Any] | None:
        """Return the app's webhook subscription for an object type, or None."""
        for subscription in self.subscriptions:
            if subscription["object"] == object_type:
                return subscription
        return None


@dataclass(frozen=True, slots=True)
class Business:
    """A business portfolio node."""

    id: str
    fields: Mapping[str, Any]
    health: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class Waba:
    """One WhatsApp Business Account: its node fields and its numbers in stored order."""

    id: str
    fields: Mapping[str, Any]
    numbers: tuple[Mapping[str, Any], ...]
    business_id: str | None = None
    # Each: {"app_id", "override_callback_uri"?}
    subscribed_apps: tuple[Mapping[str, Any], ...] = ()
    # The private keys other than business_id and subscribed_apps (health, ban_info, ...).
    extra: Mapping[str, Any] | None = None

    def private(self, key: str) -> Any:
        """Return a private key's value, or None."""
        return (self.extra or {}).get(key)


@dataclass(frozen=True, slots=True)
class GraphState:
    """A validated state document plus the lookups the routes need."""

    document: Mapping[str, Any]
    tokens: Mapping[str, frozenset[str]]
    expired_tokens: frozenset[str]
    # the implicit app's secret (`$.app_secret`), or None
    app_secret: str | None
    wabas: Mapping[str, Waba]
    # phone-number id -> id of the WABA that owns it
    phone_owner: Mapping[str, str]
    phones: Mapping[str, Mapping[str, Any]]
    apps: Mapping[str, App]
    # token -> id of the app it belongs to
    token_apps: Mapping[str, str]
    businesses: Mapping[str, Business]
    settings: Settings

    def waba_of(self, node_id: str) -> str | None:
        """Return the WABA a node id belongs to: itself for a WABA, the owner for a number."""
        if node_id in self.wabas:
            return node_id
        return self.phone_owner.get(node_id)

    def app_token(self, token: str) -> App | None:
        """Return the app whose app access token (`APP_ID|APP_SECRET`) this is, or None."""
        app_id, bar, secret = token.partition("|")
        app = self.apps.get(app_id)
        if bar and app is not None and app.secret is not None and app.secret == secret:
            return app
        return None

    def node_ids(self) -> set[str]:
        """Return every id in use by a WABA, number, app or business."""
        return set(self.wabas) | set(self.phones) | set(self.apps) | set(self.businesses)

    def summary(self) -> dict[str, int]:
        """Return counts of tokens, WABAs and phone numbers."""
        return {
            "tokens": len(self.tokens),
            "wabas": len(self.wabas),
            "phone_numbers": len(self.phone_owner),
        }


def parse_state(document: object) -> GraphState:
    """Validate a state document and return it indexed; raise StateError on a bad shape."""
    top = _object(document, "$")
    _only_keys(top, _TOP_KEYS, "$")

    app_secret = top.get("app_secret")
    if app_secret is not None and (not isinstance(app_secret, str) or not app_secret):
        raise StateError("$.app_secret", "expected a non-empty string")
    apps = _parse_apps(top.get("apps"), app_secret)
    businesses = _parse_businesses(top.get("businesses", {}))

    raw_wabas = _object(top.get("wabas", {}), "$.wabas")
    wabas: dict[str, Waba] = {}
    phone_owner: dict[str, str] = {}
    for waba_id, raw_waba in raw_wabas.items():
        where = f"$.wabas.{waba_id}"
        _numeric_id(waba_id, where)
        wabas[waba_id] = _parse_waba(waba_id, raw_waba, where, phone_owner, apps, businesses)
    clash = set(phone_owner) & set(wabas)
    if clash:
        raise StateError("$.wabas", f"ids used both as WABA and phone number: {sorted(clash)}")
    clash = (set(phone_owner) | set(wabas)) & (set(apps) | set(businesses))
    if clash or set(apps) & set(businesses):
        clash |= set(apps) & set(businesses)
        raise StateError("$", f"ids used by two kinds of node: {sorted(clash)}")

    default_app = next(iter(apps))
    tokens: dict[str, frozenset[str]] = {}
    token_apps: dict[str, str] = {}
    for token, granted in _object(top.get("tokens", {}), "$.tokens").items():
        where = f"$.tokens.{token}"
        if not token:
            raise StateError(where, "a token must be a non-empty string")
        app_id = default_app
        if isinstance(granted, dict):
            _only_keys(granted, _TOKEN_KEYS, where)
            app_id = granted.get("app", default_app)
            if app_id not in apps:
                raise StateError(f"{where}.app", f"no app {app_id!r} in $.apps")
            ids = _string_list(granted.get("wabas", []), f"{where}.wabas")
        else:
            ids = _string_list(granted, where)
        missing = [w for w in ids if w not in wabas]
        if missing:
            raise StateError(where, f"grants access to WABAs not in $.wabas: {missing}")
        tokens[token] = frozenset(ids)
        token_apps[token] = app_id

    expired = frozenset(_string_list(top.get("expired_tokens", []), "$.expired_tokens"))

    return GraphState(
        document=copy.deepcopy(top),
        tokens=tokens,
        expired_tokens=expired,
        app_secret=app_secret,
        wabas=wabas,
        phone_owner=phone_owner,
        phones={n["id"]: n for waba in wabas.values() for n in waba.numbers},
        apps=apps,
        token_apps=token_apps,
        businesses=businesses,
        settings=_parse_settings(top.get("settings", {})),
    )


def load_state_file(path: Path) -> GraphState:
    """Read and validate a JSON fixture file; raise StateError (or OSError) on failure."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise StateError("$", f"{path} is not valid JSON: {exc}") from exc
    return parse_state(document)


def demo_document() -> dict[str, Any]:
    """Return a fresh copy of the demo data set shipped in the package."""
    text = resources.files(__package__).joinpath("fixtures", "demo.json").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def digits(text: object) -> str:
    """Return the digits of a phone number as Meta's webhooks and analytics write it."""
    return "".join(c for c in str(text) if c.isdigit())


def is_http_url(value: object) -> bool:
    """Whether `value` is an absolute http(s) URL with a host."""
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def _parse_apps(raw: object, app_secret: str | None) -> dict[str, App]:
    if raw is None or raw == {}:
        return {IMPLICIT_APP_ID: App(IMPLICIT_APP_ID, IMPLICIT_APP_NAME, app_secret, (), None)}
    if app_secret is not None:
        raise StateError("$.app_secret", "with $.apps, give each app its own 'secret'")
    apps: dict[str, App] = {}
    for app_id, raw_app in _object(raw, "$.apps").items():
        where = f"$.apps.{app_id}"
        _numeric_id(app_id, where)
        body = _object(raw_app, where)
        _only_keys(body, _APP_KEYS, where)
        name = _optional_str(body, "name", where) or f"App {app_id}"
        secret = _optional_str(body, "secret", where)
        if secret == "":
            raise StateError(f"{where}.secret", "expected a non-empty string")
        raw_subs = body.get("subscriptions", [])
        if not isinstance(raw_subs, list):
            raise StateError(f"{where}.subscriptions", "expected a list of subscription objects")
        subscriptions = [_parse_subscription(s, f"{where}.subscriptions[{i}]") for i, s in enumerate(raw_subs)]
        objects = [s["object"] for s in subscriptions]
        if len(set(objects)) != len(objects):
            raise StateError(f"{where}.subscriptions", "one subscription per object")
        health = _health(body.get("health"), f"{where}.health")
        apps[app_id] = App(app_id, name, secret, tuple(subscriptions), health)
    return apps


def _parse_subscription(raw: object, where: str) -> dict[str, Any]:
    body = _object(raw, where)
    _only_keys(body, _SUBSCRIPTION_KEYS, where)
    if not isinstance(body.get("object"), str) or not body["object"]:
        raise StateError(f"{where}.object", "expected an object type such as 'whatsapp_business_account'")
    if not is_http_url(body.get("callback_url")):
        raise StateError(f"{where}.callback_url", "expected an http(s) URL")
    _optional_str(body, "verify_token", where)
    _string_list(body.get("fields", []), f"{where}.fields")
    return copy.deepcopy(body)


def _parse_businesses(raw: object) -> dict[str, Business]:
    businesses: dict[str, Business] = {}
    for business_id, raw_business in _object(raw, "$.businesses").items():
        where = f"$.businesses.{business_id}"
        _numeric_id(business_id, where)
        body = _object(raw_business, where)
        _only_keys(body, _BUSINESS_KEYS, where)
        for key in ("name", "verification_status", "vertical"):
            _optional_str(body, key, where)
        node = {k: v for k, v in body.items() if k != "health"}
        node["id"] = business_id
        businesses[business_id] = Business(business_id, node, _health(body.get("health"), f"{where}.health"))
    return businesses


def _parse_settings(raw: object) -> Settings:
    body = _object(raw, "$.settings")
    _only_keys(body, frozenset(_SETTING_TYPES), "$.settings")
    values: dict[str, Any] = {}
    for key, value in body.items():
        kind = _SETTING_TYPES[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise StateError(f"$.settings.{key}", "expected a positive number")
        if kind is int and not isinstance(value, int):
            raise StateError(f"$.settings.{key}", "expected a positive integer")
        values[key] = kind(value)
    return Settings(**values)


def _parse_waba(
    waba_id: str,
    raw: object,
    where: str,
    phone_owner: dict[str, str],
    apps: Mapping[str, App],
    businesses: Mapping[str, Business],
) -> Waba:
    body = _object(raw, where)
    _only_keys(body, _WABA_KEYS, where)
    numbers_raw = body.get("phone_numbers", [])
    if not isinstance(numbers_raw, list):
        raise StateError(f"{where}.phone_numbers", "expected a list of phone-number objects")
    numbers: list[Mapping[str, Any]] = []
    for index, raw_number in enumerate(numbers_raw):
        number = _parse_number(raw_number, f"{where}.phone_numbers[{index}]")
        if number["id"] in phone_owner:
            raise StateError(
                f"{where}.phone_numbers[{index}].id",
                f"duplicate phone-number id {number['id']}",
            )
        phone_owner[number["id"]] = waba_id
        numbers.append(number)
    for key in sorted((WABA_STORED_FIELDS | {"business_id"}) - _WABA_OBJECT_KEYS):
        _optional_str(body, key, where)
    for key in sorted(_WABA_OBJECT_KEYS):
        if body.get(key) is not None and not isinstance(body[key], dict):
            raise StateError(f"{where}.{key}", "expected an object or null")
    restriction = body.get("restriction_info")
    if restriction is not None and not (
        isinstance(restriction, list) and all(isinstance(item, dict) for item in restriction)
    ):
        raise StateError(f"{where}.restriction_info", "expected a list of objects or null")
    business_id = body.get("business_id")
    if business_id is not None and business_id not in businesses:
        raise StateError(f"{where}.business_id", f"no business {business_id!r} in $.businesses")
    subscribed = _parse_subscribed_apps(body.get("subscribed_apps", []), f"{where}.subscribed_apps", apps)
    _health(body.get("health"), f"{where}.health")
    fields = {k: copy.deepcopy(v) for k, v in body.items() if k in WABA_STORED_FIELDS}
    fields["id"] = waba_id
    extra = {
        k: copy.deepcopy(v) for k, v in body.items() if k in WABA_PRIVATE_KEYS - {"business_id", "subscribed_apps"}
    }
    return Waba(
        id=waba_id,
        fields=fields,
        numbers=tuple(numbers),
        business_id=business_id,
        subscribed_apps=tuple(subscribed),
        extra=extra,
    )


def _parse_subscribed_apps(raw: object, where: str, apps: Mapping[str, App]) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise StateError(where, "expected a list of {app_id, override_callback_uri?} objects")
    entries: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        at = f"{where}[{index}]"
        entry = _object(item, at)
        _only_keys(entry, _SUBSCRIBED_APP_KEYS, at)
        if entry.get("app_id") not in apps:
            raise StateError(f"{at}.app_id", f"no app {entry.get('app_id')!r} (declared in $.apps or implicit)")
        uri = entry.get("override_callback_uri")
        if uri is not None and not is_http_url(uri):
            raise StateError(f"{at}.override_callback_uri", "expected an http(s) URL")
        entries.append(copy.deepcopy(entry))
    if len({e["app_id"] for e in entries}) != len(entries):
        raise StateError(where, "an app is subscribed at most once")
    return entries


def _parse_number(raw: object, where: str) -> dict[str, Any]:
    number = _object(raw, where)
    unknown = sorted(set(number) - STORED_FIELDS - NUMBER_PRIVATE_KEYS)
    if unknown:
        raise StateError(where, f"unknown phone-number fields {unknown} (see meta-graph.md §3)")
    if "id" not in number:
        raise StateError(where, "missing 'id'")
    if not isinstance(number["id"], str):
        raise StateError(f"{where}.id", "expected a numeric string")
    _numeric_id(number["id"], f"{where}.id")
    for name, value in number.items():
        if value is None or name == "id":
            continue
        if name in _STRING_FIELDS and not isinstance(value, str):
            raise StateError(f"{where}.{name}", "expected a string or null")
        if name in _BOOL_FIELDS and not isinstance(value, bool):
            raise StateError(f"{where}.{name}", "expected true, false or null")
        if name in _OBJECT_FIELDS and not isinstance(value, dict):
            raise StateError(f"{where}.{name}", "expected an object or null")
        if name in _TIME_FIELDS and (isinstance(value, bool) or not isinstance(value, str | int)):
            raise StateError(f"{where}.{name}", "expected a time string, a Unix timestamp or null")
    _parse_number_private(number, where)
    return copy.deepcopy(number)


def _parse_number_private(number: Mapping[str, Any], where: str) -> None:
    pin = number.get("pin")
    if pin is not None and (not isinstance(pin, str) or not _PIN.match(pin)):
        raise StateError(f"{where}.pin", "expected a 6-digit string")
    for key in ("business_public_key", "business_public_key_signature_status", "requested_verified_name"):
        _optional_str(number, key, where)
    _optional_str(number, "name_rejection_reason", where)
    profile = number.get("business_profile")
    if profile is not None:
        at = f"{where}.business_profile"
        body = _object(profile, at)
        _only_keys(body, PROFILE_KEYS, at)
        for key in PROFILE_KEYS - {"websites"}:
            _optional_str(body, key, at)
        if "websites" in body:
            _string_list(body["websites"], f"{at}.websites")
    _health(number.get("health"), f"{where}.health")


def _health(raw: object, where: str) -> dict[str, Any] | None:
    """Check a health override: {can_send_message, additional_info?, errors?} (lifecycle.md §C)."""
    if raw is None:
        return None
    body = _object(raw, where)
    _only_keys(body, _HEALTH_KEYS, where)
    if body.get("can_send_message", "AVAILABLE") not in HEALTH_LEVELS:
        raise StateError(f"{where}.can_send_message", f"expected one of {list(HEALTH_LEVELS)}")
    if "additional_info" in body:
        _string_list(body["additional_info"], f"{where}.additional_info")
    errors = body.get("errors", [])
    if not isinstance(errors, list):
        raise StateError(f"{where}.errors", "expected a list of error objects")
    for index, error in enumerate(errors):
        at = f"{where}.errors[{index}]"
        item = _object(error, at)
        _only_keys(item, _HEALTH_ERROR_KEYS, at)
        code = item.get("error_code")
        if isinstance(code, bool) or not isinstance(code, int):
            raise StateError(f"{at}.error_code", "expected an integer")
        for key in ("error_description", "possible_solution"):
            _optional_str(item, key, at)
    return copy.deepcopy(body)


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise StateError(where, "expected a JSON object")
    return value


def _only_keys(value: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise StateError(where, f"unknown keys {unknown}; allowed: {sorted(allowed)}")


def _optional_str(body: Mapping[str, Any], key: str, where: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise StateError(f"{where}.{key}", "expected a string or null")
    return value


def _numeric_id(value: str, where: str) -> None:
    if not _NUMERIC_ID.match(value):
        raise StateError(where, f"ids are numeric strings like Meta's, got {value!r}")


def _string_list(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise StateError(where, "expected a list of strings")
    return list(value)
