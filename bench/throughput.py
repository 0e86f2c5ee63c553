"""Requests per second of ChatappSyncPhoneNumber under 64 concurrent clients, opencams against a bare Starlette app."""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from opencams.domain.phone_numbers import GRAPH_FIELDS, MetaNumber, StoredNumber, to_cams

from ._common import (
    GRAPH_TOKEN,
    CpuMeter,
    Database,
    HttpConnection,
    Server,
    Tenant,
    answer_code,
    base_parser,
    clean_env,
    command_cpu_seconds,
    emulator_document,
    free_port,
    http_post,
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
    start_server,
    usable_cpus,
    uvicorn_argv,
    waba_id,
    workdir,
    write_json,
)

CLIENTS = 64
ACCOUNTS = 100
NUMBERS_PER_SPACE = 5
TARGET_RATIO = 0.5
OK_MARKER = b'"Code":"OK"'


# --- the bare app: same request, same Graph call, same JSON shape; no auth, no storage -----


def create_bare_app() -> Starlette:
    """Uvicorn factory. BENCH_GRAPH_URL: the emulator; BENCH_SPACES: JSON file CustSpaceId -> WABA id."""
    graph_url = os.environ["BENCH_GRAPH_URL"].rstrip("/")
    spaces: dict[str, str] = json.loads(Path(os.environ["BENCH_SPACES"]).read_text())
    fields = ",".join(GRAPH_FIELDS)
    clients: list[httpx.AsyncClient] = []

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # The same client settings as opencams' GraphClient.
        clients.append(httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0), headers={"User-Agent": "opencams"}))
        yield
        await clients[0].aclose()

    async def sync(request: Request) -> Response:
        body = await request.body()
        params = dict(parse_qsl(request.scope["query_string"].decode("latin-1")))
        params.update(parse_qsl(body.decode()))
        waba = spaces.get(params.get("CustSpaceId", ""))
        if waba is None:
            return JSONResponse({"Code": "Unknown.ResourceOwnerId"}, status_code=400)
        nodes: list[dict[str, Any]] = []
        query = {"fields": fields, "limit": "100"}
        while True:
            response = await clients[0].get(
                f"{graph_url}/v23.0/{waba}/phone_numbers",
                params=query,
                headers={"Authorization": f"Bearer {GRAPH_TOKEN}"},
            )
            page = response.json()
            nodes.extend(page["data"])
            paging = page.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                break
            query = {**query, "after": after}
        numbers = [to_cams(StoredNumber(MetaNumber.from_node(node), None, None), None) for node in nodes]
        request_id = str(uuid.uuid4()).upper()
        payload = {"RequestId": request_id, "Code": "OK", "Message": "OK", "Success": True, "PhoneNumbers": numbers}
        return Response(
            json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode(),
            200,
            headers={"x-acs-request-id": request_id},
            media_type="application/json;charset=utf-8",
        )

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[Route("/healthz", healthz, methods=["GET"]), Route("/", sync, methods=["GET", "POST"])],
        lifespan=lifespan,
    )


# --- load generation ---------------------------------------------------------------------


@dataclass
class LoadResult:
    completed: int = 0
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    exhausted: int = 0  # clients that ran out of pre-signed requests before the deadline
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.completed / self.elapsed if self.elapsed else 0.0


def merge(results: list[LoadResult]) -> LoadResult:
    """Several runs of one server as one: totals, every latency, CPU shares weighted by duration."""
    merged = LoadResult()
    for r in results:
        merged.completed += r.completed
        merged.ok += r.ok
        merged.errors.update(r.errors)
        merged.latencies_ms.extend(r.latencies_ms)
        merged.elapsed += r.elapsed
        merged.exhausted += r.exhausted
    for key in results[0].cpu if results else ():
        merged.cpu[key] = sum(r.cpu[key] * r.elapsed for r in results) / merged.elapsed
    return merged


def presign(port: int, tenants: list[Tenant], per_client: int) -> list[list[bytes]]:
    """Every request of the run, V1-signed now with unique nonces, one list per client.

    Client c serves accounts c and c + 64 (when < 100), alternately: all 100 accounts are used
    and no two requests for one space are ever in flight together.
    """
    pools: list[list[bytes]] = []
    for client in range(CLIENTS):
        mine = [tenants[i] for i in range(client, len(tenants), CLIENTS)]
        pool = []
        for n in range(per_client):
            tenant = mine[n % len(mine)]
            pool.append(http_post(port, signed_sync_body(tenant, next(iter(tenant.spaces.values())))))
        pools.append(pool)
    return pools


