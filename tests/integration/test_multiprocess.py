"""Two `opencams serve` processes on one database: syncs never interleave, nonces are shared."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from alibabacloud_cams20200606 import models

from opencams.config import Settings

from ..harness import Admin, ServerProcess, new_sdk, server_env, sign_v1, v1_params

pytestmark = pytest.mark.slow


@pytest.fixture
def two_servers(settings: Settings, tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    settings.rate_limits = "ChatappSyncPhoneNumber=1000/s"
    env = server_env(settings)
    a = ServerProcess(env, tmp_path / "a.log")
    try:
        b = ServerProcess(env, tmp_path / "b.log")
    except Exception:
        a.stop()
        raise
    yield a, b
    a.stop()
    b.stop()


def test_fifty_concurrent_syncs_across_two_processes(
    two_servers: tuple[ServerProcess, ServerProcess], admin: Admin
) -> None:
    account = admin.account()
    key = admin.key(account)
    space = admin.space(account)
    endpoints = [s.endpoint for s in two_servers]

    def sync(i: int) -> dict[str, Any]:
        client = new_sdk(endpoints[i % 2], key)
        client._read_timeout = 60000
        response = client.chatapp_sync_phone_number(models.ChatappSyncPhoneNumberRequest(cust_space_id=space))
        assert response.status_code == 200
        return response.body.to_map()  # type: ignore[no-any-return]

    with ThreadPoolExecutor(50) as pool:
        bodies = list(pool.map(sync, range(50)))
    assert all(b["Code"] == "OK" for b in bodies)
    first = bodies[0]["PhoneNumbers"]
    assert len(first) == 250
    assert all(b["PhoneNumbers"] == first for b in bodies)
    rows = admin.raw_rows(space)
    assert len(rows) == 250
    assert len({r[1] for r in rows}) == 250
    for server in two_servers:
        log = server.log_path.read_text()
        assert "Traceback" not in log and "deadlock" not in log.lower()


def test_nonce_replayed_on_another_process_is_refused(
    two_servers: tuple[ServerProcess, ServerProcess], admin: Admin
) -> None:
    account = admin.account()
    ak, secret = admin.key(account)
    space = admin.space(account)
    params = sign_v1(v1_params(ak, action="QueryChatappPhoneNumbers", CustSpaceId=space), secret)
    first = httpx.post(f"http://{two_servers[0].endpoint}/", params=params)
    assert first.status_code == 200, first.text
    replay = httpx.post(f"http://{two_servers[1].endpoint}/", params=params)
    assert replay.status_code == 400
    assert replay.json()["Code"] == "SignatureNonceUsed"
    assert replay.json()["Message"] == "Specified signature nonce was used already."
