"""RAM policy conditions: the operator table, typed condition values, request-key lookup and wildcard matching."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Literal, TypeAlias

Family = Literal["String", "Numeric", "Date", "Bool", "IpAddress"]
Test = Literal["eq", "eq_ci", "like", "lt", "le", "gt", "ge", "in"]

IpNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

# A value written in a policy, already converted to its operator family's type.
ConditionValue: TypeAlias = str | Decimal | datetime | bool | IpNetwork
# A value a request carries for a condition key (see RequestContext.keys).
RequestValue: TypeAlias = str | bool | int | float | Sequence[str]
_RequestScalar: TypeAlias = str | Decimal | datetime | bool | IpAddress

IF_EXISTS_SUFFIX = "IfExists"


class ConditionValueError(ValueError):
    """A condition value that its operator cannot use; the parser adds the statement path."""


@dataclass(frozen=True, slots=True)
class Operator:
    """One condition operator: its value family, its comparison and its polarity."""

    name: str
    family: Family
    test: Test
    negated: bool
    if_exists: bool


_BASE_OPERATORS: dict[str, tuple[Family, Test, bool]] = {
    "StringEquals": ("String", "eq", False),
    "StringNotEquals": ("String", "eq", True),
    "StringEqualsIgnoreCase": ("String", "eq_ci", False),
    "StringNotEqualsIgnoreCase": ("String", "eq_ci", True),
    "StringLike": ("String", "like", False),
    "StringNotLike": ("String", "like", True),
    "NumericEquals": ("Numeric", "eq", False),
    "NumericNotEquals": ("Numeric", "eq", True),
    "NumericLessThan": ("Numeric", "lt", False),
    "NumericLessThanEquals": ("Numeric", "le", False),
    "NumericGreaterThan": ("Numeric", "gt", False),
    "NumericGreaterThanEquals": ("Numeric", "ge", False),
    "DateEquals": ("Date", "eq", False),
    "DateNotEquals": ("Date", "eq", True),
    "DateLessThan": ("Date", "lt", False),
    "DateLessThanEquals": ("Date", "le", False),
    "DateGreaterThan": ("Date", "gt", False),
    "DateGreaterThanEquals": ("Date", "ge", False),
    "Bool": ("Bool", "eq", False),
    "IpAddress": ("IpAddress", "in", False),
    "NotIpAddress": ("IpAddress", "in", True),
}


def _build_operator_table() -> dict[str, Operator]:
    table: dict[str, Operator] = {}
    for name, (family, test, negated) in _BASE_OPERATORS.items():
        table[name] = Operator(name, family, test, negated, if_exists=False)
        # Alibaba's current time-of-day guide names "...IfExists" variants of the date operators;
        # we accept the suffix on every operator, as AWS does, rather than reject policies RAM takes.
        suffixed = name + IF_EXISTS_SUFFIX
        table[suffixed] = Operator(suffixed, family, test, negated, if_exists=True)
    return table


OPERATORS: Mapping[str, Operator] = _build_operator_table()


def lookup_operator(name: str) -> Operator | None:
    """The operator spelled exactly `name` (names are case-sensitive), or None."""
    return OPERATORS.get(name)


def suggest_operator(name: str) -> str | None:
    """The operator `name` differs from only by letter case, to hint at a likely typo."""
    folded = name.casefold()
    for known in OPERATORS:
        if known.casefold() == folded:
            return known
    return None


def render(value: object) -> str:
    """A value as it would appear in JSON, for error messages that must quote it exactly."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


def json_type(value: object) -> str:
    """The JSON type name of a parsed value, for messages like "got array"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def wildcard_match(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    """Whether `text` matches `pattern`, where `*` matches any run (even empty) and `?` one character."""
    if ignore_case:
        pattern, text = pattern.lower(), text.lower()
    p = t = 0
    star_p, star_t = -1, 0
    np, nt = len(pattern), len(text)
    while t < nt:
        if p < np:
            c = pattern[p]
            if c == "*":
                star_p, star_t = p, t
                p += 1
                continue
            if c == "?" or c == text[t]:
                p += 1
                t += 1
                continue
        if star_p >= 0:
            # Let the most recent `*` swallow one more character and retry. Earlier stars never
            # need revisiting, so this stays O(len(pattern) * len(text)); a regex translation
            # can backtrack exponentially on patterns like "*a*a*a*a*b" that users may write.
            star_t += 1
            t = star_t
            p = star_p + 1
            continue
        return False
    while p < np and pattern[p] == "*":
        p += 1
    return p == np


_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_number(value: object) -> Decimal | None:
    """A JSON number or numeric string as an exact Decimal; None if it is not a finite number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # repr() gives the shortest round-tripping text, so 0.1 compares equal to "0.1".
        text = repr(value)
    elif isinstance(value, str):
        if not _NUMBER_RE.fullmatch(value):
            return None
        text = value
    else:
        return None
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def parse_datetime(value: object) -> datetime | None:
    """An ISO 8601 timestamp (`Z` or `+08:00` style offsets) as an aware datetime; None if unparsable.

    A timestamp without an offset is taken as UTC, the zone RAM documents for `acs:CurrentTime`.
    """
    if not isinstance(value, str) or not value[:4].isascii() or not value[:4].isdigit():
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_bool(value: object) -> bool | None:
    """A JSON boolean or the strings "true"/"false" (any case); None otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
    return None


def parse_ip_network(value: object) -> IpNetwork | None:
    """An IPv4/IPv6 address or CIDR block as a network; None if malformed.

    Host bits may be set ("10.0.0.7/24"): RAM's examples are loose here and the intent is unambiguous.
    """
    if not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


def parse_ip_address(value: object) -> IpAddress | None:
    """A request's IP address; an IPv4-mapped IPv6 address counts as the IPv4 address it carries."""
    if not isinstance(value, str):
        return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _parse_policy_value(operator: Operator, value: object) -> ConditionValue:
    family = operator.family
    if family == "String":
        if isinstance(value, str):
            return value
        if isinstance(value, bool | int | float):
            # JSON scalars are compared by their JSON text, so 5 and "5" mean the same thing.
            return render(value)
        raise ConditionValueError(f"value {render(value)} is not a string")
    if family == "Numeric":
        number = parse_number(value)
        if number is None:
            raise ConditionValueError(f"value {render(value)} is not a number")
        return number
    if family == "Date":
        moment = parse_datetime(value)
        if moment is None:
            raise ConditionValueError(
                f"value {render(value)} is not an ISO 8601 date-time such as "
                '"2026-01-01T00:00:00Z" or "2026-01-01T08:00:00+08:00"'
            )
        return moment
    if family == "Bool":
        flag = parse_bool(value)
        if flag is None:
            raise ConditionValueError(f'value {render(value)} is not a boolean (true, false, "true" or "false")')
        return flag
    network = parse_ip_network(value)
    if network is None:
        raise ConditionValueError(f"value {render(value)} is not an IPv4/IPv6 address or CIDR block")
    return network


