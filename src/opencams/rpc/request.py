"""Parsing of a raw HTTP request into an RPC call: action, version, API parameters, credentials.

Pure: it sees method, query string, headers and body bytes, never a socket or a database.
Signature checks are left to `rpc.auth`; this module only finds the parts and says which is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from ..errors import (
    ApiError,
    IncompleteSignature,
    InvalidSignatureMethod,
    InvalidSignatureVersion,
    invalid_parameter,
    missing_parameter,
)
from .signature import V1_METHOD, V1_VERSION, V3_ALGORITHMS

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


def _decode_pairs(raw: str, what: str) -> list[tuple[str, str]]:
    try:
        # Form rules (+ is a space): the new SDK writes '+', the legacy one '%20' (alibaba-rpc.md §1.1).
        # Bad UTF-8 becomes U+FFFD, so such a request fails its signature rather than being parsed oddly.
        return parse_qsl(raw, keep_blank_values=True, errors="replace", max_num_fields=MAX_FIELDS)
    except ValueError:
        raise invalid_parameter(what, f"It holds more than {MAX_FIELDS} parameters.") from None


def _header(headers: dict[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


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
        raise invalid_parameter("Body", f"It is larger than {MAX_BODY} bytes.")
    hdrs: dict[str, list[str]] = {}
    for name, value in headers:
        hdrs.setdefault(name.lower(), []).append(value)
    query = _decode_pairs(query_string.decode("latin-1"), "QueryString")
    form: list[tuple[str, str]] = []
    ctype = (hdrs.get("content-type") or [""])[0].lower()
    if body and ctype.startswith("application/x-www-form-urlencoded"):
        form = _decode_pairs(body.decode("utf-8", errors="replace"), "Body")
    v3 = (hdrs.get("authorization") or [""])[0].startswith("ACS3-")
    header_action = _header(hdrs, "x-acs-action")
    header_version = _header(hdrs, "x-acs-version")
    if v3:
        action, version = header_action, header_version
    else:
        # V1 names them in the parameters; SDKs also send the x-acs-* headers, used as a fallback.
        action = _first(query, "Action") or _first(form, "Action") or header_action
        version = _first(query, "Version") or _first(form, "Version") or header_version
    if not action:
        raise missing_parameter("Action")
    if not version:
        raise missing_parameter("Version")
    fmt = "JSON" if v3 else (_first(query, "Format") or _first(form, "Format") or "JSON")
    params = {k: v for k, v in [*query, *form] if k not in COMMON_PARAMS}
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
        host=(hdrs.get("host") or [""])[0],
        params=params,
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
    authz = (req.headers.get("authorization") or [""])[0]
    if authz.startswith("ACS3-"):
        parsed = _parse_authorization(authz)
        if isinstance(parsed, ApiError):
            raise parsed
        return V3Auth(
            algorithm=parsed.algorithm,
            access_key_id=parsed.access_key_id,
            signed_headers=parsed.signed_headers,
            signature=parsed.signature,
            timestamp=(req.headers.get("x-acs-date") or [""])[0],
            nonce=(req.headers.get("x-acs-signature-nonce") or [""])[0],
            security_token=_header(req.headers, "x-acs-security-token"),
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
        return
    pairs = [*req.query, *req.form]
    for name in ("SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp"):
        if not _first(pairs, name):
            raise missing_parameter(name)
    if _first(pairs, "SignatureMethod") != V1_METHOD:
        raise InvalidSignatureMethod()
    if _first(pairs, "SignatureVersion") != V1_VERSION:
        raise InvalidSignatureVersion()
