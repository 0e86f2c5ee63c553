"""acs:SourceIp behind proxies: only what trusted proxies appended is believed."""

from __future__ import annotations

import ipaddress

import pytest

from opencams.rpc.gateway import source_ip

PROXY = [ipaddress.ip_network("10.9.0.0/16"), ipaddress.ip_network("fd00::/8")]


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.9", ["1.2.3.4"], "203.0.113.9"),  # not a proxy: its header is ignored
        ("10.9.0.1", ["1.2.3.4"], "1.2.3.4"),
        ("10.9.0.1", ["6.6.6.6, 1.2.3.4"], "1.2.3.4"),  # the client wrote 6.6.6.6 itself
        ("10.9.0.1", ["6.6.6.6", "1.2.3.4"], "1.2.3.4"),  # the same, in two header lines
        ("10.9.0.1", ["6.6.6.6, 1.2.3.4, 10.9.0.7"], "1.2.3.4"),  # two proxies in a row
        ("10.9.0.1", ["10.9.0.8, 10.9.0.7"], "10.9.0.8"),  # everyone a proxy: the farthest one
        ("10.9.0.1", ["1.2.3.4:5678"], "1.2.3.4"),
        ("10.9.0.1", ["[2001:db8::1]:443"], "2001:db8::1"),
        ("10.9.0.1", ["2001:db8::1"], "2001:db8::1"),
        ("10.9.0.1", ["::ffff:1.2.3.4"], "1.2.3.4"),
        ("10.9.0.1", ["garbage, 1.2.3.4"], "1.2.3.4"),
        ("10.9.0.1", ["1.2.3.4, garbage"], "10.9.0.1"),  # a proxy wrote garbage: nothing left of it is believed
        ("10.9.0.1", [" , ,1.2.3.4 "], "1.2.3.4"),
        ("10.9.0.1", [], "10.9.0.1"),
        ("::ffff:10.9.0.1", ["1.2.3.4"], "1.2.3.4"),  # a v4 proxy seen on a dual-stack socket
        ("fd00::5", ["6.6.6.6, 1.2.3.4"], "1.2.3.4"),
    ],
)
def test_the_right_most_untrusted_hop_is_the_client(peer: str, forwarded: list[str], expected: str) -> None:
    assert source_ip(peer, forwarded, PROXY) == expected


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert source_ip("10.9.0.1", ["1.2.3.4"], ()) == "10.9.0.1"
    assert source_ip("::ffff:127.0.0.1", [], ()) == "127.0.0.1"
