"""The 10/s per-account limit under `opencams serve --workers 4` with Redis: admitted per sliding second, throttling."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any, NoReturn

from ._common import (
    HOST,
    ConnectionPool,
    Database,
    Server,
    Tenant,
    answer_code,
    base_parser,
    descendants,
    emulator_document,
    free_port,
    http_post,
    migrate,
    opencams_cli,
    opencams_env,
    percentile,
    print_header,
    print_table,
    provision,
    run_async,
    running,
    scratch_database,
    signed_sync_body,
    start_emulator,
    start_server,
    waba_id,
    workdir,
    write_json,
)

LIMIT = 10  # CAMS' ChatappSyncPhoneNumber limit per account per second, opencams' default
THROTTLED = "System.LimitControl"


@dataclass
class Call:
    account: str
    scheduled: float
    sent: float = 0.0
    done: float = 0.0
    status: int = 0
    code: str = ""

    @property
    def admitted(self) -> bool:
        return self.status == 200 and self.code == "OK"

    @property
    def throttled(self) -> bool:
        return self.status == 400 and self.code == THROTTLED


def fail(message: str) -> NoReturn:
    raise SystemExit(f"bench.ratelimit: {message}")


def check_redis(url: str) -> None:
    import redis

    try:
        with redis.Redis.from_url(url, socket_connect_timeout=2) as client:
            client.ping()
    except redis.RedisError as exc:
        fail(f"Redis at {url} is not reachable ({exc}); start it or pass --redis-url")


def redis_keys_for(url: str, account_id: str) -> list[str]:
    import redis

    with redis.Redis.from_url(url) as client:
        return [k.decode() for k in client.scan_iter(match=f"*{account_id}*", count=1000)]


def start_serve(db: Database, graph_url: str, logdir: Path, redis_url: str, workers: int) -> Server:
    """`opencams serve --workers N` with OPENCAMS_REDIS_URL and the default rates (no OPENCAMS_RATE_LIMITS)."""
    port = free_port()
    env = opencams_env(db.url, logdir / "data", graph_url, rate_limits=None, redis_url=redis_url)
    argv = [*opencams_cli(), "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
    try:
        server = start_server("opencams-serve", argv, env, port, logdir, health="/healthz", timeout=90)
    except RuntimeError as exc:
        fail(f"`opencams serve --workers {workers}` with Redis did not start:\n{exc}")
    time.sleep(1.0)  # the supervisor answers as soon as one worker is up; let the others come up too
    children = descendants(server.proc.pid)
    if len(children) < workers:
        server.stop()
        fail(
            f"`opencams serve --workers {workers}` runs {len(children)} child processes, expected at least "
            f"{workers}: multi-worker serving is not working"
        )
    return server


async def warm_up(pool: ConnectionPool, port: int, tenants: list[Tenant], redis_url: str) -> dict[str, str]:
    """A few calls per account on several connections (so every worker connects to the database and Redis).

    Returns each account's rate-limit key in Redis.
    """
    keys = {}
    for tenant in tenants:
        space = next(iter(tenant.spaces.values()))
        answers = await asyncio.gather(
            *(pool.request(http_post(port, signed_sync_body(tenant, space))) for _ in range(LIMIT - 2))
        )
        codes = Counter(answer_code(body) for _, body in answers)
        if codes["OK"] == 0:
            fail(f"no warm-up call was admitted for account {tenant.account_id}: {dict(codes)}")
        found = [k for k in redis_keys_for(redis_url, tenant.account_id) if k.endswith(":ChatappSyncPhoneNumber")]
        if not found:
            fail(
                f"no rate-limit key for account {tenant.account_id} in Redis at {redis_url} after admitted "
                "calls: the limit is not shared through Redis"
            )
        keys[tenant.account_id] = found[0]
    await asyncio.sleep(1.2)  # let the warm-up calls leave every window
    return keys


async def watch_limiter(redis_url: str, keys: dict[str, str], stop: asyncio.Event) -> dict[str, set[float]]:
    """Admission times as the limiter recorded them (Redis clock, in the key's list of the newest 10).

    Polled every 50 ms: an entry stays in the list until 10 newer admissions push it out, which
    takes at least a second at 10/s, so none is missed.
    """
    import redis.asyncio

    seen: dict[str, set[float]] = {account: set() for account in keys}
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        while True:
            for account, key in keys.items():
                seen[account].update(int(v) / 1e6 for v in await client.lrange(key, 0, -1))
            if stop.is_set():
                return seen
            await asyncio.sleep(0.05)
    finally:
        await client.aclose()


async def offer(
    port: int, plans: list[tuple[Tenant, float, int]], duration: float, redis_url: str
) -> tuple[float, list[Call], dict[str, set[float]]]:
    """Send account calls at t0 + i/rate from `tasks` schedulers each, never waiting for answers."""
    pool = ConnectionPool(port)
    await pool.fill(48)
    keys = await warm_up(pool, port, [tenant for tenant, _, _ in plans], redis_url)
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch_limiter(redis_url, keys, stop))
    # Everything is signed before t0, so the schedulers only write bytes.
    work: list[tuple[Tenant, float, int, list[tuple[int, bytes]]]] = []
    for tenant, rate, tasks in plans:
        space = next(iter(tenant.spaces.values()))
        bodies = [(i, http_post(port, signed_sync_body(tenant, space))) for i in range(round(rate * duration))]
        work.append((tenant, rate, tasks, bodies))
    calls: list[Call] = []
    in_flight: list[asyncio.Task[None]] = []

    async def send(call: Call, raw: bytes) -> None:
        call.sent = time.time()
        try:
            call.status, body = await pool.request(raw)
            call.code = answer_code(body)
        except (OSError, asyncio.IncompleteReadError) as exc:
            call.code = f"transport {type(exc).__name__}"
        call.done = time.time()

    async def scheduler(tenant: Tenant, rate: float, mine: list[tuple[int, bytes]], t0: float) -> None:
        for i, raw in mine:
            at = t0 + i / rate
            delay = at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            call = Call(tenant.account_id, at)
            calls.append(call)
            in_flight.append(asyncio.create_task(send(call, raw)))

    t0 = time.time() + 0.2
    await asyncio.gather(
        *(scheduler(tenant, rate, bodies[j::tasks], t0) for tenant, rate, tasks, bodies in work for j in range(tasks))
    )
    await asyncio.wait_for(asyncio.gather(*in_flight), timeout=60)
    stop.set()
    limiter_times = await watcher
    await pool.close()
    return t0, calls, limiter_times


def sliding_counts(times: list[float], t0: float, duration: float, step: float = 0.01) -> list[int]:
    """Calls in [s, s + 1) for every s from t0 to t0 + duration - 1 in `step`s (windows fully inside the run)."""
    ordered = sorted(times)
    counts = []
    steps = round((duration - 1.0) / step)
    lo = hi = 0
    for k in range(steps + 1):
        start = t0 + k * step
        while lo < len(ordered) and ordered[lo] < start:
            lo += 1
        hi = max(hi, lo)
        while hi < len(ordered) and ordered[hi] < start + 1.0:
            hi += 1
        counts.append(hi - lo)
    return counts


def certain_max(admitted: list[Call]) -> int:
    """Most admitted calls whose whole [sent, answered] interval fits in one second: provably one window."""
    best = 0
    for first in admitted:
        best = max(best, sum(1 for c in admitted if c.sent >= first.sent and c.done < first.sent + 1.0))
    return best


def describe(calls: list[Call], t0: float, duration: float, limiter_times: set[float]) -> dict[str, Any]:
    admitted = [c for c in calls if c.admitted]
    end = max(c.done for c in calls)
    recorded = sorted(t for t in limiter_times if t0 <= t <= end)
    by_limiter = sliding_counts(recorded, t0, duration)
    throttled = [c for c in calls if c.throttled]
    others = Counter(f"HTTP {c.status} {c.code}" for c in calls if not (c.admitted or c.throttled))
    by_send = sliding_counts([c.sent for c in admitted], t0, duration)
    by_answer = sliding_counts([c.done for c in admitted], t0, duration)
    span = max(c.sent for c in calls) - min(c.sent for c in calls)
    return {
        "offered": len(calls),
        "last_answer_s": end - t0,
        "offered_rate": (len(calls) - 1) / span if span else 0.0,
        "max_send_lag_ms": max(c.sent - c.scheduled for c in calls) * 1000,
        "admitted": len(admitted),
        "throttled": len(throttled),
        "other": dict(others),
        "limiter_admissions": len(recorded),
        "window_by_limiter": {"max": max(by_limiter), "min": min(by_limiter), "mean": mean(by_limiter)},
        "window_by_send": {"max": max(by_send), "min": min(by_send), "mean": mean(by_send)},
        "window_by_answer": {"max": max(by_answer), "min": min(by_answer), "mean": mean(by_answer)},
        "certain_max": certain_max(admitted),
        "admitted_ms": [(c.done - c.sent) * 1000 for c in admitted],
        "throttled_ms": [(c.done - c.sent) * 1000 for c in throttled],
    }


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__ or "")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rate", type=float, default=200.0, help="calls per second offered on the first account")
    parser.add_argument("--second-rate", type=float, default=50.0, help="calls per second on the second account")
    parser.add_argument("--duration", type=float, default=None, help="seconds of offered load (10, quick 3)")
    args = parser.parse_args(argv)
    duration = args.duration or (3.0 if args.quick else 10.0)
    check_redis(args.redis_url)

    with workdir("ratelimit") as tmp, scratch_database(args.database_url, tmp) as db:
        facts = print_header(
            "Per-account rate limit across workers (bench/ratelimit.py)",
            db.backend,
            {
                "Server": f"opencams serve --workers {args.workers}, OPENCAMS_REDIS_URL={args.redis_url}, "
                f"default limit {LIMIT}/s for ChatappSyncPhoneNumber",
                "Load": f"account A: {args.rate:g} calls/s from 4 scheduler tasks; account B: {args.second_rate:g} "
                f"calls/s from 1 task; {duration:g} s; sent at t0 + i/rate without waiting for answers; "
                "every request V1-signed before t0",
            },
        )
        migrate(db.url)
        with running(start_emulator(emulator_document({1: 5, 2: 5}), tmp)) as emulator:
            tenants = provision(db, tmp / "data", emulator.url, [[waba_id(1)], [waba_id(2)]])
            with running(start_serve(db, emulator.url, tmp, args.redis_url, args.workers)) as server:
                plans = [(tenants[0], args.rate, 4), (tenants[1], args.second_rate, 1)]
                t0, calls, limiter = run_async(lambda: offer(server.port, plans, duration, args.redis_url))

    summaries = {}
    for label, tenant in (("A", tenants[0]), ("B", tenants[1])):
        mine = [c for c in calls if c.account == tenant.account_id]
        summaries[label] = describe(mine, t0, duration, limiter[tenant.account_id])
    rows = []
    for label, s in summaries.items():
        rows.append(
            [
                label,
                f"{s['offered']:,}",
                f"{s['offered_rate']:.1f}",
                f"{s['max_send_lag_ms']:.1f}",
                s["admitted"],
                s["limiter_admissions"],
                f"{s['throttled']:,}",
                sum(s["other"].values()),
                s["window_by_limiter"]["max"],
                s["window_by_limiter"]["min"],
                f"{s['window_by_limiter']['mean']:.2f}",
                s["window_by_send"]["max"],
                s["window_by_answer"]["max"],
                s["certain_max"],
            ]
        )
    print(f"Admitted calls per sliding 1 s window (windows fully inside the {duration:g} s run, 10 ms apart)")
    print()
    print_table(
        [
            "account",
            "offered",
            "offered/s",
            "max send lag ms",
            "admitted (OK)",
            "admissions in Redis",
            "throttled",
            "other",
            "window max",
            "window min",
            "window mean",
            "max by send time",
            "max by answer time",
            "max certain",
        ],
        rows,
    )
    last = max(s["last_answer_s"] for s in summaries.values())
    print(f"The last answer arrived {last:.1f} s after t0 (offered load ended at {duration:g} s).")
    print(
        "window max/min/mean: admissions by the limiter's own clock (the microsecond times it keeps in Redis, "
        "polled every 50 ms). By send time and by answer time the client sees queueing in the server; 'certain' "
        "counts OK answers whose whole send-to-answer interval fits in one second."
    )
    print()
    lat_rows = []
    for label, s in summaries.items():
        for kind in ("admitted", "throttled"):
            values = s[f"{kind}_ms"]
            lat_rows.append(
                [
                    label,
                    kind,
                    f"{percentile(values, 50):.1f}",
                    f"{percentile(values, 99):.1f}",
                    f"{max(values, default=float('nan')):.1f}",
                ]
            )
    print("Latency of the answers, ms")
    print()
    print_table(["account", "answer", "p50", "p99", "max"], lat_rows)
    for label, s in summaries.items():
        if s["other"]:
            print(f"account {label}: unexpected answers {s['other']}")
    held = all(
        s["window_by_limiter"]["max"] <= LIMIT and s["certain_max"] <= LIMIT and not s["other"]
        for s in summaries.values()
    )
    used = all(s["window_by_limiter"]["mean"] >= LIMIT * 0.9 for s in summaries.values())
    print(
        f"Limit held (no window above {LIMIT}, no unexpected answers): {'YES' if held else 'NO'}; "
        f"each account got its own {LIMIT}/s (mean window ≥ {LIMIT * 0.9:g}): {'YES' if used else 'NO'}"
    )
    for s in summaries.values():
        s["admitted_ms"] = {"p50": percentile(s["admitted_ms"], 50), "p99": percentile(s["admitted_ms"], 99)}
        s["throttled_ms"] = {"p50": percentile(s["throttled_ms"], 50), "p99": percentile(s["throttled_ms"], 99)}
    write_json(args.json, {"benchmark": "ratelimit", "machine": facts, "held": held, "results": summaries})
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
