"""`opencams serve` as a process against clients that send too much, too slowly, or leave early."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from opencams.config import Settings

from ..harness import Admin, ServerProcess, server_env, sign_v1, v1_params

pytestmark = pytest.mark.slow


@pytest.fixture
def sqlite_settings(settings: Settings) -> Settings:
    if not settings.is_sqlite:
        pytest.skip("process-level client behaviour does not depend on the database")
    return settings


def start(settings: Settings, tmp_path: Path, name: str, **env: str) -> ServerProcess:
    return ServerProcess({**server_env(settings), **env}, tmp_path / f"{name}.log")


@pytest.fixture
def server(sqlite_settings: Settings, tmp_path: Path) -> Iterator[ServerProcess]:
    process = start(sqlite_settings, tmp_path, "server", OPENCAMS_REQUEST_READ_TIMEOUT="1")
    yield process
    process.stop()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def open_socket(server: ServerProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def closed_by_peer(sock: socket.socket, within: float) -> bool:
    """Whether the server closed the connection within `within` seconds (reading whatever it sent)."""
    sock.settimeout(within)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except OSError:
        return True
    return True


def test_huge_bodies_are_refused_without_being_read(server: ServerProcess, admin: Admin) -> None:
    account = admin.account()
    ak, secret = admin.key(account)
    query = "&".join(f"{k}={v}" for k, v in sign_v1(v1_params(ak, CustSpaceId="1"), secret).items())
    before = rss_kib(server.proc.pid)
    answers: list[bytes] = []

    def flood(chunked: bool) -> None:
        with open_socket(server) as sock:
            length = "transfer-encoding: chunked" if chunked else f"content-length: {100 << 20}"
            sock.sendall(f"POST /?{query} HTTP/1.1\r\nhost: x\r\n{length}\r\n\r\n".encode())
            block = b"z" * 65536
            try:
                for _ in range(1600):  # 100 MB, if the server kept reading
                    sock.sendall((b"10000\r\n" + block + b"\r\n") if chunked else block)
            except OSError:
                pass  # the server answered and closed: what we want
            sock.settimeout(5)
            data = b""
            try:
                while chunk := sock.recv(65536):
                    data += chunk
            except OSError:
                pass
            answers.append(data)

    threads = [threading.Thread(target=flood, args=(i % 2 == 1,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    grown_mib = (rss_kib(server.proc.pid) - before) / 1024
    assert grown_mib < 40, f"RSS grew by {grown_mib:.0f} MiB for four 100 MB bodies"
    assert len(answers) == 4
    assert all(a.startswith(b"HTTP/1.1 413") and b'"Code":"RequestBodyTooLarge"' in a for a in answers), answers


def test_slow_clients_are_cut_off(server: ServerProcess) -> None:
    # 300 connections trickling their headers, 20 trickling a body, 20 sending nothing at all.
    heads = [open_socket(server) for _ in range(300)]
    bodies = [open_socket(server) for _ in range(20)]
    silent = [open_socket(server) for _ in range(20)]
    for sock in heads:
        sock.sendall(b"POST / HTTP/1.1\r\nhost: x\r\n")
    for sock in bodies:
        sock.sendall(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\nabc")
    stop = time.monotonic() + 3
    while time.monotonic() < stop:  # keep trickling, one byte a connection every 0.3 s
        for sock in (*heads, *bodies):
            with contextlib.suppress(OSError):  # already closed by the server
                sock.send(b"x" if sock in bodies else b"a")
        time.sleep(0.3)
    everyone = [*heads, *bodies, *silent]
    closed = sum(closed_by_peer(sock, 2.0) for sock in everyone)
    for sock in everyone:
        sock.close()
    assert closed == len(everyone)
    # And the server still serves.
    with open_socket(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 200")


def test_oversized_headers_get_431_in_the_envelope(server: ServerProcess) -> None:
    with open_socket(server) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nhost: x\r\n" + b"x-pad: " + b"p" * (80 * 1024) + b"\r\n\r\n")
        data = b""
        sock.settimeout(5)
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 431")
    assert b'"Code":"MalformedRequest"' in data and b'"RequestId"' in data


def test_a_client_leaving_mid_request_logs_no_error(server: ServerProcess) -> None:
    for _ in range(20):
        with open_socket(server) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 5000\r\n\r\npartial")
    time.sleep(0.5)
    log = server.log_path.read_text()
    assert "Traceback" not in log
    assert " ERROR " not in log and "ERROR:" not in log


def test_sigterm_is_bounded_with_slow_clients_connected(sqlite_settings: Settings, tmp_path: Path) -> None:
    # A long read deadline, so only the shutdown bound can end these connections.
    process = start(
        sqlite_settings, tmp_path, "term", OPENCAMS_REQUEST_READ_TIMEOUT="120", OPENCAMS_SHUTDOWN_TIMEOUT="2"
    )
    socks = [open_socket(process) for _ in range(50)]
    for i, sock in enumerate(socks):
        sock.sendall(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n" if i % 2 else b"POST / HTTP/1.1\r\n")
    time.sleep(0.5)
    started = time.monotonic()
    os.kill(process.proc.pid, signal.SIGTERM)
    process.proc.wait(timeout=20)
    elapsed = time.monotonic() - started
    for sock in socks:
        sock.close()
    process.stop()
    assert elapsed < 2 + 3, f"shutdown took {elapsed:.1f} s"
