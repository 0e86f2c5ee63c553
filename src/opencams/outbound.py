"""The one outbound address policy: which URLs opencams may store and call, checked again at connect.

Every place that stores a URL given by a client (callback URLs) or calls one (event delivery,
profile-picture downloads) uses `OutboundPolicy`: `check_url` when the URL is given, and
`client()` to call it. The client's connections go only to addresses the policy allows, checked
after DNS resolution on every connection (so also on every redirect), and to the very address
that was checked: a name that resolves to a public address when stored and to 127.0.0.1 later
(DNS rebinding) is refused when called.

Why not a library: httpx-secure (the one maintained httpx add-on) picks the address by opening a
TCP probe connection, to denied addresses too, before refusing; here nothing is ever sent to a
refused address.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpcore
import httpx

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

MAX_URL_LENGTH = 1024
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT: internal, though not "private"
_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")  # Linux connects 0.x.y.z to this host
# Names that mean this machine or a cloud's metadata service whatever DNS says.
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_METADATA_NAMES = ("metadata", "metadata.google.internal", "instance-data", "instance-data.ec2.internal")
# Hosts written as numbers other than a dotted quad (2130706433, 0x7f000001, 0177.0.0.1, 127.1): C
# resolvers read them as addresses, so they are refused rather than guessed at.
_NUMERIC_HOST = re.compile(r"(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]*))*\.?", re.IGNORECASE)
_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")
_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f-\x9f\\]")


class OutboundRefused(ValueError):
    """A URL or address the policy does not allow; the message says why, for the caller."""


class OutboundUnresolved(OutboundRefused):
    """A host name that does not resolve (now): refused when called, tolerated when stored."""


async def _system_resolver(host: str, port: int) -> list[str]:
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address leads to (mapped, 6to4, Teredo, NAT64)."""
    found = [a for a in (addr.ipv4_mapped, addr.sixtofour) if a is not None]
    if addr.teredo is not None:
        found.extend(addr.teredo)
    if addr in _NAT64:
        found.append(ipaddress.IPv4Address(addr.packed[-4:]))
    return found


