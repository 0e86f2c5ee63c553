"""Meta's usage headers: how close a WABA is to its budget and when a block ends."""

from __future__ import annotations

import json
from collections.abc import Mapping


def regain_access_seconds(headers: Mapping[str, str]) -> float:
    """Seconds until Meta lifts a block, from X-Business-Use-Case-Usage (minutes there); 0 if none."""
    raw = headers.get("x-business-use-case-usage")
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
