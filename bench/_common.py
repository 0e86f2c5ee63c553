"""Shared helpers of the benchmarks: machine facts, scratch databases, servers, signing, raw HTTP, stats."""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import platform
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from starlette.applications import Starlette

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
GRAPH_TOKEN = "bench-graph-token"
SECRET_KEY = "opencams-bench-deployment-key"
API_VERSION = "2020-06-06"
SYNC_ACTION = "ChatappSyncPhoneNumber"
UNTHROTTLED = "ChatappSyncPhoneNumber=100000/s"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- command line and reporting ----------------------------------------------------------


def base_parser(description: str) -> argparse.ArgumentParser:
    """The options every benchmark takes: --database-url, --quick, --json."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy URL; postgresql://... gets a scratch database created and dropped inside it "
        "(default: a temporary SQLite file)",
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this JSON file")
    return parser


def machine_facts() -> dict[str, str]:
    """CPU model, cores, RAM, kernel, Python and the versions of the libraries on the request path."""
    model = "unknown"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ram_kib = 0
    with suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_kib = int(line.split()[1])
    libs = []
    for dist in ("uvicorn", "uvloop", "httptools", "starlette", "httpx", "SQLAlchemy", "aiosqlite", "asyncpg"):
        try:
            libs.append(f"{dist} {importlib_metadata.version(dist)}")
        except importlib_metadata.PackageNotFoundError:
            libs.append(f"{dist} -")
    revision = "unknown"
    with suppress(OSError, subprocess.SubprocessError):
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "src"], capture_output=True, text=True
        )
        if head.returncode == 0:
            revision = head.stdout.strip() + (" + uncommitted changes in src/" if dirty.stdout.strip() else "")
    busy = machine_busy_seconds()
    time.sleep(0.5)
    busy = (machine_busy_seconds() - busy) / 0.5
    load = os.getloadavg()[0]
    return {
        "CPU": model,
        "Cores": f"{os.cpu_count()} (usable here: {len(os.sched_getaffinity(0))})",
        "RAM": f"{ram_kib / 1024 / 1024:.1f} GiB",
        "Kernel": platform.release(),
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "opencams": f"git {revision}",
        "Libraries": ", ".join(libs),
        "Background": f"load average {load:.2f}; CPU busy {busy * 100:.0f}% (of {(os.cpu_count() or 1) * 100}%) "
        "in the 0.5 s before the run; other processes on the machine add noise",
    }


def print_header(title: str, database: str | None, notes: Mapping[str, str] | None = None) -> dict[str, str]:
    """Print the benchmark title, the machine and the database; return the facts for the JSON report."""
    facts = machine_facts()
    if database is not None:
        facts["Database"] = database
    facts.update(notes or {})
    print(f"# {title}")
    print()
    width = max(len(k) for k in facts)
    for key, value in facts.items():
        print(f"{key + ':':<{width + 1}} {value}")
    print(flush=True)
    return facts


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A Markdown table, numbers right-aligned, ready to paste into bench/README.md."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    numeric = [all(_looks_numeric(r[i]) for r in cells) and bool(cells) for i in range(len(headers))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print(
        "|"
        + "|".join(("-" * (w + 1) + ":") if n else ("-" * (w + 2)) for w, n in zip(widths, numeric, strict=True))
        + "|"
    )
    for row in cells:
        parts = [c.rjust(w) if n else c.ljust(w) for c, w, n in zip(row, widths, numeric, strict=True)]
        print("| " + " | ".join(parts) + " |")
    print(flush=True)


def _looks_numeric(text: str) -> bool:
    stripped = text.replace(",", "").replace("×", "").replace("%", "").replace("x", "").strip()
    try:
        float(stripped)
    except ValueError:
        return False
    return True


def write_json(path: Path | None, report: Mapping[str, Any]) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"results written to {path}")


# --- statistics --------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100), as numpy's default; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


# --- scratch databases -------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    """An empty database for one benchmark run."""

    url: str  # async SQLAlchemy URL, as opencams takes it
    backend: str  # human description for the report
    dialect: str  # "sqlite" or "postgresql"


@contextmanager
def scratch_database(url: str | None, workdir: Path) -> Iterator[Database]:
    """A temporary SQLite file, or a scratch PostgreSQL database created in (and dropped from) `url`'s server."""
    from sqlalchemy.engine import make_url

    if url is None:
        path = workdir / "opencams.db"
        yield Database(
            f"sqlite+aiosqlite:///{path}", f"SQLite {sqlite3.sqlite_version} (aiosqlite), file {path}", "sqlite"
        )
        return
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if "+" not in parsed.drivername:
            parsed = parsed.set(drivername="sqlite+aiosqlite")
        yield Database(
            parsed.render_as_string(hide_password=False), f"SQLite {sqlite3.sqlite_version} (aiosqlite)", "sqlite"
        )
        return
    if backend != "postgresql":
        raise SystemExit(f"--database-url: only sqlite and postgresql URLs are supported, got {backend}")
    import psycopg

    admin = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"opencams_bench_{uuid.uuid4().hex[:12]}"
    try:
        conn = psycopg.connect(admin, autocommit=True)
    except psycopg.OperationalError as exc:
        raise SystemExit(f"--database-url: cannot connect to PostgreSQL: {exc}") from None
    with conn:
        version_row = conn.execute("SHOW server_version").fetchone()
        version = str(version_row[0]) if version_row else "?"
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield Database(
            parsed.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False),
            f"PostgreSQL {version} (asyncpg), scratch database {name} on {parsed.host}:{parsed.port or 5432}",
            "postgresql",
        )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"opencams-bench-{prefix}-") as tmp:
        yield Path(tmp)


