"""Test harness: real servers on free loopback ports, databases per test, SDK clients."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn
from starlette.types import ASGIApp

from opencams.bootstrap import Container, build_container
from opencams.config import Settings
from opencams.httpserver import ServerConfig

T = TypeVar("T")
# Every secret the tests create or use, and every log file of a server subprocess: the session
# ends by checking that no log line holds any of these secrets.
SECRETS: set[str] = {"test-token", "other-token", "test-deployment-key"}
LOG_FILES: list[Path] = []


def find_leaks(lines: list[str], secrets: set[str]) -> list[tuple[str, str]]:
    """(secret prefix, line) for every log line that contains a secret.

    A secret of digits only (a two-step PIN, a verification code) counts only as a whole number:
    six digits also occur inside the random account ids of ordinary lines (8682554788594931 holds
    682554), which made the scan fail about once in thirty sessions.
    """
    numeric = {s: re.compile(rf"(?<![0-9]){re.escape(s)}(?![0-9])") for s in secrets if s.isdigit()}
    return [
        (secret[:4] + "...", line[:200])
        for line in lines
        for secret in secrets
        if (numeric[secret].search(line) if secret in numeric else secret in line)
    ]


FIXTURES = Path(__file__).parent / "fixtures"
WABA_250 = "102290129340398"


@contextmanager
def serve_app(app: ASGIApp, *, lifespan: str = "on", request_read_timeout: float = 10.0) -> Iterator[str]:
    """Run an ASGI app under uvicorn in a thread on a free port; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = ServerConfig(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan=lifespan,
        proxy_headers=False,
        request_read_timeout=request_read_timeout,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Emulator:
    """Control of a running Graph emulator."""

    url: str

    def set_state(self, state: dict[str, Any]) -> None:
        r = httpx.put(f"{self.url}/_emulator/state", json=state)
        assert r.status_code == 200, r.text

    def state(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/_emulator/state").json()  # type: ignore[no-any-return]

    def add_fault(self, rule: dict[str, Any] | list[dict[str, Any]]) -> None:
        r = httpx.post(f"{self.url}/_emulator/faults", json=rule)
        assert r.status_code in (200, 201), r.text

    def clear_faults(self) -> None:
        httpx.delete(f"{self.url}/_emulator/faults")

    def calls(self) -> list[dict[str, Any]]:
        body = httpx.get(f"{self.url}/_emulator/calls").json()
        return body["calls"] if isinstance(body, dict) else body  # type: ignore[no-any-return]

    def clear_calls(self) -> None:
        httpx.delete(f"{self.url}/_emulator/calls")

    def reset(self) -> None:
        r = httpx.post(f"{self.url}/_emulator/reset")
        assert r.status_code == 200, r.text


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "graph" / name).read_text())  # type: ignore[no-any-return]


class Admin:
    """Operator actions against the test database, on one event loop and container of its own.

    The loop runs in a thread so tests (synchronous) can call in while servers run in theirs;
    the container is built once per test rather than once per call.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._loop: asyncio.AbstractEventLoop | None = None
        self._container: Container | None = None

    def _start(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            threading.Thread(target=self._loop.run_forever, daemon=True).start()
        return self._loop

    def run(self, fn: Callable[[Container], Awaitable[T]]) -> T:
        loop = self._start()

        async def call() -> T:
            if self._container is None:
                self._container = build_container(self.settings)
            return await fn(self._container)

        return asyncio.run_coroutine_threadsafe(call(), loop).result(timeout=120)

    def close(self) -> None:
        if self._loop is None:
            return
        if self._container is not None:
            asyncio.run_coroutine_threadsafe(self._container.aclose(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)

    def account(self, *, cams: bool = True) -> str:
        return self.run(lambda c: c.accounts.create_account(f"acct-{uuid.uuid4().hex[:6]}", cams_enabled=cams)).id

    def key(self, account_id: str) -> tuple[str, str]:
        key = self.run(lambda c: c.accounts.create_access_key(account_id))
        SECRETS.add(key.secret)
        return key.id, key.secret

    def space(self, account_id: str, waba_id: str = WABA_250, **kwargs: Any) -> str:
        return self.run(lambda c: c.spaces.create_space(account_id, waba_id, **kwargs)).id

    def numbers(self, space_id: str, *, include_removed: bool = False) -> list[Any]:
        return self.run(lambda c: c.spaces.list_numbers(space_id, include_removed=include_removed))

    def raw_rows(self, space_id: str) -> list[tuple[Any, ...]]:
        """Every stored column of the space's numbers, for byte-for-byte comparisons."""
        from sqlalchemy import select

        from opencams.db.tables import phone_numbers

        async def rows(c: Container) -> list[tuple[Any, ...]]:
            async with c.engine.connect() as conn:
                result = await conn.execute(
                    select(phone_numbers)
                    .where(phone_numbers.c.space_id == space_id)
                    .order_by(phone_numbers.c.phone_number_id)
                )
                return [tuple(r) for r in result.all()]

        return self.run(rows)


