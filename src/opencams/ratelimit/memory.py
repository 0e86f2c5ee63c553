"""In-process moving-window rate limiter (one process; injectable clock for tests)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from .rate import Admission, Rate

# Forget idle keys at most this often, so one sweep costs O(keys) per minute,
# not per call, while memory stays bounded by the keys active in the last period.
_SWEEP_EVERY = 60.0


class MemoryRateLimiter:
    """Moving window, exact: admitted iff fewer than ``rate.limit`` calls were
    admitted at times t with ``now - rate.period < t <= now``.

    Written by hand rather than with ``limits.aio`` MemoryStorage (5.8.0)
    because, measured with limits 5.8.0: its ``acquire_entry`` rejects when the
    oldest entry is exactly ``period`` old (10 hits at t=100.0 with 10/second,
    an 11th at t=101.0 is refused, where the window above admits it); its
    timestamps come from the module-global ``time.time`` (also read by a
    background expiry task), so a clock can only be injected by patching that
    module for every user in the process; and periods must be whole seconds.
    The algorithm is the same list-of-timestamps check ``limits`` uses.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        # Admission times, oldest first; never longer than rate.limit.
        self._windows: dict[tuple[str, Rate], deque[float]] = {}
        self._next_sweep = clock() + _SWEEP_EVERY

    async def hit(self, key: str, rate: Rate) -> Admission:
        # No await inside: the decision is atomic under asyncio without a lock.
        return self._decide(key, rate)

    def _decide(self, key: str, rate: Rate) -> Admission:
        now = self._clock()
        if now >= self._next_sweep:
            self._sweep(now)
        window = self._windows.get((key, rate))
        if window is None:
            window = self._windows[(key, rate)] = deque(maxlen=rate.limit)
        elif window[-1] > now:
            # The wall clock stepped back: record at the newest time instead so
            # the deque stays sorted and no call escapes the window (errs strict).
            now = window[-1]
        cutoff = now - rate.period
        while window and window[0] <= cutoff:
            window.popleft()
        if len(window) < rate.limit:
            window.append(now)
            return Admission(allowed=True, retry_after=0.0)
        return Admission(allowed=False, retry_after=window[0] - cutoff)

    async def close(self) -> None:
        self._windows.clear()

    def _sweep(self, now: float) -> None:
        idle = [slot for slot, window in self._windows.items() if not window or window[-1] <= now - slot[1].period]
        for slot in idle:
            del self._windows[slot]
        self._next_sweep = now + _SWEEP_EVERY