def migrate(url: str) -> None:
    from opencams.db.migrate import upgrade

    upgrade(url)


# --- the Graph emulator ------------------------------------------------------------------

_STATUSES = ("CONNECTED", "CONNECTED", "CONNECTED", "PENDING", "FLAGGED", "RESTRICTED")
_QUALITY = ("GREEN", "GREEN", "YELLOW", "RED", "NA")
_TIERS = ("TIER_1K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED")
_NAME = ("APPROVED", "APPROVED", "PENDING_REVIEW", "DECLINED")


def waba_id(index: int) -> str:
    return str(900_000_000_000_000 + index)


def synthetic_numbers(waba_index: int, count: int) -> list[dict[str, Any]]:
    """`count` realistic phone-number nodes, with ids unique across WABAs."""
    numbers = []
    for i in range(count):
        numbers.append(
            {
                "id": str(700_000_000_000_000 + waba_index * 100_000 + i),
                "display_phone_number": f"+86 138-{waba_index % 10_000:04d}-{i:04d}",
                "verified_name": f"Bench Business {waba_index}-{i}",
                "status": _STATUSES[i % len(_STATUSES)],
                "quality_rating": _QUALITY[i % len(_QUALITY)],
                "code_verification_status": "VERIFIED" if i % 7 else "NOT_VERIFIED",
                "name_status": _NAME[i % len(_NAME)],
                "messaging_limit_tier": _TIERS[i % len(_TIERS)],
                "whatsapp_business_manager_messaging_limit": _TIERS[(i + 1) % len(_TIERS)],
                "platform_type": "CLOUD_API",
                "throughput": {"level": "STANDARD"},
                "account_mode": "LIVE",
                "is_official_business_account": i % 5 == 0,
                "last_onboarded_time": "2024-03-18T08:21:45+0000",
                "country_code": "CN",
                "country_dial_code": "86",
            }
        )
    return numbers


def emulator_document(sizes: Mapping[int, int]) -> dict[str, Any]:
    """A state document: WABA index -> number of phone numbers, all readable with GRAPH_TOKEN."""
    wabas = {
        waba_id(index): {"name": f"Bench WABA {index}", "phone_numbers": synthetic_numbers(index, count)}
        for index, count in sizes.items()
    }
    return {"description": "opencams benchmark data", "tokens": {GRAPH_TOKEN: list(wabas)}, "wabas": wabas}


def emulator_app() -> Starlette:
    """Uvicorn factory: the emulator over the state file named by BENCH_EMULATOR_STATE."""
    from opencams.emulator.app import create_app

    document = json.loads(Path(os.environ["BENCH_EMULATOR_STATE"]).read_text())
    return create_app(document, seed=1)


# --- servers in subprocesses -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def uvicorn_argv(factory: str, port: int) -> list[str]:
    """A uvicorn subprocess serving a factory the way `opencams serve` does (uvloop, httptools, no access log)."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        factory,
        "--factory",
        "--host",
        HOST,
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def opencams_cli() -> list[str]:
    script = Path(sys.executable).parent / "opencams"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from opencams.cli import main; main()"]


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any OPENCAMS_*/BENCH_* variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENCAMS_", "BENCH_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")]))
    env.update(extra)
    return env


def opencams_env(
    database_url: str, data_dir: Path, graph_url: str, *, rate_limits: str | None, redis_url: str | None = None
) -> dict[str, str]:
    env = {
        "OPENCAMS_DATA_DIR": str(data_dir),
        "OPENCAMS_DATABASE_URL": database_url,
        "OPENCAMS_SECRET_KEY": SECRET_KEY,
        "OPENCAMS_GRAPH_URL": graph_url,
        "OPENCAMS_GRAPH_TOKEN": GRAPH_TOKEN,
        "OPENCAMS_LOG_LEVEL": "WARNING",
    }
    if rate_limits is not None:
        env["OPENCAMS_RATE_LIMITS"] = rate_limits
    if redis_url is not None:
        env["OPENCAMS_REDIS_URL"] = redis_url
    return clean_env(env)


@dataclass
class Server:
    """A server subprocess on a loopback port."""

    name: str
    proc: subprocess.Popen[bytes]
    url: str
    port: int
    log_path: Path

    def pids(self) -> list[int]:
        return [self.proc.pid, *descendants(self.proc.pid)]

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server and its worker processes."""
        return sum(process_cpu_seconds(pid) for pid in self.pids())

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def start_server(
    name: str,
    argv: Sequence[str],
    env: Mapping[str, str],
    port: int,
    logdir: Path,
    *,
    health: str,
    cpus: set[int] | None = None,
    timeout: float = 60.0,
) -> Server:
    """Start `argv`, pin it to `cpus` if given, and wait until GET `health` answers 200."""
    log_path = logdir / f"{name}.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(list(argv), env=dict(env), cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    server = Server(name, proc, f"http://{HOST}:{port}", port, log_path)
    if cpus:
        os.sched_setaffinity(proc.pid, cpus)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode} before answering:\n{server.log_tail()}")
        try:
            if httpx.get(server.url + health, timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"{name} did not answer {health} within {timeout:g} s:\n{server.log_tail()}")
        time.sleep(0.05)


