"""Meta's usage headers: how close a WABA is to its budget and when a block ends."""

from __future__ import annotations

import json
from collections.abc import Mapping

# Meta gives no end time when the app as a whole is at 100 % of X-App-Usage; wait this long.
APP_BLOCK_SECONDS = 60.0


def regain_access_seconds(headers: Mapping[str, str]) -> float:
    """Seconds until Meta lifts a block, from either usage header; 0 if Meta reports none.

    X-Business-Use-Case-Usage gives `estimated_time_to_regain_access` in minutes per business
    object; X-App-Usage gives percentages, and at 100 % the app is throttled (meta-graph.md §4).
    """
    return max(_business_block(headers.get("x-business-use-case-usage")), _app_block(headers.get("x-app-usage")))


def _app_block(raw: str | None) -> float:
    if not raw:
        return 0.0
    try:
        usage = json.loads(raw)
    except ValueError:
        return 0.0
    if not isinstance(usage, dict):
        return 0.0
    shares = [v for v in usage.values() if isinstance(v, int | float) and not isinstance(v, bool)]
    return APP_BLOCK_SECONDS if shares and max(shares) >= 100 else 0.0


def _business_block(raw: str | None) -> float:
    if not raw:
        return 0.0
    try:
        usage = json.loads(raw)
    except ValueError:
        return 0.0
    minutes = 0.0
    if isinstance(usage, dict):
        for entries in usage.values():
            for entry in entries if isinstance(entries, list) else []:
                value = entry.get("estimated_time_to_regain_access") if isinstance(entry, dict) else None
                if isinstance(value, int | float) and not isinstance(value, bool):
                    minutes = max(minutes, float(value))
    return minutes * 60.0