async def drive(
    port: int, pools: list[list[bytes]], cursors: list[int], duration: float, meter: CpuMeter | None
) -> LoadResult:
    """64 clients, each on its own keep-alive connection, sending back to back for `duration` seconds."""
    result = LoadResult()
    conns = [await HttpConnection.open(port) for _ in pools]
    if meter is not None:
        meter.start()
    started = time.perf_counter()
    deadline = started + duration

    async def client(index: int) -> None:
        conn, pool = conns[index], pools[index]
        while time.perf_counter() < deadline:
            if cursors[index] >= len(pool):
                result.exhausted += 1
                return
            raw = pool[cursors[index]]
            cursors[index] += 1
            sent = time.perf_counter()
            try:
                status, body = await conn.request(raw)
            except (OSError, asyncio.IncompleteReadError) as exc:
                result.errors[f"transport {type(exc).__name__}"] += 1
                conn = conns[index] = await HttpConnection.open(port)
                continue
            result.latencies_ms.append((time.perf_counter() - sent) * 1000)
            result.completed += 1
            if status == 200 and OK_MARKER in body:
                result.ok += 1
            else:
                result.errors[f"HTTP {status} {answer_code(body)}"] += 1
            if not conn.usable:
                conn = conns[index] = await HttpConnection.open(port)

    await asyncio.gather(*(client(i) for i in range(len(pools))))
    result.elapsed = time.perf_counter() - started
    if meter is not None:
        result.cpu = meter.stop()
    for conn in conns:
        await conn.close()
    return result


def measure(server: Server, emulator: Server, tenants: list[Tenant], args: Any, db: Database) -> LoadResult:
    per_client = math.ceil(args.max_rps * (args.duration + args.warmup) / CLIENTS)
    pools = presign(server.port, tenants, per_client)
    cursors = [0] * CLIENTS
    sources: dict[str, Callable[[], float]] = {
        "server": server.cpu_seconds,
        "emulator": emulator.cpu_seconds,
        "client": time.process_time,
    }
    if db.dialect == "postgresql":
        sources["postgres"] = lambda: command_cpu_seconds("postgres")
    meter = CpuMeter(sources)

    async def main() -> LoadResult:
        warm = await drive(server.port, pools, cursors, args.warmup, None)
        if warm.completed == 0 or warm.ok == 0:
            raise RuntimeError(f"{server.name}: no successful call while warming up: {dict(warm.errors)}")
        return await drive(server.port, pools, cursors, args.duration, meter)

    spy = start_py_spy(server, args.py_spy, args.duration + args.warmup)
    result = run_async(main)
    if spy is not None:
        spy.wait(timeout=60)
    if result.exhausted:
        print(f"warning: {result.exhausted} clients ran out of pre-signed requests; raise --max-rps", flush=True)
    return result


