"""Query-parameter parsing for Graph reads: `fields`, `limit`, `filtering`, `sort`.

Every bad value raises GraphError shaped like Graph's own complaint (meta-graph.md §1, §3).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from .errors import GraphError, invalid_parameter, nonexisting_field
from .state import FIELD_ALIASES

DEFAULT_LIMIT = 25
MAX_LIMIT = 100

# The three fields meta-graph.md §1 documents for `filtering`; only EQUAL exists.
_FILTERABLE = frozenset({"account_mode", "messaging_limit_tier", "is_official_business_account"})
# Meta documents sorting by last_onboarded_time only.
_SORTABLE = frozenset({"last_onboarded_time"})
_SORT_ITEM = re.compile(r"^(?P<field>[a-z_]+?)_(?P<direction>ascending|descending)$")
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DIGITS = re.compile(r"^[0-9]+$")


def parse_fields(raw: str | None, *, known: frozenset[str], node_type: str, defaults: Sequence[str]) -> tuple[str, ...]:
    """Return the requested top-level field names (defaults when absent or empty).

    `name{sub,fields}` and `name.limit(n)` are accepted and reduced to `name`; the emulator
    always returns whole sub-objects.
    """
    if raw is None or not raw.strip():
        return tuple(defaults)
    names: list[str] = []
    for item in _split_top_level(raw):
        if not item.strip():  # "id,,status" and trailing commas are tolerated
            continue
        name = re.split(r"[{.(]", item, maxsplit=1)[0].strip()
        if not _FIELD_NAME.match(name):
            raise _syntax_error(raw)
        if name not in known:
            raise nonexisting_field(name, node_type)
        if name not in names:
            names.append(name)
    return tuple(names) if names else tuple(defaults)


def field_expression(raw: str | None, name: str) -> str | None:
    """Return the whole `fields` item for `name`, modifiers included (`analytics.start(1)...`), or None."""
    if raw is None:
        return None
    for item in _split_top_level(raw):
        stripped = item.strip()
        if re.split(r"[{.(]", stripped, maxsplit=1)[0].strip() == name:
            return stripped
    return None


def render_node(node: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """Return the requested fields the node has, in request order; `id` is always present."""
    out: dict[str, Any] = {}
    for name in fields:
        source = FIELD_ALIASES.get(name, name)
        if source in node:
            out[name] = node[source]
    if "id" not in out:
        out["id"] = node["id"]
    return out


def parse_limit(raw: str | None) -> int:
    """Return the page size: 1–100, default 25."""
    if raw is None:
        return DEFAULT_LIMIT
    text = raw.strip()
    if not _DIGITS.match(text) or not 1 <= int(text) <= MAX_LIMIT:
        raise invalid_parameter(f"The parameter limit must be an integer between 1 and {MAX_LIMIT}, got '{raw}'")
    return int(text)


Filter = tuple[str, object]


def parse_filtering(raw: str | None) -> list[Filter]:
    """Return (field, value) EQUAL conditions from the `filtering` JSON array."""
    if raw is None:
        return []
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError:
        raise invalid_parameter("Param filtering must be a JSON array of {field, operator, value}") from None
    if not isinstance(parsed, list):
        raise invalid_parameter("Param filtering must be a JSON array of {field, operator, value}")
    conditions: list[Filter] = []
    for item in parsed:
        if not isinstance(item, dict) or not {"field", "operator", "value"} <= set(item):
            raise invalid_parameter("Each filtering entry needs field, operator and value")
        field, operator, value = item["field"], item["operator"], item["value"]
        if field not in _FILTERABLE:
            raise invalid_parameter(f"Filtering field {field} is invalid")
        if not isinstance(operator, str) or operator.upper() != "EQUAL":
            raise invalid_parameter(f"Filtering operator {operator} is not supported on field {field}")
        # Graph accepts only a JSON boolean here; the string "false" gets this misleading
        # message (meta-graph.md §1, FIELD-NOTES).
        if field == "is_official_business_account" and not isinstance(value, bool):
            raise invalid_parameter(f"The operation 'equal' is not supported on field {field}")
        if field != "is_official_business_account" and not isinstance(value, str):
            raise invalid_parameter(f"Filtering value for {field} must be a string")
        conditions.append((field, value))
    return conditions


def apply_filters(numbers: Sequence[Mapping[str, Any]], conditions: Sequence[Filter]) -> list[Mapping[str, Any]]:
    """Return the numbers matching every condition; an absent boolean counts as false."""

    def matches(number: Mapping[str, Any]) -> bool:
        for field, value in conditions:
            actual = number.get(field)
            if field == "is_official_business_account":
                actual = bool(actual)
            if actual != value:
                return False
        return True

    return [n for n in numbers if matches(n)]


SortKey = tuple[str, bool]


def parse_sort(raw: str | None) -> list[SortKey]:
    """Return (field, descending) pairs from `sort`: `f_ascending`, or a JSON-ish array of them."""
    if raw is None:
        return []
    text = raw.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    keys: list[SortKey] = []
    for item in text.split(","):
        token = item.strip().strip("'\"")
        match = _SORT_ITEM.match(token)
        # The OAS spelling `last_onboarded_time.asc` is rejected by Graph too (meta-graph.md §1).
        if match is None or match["field"] not in _SORTABLE:
            raise invalid_parameter(f"Invalid sort value '{token}'; use last_onboarded_time_ascending or _descending")
        keys.append((match["field"], match["direction"] == "descending"))
    return keys


def apply_sort(numbers: Sequence[Mapping[str, Any]], keys: Sequence[SortKey]) -> list[Mapping[str, Any]]:
    """Return the numbers stably sorted by the keys; numbers lacking a key go last."""
    ordered = list(numbers)
    for field, descending in reversed(keys):
        present = [n for n in ordered if n.get(field) is not None]
        absent = [n for n in ordered if n.get(field) is None]
        present.sort(key=lambda n: _sortable(n[field]), reverse=descending)
        ordered = present + absent
    return ordered


def _sortable(value: object) -> str:
    # Fixtures may store the time as ISO text or Unix seconds (meta-graph.md §3 conflict);
    # both become one comparable ISO string.
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
    return str(value)


def _split_top_level(raw: str) -> list[str]:
    items: list[str] = []
    depth = 0
    current: list[str] = []
    for char in raw:
        if char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
            if depth < 0:
                raise _syntax_error(raw)
        if char == "," and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth != 0:
        raise _syntax_error(raw)
    items.append("".join(current))
    return items


def _syntax_error(raw: str) -> GraphError:
    # Graph reports field-list syntax errors as code 2500, not 100.
    return GraphError(
        2500,
        f'Syntax error "Unbalanced or misplaced brackets or names" in fields: {raw}',
    )
