"""Integration tests for RedisRateLimiter against a real Redis: exactness under
concurrency (in one loop and across processes), key independence, and outage
and recovery with a throwaway redis-server."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import pytest
import redis

from opencams.ratelimit import Rate, RateLimitUnavailable, RedisRateLimiter

REDIS_URL = os.environ.get("OPENCAMS_TEST_REDIS_URL", "")
pytestmark = pytest.mark.skipif(
    not REDIS_URL,
    reason="OPENCAMS_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0)",
)

TEN_PER_SECOND = Rate(10, 1.0)
Call = tuple[float, float]  # (time.time() before hit, after hit)


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix unique to this test; its keys are deleted afterwards."""
    value = f"opencams-test-{uuid.uuid4().hex}"
    yield value
    with redis.Redis.from_url(REDIS_URL) as client:
        keys = list(client.scan_iter(match=f"{value}:*"))
        if keys:
            client.delete(*keys)


def certain_max_in_window(admitted: list[Call], period: float) -> int:
    """The most admitted calls provably decided within one ``period``.

    The limiter decides on Redis' clock at some instant in [before, after]
    (same host, same wall clock), so a set of calls certainly shared a window
    iff max(after) - min(before) < period. This never blames the limiter for
    client-side latency, and still catches any overshoot larger than it.
    """
    best = 0
    for start, _ in admitted:
        best = max(
            best,
            sum(1 for b, a in admitted if b >= start and a < start + period),
        )
    return best


def nominal_max_in_window(times: list[float], period: float) -> int:
    times = sorted(times)
    return max(
        (sum(1 for t in times[i:] if t < times[i] + period) for i in range(len(times))),
        default=0,
    )


async def test_ten_admitted_then_throttled_until_oldest_leaves(prefix: str) -> None:
    limiter = RedisRateLimiter(REDIS_URL, key_prefix=prefix)
    try:
        started = time.time()
        first = await limiter.hit("acct", TEN_PER_SECOND)
        first_answered = time.time()
        rest = [await limiter.hit("acct", TEN_PER_SECOND) for _ in range(9)]
        assert all(a.allowed and a.retry_after == 0.0 for a in [first, *rest])
        # Hammering while throttled must not push the reopening back.
        while time.time() - started < 0.5:
            admission = await limiter.hit("acct", TEN_PER_SECOND)
            assert not admission.allowed
            assert 0.0 < admission.retry_after <= 1.0
        before = time.time()
        admission = await limiter.hit("acct", TEN_PER_SECOND)
        after = time.time()
        # Both decisions happened on Redis' clock within the bracketing times.
        assert started + 1.0 - after - 1e-6 <= admission.retry_after
        assert admission.retry_after <= first_answered + 1.0 - before + 1e-6
        await asyncio.sleep(admission.retry_after + 0.002)
        # The first call has left the window; more may follow (the ten took a few
        # ms), but 11 calls made within a second can't all fit in 10 freed slots.
        again = [(await limiter.hit("acct", TEN_PER_SECOND)).allowed for _ in range(11)]
        assert again[0]
        assert sum(again) <= 10
    finally:
        await limiter.close()


async def test_keys_and_rates_are_independent(prefix: str) -> None:
    limiter = RedisRateLimiter(REDIS_URL, key_prefix=prefix)
    try:
        for key in ("acct-a", "acct-b"):
            verdicts = [await limiter.hit(key, TEN_PER_SECOND) for _ in range(11)]
            assert [a.allowed for a in verdicts] == [True] * 10 + [False]
        slow = Rate(3, 60.0)
        verdicts = [await limiter.hit("acct-a", slow) for _ in range(4)]
        assert [a.allowed for a in verdicts] == [True] * 3 + [False]
        assert 59.0 < verdicts[-1].retry_after <= 60.0
    finally:
        await limiter.close()


