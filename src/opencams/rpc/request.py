"""Parsing of a raw HTTP request into an RPC call: action, version, API parameters, credentials.

Pure: it sees method, query string, headers and body bytes, never a socket or a database.
Signature checks are left to `rpc.auth`; this module only finds the parts and says which is missing.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from ..errors import (
    ApiError,
    IncompleteSignature,
    InvalidSignatureMethod,
    InvalidSignatureVersion,
    RequestBodyTooLarge,
    invalid_parameter,
    missing_parameter,
)
from .signature import V1_METHOD, V1_VERSION, V3_ALGORITHMS, canonical_header

# Parameters of the RPC protocol itself, never passed to an action handler.
COMMON_PARAMS = frozenset(
    {
        "Action",
        "Version",
        "Format",
        "AccessKeyId",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "SignatureType",
        "Signature",
        "Timestamp",
        "SecurityToken",
        "RegionId",
    }
)
MAX_BODY = 1 << 20
MAX_FIELDS = 1000
NONCE_RE = re.compile(r"[\x21-\x7e]{1,128}")
# Headers a V3 request must sign: without them a captured signature could be replayed elsewhere.
V3_REQUIRED_SIGNED = (
    "host",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
)


@dataclass(frozen=True, slots=True)
class V3Auth:
    """The parts of an `Authorization: ACS3-...` header and the x-acs-* headers it covers."""

    algorithm: str
    access_key_id: str
    signed_headers: tuple[str, ...]
    signature: str
    timestamp: str
    nonce: str
    security_token: str | None


@dataclass(frozen=True, slots=True)
class V1Auth:
    """The signature parameters of an HMAC-SHA1 RPC request."""

    access_key_id: str
    signature: str
    timestamp: str
    nonce: str
    security_token: str | None


@dataclass(slots=True)
class RpcRequest:
    """One decoded RPC request."""

    method: str
    path: str
    action: str
    version: str
    format: str
    query: list[tuple[str, str]]
    form: list[tuple[str, str]]
    headers: dict[str, list[str]]
    body: bytes
    host: str
    params: dict[str, str] = field(default_factory=dict)
    # Parameter names given more than once; refused once the signature is known to be good.
    repeated: tuple[str, ...] = ()

    def header(self, name: str) -> str | None:
        """The header's value exactly as a V3 signature covers it (trimmed, repeats joined)."""
        values = self.headers.get(name)
        return canonical_header(values) if values else None


