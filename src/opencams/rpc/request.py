"""Parsing of a raw HTTP request into an RPC call: action, version, API parameters, credentials.

Pure: it sees method, query string, headers and body bytes, never a socket or a database.
Signature checks are left to `rpc.auth`; this module only finds the parts and says which is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from ..errors import ApiError, IncompleteSignature, InvalidSignatureMethod, InvalidSignatureVersion
from ..errors import missing_parameter, invalid_parameter
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
V3_REQUIRED_SIGNED = ("host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256")


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
        return parse_qsl(raw, keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError:
        raise invalid_parameter(what, "It is not valid UTF-8 once percent-decoded.") from None
    except ValueError:
        raise invalid_parameter(what, f"It holds more than {MAX_FIELDS} parameters.") from None


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
        try:
            form = _decode_pairs(body.decode("utf-8"), "Body")
        except UnicodeDecodeError:
            raise invalid_parameter("Body", "It is not valid UTF-8.") from None
    v3 = (hdrs.get("authorization") or [""])[0].startswith("ACS3-")
    if v3:
        action = (hdrs.get("x-acs-action") or [None])[0]
        version = (hdrs.get("x-acs-version") or [None])[0]
    else:
        action = _first(query, "Action") or _first(form, "Action")
        version = _first(query, "Version") or _first(form, "Version")
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
    return V3Auth(algorithm, parts["Credential"], tuple(parts["SignedHeaders"].split(";")), parts["Signature"], "", "", None)


def parse_credentials(req: RpcRequest) -> V3Auth | V1Auth:
    """Find the signature scheme and its parts; raise the gateway error for what is missing."""
    authz = (req.headers.get("authorization") or [""])[0]
    if authz.startswith("ACS3-"):
        parsed = _parse_authorization(authz)
        if isinstance(parsed, ApiError):
            raise parsed
        signed = set(parsed.signed_headers)
        present_acs = {h for h in req.headers if h.startswith("x-acs-")}
        for name in sorted(present_acs | set(V3_REQUIRED_SIGNED)):
            if name not in req.headers:
                raise IncompleteSignature(f"The header {name} is missing.")
            if name not in signed:
                raise IncompleteSignature(f"The header {name} is not in SignedHeaders.")
        return V3Auth(
            algorithm=parsed.algorithm,
            access_key_id=parsed.access_key_id,
            signed_headers=parsed.signed_headers,
            signature=parsed.signature,
            timestamp=req.headers["x-acs-date"][0],
            nonce=req.headers["x-acs-signature-nonce"][0],
            security_token=(req.headers.get("x-acs-security-token") or [None])[0],
        )
    pairs = [*req.query, *req.form]
    if _first(pairs, "Signature") is None and _first(pairs, "AccessKeyId") is None:
        raise IncompleteSignature("There is neither an Authorization header nor a Signature parameter.")
    values: dict[str, str] = {}
    for name in ("AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp"):
        value = _first(pairs, name)
        if not value:
            raise missing_parameter(name)
        values[name] = value
    if values["SignatureMethod"] != V1_METHOD:
        raise InvalidSignatureMethod()
    if values["SignatureVersion"] != V1_VERSION:
        raise InvalidSignatureVersion()
    return V1Auth(
        access_key_id=values["AccessKeyId"],
        signature=values["Signature"],
        timestamp=values["Timestamp"],
        nonce=values["SignatureNonce"],
        security_token=_first(pairs, "SecurityToken"),
    )
