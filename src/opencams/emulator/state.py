"""The emulator's data set: fixture loading, shape validation and the indexes routes read.

A state document is plain JSON (see the package docstring); `parse_state` checks its shape
and returns an immutable `GraphState`. Enum values are deliberately not checked, so tests can
feed values Meta may add later and see how the client copes.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

PHONE_NODE_TYPE = "WhatsAppBusinessPhoneNumber"
WABA_NODE_TYPE = "WhatsAppBusinessAccount"

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

WABA_FIELDS: frozenset[str] = frozenset(
    {"id", "name", "currency", "timezone_id", "message_template_namespace", "account_review_status"}
)
WABA_DEFAULT_FIELDS: tuple[str, ...] = ("id", "name")

_TOP_KEYS = frozenset({"description", "tokens", "expired_tokens", "app_secret", "wabas"})
_WABA_KEYS = (WABA_FIELDS - {"id"}) | {"phone_numbers"}
_NUMERIC_ID = re.compile(r"^[0-9]+$")


class StateError(ValueError):
    """A state document with the wrong shape; `location` is a JSON path like `$.wabas.1.x`."""

    def __init__(self, location: str, problem: str) -> None:
        self.location = location
        self.problem = problem
        super().__init__(f"{location}: {problem}")


@dataclass(frozen=True, slots=True)
class Waba:
    """One WhatsApp Business Account: its node fields and its numbers in stored order."""

    id: str
    fields: Mapping[str, Any]
    numbers: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True, slots=True)
class GraphState:
    """A validated state document plus the lookups the routes need."""

    document: Mapping[str, Any]
    tokens: Mapping[str, frozenset[str]]
    expired_tokens: frozenset[str]
    app_secret: str | None
    wabas: Mapping[str, Waba]
    # phone-number id -> id of the WABA that owns it
    phone_owner: Mapping[str, str]
    phones: Mapping[str, Mapping[str, Any]]

    def waba_of(self, node_id: str) -> str | None:
        """Return the WABA a node id belongs to: itself for a WABA, the owner for a number."""
        if node_id in self.wabas:
            return node_id
        return self.phone_owner.get(node_id)

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
    raw_wabas = _object(top.get("wabas", {}), "$.wabas")
    wabas: dict[str, Waba] = {}
    phone_owner: dict[str, str] = {}
    for waba_id, raw_waba in raw_wabas.items():
        where = f"$.wabas.{waba_id}"
        _numeric_id(waba_id, where)
        waba = _parse_waba(waba_id, raw_waba, where, phone_owner)
        wabas[waba_id] = waba
    clash = set(phone_owner) & set(wabas)
    if clash:
        raise StateError("$.wabas", f"ids used both as WABA and phone number: {sorted(clash)}")

    tokens: dict[str, frozenset[str]] = {}
    for token, granted in _object(top.get("tokens", {}), "$.tokens").items():
        where = f"$.tokens.{token}"
        if not token:
            raise StateError(where, "a token must be a non-empty string")
        ids = _string_list(granted, where)
        missing = [w for w in ids if w not in wabas]
        if missing:
            raise StateError(where, f"grants access to WABAs not in $.wabas: {missing}")
        tokens[token] = frozenset(ids)

    expired = frozenset(_string_list(top.get("expired_tokens", []), "$.expired_tokens"))
    app_secret = top.get("app_secret")
    if app_secret is not None and (not isinstance(app_secret, str) or not app_secret):
        raise StateError("$.app_secret", "expected a non-empty string")

    return GraphState(
        document=copy.deepcopy(top),
        tokens=tokens,
        expired_tokens=expired,
        app_secret=app_secret,
        wabas=wabas,
        phone_owner=phone_owner,
        phones={n["id"]: n for waba in wabas.values() for n in waba.numbers},
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


def _parse_waba(waba_id: str, raw: object, where: str, phone_owner: dict[str, str]) -> Waba:
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
    fields = {k: copy.deepcopy(v) for k, v in body.items() if k != "phone_numbers"}
    fields["id"] = waba_id
    return Waba(id=waba_id, fields=fields, numbers=tuple(numbers))


def _parse_number(raw: object, where: str) -> dict[str, Any]:
    number = _object(raw, where)
    unknown = sorted(set(number) - STORED_FIELDS)
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
    return copy.deepcopy(number)


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise StateError(where, "expected a JSON object")
    return value


def _only_keys(value: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise StateError(where, f"unknown keys {unknown}; allowed: {sorted(allowed)}")


def _numeric_id(value: str, where: str) -> None:
    if not _NUMERIC_ID.match(value):
        raise StateError(where, f"ids are numeric strings like Meta's, got {value!r}")


def _string_list(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise StateError(where, "expected a list of strings")
    return list(value)
