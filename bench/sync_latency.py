"""Latency of one ChatappSyncPhoneNumber through the server against a no-server fetch-and-upsert baseline."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from statistics import mean
from typing import Any

import httpx
from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table, Text, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from opencams.domain.phone_numbers import GRAPH_FIELDS

from ._common import (
    GRAPH_TOKEN,
    Database,
    HttpConnection,
    Server,
    Tenant,
    answer_code,
    base_parser,
    emulator_document,
    http_post,
    median,
    migrate,
    percentile,
    print_header,
    print_table,
    provision,
    run_async,
    running,
    scratch_database,
    signed_sync_body,
    start_emulator,
    start_opencams,
    waba_id,
    workdir,
    write_json,
)

GRAPH_VERSION = "v23.0"
PAGE_LIMIT = 100
TARGET_SIZE = 1000
TARGET_RATIO = 1.5

# The baseline's table: the columns of opencams' phone_numbers, plain types, no foreign key.
baseline_metadata = MetaData()
baseline_numbers = Table(
    "bench_baseline_numbers",
    baseline_metadata,
    Column("space_id", String(64), primary_key=True),
    Column("phone_number_id", String(32), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("display_phone_number", String(64)),
    Column("verified_name", Text),
    Column("status", String(32)),
    Column("quality_rating", String(32)),
    Column("code_verification_status", String(32)),
    Column("name_status", String(32)),
    Column("new_name_status", String(32)),
    Column("messaging_limit_tier", String(32)),
    Column("portfolio_messaging_limit", String(32)),
    Column("is_official", Boolean),
    Column("node", Text, nullable=False),
    Column("status_callback_url", Text),
    Column("up_callback_url", Text),
    Column("sync_generation", Integer, nullable=False),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("synced_at", DateTime(timezone=True), nullable=False),
    Column("removed_at", DateTime(timezone=True)),
)
UPDATED = (
    "position",
    "display_phone_number",
    "verified_name",
    "status",
    "quality_rating",
    "code_verification_status",
    "name_status",
    "new_name_status",
    "messaging_limit_tier",
    "portfolio_messaging_limit",
    "is_official",
    "node",
    "sync_generation",
    "synced_at",
    "removed_at",
)


@dataclass
class Samples:
    """Wall milliseconds per call, and CPU milliseconds per call of the process doing the work."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    emulator_cpu: list[float] = field(default_factory=list)