@contextmanager
def running(server: Server) -> Iterator[Server]:
    try:
        yield server
    finally:
        server.stop()


def start_emulator(document: Mapping[str, Any], logdir: Path, *, cpus: set[int] | None = None) -> Server:
    state = logdir / "emulator-state.json"
    state.write_text(json.dumps(document))
    port = free_port()
    env = clean_env({"BENCH_EMULATOR_STATE": str(state)})
    return start_server(
        "emulator",
        uvicorn_argv("bench._common:emulator_app", port),
        env,
        port,
        logdir,
        health="/_emulator/health",
        cpus=cpus,
    )


def start_opencams(
    db: Database,
    graph_url: str,
    logdir: Path,
    *,
    rate_limits: str | None = UNTHROTTLED,
    cpus: set[int] | None = None,
) -> Server:
    """`python -m uvicorn opencams.bootstrap:create_app --factory`, configured by OPENCAMS_* variables."""
    port = free_port()
    env = opencams_env(db.url, logdir / "data", graph_url, rate_limits=rate_limits)
    return start_server(
        "opencams", uvicorn_argv("opencams.bootstrap:create_app", port), env, port, logdir, health="/healthz", cpus=cpus
    )


def usable_cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


# --- /proc accounting --------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses; the fields after the last ')' do not.
    return text[text.rindex(")") + 2 :].split()


def process_cpu_seconds(pid: int) -> float:
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (uvicorn workers)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None:
                parents[int(entry.name)] = int(fields[1])
    found: list[int] = []
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        children = [child for child, parent in parents.items() if parent == current]
        found.extend(children)
        frontier.extend(children)
    return found


def command_cpu_seconds(command: str) -> float:
    """CPU time of every process whose command name is `command` (e.g. the PostgreSQL backends)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if comm == command:
            total += process_cpu_seconds(int(entry.name))
    return total


def machine_busy_seconds() -> float:
    """CPU-seconds spent busy on all cores since boot (from /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / CLK_TCK


@dataclass
class CpuMeter:
    """CPU used by named processes (and the whole machine) between start() and stop()."""

    sources: dict[str, Callable[[], float]]
    start_values: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0

    def start(self) -> None:
        self.start_values = {name: fn() for name, fn in self.sources.items()}
        self.start_values["machine"] = machine_busy_seconds()
        self.wall = time.perf_counter()

    def stop(self) -> dict[str, float]:
        """Share of one core each source used (1.0 = one core fully busy); `machine` is over all cores."""
        wall = time.perf_counter() - self.wall
        used = {name: (fn() - self.start_values[name]) / wall for name, fn in self.sources.items()}
        used["machine"] = (machine_busy_seconds() - self.start_values["machine"]) / wall
        return used


# --- accounts, keys and spaces -----------------------------------------------------------


@dataclass(frozen=True)
class Tenant:
    """One account with its AccessKey and its spaces (WABA id -> CustSpaceId)."""

    account_id: str
    key_id: str
    secret: str
    spaces: dict[str, str]


def admin_settings(db: Database, data_dir: Path, graph_url: str) -> Any:
    from opencams.config import Settings

    data_dir.mkdir(parents=True, exist_ok=True)
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        database_url=db.url,
        secret_key=SECRET_KEY,  # type: ignore[arg-type]
        graph_url=graph_url,
        graph_token=GRAPH_TOKEN,  # type: ignore[arg-type]
        redis_url=None,
    )


