"""The emulator's clock: wall time plus an offset tests can move (code expiry, limits, webhook times)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any


class Clock:
    """Wall-clock time shifted by an adjustable offset; never goes backwards unless told to."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Return the emulator's current Unix time in seconds."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or back, with a negative number) by `seconds`."""
        with self._lock:
            self._offset += seconds

    def set(self, unix_seconds: float) -> None:
        """Make the clock read `unix_seconds` now."""
        with self._lock:
            self._offset = unix_seconds - time.time()

    def reset(self) -> None:
        """Go back to wall-clock time."""
        with self._lock:
            self._offset = 0.0

    def describe(self) -> dict[str, Any]:
        """Return `{"now", "iso", "offset"}` for the control API."""
        now = self.now()
        return {"now": now, "iso": iso(now), "offset": self._offset}


def iso(unix_seconds: float) -> str:
    """Return a UTC timestamp like `2025-01-02T03:04:05.678Z`."""
    return datetime.fromtimestamp(unix_seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
