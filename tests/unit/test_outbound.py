"""The outbound address policy: URLs refused when given, addresses refused when called."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from opencams.outbound import OutboundPolicy, OutboundRefused

STRICT = OutboundPolicy()
DEV = OutboundPolicy(allow_private=True)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.0.1",
        "100.64.0.1",
        "169.254.169.254",
        "0.0.0.0",
        "0.1.2.3",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "2002:7f00:1::",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    ],
)
def test_internal_addresses_are_refused(address: str) -> None:
    assert not STRICT.allows(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "203.0.114.1", "2606:4700:4700::1111", "64:ff9b::808:808"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert STRICT.allows(ipaddress.ip_address(address))


def test_the_development_setting_opens_loopback_and_private_but_never_link_local() -> None:
    for address in ("127.0.0.1", "10.1.2.3", "::1", "fc00::1", "::ffff:127.0.0.1", "100.64.0.1"):
        assert DEV.allows(ipaddress.ip_address(address)), address
    for address in ("169.254.169.254", "fe80::1", "0.0.0.0", "::", "224.0.0.1", "64:ff9b::a9fe:a9fe"):
        assert not DEV.allows(ipaddress.ip_address(address)), address


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://2130706433/", "numeric host"),
        ("http://0x7f.1/", "numeric host"),
        ("http://0177.0.0.1/", "numeric host"),
        ("http://127.1/", "numeric host"),
        ("http://1.2.3.4.5/", "numeric host"),
        ("http://localhost:8080/", "this machine"),
        ("http://x.localhost/", "this machine"),
        ("http://metadata.google.internal/", "metadata"),
        ("http://user@example.com/", "user name"),
        ("http://example.com:0/", "port"),
        ("http:///x", "no host"),
        ("http://ex_ample..com/", "not a valid host name"),
        ("https://" + "a" * 64 + ".com/", "not a valid host name"),
        ("http://example.com/\x00", "control character"),
        ("http://example.com/\u0085", "control character"),
        ("http://example.com/" + "p" * 1100, "longer than"),
        ("data:text/plain,hi", "http://"),
    ],
)
def test_urls_are_refused_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(OutboundRefused) as info:
        STRICT.check_url(url)
    assert reason in str(info.value)


def test_good_urls_pass_and_unicode_hosts_are_read_as_idna() -> None:
    assert STRICT.check_url("https://hooks.example.com:8443/cams/status?x=1") == "hooks.example.com"
    assert STRICT.check_url("https://bücher.example/") == "xn--bcher-kva.example"
    assert STRICT.check_url("http://8.8.8.8/") == "8.8.8.8"
    assert DEV.check_url("http://localhost:9000/") == "localhost"


def resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    return resolve


async def test_names_resolving_to_internal_addresses_are_refused_when_stored() -> None:
    policy = OutboundPolicy(resolver=resolver({"evil.example": ["8.8.8.8", "127.0.0.1"], "good.example": ["8.8.4.4"]}))
    with pytest.raises(OutboundRefused) as info:
        await policy.check_stored_url("https://evil.example/cb")
    assert "resolves to 127.0.0.1" in str(info.value)
    assert await policy.check_stored_url("https://good.example/cb") == "https://good.example/cb"
    # A name that does not resolve yet is stored; it is checked again when called.
    assert await policy.check_stored_url("https://later.example/cb") == "https://later.example/cb"


class Listener:
    """A loopback HTTP server that records every connection it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self.redirect_to: str | None = None
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.hits += 1
            with conn:
                conn.recv(65536)
                if self.redirect_to:
                    conn.sendall(
                        f"HTTP/1.1 302 Found\r\nlocation: {self.redirect_to}\r\ncontent-length: 0\r\n\r\n".encode()
                    )
                else:
                    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


async def test_the_client_never_connects_to_a_refused_address(listener: Listener) -> None:
    policy = OutboundPolicy(resolver=resolver({"rebind.example": ["127.0.0.1"]}))
    async with policy.client(timeout=5) as client:
        for url in (f"http://127.0.0.1:{listener.port}/", f"http://rebind.example:{listener.port}/"):
            with pytest.raises(httpx.ConnectError) as info:
                await client.get(url)
            assert "outbound policy" in str(info.value)
    assert listener.hits == 0


async def test_the_development_setting_lets_the_client_reach_loopback(listener: Listener) -> None:
    async with DEV.client(timeout=5) as client:
        response = await client.get(f"http://127.0.0.1:{listener.port}/")
    assert response.text == "ok"
    assert listener.hits == 1


async def test_redirects_are_checked_like_the_first_url(listener: Listener) -> None:
    # The first hop is allowed (development setting, via a name); the redirect goes to a metadata
    # address that no setting allows.
    target = Listener()
    try:
        listener.redirect_to = "http://169.254.169.254/latest/meta-data/"
        policy = OutboundPolicy(allow_private=True, resolver=resolver({"hop.example": ["127.0.0.1"]}))
        async with policy.client(timeout=5, follow_redirects=True) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(f"http://hop.example:{listener.port}/")
        assert listener.hits == 1
        listener.redirect_to = f"http://user:pw@127.0.0.1:{target.port}/"
        async with policy.client(timeout=5, follow_redirects=True) as client:
            with pytest.raises(httpx.ConnectError) as info:
                await client.get(f"http://hop.example:{listener.port}/")
            assert "user name" in str(info.value)
        assert target.hits == 0
    finally:
        target.close()


def test_no_proxy_from_the_environment_is_used(monkeypatch: pytest.MonkeyPatch, listener: Listener) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{listener.port}")
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{listener.port}")
    policy = OutboundPolicy(resolver=resolver({"public.example": ["8.8.8.8"]}))

    async def call() -> None:
        async with policy.client(timeout=0.5) as client:
            # Whatever answers (or not) at that public address, the proxy must not be asked.
            with contextlib.suppress(httpx.HTTPError):
                await client.get("http://public.example:9/")

    asyncio.run(call())
    assert listener.hits == 0
