"""Authentication of an RPC request: AccessKey lookup, signature, timestamp window and nonce.

Stores reach it as protocols so the wire layer never imports a database or Redis adapter.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from ..errors import (
    AccessKeyInactive,
    AccessKeyNotFound,
    SecurityTokenExpired,
    SecurityTokenMalformed,
    SecurityTokenMismatch,
    SignatureDoesNotMatch,
    SignatureNonceUsed,
    TimestampExpired,
    TimestampFormat,
    missing_parameter,
)
from ..principal import Credential, Principal
from .request import RpcRequest, V1Auth, V3Auth, parse_credentials, require_complete
from .signature import (
    payload_hash,
    signatures_equal,
    v1_signature,
    v1_string_to_sign,
    v3_canonical_request,
    v3_signature,
    v3_string_to_sign,
)

TIMESTAMP_WINDOW = 15 * 60.0
MAX_ACCESS_KEY_ID = 128


class CredentialStore(Protocol):
    """Looks up AccessKeys (long-lived and STS) by id."""

    async def get_credential(self, access_key_id: str) -> Credential | None: ...

    async def note_used(self, access_key_id: str) -> None:
        """Called once a request signed with the key was accepted."""
        ...


class NonceStore(Protocol):
    """Remembers nonces for at least the timestamp window."""

    async def use_nonce(self, key: str, ttl: float, signed_at: float) -> bool:
        """Record `key`; True if it was never seen in the last `ttl` seconds.

        `signed_at` is the request's timestamp: a store whose memory of nonces starts later than
        that cannot vouch for the request and refuses it (an ApiError).
        """
        ...


def parse_timestamp(value: str) -> float:
    """Seconds since the epoch of an ISO 8601 UTC timestamp as the SDKs write it."""
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    raise TimestampFormat()


def expected_string_to_sign(req: RpcRequest, auth: V3Auth | V1Auth) -> str:
    """The string the server signs for this request, as the client should have."""
    if isinstance(auth, V3Auth):
        canonical = v3_canonical_request(
            req.method,
            req.path,
            req.query,
            req.headers,
            auth.signed_headers,
            req.header("x-acs-content-sha256") or "",
        )
        return v3_string_to_sign(auth.algorithm, canonical)
    return v1_string_to_sign(req.method, [*req.query, *req.form])


def shown_string_to_sign(req: RpcRequest, auth: V3Auth | V1Auth) -> str:
    """The string to sign as the mismatch message shows it: a V1 one with the STS token masked.

    V1 signs the token as a parameter, so its string to sign holds it in clear; an error body
    travels through proxies and logs, so the token is replaced there (the legacy SDK then cannot
    tell a wrong secret from another mismatch, which only changes the error it reports).
    """
    if isinstance(auth, V3Auth) or not auth.security_token:
        return expected_string_to_sign(req, auth)
    pairs = [(k, "***" if k == "SecurityToken" else v) for k, v in [*req.query, *req.form]]
    return v1_string_to_sign(req.method, pairs)


def _sign(auth: V3Auth | V1Auth, secret: str, string_to_sign: str) -> str:
    if isinstance(auth, V3Auth):
        return v3_signature(auth.algorithm, secret, string_to_sign)
    return v1_signature(secret, string_to_sign)


def _check_sts(cred: Credential, token: str | None, now: float) -> None:
    if cred.security_token is None:
        if token:
            # A token sent with a long-lived AccessKey is not one we issued for it.
            raise SecurityTokenMismatch()
        return
    if not token:
        raise missing_parameter("SecurityToken")
    if not hmac.compare_digest(cred.security_token.encode(), token.encode()):
        raise SecurityTokenMismatch() if token.startswith("CAIS") else SecurityTokenMalformed()
    if cred.expires_at is not None and now >= cred.expires_at:
        raise SecurityTokenExpired()


async def authenticate(
    req: RpcRequest,
    credentials: CredentialStore,
    nonces: NonceStore,
    clock: Callable[[], float],
) -> Principal:
    """The principal behind a correctly signed, fresh, never-replayed request, or an ApiError."""
    auth = parse_credentials(req)
    if len(auth.access_key_id) > MAX_ACCESS_KEY_ID:
        # No key is that long: answered without a lookup, so no store sees an unbounded value.
        raise AccessKeyNotFound()
    cred = await credentials.get_credential(auth.access_key_id)
    if cred is None:
        raise AccessKeyNotFound()
    if not cred.active:
        raise AccessKeyInactive()
    string_to_sign = expected_string_to_sign(req, auth)
    if not signatures_equal(_sign(auth, cred.secret, string_to_sign), auth.signature):
        raise SignatureDoesNotMatch(shown_string_to_sign(req, auth))
    # The signature covers the body only through x-acs-content-sha256, so the claim must be true.
    if isinstance(auth, V3Auth) and not signatures_equal(
        payload_hash(auth.algorithm, req.body), (req.header("x-acs-content-sha256") or "").lower()
    ):
        raise SignatureDoesNotMatch(string_to_sign)
    require_complete(req, auth)
    now = clock()
    signed_at = parse_timestamp(auth.timestamp)
    if abs(now - signed_at) > TIMESTAMP_WINDOW:
        raise TimestampExpired()
    # Nonces are scoped to the AccessKey and kept a little longer than the window, so a request
    # cannot be replayed while its timestamp is still accepted.
    if not await nonces.use_nonce(f"{auth.access_key_id}:{auth.nonce}", 2 * TIMESTAMP_WINDOW, signed_at):
        raise SignatureNonceUsed()
    _check_sts(cred, auth.security_token, now)
    await credentials.note_used(auth.access_key_id)
    return cred.principal