def new_sdk(endpoint: str, key: tuple[str, str], *, algorithm: str | None = None, token: str | None = None) -> Any:
    """The official alibabacloud-cams20200606 client pointed at `endpoint` (host:port)."""
    from alibabacloud_cams20200606.client import Client
    from alibabacloud_tea_openapi.utils_models import Config

    config = Config(
        access_key_id=key[0],
        access_key_secret=key[1],
        security_token=token,
        endpoint=endpoint,
        protocol="http",
        region_id="ap-southeast-1",
    )
    if algorithm:
        config.signature_algorithm = algorithm
    return Client(config)


def legacy_call(endpoint: str, key: tuple[str, str], request: Any) -> Any:
    """Send a legacy aliyun-python-sdk request; returns the parsed JSON body."""
    from aliyunsdkcore.client import AcsClient

    client = AcsClient(key[0], key[1], "ap-southeast-1")
    request.set_endpoint(endpoint)
    request.set_protocol_type("http")
    return json.loads(client.do_action_with_exception(request))


def snake(name: str) -> str:
    import re

    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def sdk_call(client: Any, action: str, **params: Any) -> Any:
    """Call `action` through the new SDK client with snake_case request fields; the response body."""
    from alibabacloud_cams20200606 import models

    request = getattr(models, f"{action}Request")(**params)
    return getattr(client, snake(action))(request).body


def legacy_action(endpoint: str, key: tuple[str, str], action: str, **params: str) -> Any:
    """Call `action` through the legacy SDK (aliyun-python-sdk-cams) with CAMS parameter names."""
    import importlib

    module = importlib.import_module(f"aliyunsdkcams.request.v20200606.{action}Request")
    request = getattr(module, f"{action}Request")()
    for name, value in params.items():
        getattr(request, f"set_{name}")(value)
    return legacy_call(endpoint, key, request)


NODE_DIR = Path(__file__).parent / "node"


def node_available() -> bool:
    import shutil

    return shutil.which("node") is not None and (NODE_DIR / "node_modules" / "@alicloud" / "cams20200606").exists()


