"""The call log: every Graph request the emulator answered, for tests that count calls to Meta.

Secrets (`access_token`, `appsecret_proof`) are redacted; the log keeps the newest 10,000
entries so a long-running demo does not grow without bound.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

REDACTED = "<redacted>"
_SECRET_PARAMS = frozenset({"access_token", "appsecret_proof"})


class CallLog:
    """An append-only, bounded list of call records."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=max_entries)
        self._seq = 0

    def record(
        self,
        *,
        method: str,
        path: str,
        query: Sequence[tuple[str, str]],
        auth: str | None,
        status: int | None,
        faults: Sequence[int],
    ) -> None:
        """Append one call; `status` None means the connection was dropped."""
        self._seq += 1
        self._entries.append(
            {
                "seq": self._seq,
                "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "method": method,
                "path": path,
                # Last value wins for repeated parameters, as in the Graph handler.
                "query": {k: REDACTED if k in _SECRET_PARAMS else v for k, v in query},
                "auth": auth,
                "status": status,
                "dropped": status is None,
                "faults": list(faults),
            }
        )

    def entries(self) -> list[dict[str, Any]]:
        """Return the calls, oldest first."""
        return list(self._entries)

    def clear(self) -> int:
        """Forget every call; return how many there were."""
        count = len(self._entries)
        self._entries.clear()
        return count