def parse_condition_values(operator: Operator, raw: object) -> tuple[ConditionValue, ...]:
    """The typed values written for one condition key: a single value or a non-empty list of them."""
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise ConditionValueError("the value list is empty; give at least one value")
    return tuple(_parse_policy_value(operator, item) for item in items)


def _coerce_request_scalar(family: Family, value: object) -> _RequestScalar | None:
    if family == "String":
        if isinstance(value, str):
            return value
        if isinstance(value, bool | int | float):
            return render(value)
        return None
    if family == "Numeric":
        return parse_number(value)
    if family == "Date":
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                return datetime.fromtimestamp(value, UTC)
            except (OverflowError, OSError, ValueError):
                return None
        return parse_datetime(value)
    if family == "Bool":
        return parse_bool(value)
    return parse_ip_address(value)


def _as_items(value: RequestValue) -> Sequence[object]:
    if isinstance(value, str | bool | int | float):
        return (value,)
    return value


def _sign(request: _RequestScalar, policy: ConditionValue) -> int | None:
    if isinstance(request, Decimal) and isinstance(policy, Decimal):
        return (request > policy) - (request < policy)
    if isinstance(request, datetime) and isinstance(policy, datetime):
        return (request > policy) - (request < policy)
    if isinstance(request, bool) and isinstance(policy, bool):
        return 0 if request is policy else 1
    if isinstance(request, str) and isinstance(policy, str):
        return 0 if request == policy else 1
    return None


def _test(test: Test, request: _RequestScalar, policy: ConditionValue) -> bool:
    if test == "like":
        return isinstance(request, str) and isinstance(policy, str) and wildcard_match(policy, request)
    if test == "eq_ci":
        return isinstance(request, str) and isinstance(policy, str) and request.casefold() == policy.casefold()
    if test == "in":
        if isinstance(request, ipaddress.IPv4Address) and isinstance(policy, ipaddress.IPv4Network):
            return request in policy
        if isinstance(request, ipaddress.IPv6Address) and isinstance(policy, ipaddress.IPv6Network):
            return request in policy
        return False
    sign = _sign(request, policy)
    if sign is None:
        return False
    if test == "eq":
        return sign == 0
    if test == "lt":
        return sign < 0
    if test == "le":
        return sign <= 0
    if test == "gt":
        return sign > 0
    return sign >= 0


@dataclass(frozen=True, slots=True)
class Condition:
    """One `Operator: {Key: values}` test; a statement applies only if all its conditions hold."""

    operator: str
    key: str
    values: tuple[ConditionValue, ...]

    def __post_init__(self) -> None:
        if self.operator not in OPERATORS:
            raise ValueError(f"unknown condition operator {self.operator!r}")

    def holds(self, request_value: RequestValue | None) -> bool:
        """Whether the request satisfies this condition; `None` means the request lacks the key."""
        operator = OPERATORS[self.operator]
        if request_value is None:
            # RAM does not document missing keys. We follow AWS: a positive operator cannot match
            # an absent value (the statement does not apply), while a negated operator ("matches
            # none of the values") holds vacuously, and an ...IfExists operator holds by definition.
            return operator.negated or operator.if_exists
        matched = False
        for item in _as_items(request_value):
            candidate = _coerce_request_scalar(operator.family, item)
            # A request value of the wrong type equals none of the policy values.
            if candidate is not None and any(_test(operator.test, candidate, v) for v in self.values):
                matched = True
                break
        return matched != operator.negated


class RequestKeys:
    """A request's condition keys, looked up case-insensitively.

    Alibaba documents `acs:` keys as case-insensitive (`acs:SourceIp` is `acs:sourceip`); we treat
    service keys (`cams:...`) the same way, as AWS does for all condition keys.
    """

    __slots__ = ("_exact", "_folded")

    def __init__(self, keys: Mapping[str, RequestValue]) -> None:
        self._exact: Mapping[str, RequestValue] = keys
        self._folded: dict[str, RequestValue] = {}
        for name, value in keys.items():
            self._folded.setdefault(name.casefold(), value)

    def get(self, key: str) -> RequestValue | None:
        """The request's value for `key`, or None when absent (an empty list counts as absent)."""
        value = self._exact.get(key)
        if value is None:
            value = self._folded.get(key.casefold())
        if value is None:
            return None
        if not isinstance(value, str | bool | int | float) and len(value) == 0:
            return None
        return value