async def test_instances_share_the_window(prefix: str) -> None:
    one = RedisRateLimiter(REDIS_URL, key_prefix=prefix)
    two = RedisRateLimiter(REDIS_URL, key_prefix=prefix)
    try:
        assert all([(await one.hit("acct", TEN_PER_SECOND)).allowed for _ in range(10)])
        assert not (await two.hit("acct", TEN_PER_SECOND)).allowed
    finally:
        await one.close()
        await two.close()


async def test_exact_under_concurrency_of_four_instances(prefix: str) -> None:
    # 4 limiters (one connection pool each, as 4 processes would have) offer
    # 200 calls over 2 s: one every 10 ms, round-robin.
    limiters = [RedisRateLimiter(REDIS_URL, key_prefix=prefix) for _ in range(4)]
    admitted: list[Call] = []
    throttled_costs: list[float] = []
    offered: list[float] = []
    start = time.time() + 0.05

    async def worker(limiter: RedisRateLimiter, lane: int) -> None:
        for n in range(50):
            await asyncio.sleep(max(0.0, start + (4 * n + lane) * 0.01 - time.time()))
            before = time.time()
            offered.append(before)
            admission = await limiter.hit("acct", TEN_PER_SECOND)
            after = time.time()
            if admission.allowed:
                admitted.append((before, after))
            else:
                throttled_costs.append(after - before)

    try:
        await asyncio.gather(*(worker(lim, lane) for lane, lim in enumerate(limiters)))
    finally:
        for limiter in limiters:
            await limiter.close()

    span = max(offered) - min(offered)
    rate = len(admitted) / span
    print(
        f"\n4 instances: {len(offered)} offered over {span:.3f} s, "
        f"{len(admitted)} admitted ({rate:.2f}/s), "
        f"max per 1 s window: certain {certain_max_in_window(admitted, 1.0)}, "
        f"by send time {nominal_max_in_window([b for b, _ in admitted], 1.0)}; "
        f"throttled call mean {statistics.mean(throttled_costs) * 1e3:.3f} ms, "
        f"max {max(throttled_costs) * 1e3:.3f} ms"
    )
    assert certain_max_in_window(admitted, 1.0) <= 10
    assert rate >= 9.5
    assert statistics.mean(throttled_costs) < 0.01


_HAMMER = """
import asyncio, json, sys, time
from opencams.ratelimit import Rate, RedisRateLimiter

async def main(url, prefix, seconds):
    limiter = RedisRateLimiter(url, key_prefix=prefix)
    print("ready", flush=True)
    start = float(sys.stdin.readline())
    admitted = []
    await asyncio.sleep(max(0.0, start - time.time()))

    async def task():
        while time.time() < start + seconds:
            before = time.time()
            admission = await limiter.hit("acct", Rate(10, 1.0))
            if admission.allowed:
                admitted.append((before, time.time()))

    await asyncio.gather(*(task() for _ in range(8)))
    await limiter.close()
    print(json.dumps(admitted))

asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
"""


@pytest.mark.slow
def test_exact_across_processes(prefix: str) -> None:
    # 4 real processes x 8 tasks call as fast as they can for 2 s: the case in
    # which client-stamped entries (limits' RedisStorage) overshot.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _HAMMER, REDIS_URL, prefix, "2.0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        for _ in range(4)
    ]
    for proc in procs:  # all imported, so they really start together
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    start = time.time() + 0.1
    admitted: list[Call] = []
    for proc in procs:
        out, _ = proc.communicate(f"{start!r}\n", timeout=30)
        assert proc.returncode == 0
        admitted.extend(tuple(call) for call in json.loads(out))
    print(
        f"\n4 processes: {len(admitted)} admitted in 2 s, max per 1 s window: "
        f"certain {certain_max_in_window(admitted, 1.0)}, "
        f"by send time {nominal_max_in_window([b for b, _ in admitted], 1.0)}"
    )
    assert certain_max_in_window(admitted, 1.0) <= 10
    assert len(admitted) / 2.0 >= 9.5


# --- outage and recovery ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def redis_server(port: int) -> Iterator[subprocess.Popen[bytes]]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not on PATH")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 5
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on {port}") from None
                time.sleep(0.02)
        yield proc
    finally:
        proc.kill()
        proc.wait()


