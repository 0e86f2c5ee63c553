"""Alibaba Cloud request signatures V3 (ACS3-HMAC-SHA256/SM3) and V1 (HMAC-SHA1), computed pure.

Both recipes are rebuilt byte for byte from what the official SDKs send (alibaba-rpc.md §2, §3);
this module does no I/O and knows nothing about accounts or keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import quote

V3_ALGORITHMS = {"ACS3-HMAC-SHA256": "sha256", "ACS3-HMAC-SM3": "sm3"}
V1_METHOD = "HMAC-SHA1"
V1_VERSION = "1.0"


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as Alibaba signs it: only A-Z a-z 0-9 - _ . ~ stay literal."""
    return quote(value, safe="-_.~")


def payload_hash(algorithm: str, body: bytes) -> str:
    """Lowercase hex digest of the raw body with the algorithm's hash (x-acs-content-sha256)."""
    return hashlib.new(V3_ALGORITHMS[algorithm], body).hexdigest()


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Decoded query pairs sorted by key (then value), each side percent-encoded, '&'-joined."""
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(pairs))


def canonical_header(values: Sequence[str]) -> str:
    """A header's value as V3 signs it: each value trimmed, repeats sorted and comma-joined.

    Every header value the server uses after verification is read through this function, so a
    value can never differ from the one that was signed (a nonce with a trailing space once
    was recorded apart from the trimmed nonce it was signed as, and could be replayed).
    """
    return ",".join(sorted(v.strip() for v in values))


def v3_canonical_request(
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, Sequence[str]],
    signed_headers: Sequence[str],
    hashed_payload: str,
) -> str:
    """The V3 canonical request; `headers` maps lowercase names to every value received."""
    lines = [f"{name}:{canonical_header(headers.get(name, ()))}\n" for name in signed_headers]
    return "\n".join(
        [
            method.upper(),
            path or "/",
            canonical_query(query),
            "".join(lines),
            ";".join(signed_headers),
            hashed_payload,
        ]
    )


def v3_string_to_sign(algorithm: str, canonical_request: str) -> str:
    """ALGORITHM + '\\n' + hex(H(canonical request))."""
    digest = hashlib.new(V3_ALGORITHMS[algorithm], canonical_request.encode()).hexdigest()
    return f"{algorithm}\n{digest}"


def v3_signature(algorithm: str, secret: str, string_to_sign: str) -> str:
    """Hex HMAC of the string to sign, keyed with the secret as is (no '&')."""
    return hmac.new(secret.encode(), string_to_sign.encode(), V3_ALGORITHMS[algorithm]).hexdigest()


def v1_string_to_sign(method: str, params: Iterable[tuple[str, str]]) -> str:
    """METHOD&%2F&pe(canonicalized params), over every signed parameter but `Signature`."""
    canonical = canonical_query((k, v) for k, v in params if k != "Signature")
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical)}"


def v1_signature(secret: str, string_to_sign: str) -> str:
    """Base64 HMAC-SHA1 keyed with secret + '&'."""
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signatures_equal(expected: str, given: str) -> bool:
    """Constant-time comparison, so timing never reveals how much of a signature was right."""
    return hmac.compare_digest(expected.encode(), given.encode())
