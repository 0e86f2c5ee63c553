"""Value types shared by the rate limiter backends: Rate, Admission, the protocol."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Protocol

_UNIT_SECONDS: dict[str, float] = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1.0),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60.0),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600.0),
    **dict.fromkeys(("d", "day", "days"), 86400.0),
}
# Largest unit first so __str__ picks the most readable spelling ("600/m", not "600/60s").
_CANONICAL_UNITS: tuple[tuple[str, float], ...] = (
    ("d", 86400.0),
    ("h", 3600.0),
    ("m", 60.0),
    ("s", 1.0),
)
_RATE_RE = re.compile(r"\s*(\d+)\s*/\s*(\d+(?:\.\d*)?|\.\d+)?\s*([A-Za-z]+)\s*")
_RATE_HELP = "rate must look like 10/s (also 600/m, 1000/h, 100/d, 5/2s, 20/0.5s)"


@dataclass(frozen=True, slots=True)
class Rate:
    """At most ``limit`` admitted calls in any ``period``-second moving window."""

    limit: int
    period: float

    def __post_init__(self) -> None:
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1:
            raise ValueError(f"rate limit must be a positive integer, got {self.limit!r}")
        # Redis stores times in whole microseconds, so a shorter period would round to 0.
        if not (math.isfinite(self.period) and self.period >= 1e-6):
            raise ValueError(f"rate period must be a finite number of seconds >= 1e-6, got {self.period!r}")

    @classmethod
    def parse(cls, text: str) -> Rate:
        match = _RATE_RE.fullmatch(text)
        unit = _UNIT_SECONDS.get(match.group(3).lower()) if match else None
        if match is None or unit is None:
            raise ValueError(f"{_RATE_HELP}; got {text!r}")
        multiple = float(match.group(2)) if match.group(2) else 1.0
        try:
            return cls(int(match.group(1)), multiple * unit)
        except ValueError as exc:
            raise ValueError(f"{_RATE_HELP}; got {text!r}: {exc}") from None

    def __str__(self) -> str:
        for name, seconds in _CANONICAL_UNITS:
            count = self.period / seconds
            if count.is_integer() or name == "s":
                break
        if count == 1:
            return f"{self.limit}/{name}"
        return f"{self.limit}/{int(count) if count.is_integer() else repr(count)}{name}"


@dataclass(frozen=True, slots=True)
class Admission:
    """The verdict for one call."""

    allowed: bool
    # Seconds until a call for the same key would be admitted; 0.0 when allowed.
    # Not rounded: the HTTP layer rounds up for Retry-After.
    retry_after: float


class RateLimitUnavailable(Exception):
    """The shared backend is unreachable and the failure policy is "reject"."""


class RateLimiter(Protocol):
    async def hit(self, key: str, rate: Rate) -> Admission:
        """Decide one call for ``key``; the call is recorded only if admitted."""
        ...

    async def close(self) -> None: ...