class Baseline:
    """The same Graph reads (httpx, same paging) and one executemany upsert, in this process, no server."""

    def __init__(self, db: Database, graph_url: str) -> None:
        kwargs: dict[str, Any] = {"connect_args": {"timeout": 30}} if db.dialect == "sqlite" else {}
        self.engine: AsyncEngine = create_async_engine(db.url, **kwargs)
        if db.dialect == "sqlite":
            # The durability opencams runs SQLite with (WAL, synchronous=NORMAL), so both pay the same commit.
            @event.listens_for(self.engine.sync_engine, "connect")
            def on_connect(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.close()

        self.http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0), headers={"User-Agent": "opencams"})
        self.graph_url = graph_url.rstrip("/")
        dialect_insert: Any = postgresql.insert if db.dialect == "postgresql" else sqlite.insert
        stmt = dialect_insert(baseline_numbers)
        self.upsert = stmt.on_conflict_do_update(
            index_elements=["space_id", "phone_number_id"], set_={c: stmt.excluded[c] for c in UPDATED}
        )
        self.generation = 0

    async def setup(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(baseline_metadata.create_all)

    async def close(self) -> None:
        await self.http.aclose()
        await self.engine.dispose()

    async def fetch(self, waba: str) -> list[dict[str, Any]]:
        params = {"fields": ",".join(GRAPH_FIELDS), "limit": str(PAGE_LIMIT)}
        nodes: list[dict[str, Any]] = []
        while True:
            response = await self.http.get(
                f"{self.graph_url}/{GRAPH_VERSION}/{waba}/phone_numbers",
                params=params,
                headers={"Authorization": f"Bearer {GRAPH_TOKEN}"},
            )
            response.raise_for_status()
            page = response.json()
            nodes.extend(page["data"])
            paging = page.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                return nodes
            params = {**params, "after": after}

    async def sync(self, space_id: str, waba: str) -> int:
        nodes = await self.fetch(waba)
        now = datetime.now(UTC)
        self.generation += 1
        rows = [
            {
                "space_id": space_id,
                "phone_number_id": node["id"],
                "position": position,
                "display_phone_number": node.get("display_phone_number"),
                "verified_name": node.get("verified_name"),
                "status": node.get("status"),
                "quality_rating": node.get("quality_rating"),
                "code_verification_status": node.get("code_verification_status"),
                "name_status": node.get("name_status"),
                "new_name_status": node.get("new_name_status"),
                "messaging_limit_tier": node.get("messaging_limit_tier"),
                "portfolio_messaging_limit": node.get("whatsapp_business_manager_messaging_limit"),
                "is_official": node.get("is_official_business_account"),
                "node": json.dumps(node, separators=(",", ":"), sort_keys=True),
                "status_callback_url": None,
                "up_callback_url": None,
                "sync_generation": self.generation,
                "first_seen_at": now,
                "synced_at": now,
                "removed_at": None,
            }
            for position, node in enumerate(nodes)
        ]
        async with self.engine.begin() as conn:
            await conn.execute(self.upsert, rows)
        return len(rows)


async def opencams_sync(conn: HttpConnection, port: int, tenant: Tenant, space_id: str) -> tuple[float, int]:
    """One signed call over a keep-alive connection; (milliseconds, numbers answered)."""
    raw = http_post(port, signed_sync_body(tenant, space_id))
    started = time.perf_counter()
    status, body = await conn.request(raw)
    elapsed = (time.perf_counter() - started) * 1000
    code = answer_code(body)
    if status != 200 or code != "OK":
        raise RuntimeError(f"opencams answered HTTP {status} {code}: {body[:300]!r}")
    return elapsed, len(json.loads(body)["PhoneNumbers"])


async def measure(
    db: Database,
    emulator: Server,
    opencams: Server,
    tenant: Tenant,
    sizes: Sequence[int],
    runs: int,
    warmup: int,
) -> dict[int, dict[str, Samples]]:
    baseline = Baseline(db, emulator.url)
    await baseline.setup()
    conn = await HttpConnection.open(opencams.port)
    results: dict[int, dict[str, Samples]] = {}
    try:
        for index, size in enumerate(sizes, start=1):
            waba = waba_id(index)
            space_id = tenant.spaces[waba]
            samples = {"opencams": Samples(), "baseline": Samples()}
            for i in range(warmup + runs):
                # Alternate which side goes first, so neither always follows the other's writes.
                order = ("opencams", "baseline") if i % 2 == 0 else ("baseline", "opencams")
                for side in order:
                    emu_cpu = emulator.cpu_seconds()
                    if side == "opencams":
                        cpu = opencams.cpu_seconds()
                        wall, count = await opencams_sync(conn, opencams.port, tenant, space_id)
                        cpu = opencams.cpu_seconds() - cpu
                    else:
                        cpu = time.process_time()
                        started = time.perf_counter()
                        count = await baseline.sync(space_id, waba)
                        wall = (time.perf_counter() - started) * 1000
                        cpu = time.process_time() - cpu
                    emu_cpu = emulator.cpu_seconds() - emu_cpu
                    if count != size:
                        raise RuntimeError(f"{side}: {count} numbers stored for a space of {size}")
                    if i >= warmup:
                        samples[side].wall.append(wall)
                        samples[side].cpu.append(cpu * 1000)
                        samples[side].emulator_cpu.append(emu_cpu * 1000)
            results[size] = samples
    finally:
        await conn.close()
        await baseline.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__ or "")
    parser.add_argument("--runs", type=int, default=None, help="measured runs per size (default 15, quick 5)")
    parser.add_argument("--warmup", type=int, default=None, help="warm-up runs per size (default 3, quick 1)")
    parser.add_argument("--sizes", default="1,100,1000", help="numbers per space, comma-separated")
    args = parser.parse_args(argv)
    runs = args.runs or (5 if args.quick else 15)
    warmup = args.warmup if args.warmup is not None else (1 if args.quick else 3)
    sizes = [int(s) for s in args.sizes.split(",")]

    with workdir("sync-latency") as tmp, scratch_database(args.database_url, tmp) as db:
        facts = print_header(
            "ChatappSyncPhoneNumber latency (bench/sync_latency.py)",
            db.backend,
            {
                "Method": f"{runs} measured runs per size after {warmup} warm-up, opencams and baseline alternating; "
                "one keep-alive connection, V1-signed form POST; Graph pages of 100",
                "Processes": "emulator and opencams are separate uvicorn processes (uvloop, httptools, no access log); "
                "client and baseline run in this process",
            },
        )
        migrate(db.url)
        document = emulator_document({index: size for index, size in enumerate(sizes, start=1)})
        with running(start_emulator(document, tmp)) as emulator:
            tenant = provision(db, tmp / "data", emulator.url, [[waba_id(i) for i in range(1, len(sizes) + 1)]])[0]
            with running(start_opencams(db, emulator.url, tmp)) as opencams:
                results = run_async(lambda: measure(db, emulator, opencams, tenant, sizes, runs, warmup))

    rows = []
    report: list[dict[str, Any]] = []
    for size, samples in results.items():
        o, b = samples["opencams"], samples["baseline"]
        om, bm = median(o.wall), median(b.wall)
        o90, b90 = percentile(o.wall, 90), percentile(b.wall, 90)
        pages = max(1, -(-size // PAGE_LIMIT))
        rows.append(
            [
                f"{size:,}",
                pages,
                f"{om:.2f}",
                f"{o90:.2f}",
                f"{bm:.2f}",
                f"{b90:.2f}",
                f"{om / bm:.2f}",
                f"{o90 / b90:.2f}",
                f"{min(o.wall) / min(b.wall):.2f}",
                f"{mean(o.cpu):.1f}",
                f"{mean(b.cpu):.1f}",
                f"{mean(o.emulator_cpu):.1f}",
            ]
        )
        report.append(
            {
                "numbers": size,
                "pages": pages,
                "opencams_ms": o.wall,
                "baseline_ms": b.wall,
                "opencams_server_cpu_ms": o.cpu,
                "baseline_cpu_ms": b.cpu,
                "median_ratio": om / bm,
                "min_ratio": min(o.wall) / min(b.wall),
                "p90_ratio": o90 / b90,
            }
        )
    print(f"Milliseconds per sync ({runs} runs each)")
    print()
    print_table(
        [
            "numbers",
            "Graph pages",
            "opencams median",
            "opencams p90",
            "baseline median",
            "baseline p90",
            "ratio median",
            "ratio p90",
            "ratio min",
            "opencams server CPU ms",
            "baseline CPU ms",
            "emulator CPU ms",
        ],
        rows,
    )
    print(
        "CPU columns: mean CPU milliseconds per call of the opencams server process, of this process for the "
        "baseline, and of the emulator during opencams calls (the Graph side); /proc counts in 10 ms ticks. "
        "'ratio min' compares the fastest runs, the figure least disturbed by other load on the machine."
    )
    verdict = None
    if TARGET_SIZE in results:
        ratio = median(results[TARGET_SIZE]["opencams"].wall) / median(results[TARGET_SIZE]["baseline"].wall)
        verdict = ratio <= TARGET_RATIO
        print(
            f"Target: median ratio ≤ {TARGET_RATIO} at {TARGET_SIZE:,} numbers: {ratio:.2f} -> "
            f"{'MET' if verdict else 'MISSED'}"
        )
    write_json(args.json, {"benchmark": "sync_latency", "machine": facts, "target_met": verdict, "results": report})
    return 0


if __name__ == "__main__":
    sys.exit(main())
