"""Graph reads against a GraphState: routing of `/{version}/{id}[/{edge}]`, auth, lookups, fields.

Pure: takes a GraphRequest, returns the JSON body or raises GraphError. Faults, the call log
and HTTP rendering live in app.py.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import (
    GraphError,
    invalid_token,
    missing_token,
    no_permission,
    nonexisting_field,
    unknown_object,
    unknown_path,
    unsupported_method,
)
from .paging import paging_object, select_page
from .query import (
    apply_filters,
    apply_sort,
    parse_fields,
    parse_filtering,
    parse_limit,
    parse_sort,
    render_node,
)
from .state import (
    DEFAULT_FIELDS,
    KNOWN_FIELDS,
    PHONE_NODE_TYPE,
    WABA_DEFAULT_FIELDS,
    WABA_FIELDS,
    WABA_NODE_TYPE,
    GraphState,
    Waba,
)

VERSION = re.compile(r"^v[0-9]+\.[0-9]+$")
_SUMMARY_ON = frozenset({"true", "1", "total_count"})


@dataclass(frozen=True, slots=True)
class GraphRequest:
    """The parts of an HTTP request a Graph read depends on."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    authorization: str | None
    # absolute URL of the request without its query: the base of paging links
    url: str

    def param(self, name: str) -> str | None:
        """Return the last value of a query parameter, or None."""
        value = None
        for key, item in self.query:
            if key == name:
                value = item
        return value

    @property
    def segments(self) -> list[str]:
        """Return the non-empty path segments."""
        return [s for s in self.path.split("/") if s]


def request_token(request: GraphRequest) -> str | None:
    """Return the access token from `access_token` or an `Authorization: Bearer|OAuth` header.

    The query parameter wins when both are present; what Graph does then is an open question
    (meta-graph.md Q5).
    """
    token = request.param("access_token")
    if token:
        return token
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


def answer(state: GraphState, request: GraphRequest) -> dict[str, Any]:
    """Return the JSON body for a Graph read; raise GraphError exactly where Graph fails."""
    segments = request.segments
    if len(segments) < 2 or not VERSION.match(segments[0]):
        raise unknown_path(request.path)
    if len(segments) > 3:
        raise unknown_path("/" + "/".join(segments[3:]))
    token = _authenticate(state, request)
    node_id = segments[1]
    edge = segments[2] if len(segments) == 3 else None
    if request.method != "GET":
        raise unsupported_method(request.method)
    granted = state.tokens[token]

    waba = state.wabas.get(node_id)
    if waba is not None:
        if node_id not in granted:
            raise no_permission()
        if edge is None:
            fields = parse_fields(
                request.param("fields"),
                known=WABA_FIELDS,
                node_type=WABA_NODE_TYPE,
                defaults=WABA_DEFAULT_FIELDS,
            )
            return render_node(waba.fields, fields)
        if edge != "phone_numbers":
            raise nonexisting_field(edge, WABA_NODE_TYPE)
        return _phone_numbers(waba, request)

    phone = state.phones.get(node_id)
    # A number under a WABA the token cannot see looks exactly like a missing one
    # (meta-graph.md §2: "unknown or inaccessible" → 100/33).
    if phone is None or state.phone_owner[node_id] not in granted:
        raise unknown_object(node_id, request.method)
    if edge is not None:
        raise nonexisting_field(edge, PHONE_NODE_TYPE)
    return render_node(phone, _phone_fields(request))


def _authenticate(state: GraphState, request: GraphRequest) -> str:
    token = request_token(request)
    if token is None:
        raise missing_token()
    if token in state.expired_tokens:
        raise invalid_token(expired=True)
    if token not in state.tokens:
        raise invalid_token(expired=False)
    proof = request.param("appsecret_proof")
    # Checked only when the state names an app secret, so fixtures without one accept any
    # client configuration (the SDK sends a proof whenever it has a secret).
    if state.app_secret is not None and proof is not None:
        expected = hmac.new(state.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, proof):
            raise GraphError(
                100,
                "Invalid appsecret_proof provided in the API argument",
                error_type="GraphMethodException",
            )
    return token


def _phone_fields(request: GraphRequest) -> tuple[str, ...]:
    return parse_fields(
        request.param("fields"),
        known=KNOWN_FIELDS,
        node_type=PHONE_NODE_TYPE,
        defaults=DEFAULT_FIELDS,
    )


def _phone_numbers(waba: Waba, request: GraphRequest) -> dict[str, Any]:
    fields = _phone_fields(request)
    limit = parse_limit(request.param("limit"))
    numbers: list[Mapping[str, Any]] = apply_filters(waba.numbers, parse_filtering(request.param("filtering")))
    numbers = apply_sort(numbers, parse_sort(request.param("sort")))
    page = select_page(len(numbers), limit, request.param("after"), request.param("before"))
    body: dict[str, Any] = {"data": [render_node(n, fields) for n in page.items(numbers)]}
    # An empty page carries no `paging` at all (Graph's own empty edges look like this).
    paging = paging_object(page, request.url, request.query, limit)
    if paging is not None:
        body["paging"] = paging
    summary = request.param("summary")
    if summary is not None and summary.lower() in _SUMMARY_ON:
        body["summary"] = {"total_count": len(numbers)}
    return body
