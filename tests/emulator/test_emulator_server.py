"""The emulator over a real socket: uvicorn in a thread, and `python -m opencams.emulator`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

import opencams.emulator

from .helpers import BIG_WABA, EDGE, TOKEN, WABA_250


def test_paging_over_http_follows_absolute_links(live_url: str) -> None:
    ids: list[str] = []
    url = f"{live_url}{EDGE}?access_token={TOKEN}&fields=id&limit=100"
    pages = 0
    with httpx.Client() as http:
        while url:
            body = http.get(url).json()
            pages += 1
            ids += [n["id"] for n in body["data"]]
            url = body["paging"].get("next", "")
            if url:
                assert urlsplit(url).netloc == urlsplit(live_url).netloc
        calls = http.get(f"{live_url}/_emulator/calls").json()["calls"]
    assert (pages, len(ids), len(set(ids))) == (3, 250, 250)
    assert [c["status"] for c in calls] == [200, 200, 200]
    assert [c["query"].get("after") is None for c in calls] == [True, False, False]


def test_drop_is_a_transport_error_over_tcp(live_url: str) -> None:
    with httpx.Client() as http:
        http.post(f"{live_url}/_emulator/faults", json={"times": 1, "action": {"drop": True}})
        with pytest.raises(httpx.RemoteProtocolError):
            http.get(f"{live_url}{EDGE}", params={"access_token": TOKEN})
        after = http.get(f"{live_url}{EDGE}", params={"access_token": TOKEN})
    assert after.status_code == 200


def test_delay_hits_a_client_timeout(live_url: str) -> None:
    with httpx.Client(timeout=0.2) as http:
        http.post(f"{live_url}/_emulator/faults", json={"times": 1, "action": {"delay": 1}})
        with pytest.raises(httpx.ReadTimeout):
            http.get(f"{live_url}{EDGE}", params={"access_token": TOKEN})


def test_error_over_http(live_url: str) -> None:
    with httpx.Client() as http:
        response = http.get(f"{live_url}{EDGE}", params={"access_token": "bad"})
    assert response.status_code == 401
    error = response.json()["error"]
    assert (error["code"], error["error_subcode"]) == (190, 467)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.parametrize("fixture", [None, WABA_250])
def test_module_entry_point_serves_a_fixture_or_the_demo(fixture: Path | None, tmp_path: Path) -> None:
    port = _free_port()
    src = str(Path(opencams.emulator.__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    args = [sys.executable, "-m", "opencams.emulator", "--port", str(port), "--seed", "3"]
    if fixture is not None:
        args += ["--fixture", str(fixture)]
    log = (tmp_path / "emulator.log").open("w")
    process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(f"{base}/_emulator/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, (tmp_path / "emulator.log").read_text()
                assert time.monotonic() < deadline, "emulator did not start"
                time.sleep(0.05)
        if fixture is None:
            response = httpx.get(f"{base}/v23.0/230498761234567/phone_numbers", params={"access_token": "demo-token"})
            assert [n["display_phone_number"] for n in response.json()["data"]] == [
                "+1 631-555-0100",
                "+44 7700 900123",
                "+1 555-010-0199",
            ]
        else:
            response = httpx.get(
                f"{base}/v23.0/{BIG_WABA}/phone_numbers", params={"access_token": TOKEN, "summary": "true"}
            )
            assert response.json()["summary"] == {"total_count": 250}
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
