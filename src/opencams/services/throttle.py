"""Per-account, per-action call limits: which rate applies, and the CAMS answer when it is exceeded."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Protocol

from ..errors import LimitControl, ServiceUnavailable
from ..ratelimit import Rate, RateLimiter, RateLimitUnavailable

log = logging.getLogger("opencams.ratelimit")
# Calls RAM denies, per AccessKey: enough for a misconfigured client to see its error, bounded so
# a flood of denied calls costs little.
DENIED_RATE = Rate(10, 1.0)


class AccountRates(Protocol):
    """Operator-set per-account rates."""

    async def rate_for(self, account_id: str, action: str) -> Rate | None: ...


def parse_rate_overrides(text: str) -> dict[str, Rate]:
    """`Action=10/s,Other=5/s` -> {action: Rate}; ValueError naming the bad entry."""
    rates: dict[str, Rate] = {}
    for entry in filter(None, (e.strip() for e in text.split(","))):
        action, sep, rate = entry.partition("=")
        if not sep or not action.strip():
            raise ValueError(f"rate limit entry {entry!r} must look like Action=10/s")
        rates[action.strip()] = Rate.parse(rate.strip())
    return rates


class AccountThrottle:
    """Admits a call if the account is under the action's rate; RAM users and STS share it."""

    def __init__(
        self,
        limiter: RateLimiter,
        overrides: Mapping[str, Rate],
        account_rates: AccountRates | None = None,
        *,
        denied_rate: Rate | None = None,
    ) -> None:
        self.limiter = limiter
        self.overrides = dict(overrides)
        self.account_rates = account_rates
        self.denied_rate = denied_rate or DENIED_RATE

    async def rate_for(self, account_id: str, action: str, default: Rate | None) -> Rate | None:
        """The account's own rate for the action, else the deployment's override, else `default`."""
        if self.account_rates is not None:
            custom = await self.account_rates.rate_for(account_id, action)
            if custom is not None:
                return custom
        return self.overrides.get(action, default)

    async def admit(self, account_id: str, action: str, default: Rate | None) -> None:
        rate = await self.rate_for(account_id, action, default)
        if rate is not None:
            await self._hit(f"{account_id}:{action}", rate)

    async def admit_denied(self, access_key_id: str) -> None:
        # Keyed by AccessKey, apart from every account quota: a principal hammering actions it may
        # not call is slowed down alone, and the account's permitted callers never notice.
        await self._hit(f"denied:{access_key_id}", self.denied_rate)

    async def _hit(self, key: str, rate: Rate) -> None:
        try:
            admission = await self.limiter.hit(key, rate)
        except RateLimitUnavailable:
            raise ServiceUnavailable(retry_after=1) from None
        if not admission.allowed:
            raise LimitControl(retry_after=max(1, math.ceil(admission.retry_after)))