# C0 controls, DEL and C1 controls. PostgreSQL refuses NUL in text, XML 1.0 cannot carry most of
# them, and CR/LF in a logged value forges log lines: no parameter needs one.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# API parameters may hold line breaks and tabs (a PEM key); `Param` refuses them where they do not belong.
CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Headers whose values the server reads: SDKs only ever send printable ASCII in them (a tab is
# whitespace HTTP allows around a value, and the canonical form trims it).
_PRINTABLE_ASCII = re.compile(r"[\t\x20-\x7e]*")
USED_HEADERS = ("authorization", "host", "content-type")


def _decode_pairs(raw: str, what: str) -> list[tuple[str, str]]:
    try:
        # Form rules (+ is a space): the new SDK writes '+', the legacy one '%20'.
        # Bad UTF-8 becomes U+FFFD, so such a request fails its signature rather than being parsed oddly.
        return parse_qsl(raw, keep_blank_values=True, errors="replace", max_num_fields=MAX_FIELDS)
    except ValueError:
        raise invalid_parameter(what, f"It holds more than {MAX_FIELDS} parameters.") from None


def _check_pairs(pairs: list[tuple[str, str]]) -> None:
    for key, value in pairs:
        if CONTROL.search(key):
            raise invalid_parameter(repr(key)[1:-1], "Its name contains a control character.")
        pattern = CONTROL if key in COMMON_PARAMS else CONTROL_BUT_LINES
        if pattern.search(value):
            raise invalid_parameter(key, "It contains a control character.")


def _check_headers(headers: dict[str, list[str]]) -> None:
    for name, values in headers.items():
        if name in USED_HEADERS or name.startswith("x-acs-"):
            for value in values:
                if not _PRINTABLE_ASCII.fullmatch(value):
                    raise invalid_parameter(name, "The header holds a character other than printable ASCII.")


def _first(pairs: list[tuple[str, str]], name: str) -> str | None:
    for k, v in pairs:
        if k == name:
            return v
    return None


def parse_request(
    method: str, path: str, query_string: bytes, headers: list[tuple[str, str]], body: bytes
) -> RpcRequest:
    """Decode the request's action, version, format and parameters; raise ApiError if unusable."""
    if len(body) > MAX_BODY:
        raise RequestBodyTooLarge(MAX_BODY)
    hdrs: dict[str, list[str]] = {}
    for name, value in headers:
        hdrs.setdefault(name.lower(), []).append(value)
    _check_headers(hdrs)
    query = _decode_pairs(query_string.decode("latin-1"), "QueryString")
    form: list[tuple[str, str]] = []
    ctype = canonical_header(hdrs.get("content-type") or [""]).lower()
    if body and ctype.startswith("application/x-www-form-urlencoded"):
        form = _decode_pairs(body.decode("utf-8", errors="replace"), "Body")
    pairs = [*query, *form]
    _check_pairs(pairs)
    v3 = canonical_header(hdrs.get("authorization") or [""]).startswith("ACS3-")
    if v3:
        # V3 names them only in signed headers, read as they were signed.
        action = canonical_header(hdrs["x-acs-action"]) if "x-acs-action" in hdrs else None
        version = canonical_header(hdrs["x-acs-version"]) if "x-acs-version" in hdrs else None
    else:
        # V1 signs its parameters, not headers. The x-acs-* headers the SDKs also send only stand in
        # until the signature is checked (so a renamed parameter reads as a mismatch);
        # `require_complete` then insists on the signed parameters.
        action = _first(pairs, "Action") or canonical_header(hdrs.get("x-acs-action") or [""])
        version = _first(pairs, "Version") or canonical_header(hdrs.get("x-acs-version") or [""])
    if not action:
        raise missing_parameter("Action")
    if not version:
        raise missing_parameter("Version")
    fmt = "JSON" if v3 else (_first(pairs, "Format") or "JSON")
    params: dict[str, str] = {}
    counts = Counter(k for k, _ in pairs)
    for k, v in pairs:
        if k not in COMMON_PARAMS:
            params.setdefault(k, v)
    return RpcRequest(
        method=method.upper(),
        path=path,
        action=action,
        version=version,
        format="XML" if fmt.upper() == "XML" else "JSON",
        query=query,
        form=form,
        headers=hdrs,
        body=body,
        host=canonical_header(hdrs.get("host") or [""]),
        params=params,
        repeated=tuple(sorted(k for k, n in counts.items() if n > 1)),
    )


def _parse_authorization(value: str) -> V3Auth | ApiError:
    algorithm, _, rest = value.partition(" ")
    if algorithm not in V3_ALGORITHMS:
        return InvalidSignatureMethod()
    parts: dict[str, str] = {}
    for item in rest.split(","):
        key, sep, val = item.strip().partition("=")
        if sep:
            parts[key] = val
    for key in ("Credential", "SignedHeaders", "Signature"):
        if not parts.get(key):
            return IncompleteSignature(f"The Authorization header has no {key}.")
    return V3Auth(
        algorithm,
        parts["Credential"],
        tuple(parts["SignedHeaders"].split(";")),
        parts["Signature"],
        "",
        "",
        None,
    )


def parse_credentials(req: RpcRequest) -> V3Auth | V1Auth:
    """Find the signature scheme and what is needed to check the signature.

    Only the parts without which no signature can be computed are required here; the rest is
    checked by `require_complete` once the signature matched, so a tampered request is always
    reported as a signature mismatch rather than as whatever part the tampering removed.
    """
    authz = req.header("authorization") or ""
    if authz.startswith("ACS3-"):
        parsed = _parse_authorization(authz)
        if isinstance(parsed, ApiError):
            raise parsed
        return V3Auth(
            algorithm=parsed.algorithm,
            access_key_id=parsed.access_key_id,
            signed_headers=parsed.signed_headers,
            signature=parsed.signature,
            timestamp=req.header("x-acs-date") or "",
            nonce=req.header("x-acs-signature-nonce") or "",
            security_token=req.header("x-acs-security-token"),
        )
    pairs = [*req.query, *req.form]
    if _first(pairs, "Signature") is None and _first(pairs, "AccessKeyId") is None:
        raise IncompleteSignature("There is neither an Authorization header nor a Signature parameter.")
    for name in ("AccessKeyId", "Signature"):
        if not _first(pairs, name):
            raise missing_parameter(name)
    return V1Auth(
        access_key_id=_first(pairs, "AccessKeyId") or "",
        signature=_first(pairs, "Signature") or "",
        timestamp=_first(pairs, "Timestamp") or "",
        nonce=_first(pairs, "SignatureNonce") or "",
        security_token=_first(pairs, "SecurityToken"),
    )


def require_complete(req: RpcRequest, auth: V3Auth | V1Auth) -> None:
    """Raise the gateway error for a signature part that is missing or unsupported."""
    if isinstance(auth, V3Auth):
        signed = set(auth.signed_headers)
        present_acs = {h for h in req.headers if h.startswith("x-acs-")}
        for name in sorted(present_acs | set(V3_REQUIRED_SIGNED)):
            if name not in req.headers:
                raise IncompleteSignature(f"The header {name} is missing.")
            if name not in signed:
                raise IncompleteSignature(f"The header {name} is not in SignedHeaders.")
        # The body is covered through its hash, but whether it is read as parameters depends on
        # its content type: that must be signed too, or the parameters could be dropped in transit.
        if req.body and "content-type" not in signed:
            raise IncompleteSignature("The header content-type is not in SignedHeaders.")
        _check_nonce(auth.nonce)
        return
    pairs = [*req.query, *req.form]
    for name in ("Action", "Version", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp"):
        if not _first(pairs, name):
            raise missing_parameter(name)
    if _first(pairs, "SignatureMethod") != V1_METHOD:
        raise InvalidSignatureMethod()
    if _first(pairs, "SignatureVersion") != V1_VERSION:
        raise InvalidSignatureVersion()
    _check_nonce(auth.nonce)


def _check_nonce(nonce: str) -> None:
    # SDKs send 32 hex digits; the bound keeps a nonce storable in every backend.
    if not NONCE_RE.fullmatch(nonce):
        raise invalid_parameter("SignatureNonce", "It must be 1 to 128 printable ASCII characters without spaces.")
