"""The WABA `analytics` field: `analytics.start(S).end(E).granularity(G).phone_numbers([...])`.

Counts are made up but repeatable: each (number, granularity, period) hashes to a `sent` count
and a `delivered` count no larger than it; periods that start at or after the emulator's "now"
are zero, and numbers outside the WABA count nothing. Shapes follow lifecycle.md 1.5.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from .errors import GraphError, enum_param, required_param
from .state import Waba, digits

GRANULARITIES: tuple[str, ...] = ("HALF_HOUR", "DAY", "MONTH")
# A year of half hours fits; anything larger is a client bug worth a clear error.
MAX_DATA_POINTS = 20_000

_EXPRESSION = re.compile(r"^analytics((?:\.[a-z_]+\([^()]*\))*)$")
_MODIFIER = re.compile(r"\.([a-z_]+)\(([^()]*)\)")
_MODIFIERS = frozenset({"start", "end", "granularity", "phone_numbers", "country_codes", "product_types"})
_SCALE = {"HALF_HOUR": 40, "DAY": 600, "MONTH": 15_000}
_STEP = {"HALF_HOUR": 1800, "DAY": 86_400}


def analytics(expression: str, waba: Waba, now: float, lookback_days: int) -> dict[str, Any]:
    """Return the `analytics` object for one `fields` item; raise GraphError for a bad request."""
    match = _EXPRESSION.match(re.sub(r"\s+", "", expression))
    if match is None:
        raise GraphError(100, f"(#100) Cannot parse the analytics field: {expression}")
    modifiers: dict[str, str] = {}
    for name, argument in _MODIFIER.findall(match.group(1)):
        if name not in _MODIFIERS:
            raise GraphError(100, f"(#100) Unknown modifier {name} on field analytics")
        modifiers[name] = argument
    for name in ("start", "end", "granularity"):
        if name not in modifiers:
            raise required_param(name)
    start = _unix(modifiers["start"], "start")
    end = _unix(modifiers["end"], "end")
    granularity = modifiers["granularity"].strip("'\"")
    if granularity not in GRANULARITIES:
        raise enum_param("granularity", GRANULARITIES, granularity)
    if end <= start:
        raise GraphError(100, "(#100) Param end must be greater than start")
    if start < now - lookback_days * 86_400:
        raise GraphError(100, f"(#100) Param start must not be more than {lookback_days} days in the past")

    own = {digits(n.get("display_phone_number", "")) for n in waba.numbers}
    requested = _items(modifiers.get("phone_numbers"))
    phone_numbers = requested if requested else sorted(own)
    counted = [number for number in phone_numbers if number in own]
    points: list[dict[str, int]] = []
    for period_start, period_end in _periods(start, end, granularity):
        if len(points) >= MAX_DATA_POINTS:
            raise GraphError(100, "(#100) Too many data points; use a shorter period or a coarser granularity")
        sent = delivered = 0
        if period_start < now:
            for number in counted:
                number_sent, number_delivered = _counts(number, granularity, period_start)
                sent += number_sent
                delivered += number_delivered
        points.append({"start": period_start, "end": period_end, "sent": sent, "delivered": delivered})
    body: dict[str, Any] = {"phone_numbers": phone_numbers}
    if "country_codes" in modifiers:
        body["country_codes"] = _items(modifiers["country_codes"])
    body["granularity"] = granularity
    body["data_points"] = points
    return body


def _unix(argument: str, name: str) -> int:
    if not argument.isdigit():
        raise GraphError(100, f"(#100) Param {name} must be a Unix timestamp in seconds")
    return int(argument)


def _items(argument: str | None) -> list[str]:
    if argument is None:
        return []
    inner = argument.strip().removeprefix("[").removesuffix("]")
    return [item.strip().strip("'\"") for item in inner.split(",") if item.strip().strip("'\"")]


def _periods(start: int, end: int, granularity: str) -> Iterator[tuple[int, int]]:
    """Yield [start, end) periods aligned to UTC boundaries, covering `start` up to `end`."""
    if granularity in _STEP:
        step = _STEP[granularity]
        current = start - start % step
        while current < end:
            yield current, current + step
            current += step
        return
    moment = datetime.fromtimestamp(start, UTC)
    year, month = moment.year, moment.month
    while True:
        first = calendar.timegm((year, month, 1, 0, 0, 0))
        if first >= end:
            return
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        yield first, calendar.timegm((year, month, 1, 0, 0, 0))


def _counts(number: str, granularity: str, period_start: int) -> tuple[int, int]:
    digest = hashlib.sha256(f"{number}|{granularity}|{period_start}".encode()).digest()
    sent = int.from_bytes(digest[:4], "big") % (_SCALE[granularity] + 1)
    delivered = sent - int.from_bytes(digest[4:8], "big") % (sent // 8 + 1)
    return sent, delivered