def node_action(endpoint: str, key: tuple[str, str], action: str, **params: Any) -> dict[str, Any]:
    """Call `action` through the Node SDK (params in camelCase); {statusCode, body} or {error}."""
    import subprocess

    args = ["node", str(NODE_DIR / "call.js"), endpoint, key[0], key[1], action, json.dumps(params)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def sign_v1(params: dict[str, str], secret: str, method: str = "POST") -> dict[str, str]:
    """An independent HMAC-SHA1 signer (not opencams' own), for hand-built requests."""
    import base64
    import hashlib
    import hmac
    from urllib.parse import quote

    def enc(s: str) -> str:
        return quote(s, safe="-_.~")

    canonical = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&%2F&{enc(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return {**params, "Signature": base64.b64encode(digest).decode()}


def sign_v3(
    access_key_id: str,
    secret: str,
    host: str,
    *,
    action: str = "ChatappSyncPhoneNumber",
    query: dict[str, str] | None = None,
    body: bytes = b"",
    nonce: str | None = None,
    token: str | None = None,
    extra: dict[str, str] | None = None,
) -> tuple[str, dict[str, str]]:
    """An independent ACS3-HMAC-SHA256 signer (not opencams' own): (query string, headers) to send."""
    import hashlib
    import hmac
    from datetime import UTC, datetime
    from urllib.parse import quote

    def enc(s: str) -> str:
        return quote(s, safe="-_.~")

    query = query or {}
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": "2020-06-06",
        "x-acs-date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        **({"content-type": "application/x-www-form-urlencoded"} if body else {}),
        **({"x-acs-security-token": token, "x-acs-accesskey-id": access_key_id} if token else {}),
        **(extra or {}),
    }
    canonical_query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(query.items()))
    names = sorted(headers)
    canonical = "\n".join(
        [
            "POST",
            "/",
            canonical_query,
            "".join(f"{n}:{headers[n].strip()}\n" for n in names),
            ";".join(names),
            headers["x-acs-content-sha256"],
        ]
    )
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    signature = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"ACS3-HMAC-SHA256 Credential={access_key_id},SignedHeaders={';'.join(names)},Signature={signature}"
    )
    return canonical_query, headers


@dataclass
class RawResponse:
    """An HTTP answer read off a raw socket."""

    status_code: int
    headers: dict[str, str]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


def raw_request(
    server: str, method: str, target: str, headers: list[tuple[str, str]], body: bytes = b"", timeout: float = 10
) -> RawResponse:
    """Send bytes exactly as given (an attacker's client does not tidy header values as httpx does)."""
    host, port = server.split(":")
    head = f"{method} {target} HTTP/1.1\r\n".encode()
    head += b"".join(f"{k}: {v}\r\n".encode("latin-1") for k, v in headers)
    head += f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(head + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    header_block, _, content = data.partition(b"\r\n\r\n")
    lines = header_block.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    parsed = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return RawResponse(status, parsed, content)


def v1_params(access_key_id: str, action: str = "ChatappSyncPhoneNumber", **extra: str) -> dict[str, str]:
    """The common parameters the legacy SDK sends, with a fresh nonce and timestamp."""
    from datetime import UTC, datetime

    return {
        "Action": action,
        "Version": "2020-06-06",
        "Format": "JSON",
        "AccessKeyId": access_key_id,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": uuid.uuid4().hex,
        "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **extra,
    }


class ServerProcess:
    """`opencams serve` as a real subprocess, for multi-process and crash tests."""

    def __init__(self, env: dict[str, str], log_path: Path, *, workers: int = 1) -> None:
        import os
        import subprocess
        import sys

        self.port = free_port()
        self.log_path = log_path
        LOG_FILES.append(log_path)
        self.env = {**os.environ, **env}
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "opencams", "serve", "--port", str(self.port), "--workers", str(workers)],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"opencams serve did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.1)

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def kill(self) -> None:
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except Exception:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


def server_env(settings: Settings) -> dict[str, str]:
    """OPENCAMS_* variables equivalent to `settings`, for a subprocess."""
    env = {
        "OPENCAMS_DATA_DIR": str(settings.data_dir),
        "OPENCAMS_DATABASE_URL": settings.effective_database_url,
        "OPENCAMS_GRAPH_URL": settings.graph_url,
        "OPENCAMS_SYNC_DEADLINE": str(settings.sync_deadline),
        "OPENCAMS_RATE_LIMITS": settings.rate_limits,
        "OPENCAMS_LOG_LEVEL": "INFO",
    }
    if settings.secret_key:
        env["OPENCAMS_SECRET_KEY"] = settings.secret_key.get_secret_value()
    if settings.graph_token:
        env["OPENCAMS_GRAPH_TOKEN"] = settings.graph_token.get_secret_value()
    if settings.redis_url:
        env["OPENCAMS_REDIS_URL"] = settings.redis_url
    return env