def provision(db: Database, data_dir: Path, graph_url: str, waba_groups: Sequence[Sequence[str]]) -> list[Tenant]:
    """One account + AccessKey per group, with one space per WABA id of the group (via build_container)."""
    from opencams.bootstrap import build_container

    settings = admin_settings(db, data_dir, graph_url)

    async def main() -> list[Tenant]:
        container = build_container(settings)
        tenants = []
        try:
            for index, group in enumerate(waba_groups):
                account = await container.accounts.create_account(f"bench-{index}")
                key = await container.accounts.create_access_key(account.id)
                spaces = {}
                for waba in group:
                    spaces[waba] = (await container.spaces.create_space(account.id, waba)).id
                tenants.append(Tenant(account.id, key.id, key.secret, spaces))
        finally:
            await container.aclose()
        return tenants

    return asyncio.run(main())


# --- signing (independent of opencams' own signer) ---------------------------------------


def percent_encode(value: str) -> str:
    return quote(value, safe="-_.~")


def v1_timestamp(now: float | None = None) -> str:
    return datetime.fromtimestamp(time.time() if now is None else now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign_v1(params: Mapping[str, str], secret: str, method: str = "POST") -> dict[str, str]:
    """HMAC-SHA1 signature of the RPC parameters, as the legacy SDK computes it."""
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&%2F&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return {**params, "Signature": base64.b64encode(digest).decode()}


def v1_params(
    key_id: str, cust_space_id: str, *, action: str = SYNC_ACTION, nonce: str | None = None
) -> dict[str, str]:
    """The parameters the legacy SDK sends for one call, with a fresh nonce and timestamp."""
    return {
        "Action": action,
        "Version": API_VERSION,
        "Format": "JSON",
        "RegionId": "ap-southeast-1",
        "AccessKeyId": key_id,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": nonce or uuid.uuid4().hex,
        "Timestamp": v1_timestamp(),
        "CustSpaceId": cust_space_id,
    }


def form_body(params: Mapping[str, str]) -> bytes:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in params.items()).encode()


def signed_sync_body(tenant: Tenant, cust_space_id: str) -> bytes:
    """A V1-signed ChatappSyncPhoneNumber form body with a unique nonce."""
    return form_body(sign_v1(v1_params(tenant.key_id, cust_space_id), tenant.secret))


def http_post(port: int, body: bytes, path: str = "/") -> bytes:
    """The bytes of an HTTP/1.1 keep-alive form POST."""
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: {HOST}:{port}\r\n"
        "User-Agent: opencams-bench\r\n"
        "Accept: application/json\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


# --- a minimal HTTP/1.1 client (keep-alive, Content-Length bodies) ------------------------


class HttpConnection:
    """One keep-alive connection; far cheaper per request than httpx, so the client is not the bottleneck."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.usable = True
        self.last_used = time.monotonic()

    @classmethod
    async def open(cls, port: int) -> HttpConnection:
        reader, writer = await asyncio.open_connection(HOST, port)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        """Send one request; return the status and the body."""
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            lowered = name.strip().lower()
            if lowered == b"content-length":
                length = int(value)
            elif lowered == b"connection" and value.strip().lower() == b"close":
                self.usable = False
        if length is None:
            raise RuntimeError("response without Content-Length")
        body = await self.reader.readexactly(length)
        self.last_used = time.monotonic()
        return status, body

    async def close(self) -> None:
        self.usable = False
        self.writer.close()
        with suppress(OSError):
            await self.writer.wait_closed()


class ConnectionPool:
    """Idle keep-alive connections to one port; a request takes one or opens a new one.

    A connection idle for longer than `max_idle` is dropped rather than reused: uvicorn closes
    keep-alive connections after 5 s without a request, and a request written into a connection
    the server is closing would fail without ever reaching it.
    """

    max_idle = 3.0

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[HttpConnection] = []
        self.opened = 0

    async def fill(self, count: int) -> None:
        for _ in range(count):
            self.idle.append(await HttpConnection.open(self.port))
            self.opened += 1

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        now = time.monotonic()
        while self.idle and (now - self.idle[-1].last_used > self.max_idle or self.idle[-1].reader.at_eof()):
            await self.idle.pop().close()
        if self.idle:
            conn = self.idle.pop()
        else:
            conn = await HttpConnection.open(self.port)
            self.opened += 1
        try:
            result = await conn.request(raw)
        except BaseException:
            await conn.close()
            raise
        if conn.usable:
            self.idle.append(conn)
        else:
            await conn.close()
        return result

    async def close(self) -> None:
        for conn in self.idle:
            await conn.close()
        self.idle.clear()


def answer_code(body: bytes) -> str:
    """The envelope's Code ("OK" on success), or a marker when the body is not the envelope."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return "<not JSON>"
    return str(parsed.get("Code", "<no Code>")) if isinstance(parsed, dict) else "<not an object>"


def run_async(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on uvloop when installed (as uvicorn does), else on asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main())
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main())
