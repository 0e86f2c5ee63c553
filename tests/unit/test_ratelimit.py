"""Unit tests for opencams.ratelimit: Rate parsing, the exact moving window with a
controlled clock, and the Redis limiter's outage policy against a dead port."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencams.ratelimit import (
    Admission,
    MemoryRateLimiter,
    Rate,
    RateLimitUnavailable,
    RedisRateLimiter,
    build_rate_limiter,
)
from opencams.ratelimit.redis_backend import redact_url

TEN_PER_SECOND = Rate(10, 1.0)


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limiter(clock: FakeClock) -> MemoryRateLimiter:
    return MemoryRateLimiter(clock=clock)


async def hits(limiter: MemoryRateLimiter, n: int, key: str = "acct") -> list[bool]:
    return [(await limiter.hit(key, TEN_PER_SECOND)).allowed for _ in range(n)]


# --- Rate ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "period", "canonical"),
    [
        ("10/s", 10, 1.0, "10/s"),
        ("10/second", 10, 1.0, "10/s"),
        (" 10 / seconds ", 10, 1.0, "10/s"),
        ("600/m", 600, 60.0, "600/m"),
        ("600/minute", 600, 60.0, "600/m"),
        ("1000/h", 1000, 3600.0, "1000/h"),
        ("100/day", 100, 86400.0, "100/d"),
        ("5/2s", 5, 2.0, "5/2s"),
        ("5/2 seconds", 5, 2.0, "5/2s"),
        ("20/0.5s", 20, 0.5, "20/0.5s"),
        ("3/1.5m", 3, 90.0, "3/90s"),
        ("7/2M", 7, 120.0, "7/2m"),
    ],
)
def test_rate_parse_and_str(text: str, limit: int, period: float, canonical: str) -> None:
    rate = Rate.parse(text)
    assert rate == Rate(limit, period)
    assert str(rate) == canonical
    assert Rate.parse(str(rate)) == rate


@pytest.mark.parametrize("text", ["", "10", "10/", "/s", "ten/s", "10/y", "10/2", "-1/s", "10/s/s", "1e3/s"])
def test_rate_parse_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="rate must look like 10/s"):
        Rate.parse(text)


@pytest.mark.parametrize("text", ["0/s", "10/0s", "10/0.0000001s"])
def test_rate_parse_rejects_empty_rates(text: str) -> None:
    with pytest.raises(ValueError, match="rate must look like 10/s"):
        Rate.parse(text)


@pytest.mark.parametrize(
    ("limit", "period"),
    [(0, 1.0), (-1, 1.0), (True, 1.0), (10, 0.0), (10, -1.0), (10, float("inf"))],
)
def test_rate_validates_fields(limit: int, period: float) -> None:
    with pytest.raises(ValueError):
        Rate(limit, period)


# --- memory limiter with a controlled clock -----------------------------------


async def test_ten_admitted_then_eleventh_throttled(limiter: MemoryRateLimiter, clock: FakeClock) -> None:
    assert await hits(limiter, 10) == [True] * 10
    clock.now += 0.25
    assert await limiter.hit("acct", TEN_PER_SECOND) == Admission(False, 0.75)


async def test_admitted_again_exactly_when_oldest_leaves(limiter: MemoryRateLimiter, clock: FakeClock) -> None:
    t0 = clock.now
    for _ in range(10):  # 1000.0, 1000.0625, ... all exact binary fractions
        assert (await limiter.hit("acct", TEN_PER_SECOND)).allowed
        clock.now += 0.0625
    clock.now = t0 + 1.0 - 1e-9
    assert not (await limiter.hit("acct", TEN_PER_SECOND)).allowed
    # At t0 + 1.0 the call at t0 is no longer in (now - 1.0, now].
    clock.now = t0 + 1.0
    assert (await limiter.hit("acct", TEN_PER_SECOND)).allowed
    # ...but only one slot opened: the next frees at t0 + 0.0625 + 1.0.
    assert await limiter.hit("acct", TEN_PER_SECOND) == Admission(False, 0.0625)
    clock.now = t0 + 1.0625
    assert (await limiter.hit("acct", TEN_PER_SECOND)).allowed


async def test_throttled_calls_do_not_extend_the_block(limiter: MemoryRateLimiter, clock: FakeClock) -> None:
    t0 = clock.now
    assert await hits(limiter, 10) == [True] * 10
    for step in range(1, 100):  # hammer through the whole second
        clock.now = t0 + step / 100
        admission = await limiter.hit("acct", TEN_PER_SECOND)
        assert not admission.allowed
        assert admission.retry_after == pytest.approx(1.0 - step / 100)
    clock.now = t0 + 1.0 + 1e-6
    assert await hits(limiter, 10) == [True] * 10


async def test_no_burst_across_a_second_boundary(limiter: MemoryRateLimiter, clock: FakeClock) -> None:
    # A fixed window would reset at t=1.0 and admit 10 more at t=1.05.
    clock.now = 0.95
    assert await hits(limiter, 10) == [True] * 10
    clock.now = 1.05
    throttled = [await limiter.hit("acct", TEN_PER_SECOND) for _ in range(10)]
    assert not any(a.allowed for a in throttled)
    assert all(a.retry_after == pytest.approx(0.9) for a in throttled)
    clock.now = 1.95 - 1e-9
    assert not (await limiter.hit("acct", TEN_PER_SECOND)).allowed
    clock.now = 1.95 + 1e-9
    assert await hits(limiter, 11) == [True] * 10 + [False]


async def test_retry_after_tracks_oldest_call_in_window(limiter: MemoryRateLimiter, clock: FakeClock) -> None:
    t0 = clock.now
    for offset in (0.0, 0.25, 0.5, 0.5, 0.5, 0.75, 0.75, 0.75, 0.75, 0.875):
        clock.now = t0 + offset
        assert (await limiter.hit("acct", TEN_PER_SECOND)).allowed
    clock.now = t0 + 0.875
    assert await limiter.hit("acct", TEN_PER_SECOND) == Admission(False, 0.125)
    clock.now = t0 + 1.0  # t0 left: one slot
    assert (await limiter.hit("acct", TEN_PER_SECOND)).allowed
    assert await limiter.hit("acct", TEN_PER_SECOND) == Admission(False, 0.25)
    clock.now = t0 + 1.5  # 0.25 and the three at 0.5 left: four slots
    assert await hits(limiter, 5) == [True] * 4 + [False]
    assert await limiter.hit("acct", TEN_PER_SECOND) == Admission(False, 0.25)


async def test_keys_are_independent(limiter: MemoryRateLimiter) -> None:
    assert await hits(limiter, 11, key="acct-a") == [True] * 10 + [False]
    assert await hits(limiter, 11, key="acct-b") == [True] * 10 + [False]
    assert not (await limiter.hit("acct-a", TEN_PER_SECOND)).allowed


async def test_same_key_with_different_rates_are_independent(
    limiter: MemoryRateLimiter,
) -> None:
    slow = Rate(2, 60.0)
    assert [(await limiter.hit("acct", slow)).allowed for _ in range(3)] == [
        True,
        True,
        False,
    ]
    assert await hits(limiter, 10) == [True] * 10


@pytest.mark.parametrize(("rate", "gap"), [(Rate(3, 2.0), 2.0), (Rate(600, 60.0), 60.0), (Rate(1, 0.25), 0.25)])
async def test_other_rates(limiter: MemoryRateLimiter, clock: FakeClock, rate: Rate, gap: float) -> None:
    t0 = clock.now
    verdicts = [await limiter.hit("acct", rate) for _ in range(rate.limit + 1)]
    assert all(a.allowed for a in verdicts[:-1])
    assert verdicts[-1] == Admission(False, gap)
    clock.now = t0 + gap / 2
    assert await limiter.hit("acct", rate) == Admission(False, gap / 2)
    clock.now = t0 + gap
    verdicts = [await limiter.hit("acct", rate) for _ in range(rate.limit + 1)]
    assert [a.allowed for a in verdicts] == [True] * rate.limit + [False]


async def test_clock_stepping_back_admits_nothing_extra(limiter: MemoryRateLimiter, clock: FakeClock) -> None:
    assert await hits(limiter, 10) == [True] * 10
    clock.now -= 30.0
    assert not (await limiter.hit("acct", TEN_PER_SECOND)).allowed


async def test_idle_keys_are_forgotten(limiter: MemoryRateLimiter, clock: FakeClock) -> None:
    for n in range(1000):
        await limiter.hit(f"acct-{n}", TEN_PER_SECOND)
    clock.now += 61.0
    await limiter.hit("fresh", TEN_PER_SECOND)
    assert len(limiter._windows) == 1


async def test_default_clock_is_wall_time() -> None:
    limiter = MemoryRateLimiter()
    assert await hits(limiter, 11) == [True] * 10 + [False]
    admission = await limiter.hit("acct", TEN_PER_SECOND)
    assert 0.9 < admission.retry_after <= 1.0
    await limiter.close()


TICK = 1 / 1024  # binary fractions: clock arithmetic below is exact, no rounding

calls = st.lists(
    st.tuples(st.integers(0, 400), st.sampled_from(["a", "b"])),  # (gap in ticks, key)
    max_size=120,
)


@settings(max_examples=300, deadline=None)
@given(calls=calls, limit=st.integers(1, 6), period_ticks=st.integers(1, 1500))
async def test_matches_reference_moving_window(calls: list[tuple[int, str]], limit: int, period_ticks: int) -> None:
    # The literal definition: admit iff fewer than `limit` admissions in
    # (now - period, now]; retry_after is when the limit-th newest leaves.
    clock = FakeClock(0.0)
    limiter = MemoryRateLimiter(clock=clock)
    rate = Rate(limit, period_ticks * TICK)
    admitted: dict[str, list[int]] = {"a": [], "b": []}
    now = 0
    for gap, key in calls:
        now += gap
        clock.now = now * TICK
        in_window = [t for t in admitted[key] if now - period_ticks < t <= now]
        admission = await limiter.hit(key, rate)
        assert admission.allowed == (len(in_window) < limit)
        if admission.allowed:
            admitted[key].append(now)
            assert admission.retry_after == 0.0
        else:
            wait = in_window[-limit] + period_ticks - now
            assert admission == Admission(False, wait * TICK)


# --- RedisRateLimiter against a port where nothing listens --------------------


@pytest.fixture
def dead_url() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    yield f"redis://:s3cret-pw@127.0.0.1:{port}/0"


def ratelimit_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "opencams.ratelimit" and r.levelno == logging.WARNING]


async def test_dead_redis_reject_policy_raises(dead_url: str, caplog: pytest.LogCaptureFixture) -> None:
    limiter = RedisRateLimiter(dead_url, on_failure="reject")
    try:
        for _ in range(20):
            with pytest.raises(RateLimitUnavailable):
                await limiter.hit("acct", TEN_PER_SECOND)
    finally:
        await limiter.close()
    warnings = ratelimit_warnings(caplog)
    assert len(warnings) == 1, [w.getMessage() for w in warnings]
    assert "unavailable" in warnings[0].getMessage()
    assert "s3cret-pw" not in caplog.text
    assert "***" in warnings[0].getMessage()


async def test_dead_redis_local_policy_still_limits(dead_url: str, caplog: pytest.LogCaptureFixture) -> None:
    limiter = RedisRateLimiter(dead_url, on_failure="local")
    try:
        verdicts = [await limiter.hit("acct", TEN_PER_SECOND) for _ in range(11)]
        assert [a.allowed for a in verdicts] == [True] * 10 + [False]
        assert 0.9 < verdicts[-1].retry_after <= 1.0
        assert (await limiter.hit("other", TEN_PER_SECOND)).allowed
    finally:
        await limiter.close()
    assert len(ratelimit_warnings(caplog)) == 1
    assert "s3cret-pw" not in caplog.text


async def test_dead_redis_is_not_hammered(dead_url: str) -> None:
    limiter = RedisRateLimiter(dead_url, on_failure="local", retry_interval=0.2)
    attempts = 0
    script = limiter._script

    async def counting_script(**kwargs: object) -> object:
        nonlocal attempts
        attempts += 1
        return await script(**kwargs)  # type: ignore[arg-type]

    limiter._script = counting_script  # type: ignore[assignment]
    try:
        started = time.monotonic()
        while time.monotonic() - started < 0.5:
            await limiter.hit("acct", TEN_PER_SECOND)
        # One attempt at the start, then at most one per 0.2 s.
        assert 1 <= attempts <= 4
    finally:
        await limiter.close()


def test_redact_url_hides_passwords() -> None:
    assert redact_url("redis://:pw@h:6379/0") == "redis://:***@h:6379/0"
    assert redact_url("redis://user:pw@h:6379/0") == "redis://user:***@h:6379/0"
    assert redact_url("redis://h:6379/0") == "redis://h:6379/0"
    assert redact_url("unix:///tmp/r.sock?db=0&password=pw") == ("unix:///tmp/r.sock?db=0&password=***")
    assert redact_url("rediss://u:p%40ss@h:1/0") == "rediss://u:***@h:1/0"


async def test_build_rate_limiter() -> None:
    assert isinstance(build_rate_limiter(None, "reject"), MemoryRateLimiter)
    assert isinstance(build_rate_limiter("", "local"), MemoryRateLimiter)
    limiter = build_rate_limiter("redis://127.0.0.1:1/0", "local")
    assert isinstance(limiter, RedisRateLimiter)
    await limiter.close()
    with pytest.raises(ValueError, match="'reject' or 'local'"):
        build_rate_limiter(None, "ignore")
    with pytest.raises(ValueError, match="'reject' or 'local'"):
        RedisRateLimiter("redis://127.0.0.1:1/0", on_failure="ignore")  # type: ignore[arg-type]