def start_py_spy(server: Server, outdir: Path | None, seconds: float) -> subprocess.Popen[bytes] | None:
    """With --py-spy DIR: sample the server (all threads, native frames off) for the run, as speedscope JSON."""
    if outdir is None:
        return None
    binary = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(binary).exists():
        raise SystemExit("--py-spy needs py-spy: .venv/bin/pip install py-spy")
    outdir.mkdir(parents=True, exist_ok=True)
    out = outdir / f"{server.name.replace(' ', '-')}.speedscope.json"
    argv = [binary, "record", "--pid", str(server.proc.pid), "--duration", str(math.ceil(seconds)), "--rate", "200"]
    argv += ["--format", "speedscope", "--output", str(out)]
    print(f"py-spy: recording {server.name} into {out}", flush=True)
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_bare(emulator: Server, tenants: list[Tenant], logdir: Path, cpus: set[int] | None) -> Server:
    spaces = {space: waba for t in tenants for waba, space in t.spaces.items()}
    spaces_file = logdir / "bare-spaces.json"
    spaces_file.write_text(json.dumps(spaces))
    port = free_port()
    env = clean_env({"BENCH_GRAPH_URL": emulator.url, "BENCH_SPACES": str(spaces_file)})
    return start_server(
        "bare", uvicorn_argv("bench.throughput:create_bare_app", port), env, port, logdir, health="/healthz", cpus=cpus
    )


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__ or "")
    parser.add_argument("--duration", type=float, default=None, help="measured seconds per server (10, quick 3)")
    parser.add_argument("--warmup", type=float, default=None, help="unmeasured seconds before (2, quick 1)")
    parser.add_argument(
        "--max-rps", type=float, default=3000, help="requests pre-signed per second of run (an upper bound)"
    )
    parser.add_argument(
        "--cpu-layout",
        choices=("split", "shared"),
        default="split",
        help="split: the server alone on one core, emulator and load generator on the other; "
        "shared: no pinning, the kernel spreads everything",
    )
    parser.add_argument("--rounds", type=int, default=None, help="alternating measurements of each server (2, quick 1)")
    parser.add_argument(
        "--py-spy", type=Path, default=None, metavar="DIR", help="profile each server with py-spy into DIR"
    )
    args = parser.parse_args(argv)
    args.duration = args.duration or (3.0 if args.quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 2.0)
    args.rounds = args.rounds or (1 if args.quick else 2)
    cpus = usable_cpus()
    server_cpus: set[int] | None = None
    other_cpus: set[int] | None = None
    if args.cpu_layout == "split" and len(cpus) >= 2:
        server_cpus, other_cpus = {cpus[0]}, set(cpus[1:])
    layout = (
        f"server pinned to CPU {sorted(server_cpus)}, emulator + load generator to CPU {sorted(other_cpus)}"
        if server_cpus and other_cpus
        else "no pinning"
    )

    with workdir("throughput") as tmp, scratch_database(args.database_url, tmp) as db:
        facts = print_header(
            "ChatappSyncPhoneNumber throughput (bench/throughput.py)",
            db.backend,
            {
                "Method": f"{CLIENTS} clients (raw asyncio HTTP/1.1 keep-alive, one process, pre-signed V1 requests) "
                f"over {ACCOUNTS} accounts x 1 space x {NUMBERS_PER_SPACE} numbers; {args.warmup:g} s warm-up, "
                f"{args.duration:g} s measured per server; rate limit lifted to 100000/s",
                "CPU layout": layout + "; PostgreSQL (when used) unpinned",
            },
        )
        if other_cpus:
            os.sched_setaffinity(0, other_cpus)  # the load generator; after the header, which reports the cores
        migrate(db.url)
        document = emulator_document(dict.fromkeys(range(1, ACCOUNTS + 1), NUMBERS_PER_SPACE))
        runs: dict[str, list[LoadResult]] = {"opencams": [], "bare app": []}
        with running(start_emulator(document, tmp, cpus=other_cpus)) as emulator:
            tenants = provision(db, tmp / "data", emulator.url, [[waba_id(i)] for i in range(1, ACCOUNTS + 1)])
            with (
                running(start_opencams(db, emulator.url, tmp, cpus=server_cpus)) as opencams,
                running(start_bare(emulator, tenants, tmp, server_cpus)) as bare,
            ):
                servers = {"opencams": opencams, "bare app": bare}
                for round_no in range(args.rounds):
                    # Alternate the order, so drift in the machine's background load hits both alike.
                    for name in list(servers) if round_no % 2 == 0 else list(servers)[::-1]:
                        runs[name].append(measure(servers[name], emulator, tenants, args, db))

    results = {name: merge(rs) for name, rs in runs.items()}
    rows = []
    for name, rs in runs.items():
        labelled = [(f"{name}, round {i + 1}", r) for i, r in enumerate(rs)] if len(rs) > 1 else []
        for label, r in [*labelled, (name if len(rs) == 1 else f"{name}, all rounds", results[name])]:
            row = [
                label,
                f"{r.completed:,}",
                f"{sum(r.errors.values()):,}",
                f"{r.rps:,.0f}",
                f"{percentile(r.latencies_ms, 50):.1f}",
                f"{percentile(r.latencies_ms, 99):.1f}",
                f"{r.cpu.get('server', 0) * 100:.0f}%",
                f"{r.cpu.get('emulator', 0) * 100:.0f}%",
                f"{r.cpu.get('client', 0) * 100:.0f}%",
            ]
            if db.dialect == "postgresql":
                row.append(f"{r.cpu.get('postgres', 0) * 100:.0f}%")
            row.append(f"{r.cpu.get('machine', 0) * 100:.0f}%")
            rows.append(row)
    headers = ["server", "requests", "errors", "req/s", "p50 ms", "p99 ms", "server CPU", "emulator CPU", "client CPU"]
    if db.dialect == "postgresql":
        headers.append("postgres CPU")
    headers.append(f"machine CPU (of {len(cpus) * 100}%)")
    print(f"{CLIENTS} concurrent clients, {args.duration:g} s per server per round, {args.rounds} round(s)")
    print()
    print_table(headers, rows)
    for name, r in results.items():
        if r.errors:
            print(f"{name} errors: {dict(r.errors)}")
    ratio = results["opencams"].rps / results["bare app"].rps if results["bare app"].rps else float("nan")
    met = ratio >= TARGET_RATIO and not any(r.errors for r in results.values())
    print(f"Target: opencams / bare ≥ {TARGET_RATIO} with no errors: {ratio:.2f} -> {'MET' if met else 'MISSED'}")
    print(
        "CPU columns: share of one core used during the measured seconds (server = the server process and its "
        "threads; machine = every process on the machine, this benchmark's and others')."
    )
    write_json(
        args.json,
        {
            "benchmark": "throughput",
            "machine": facts,
            "ratio": ratio,
            "target_met": met,
            "results": {
                name: [
                    {
                        "completed": r.completed,
                        "ok": r.ok,
                        "errors": dict(r.errors),
                        "rps": r.rps,
                        "p50_ms": percentile(r.latencies_ms, 50),
                        "p99_ms": percentile(r.latencies_ms, 99),
                        "cpu": r.cpu,
                    }
                    for r in rs
                ]
                for name, rs in runs.items()
            },
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