@dataclass(frozen=True)
class OutboundPolicy:
    """Schemes, hosts and addresses opencams may call.

    Allowed: http(s) URLs without credentials to globally routable addresses. With
    `allow_private` (development only), loopback and private addresses too. Never allowed:
    link-local addresses (cloud metadata at 169.254.169.254), unspecified, multicast and
    reserved addresses, whatever the setting.
    """

    allow_private: bool = False
    resolver: Resolver = field(default=_system_resolver, repr=False)

    def allows(self, addr: IpAddress) -> bool:
        """Whether a connection to `addr` is allowed (embedded IPv4 addresses must be allowed too)."""
        if isinstance(addr, ipaddress.IPv6Address):
            if addr in _NAT64 or addr.ipv4_mapped is not None:
                # A mapped address or a NAT64 gateway reaches the embedded IPv4 address: it decides.
                return self.allows(ipaddress.IPv4Address(addr.packed[-4:]))
            if not all(self.allows(v4) for v4 in _embedded_ipv4(addr)):
                return False
        if addr.is_link_local or addr.is_unspecified or addr.is_multicast:
            return False
        if isinstance(addr, ipaddress.IPv4Address) and addr in _THIS_NETWORK:
            return False
        if addr.is_loopback:
            return self.allow_private
        if addr.is_global and not (isinstance(addr, ipaddress.IPv4Address) and addr in _SHARED):
            return True
        if addr.is_reserved:
            return False
        return self.allow_private and (addr.is_private or (isinstance(addr, ipaddress.IPv4Address) and addr in _SHARED))

    def _check_address(self, addr: IpAddress, shown: str) -> None:
        if not self.allows(addr):
            kind = "a link-local or metadata" if addr.is_link_local else "a loopback, private or reserved"
            raise OutboundRefused(f"{shown} is {kind} address, which opencams does not call")

    def check_url(self, url: str) -> str:
        """The URL's host name or address if the URL may be stored and called; OutboundRefused if not."""
        if len(url) > MAX_URL_LENGTH:
            raise OutboundRefused(f"it is longer than {MAX_URL_LENGTH} characters")
        if _UNSAFE_CHARS.search(url):
            raise OutboundRefused("it contains a space, a control character or a backslash")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise OutboundRefused("it is not a valid URL") from None
        if parts.scheme.lower() not in ("http", "https"):
            raise OutboundRefused("it must start with http:// or https://")
        if "@" in parts.netloc:
            raise OutboundRefused("it must not carry a user name or password")
        if port == 0:
            raise OutboundRefused("its port must be between 1 and 65535")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise OutboundRefused("it has no host")
        return self._check_host(host)

    def _check_host(self, host: str) -> str:
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            self._check_address(addr, host)
            return host
        if _NUMERIC_HOST.fullmatch(host):
            raise OutboundRefused(f"{host} is a numeric host that is not a dotted IPv4 address")
        try:
            ascii_host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise OutboundRefused(f"{host} is not a valid host name") from None
        labels = ascii_host.split(".")
        if len(ascii_host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
            raise OutboundRefused(f"{host} is not a valid host name")
        if ascii_host in _METADATA_NAMES:
            raise OutboundRefused(f"{host} is a cloud metadata service, which opencams does not call")
        if (ascii_host in _LOCAL_NAMES or ascii_host.endswith(".localhost")) and not self.allow_private:
            raise OutboundRefused(f"{host} is this machine, which opencams does not call")
        return ascii_host

    async def resolve(self, host: str, port: int) -> list[IpAddress]:
        """Every address `host` resolves to, all of them allowed; OutboundRefused otherwise.

        One refused address refuses the name: a name that resolves partly inside the network is
        not called, whichever address a connection would happen to pick.
        """
        host = self._check_host(host.strip("[]").rstrip("."))
        if _is_address(host):
            addr = ipaddress.ip_address(host)
            self._check_address(addr, host)
            return [addr]
        try:
            found = await self.resolver(host, port)
        except OSError as exc:
            raise OutboundUnresolved(f"{host} cannot be resolved ({exc.__class__.__name__})") from None
        addresses = []
        for text in found:
            addr = ipaddress.ip_address(text.partition("%")[0])
            self._check_address(addr, f"{host} resolves to {addr}, which")
            addresses.append(addr)
        if not addresses:
            raise OutboundRefused(f"{host} resolves to no address")
        return addresses

    async def check_stored_url(self, url: str, *, resolve_timeout: float = 2.0) -> str:
        """`check_url`, then a DNS check of the host: a name that resolves now must resolve only to
        allowed addresses. A name that does not resolve yet is accepted; it is checked when called.
        """
        host = self.check_url(url)
        port = urlsplit(url).port or (443 if url.lower().startswith("https") else 80)
        try:
            with anyio.fail_after(resolve_timeout):
                await self.resolve(host, port)
        except (OutboundUnresolved, TimeoutError):
            pass
        return url

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An httpx client whose every connection and redirect obeys this policy.

        No proxy from the environment: a proxy would make the connection, out of the policy's sight.
        """

        async def check_request(request: httpx.Request) -> None:
            # Every request, redirects included; refused ones fail like a refused connection.
            try:
                self.check_url(str(request.url))
            except OutboundRefused as exc:
                raise httpx.ConnectError(f"outbound policy: {exc}", request=request) from None

        transport = httpx.AsyncHTTPTransport(trust_env=False)
        # httpx has no parameter for httpcore's network backend; its pool is rebuilt with ours.
        # A test (tests/unit/test_outbound.py) calls a loopback listener through this client and
        # fails if an httpx upgrade changes this layout.
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            network_backend=_GuardedBackend(self),
            retries=0,
        )
        return httpx.AsyncClient(
            transport=transport, trust_env=False, event_hooks={"request": [check_request]}, **kwargs
        )


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves a host itself, checks every address, and connects only to a checked one."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await self._policy.resolve(host, port)
        except OutboundRefused as exc:
            raise httpcore.ConnectError(f"outbound policy: {exc}") from None
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} took longer than {timeout} s") from None
        error: Exception | None = None
        for addr in addresses:
            try:
                # A literal address: the connection goes exactly where the check looked.
                return await self._inner.connect_tcp(str(addr), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