def warnings_matching(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(
        1
        for r in caplog.records
        if r.name == "opencams.ratelimit" and r.levelno == logging.WARNING and text in r.getMessage()
    )


async def wait_until_restored(limiter: RedisRateLimiter, caplog: pytest.LogCaptureFixture) -> None:
    deadline = time.monotonic() + 5
    while warnings_matching(caplog, "restored") == 0:
        assert time.monotonic() < deadline, "limiting through Redis did not resume"
        with suppress(RateLimitUnavailable):
            await limiter.hit("probe", TEN_PER_SECOND)
        await asyncio.sleep(0.05)


async def assert_limited_through_redis(limiter: RedisRateLimiter, url: str, prefix: str, key: str) -> None:
    verdicts = [await limiter.hit(key, TEN_PER_SECOND) for _ in range(11)]
    assert [a.allowed for a in verdicts] == [True] * 10 + [False]
    # A fresh instance sees those 10 only if they were recorded in Redis.
    other = RedisRateLimiter(url, key_prefix=prefix)
    try:
        assert not (await other.hit(key, TEN_PER_SECOND)).allowed
    finally:
        await other.close()


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["reject", "local"])
async def test_outage_and_recovery(policy: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="opencams.ratelimit")
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    prefix = f"opencams-test-{uuid.uuid4().hex}"
    limiter = RedisRateLimiter(
        url,
        on_failure="reject" if policy == "reject" else "local",
        key_prefix=prefix,
        retry_interval=0.2,
    )
    try:
        with redis_server(port):
            await assert_limited_through_redis(limiter, url, prefix, "before")

        # Redis is gone.
        started = time.monotonic()
        if policy == "reject":
            for _ in range(50):
                with pytest.raises(RateLimitUnavailable):
                    await limiter.hit("during", TEN_PER_SECOND)
        else:
            verdicts = [await limiter.hit("during", TEN_PER_SECOND) for _ in range(11)]
            assert [a.allowed for a in verdicts] == [True] * 10 + [False]
            assert 0.9 < verdicts[-1].retry_after <= 1.0
        assert time.monotonic() - started < 1.0, "a dead Redis stalled calls"
        assert warnings_matching(caplog, "unavailable") == 1

        with redis_server(port):
            await wait_until_restored(limiter, caplog)
            await assert_limited_through_redis(limiter, url, prefix, "after")
        assert warnings_matching(caplog, "unavailable") == 1
        assert warnings_matching(caplog, "restored") == 1
    finally:
        await limiter.close()


@pytest.mark.slow
async def test_hung_redis_costs_one_timeout(caplog: pytest.LogCaptureFixture) -> None:
    # A Redis that accepts but never answers (SIGSTOP) must not stall requests
    # beyond the socket timeout, and only the probing call pays it.
    caplog.set_level(logging.WARNING, logger="opencams.ratelimit")
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    limiter = RedisRateLimiter(url, key_prefix=f"opencams-test-{uuid.uuid4().hex}", timeout=0.25)
    try:
        with redis_server(port) as server:
            assert (await limiter.hit("acct", TEN_PER_SECOND)).allowed
            server.send_signal(signal.SIGSTOP)
            try:
                started = time.monotonic()
                with pytest.raises(RateLimitUnavailable):
                    await limiter.hit("acct", TEN_PER_SECOND)
                assert 0.2 < time.monotonic() - started < 0.6
                started = time.monotonic()
                for _ in range(20):
                    with pytest.raises(RateLimitUnavailable):
                        await limiter.hit("acct", TEN_PER_SECOND)
                assert time.monotonic() - started < 0.1
            finally:
                server.send_signal(signal.SIGCONT)
            await wait_until_restored(limiter, caplog)
            verdicts = [await limiter.hit("after", TEN_PER_SECOND) for _ in range(11)]
            assert [a.allowed for a in verdicts] == [True] * 10 + [False]
    finally:
        await limiter.close()
