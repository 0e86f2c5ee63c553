"""The account limit across `--workers` processes through Redis, and what happens when Redis dies."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from opencams.config import Settings
from opencams.db.limits import AccountRateStore
from opencams.ratelimit import Rate

from ..conftest import REDIS_URL
from ..e2e.test_throttling import burst, codes, small_space
from ..harness import Admin, ServerProcess, free_port, server_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not REDIS_URL, reason="Redis tests need OPENCAMS_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0)"
    ),
]


class ThrowawayRedis:
    """A redis-server of our own on a free port, so killing it touches nothing shared."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not on PATH")
        self.binary = binary
        self.port = free_port()
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                import socket

                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def redis() -> Iterator[ThrowawayRedis]:
    server = ThrowawayRedis()
    yield server
    server.kill()


def limited_owner(admin: Admin) -> tuple[tuple[str, str], str]:
    """An account limited to 10 calls per 5 s: a burst then fits the window even when the four
    workers, sharing one SQLite file, take more than a second to get through it."""
    account = admin.account()
    admin.run(lambda c: AccountRateStore(c.engine).set_rate(account, "ChatappSyncPhoneNumber", Rate.parse("10/5s")))
    return admin.key(account), small_space(admin, account)


def serve(settings: Settings, tmp_path: Path, redis_url: str, policy: str, name: str) -> ServerProcess:
    settings.redis_url = redis_url
    env = {**server_env(settings), "OPENCAMS_RATE_LIMIT_ON_REDIS_FAILURE": policy}
    return ServerProcess(env, tmp_path / f"{name}.log", workers=4)


def test_four_workers_share_the_account_limit(settings: Settings, admin: Admin, tmp_path: Path) -> None:
    assert REDIS_URL
    server = serve(settings, tmp_path, REDIS_URL, "reject", "shared")
    try:
        key, space = limited_owner(admin)
        # 40 calls at once land on all four workers: still only 10 are admitted.
        assert codes(burst(server.endpoint, key, space, 40)) == ["OK"] * 10 + ["System.LimitControl"] * 30
    finally:
        server.stop()


@pytest.mark.parametrize("policy", ["reject", "local"])
def test_redis_dying_and_coming_back(
    settings: Settings, admin: Admin, tmp_path: Path, redis: ThrowawayRedis, policy: str
) -> None:
    server = serve(settings, tmp_path, redis.url, policy, f"outage-{policy}")
    try:
        key, space = limited_owner(admin)
        assert codes(burst(server.endpoint, key, space, 12)) == ["OK"] * 10 + ["System.LimitControl"] * 2

        redis.kill()
        time.sleep(5.1)
        during = burst(server.endpoint, key, space, 50)
        assert all(r.status_code < 500 or r.status_code == 503 for r in during)
        if policy == "reject":
            assert {r.json()["Code"] for r in during} == {"ServiceUnavailable"}
            assert all(r.status_code == 503 for r in during)
        else:
            # Each of the 4 workers limits on its own, from an empty window: never more than 4 x 10.
            admitted = sum(r.json()["Code"] == "OK" for r in during)
            assert 10 <= admitted <= 40
            assert {r.json()["Code"] for r in during} <= {"OK", "System.LimitControl"}

        redis.start()
        time.sleep(5.5)
        assert codes(burst(server.endpoint, key, space, 12)) == ["OK"] * 10 + ["System.LimitControl"] * 2
        assert server.proc.poll() is None, "the server died"
        assert httpx.get(f"http://{server.endpoint}/healthz").status_code == 200
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert "Traceback" not in log
    assert "unreachable" in log.lower() or "redis" in log.lower()


def test_nonces_in_redis_are_shared_by_processes(settings: Settings, admin: Admin, tmp_path: Path) -> None:
    assert REDIS_URL
    settings.redis_url = REDIS_URL
    env = server_env(settings)
    a = ServerProcess(env, tmp_path / "a.log")
    b = ServerProcess(env, tmp_path / "b.log")
    try:
        from ..harness import sign_v1, v1_params

        account = admin.account()
        ak, secret = admin.key(account)
        params = sign_v1(v1_params(ak, action="QueryChatappPhoneNumbers", CustSpaceId=admin.space(account)), secret)
        assert httpx.post(f"http://{a.endpoint}/", params=params).status_code == 200
        replay = httpx.post(f"http://{b.endpoint}/", params=params)
        assert replay.status_code == 400
        assert replay.json()["Code"] == "SignatureNonceUsed"
    finally:
        a.stop()
        b.stop()


@pytest.mark.parametrize("policy", ["reject", "local"])
def test_no_request_is_accepted_twice_across_a_redis_outage(
    settings: Settings, admin: Admin, tmp_path: Path, redis: ThrowawayRedis, policy: str
) -> None:
    from ..harness import sign_v1, v1_params

    settings.redis_url = redis.url
    env = {**server_env(settings), "OPENCAMS_RATE_LIMIT_ON_REDIS_FAILURE": policy}
    a = ServerProcess(env, tmp_path / "a.log")
    b = ServerProcess(env, tmp_path / "b.log")
    try:
        account = admin.account()
        ak, secret = admin.key(account)
        space = admin.space(account)
        captured = sign_v1(v1_params(ak, action="QueryChatappPhoneNumbers", CustSpaceId=space), secret)
        assert httpx.post(f"http://{a.endpoint}/", params=captured).json()["Code"] == "OK"
        redis.kill()
        for server in (a, b, a):
            replay = httpx.post(f"http://{server.endpoint}/", params=captured)
            # Refused as a replay (nonces in the database under `local`) or not served at all (`reject`).
            expected = "SignatureNonceUsed" if policy == "local" else "ServiceUnavailable"
            assert replay.json()["Code"] == expected
        if policy == "local":
            fresh = sign_v1(v1_params(ak, action="QueryChatappPhoneNumbers", CustSpaceId=space), secret)
            assert httpx.post(f"http://{b.endpoint}/", params=fresh).json()["Code"] == "OK"
        # Redis comes back empty (no persistence): what it forgot cannot be replayed either.
        redis.start()
        time.sleep(1.5)
        for server in (a, b):
            replay = httpx.post(f"http://{server.endpoint}/", params=captured).json()
            assert replay["Code"] in ("SignatureNonceUsed", "InvalidTimeStamp.Expired"), replay
        fresh = sign_v1(v1_params(ak, action="QueryChatappPhoneNumbers", CustSpaceId=space), secret)
        assert httpx.post(f"http://{a.endpoint}/", params=fresh).json()["Code"] == "OK"
    finally:
        a.stop()
        b.stop()
