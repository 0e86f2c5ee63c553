"""AccessDeniedDetail.EncodedDiagnosticMessage: encoding an authorization decision as opaque base64 JSON, and back."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from opencams.iam.policy import Decision, RequestContext

# Bumped if the payload's shape changes, so old messages are recognised rather than misread.
DIAGNOSTIC_VERSION = 1

_REQUIRED_FIELDS = (
    "AuthAction",
    "AuthResource",
    "AuthPrincipal",
    "AccountId",
    "NoPermissionType",
    "PolicyType",
    "PolicyName",
    "StatementIndex",
)


def encode_diagnostic(decision: Decision, ctx: RequestContext, *, principal: str, account_id: str) -> str:
    """Base64 of a compact JSON object naming who asked for what, and which policy statement decided."""
    payload = {
        "Version": DIAGNOSTIC_VERSION,
        "AuthAction": ctx.action,
        "AuthResource": ctx.resource,
        "AuthPrincipal": principal,
        "AccountId": account_id,
        "NoPermissionType": decision.no_permission_type,
        "PolicyType": decision.policy_type,
        "PolicyName": decision.policy_name,
        "StatementIndex": decision.statement_index,
    }
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def decode_diagnostic(message: str) -> dict[str, Any]:
    """The JSON object `encode_diagnostic` produced; ValueError says why anything else is refused."""
    if not isinstance(message, str) or not message.strip():
        raise ValueError("diagnostic message is empty or not a string")
    compact = "".join(message.split())
    # Tolerate messages whose "=" padding was stripped in transit (URLs, log scrapers).
    compact += "=" * (-len(compact) % 4)
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"diagnostic message is not valid base64: {exc}") from None
    try:
        payload = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("diagnostic message does not decode to UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"diagnostic message does not decode to JSON: {exc.msg} at char {exc.pos}") from None
    if not isinstance(payload, dict):
        # The message's content is at fault, not the caller's argument type: ValueError.
        raise ValueError("diagnostic message does not decode to a JSON object")
    if payload.get("Version") != DIAGNOSTIC_VERSION:
        raise ValueError(f"diagnostic message has unsupported Version {payload.get('Version')!r}")
    missing = [name for name in _REQUIRED_FIELDS if name not in payload]
    if missing:
        raise ValueError(f"diagnostic message lacks fields: {', '.join(missing)}")
    return payload
