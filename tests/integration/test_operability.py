"""What an operator sees of a running `opencams serve`: metrics across workers, readiness, logs, outages."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from opencams.config import Settings

from ..conftest import POSTGRES_URL
from ..harness import WABA_250, Admin, Emulator, ServerProcess, server_env, sign_v1, v1_params

pytestmark = pytest.mark.slow


def query(endpoint: str, key: tuple[str, str], space: str) -> httpx.Response:
    params = sign_v1(v1_params(key[0], action="QueryChatappPhoneNumbers", CustSpaceId=space), key[1])
    return httpx.post(f"http://{endpoint}/", params=params, timeout=30)


def metric(text_: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition text (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    total = 0.0
    for line in text_.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            sample, _, value = line.rpartition(" ")
            got = sample[sample.find("{") + 1 : sample.rfind("}")] if "{" in sample else ""
            if ",".join(sorted(got.split(","))) == wanted or (not labels and "{" not in sample):
                total += float(value)
    return total


def test_metrics_count_the_calls_of_every_worker(settings: Settings, admin: Admin, tmp_path: Path) -> None:
    if not settings.is_sqlite:
        pytest.skip("one database is enough")
    multiproc = tmp_path / "metrics"
    multiproc.mkdir()
    settings.rate_limits = "QueryChatappPhoneNumbers=10000/s"
    env = {**server_env(settings), "PROMETHEUS_MULTIPROC_DIR": str(multiproc)}
    server = ServerProcess(env, tmp_path / "server.log", workers=2)
    try:
        account = admin.account()
        key = admin.key(account)
        space = admin.space(account)
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda _: query(server.endpoint, key, space), range(200)))
        assert all(a.json()["Code"] == "OK" for a in answers)
        # Each worker writes its own files: both of them served calls.
        pids = {p.name.rsplit("_", 1)[-1] for p in multiproc.glob("counter_*.db")}
        assert len(pids) >= 2, pids
        scraped = [httpx.get(f"http://{server.endpoint}/metrics", timeout=10).text for _ in range(6)]
        for page in scraped:
            assert metric(page, "opencams_requests_total", action="QueryChatappPhoneNumbers", code="OK") == 200
            assert metric(page, "opencams_request_seconds_count", action="QueryChatappPhoneNumbers") == 200
    finally:
        server.stop()


def test_logs_are_json_lines_with_the_request_id(
    settings: Settings, admin: Admin, emulator: Emulator, tmp_path: Path
) -> None:
    if not settings.is_sqlite:
        pytest.skip("one database is enough")
    env = {**server_env(settings), "OPENCAMS_LOG_FORMAT": "json"}
    server = ServerProcess(env, tmp_path / "server.log")
    try:
        account = admin.account()
        key = admin.key(account)
        space = admin.space(account)
        ok = query(server.endpoint, key, space)
        emulator.add_fault(
            {"path": f"*/{WABA_250}/phone_numbers", "times": 2, "action": {"error": {"code": 2, "status": 500}}}
        )
        emulator.add_fault({"path": f"*/{WABA_250}/phone_numbers", "action": {"error": {"code": 190, "status": 401}}})
        params = sign_v1(v1_params(key[0], CustSpaceId=space), key[1])
        failed = httpx.post(f"http://{server.endpoint}/", params=params, timeout=30)
        assert failed.json()["Code"] == "ERR-FB-001"
        time.sleep(0.5)
    finally:
        server.stop()
    lines = [json.loads(line) for line in server.log_path.read_text().splitlines() if line.startswith("{")]
    access = [r for r in lines if r["logger"] == "opencams.access"]
    first = next(r for r in access if r["request_id"] == ok.json()["RequestId"])
    assert (first["action"], first["code"], first["http_status"], first["account_id"]) == (
        "QueryChatappPhoneNumbers",
        "OK",
        200,
        account,
    )
    assert isinstance(first["ms"], float)
    request_id = failed.json()["RequestId"]
    of_failed = [r for r in lines if r.get("request_id") == request_id]
    retries = [r["message"] for r in of_failed if r["message"].startswith("retrying Meta call")]
    assert len(retries) == 2
    assert f"GET /v23.0/{WABA_250}/phone_numbers (attempt 2 of 5) after GraphApiError" in retries[0]
    failure = next(r for r in of_failed if r["message"].startswith("sync failed"))
    assert (failure["event"], failure["meta_code"], failure["CustSpaceId"]) == ("sync_failed", 190, space)
    assert any(r["logger"] == "opencams.access" and r["code"] == "ERR-FB-001" for r in of_failed)


@pytest.fixture
def postgres_only(settings: Settings) -> str:
    if settings.is_sqlite or not POSTGRES_URL:
        pytest.skip("a PostgreSQL database that goes away")
    return make_url(settings.effective_database_url).database or ""


def test_a_database_that_goes_away_answers_503_then_recovers(
    settings: Settings, admin: Admin, postgres_only: str, tmp_path: Path
) -> None:
    assert POSTGRES_URL
    name = postgres_only
    account = admin.account()
    key = admin.key(account)
    space = admin.space(account)
    server = ServerProcess(server_env(settings), tmp_path / "server.log")
    superuser = create_engine(
        make_url(POSTGRES_URL).set(drivername="postgresql+psycopg", database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        assert query(server.endpoint, key, space).json()["Code"] == "OK"
        assert httpx.get(f"http://{server.endpoint}/readyz").status_code == 200
        with superuser.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
            conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        for _ in range(5):
            down = query(server.endpoint, key, space)
            assert down.status_code == 503, down.text
            assert down.json()["Code"] == "ServiceUnavailable"
        ready = httpx.get(f"http://{server.endpoint}/readyz")
        assert ready.status_code == 503
        assert "database unreachable" in ready.json()["problems"][0]
        assert httpx.get(f"http://{server.endpoint}/healthz").status_code == 200  # alive, not ready
        with superuser.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
        deadline = time.monotonic() + 20
        while query(server.endpoint, key, space).status_code != 200:
            assert time.monotonic() < deadline, "no recovery"
            time.sleep(0.2)
        assert httpx.get(f"http://{server.endpoint}/readyz").json() == {"status": "ready"}
    finally:
        with superuser.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
        superuser.dispose()
        server.stop()
    log = server.log_path.read_text()
    assert "InternalError" not in log and "Traceback" not in log
    assert "a store is unavailable" in log
