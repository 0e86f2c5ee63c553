"""Graph routing: `/{version}/{id}[/{edge}]` to the node modules, after authentication.

Faults, the call log and HTTP rendering live in app.py; each node type's reads and writes live
in its own module (accounts.py, numbers.py, profile.py, encryption.py, uploads.py).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from . import accounts, encryption, numbers, profile, uploads
from .context import Ctx, GraphRequest, Principal
from .errors import (
    GraphError,
    invalid_token,
    missing_token,
    unknown_object,
    unknown_path,
)
from .state import GraphState

VERSION = re.compile(r"^v[0-9]+\.[0-9]+$")

__all__ = ["VERSION", "GraphRequest", "addressed_waba", "answer", "authenticate", "request_token"]


def request_token(request: GraphRequest) -> str | None:
    """Return the access token from `access_token` (query, then body) or an `Authorization` header.

    `Bearer` and `OAuth` schemes are both accepted (the upload API documents `OAuth`). The
    query parameter wins when both are present; what Graph does then is an open question
    (meta-graph.md Q5).
    """
    token = request.param("access_token")
    if token:
        return token
    posted = request.form.get("access_token")
    if isinstance(posted, str) and posted:
        return posted
    if request.authorization:
        scheme, _, value = request.authorization.strip().partition(" ")
        if scheme.lower() in {"bearer", "oauth"} and value.strip():
            return value.strip()
    return None


def addressed_waba(state: GraphState, request: GraphRequest) -> str | None:
    """Return the WABA a request addresses (for fault matching), or the raw id if unknown."""
    segments = request.segments
    if len(segments) < 2:
        return None
    return state.waba_of(segments[1]) or segments[1]


def authenticate(state: GraphState, request: GraphRequest) -> Principal:
    """Return who is calling; raise Meta's 104 / 190 errors, or 100 for a bad appsecret_proof."""
    token = request_token(request)
    if token is None:
        raise missing_token()
    if token in state.expired_tokens:
        raise invalid_token(expired=True)
    if token in state.tokens:
        principal = Principal(token, state.token_apps[token], state.tokens[token])
    else:
        app = state.app_token(token)
        if app is None:
            raise invalid_token(expired=False)
        principal = Principal(token, app.id, frozenset(), app_token=True)
    proof = request.param("appsecret_proof") or request.form.get("appsecret_proof")
    secret = state.apps[principal.app_id].secret
    # Checked only when the app has a secret, so fixtures without one accept any client
    # configuration (the SDK sends a proof whenever it has a secret).
    if secret is not None and isinstance(proof, str):
        expected = hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, proof):
            raise GraphError(
                100,
                "Invalid appsecret_proof provided in the API argument",
                error_type="GraphMethodException",
            )
    return principal


async def answer(ctx: Ctx, request: GraphRequest) -> dict[str, Any]:
    """Return the JSON body for a Graph call; raise GraphError exactly where Graph fails."""
    segments = request.segments
    if len(segments) < 2 or not VERSION.match(segments[0]):
        raise unknown_path(request.path)
    if len(segments) > 3:
        raise unknown_path("/" + "/".join(segments[3:]))
    state = ctx.state
    principal = authenticate(state, request)
    node_id = segments[1]
    edge = segments[2] if len(segments) == 3 else None

    if node_id.startswith("upload:"):
        return uploads.session_route(ctx, principal, node_id, edge, request)
    waba = state.wabas.get(node_id)
    if waba is not None:
        return await accounts.waba_route(ctx, principal, waba, edge, request)
    if node_id in state.phones:
        if edge in profile.EDGES:
            return profile.route(ctx, principal, node_id, request)
        if edge in encryption.EDGES:
            return encryption.route(ctx, principal, node_id, request)
        return numbers.phone_route(ctx, principal, node_id, edge, request)
    if node_id in state.businesses:
        return accounts.business_route(ctx, principal, node_id, edge, request)
    if node_id in state.apps:
        if edge in uploads.EDGES:
            return uploads.start_route(ctx, principal, node_id, request)
        return await accounts.app_route(ctx, principal, node_id, edge, request)
    raise unknown_object(node_id, request.method)
