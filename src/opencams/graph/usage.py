"""Meta's usage headers: how close a WABA is to its budget and when a block ends."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

# Meta gives no end time when the app as a whole is at 100 % of X-App-Usage; wait this long.
APP_BLOCK_SECONDS = 60.0
# The longest block believed: Meta's documented blocks last minutes to an hour; a larger, infinite
# or negative figure is a malformed header, not a reason to stop serving a WABA for ever.
MAX_BLOCK_SECONDS = 86400.0


def _number(value: Any) -> float | None:
    """A finite, non-negative JSON number, or None (NaN, Infinity, booleans and text are not)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond any float: as long as a block can be
            return MAX_BLOCK_SECONDS
        if math.isfinite(number) and number >= 0:
            return number
    return None


def _json(raw: str | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def regain_access_seconds(headers: Mapping[str, str]) -> float:
    """Seconds until Meta lifts a block, from either usage header; 0 if Meta reports none.

    X-Business-Use-Case-Usage gives `estimated_time_to_regain_access` in minutes per business
    object; X-App-Usage gives percentages, and at 100 % the app is throttled (meta-graph.md §4).
    """
    seconds = max(_business_block(headers.get("x-business-use-case-usage")), _app_block(headers.get("x-app-usage")))
    return min(seconds, MAX_BLOCK_SECONDS)


def _app_block(raw: str | None) -> float:
    usage = _json(raw)
    if not isinstance(usage, dict):
        return 0.0
    shares = [n for n in map(_number, usage.values()) if n is not None]
    return APP_BLOCK_SECONDS if shares and max(shares) >= 100 else 0.0


def _business_block(raw: str | None) -> float:
    usage = _json(raw)
    minutes = 0.0
    if isinstance(usage, dict):
        for entries in usage.values():
            for entry in entries if isinstance(entries, list) else []:
                value = _number(entry.get("estimated_time_to_regain_access")) if isinstance(entry, dict) else None
                if value is not None:
                    minutes = max(minutes, value)
    return minutes * 60.0
