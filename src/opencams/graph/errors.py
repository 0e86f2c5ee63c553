"""Graph failures, typed by what the caller should do about them (meta-graph.md §4).

GraphError
 ├── GraphApiError        Meta answered its error envelope (code, subcode, fbtrace_id...)
 ├── GraphTransportError  no usable answer: timeout, refused or dropped connection
 │    └── GraphConnectError  the connection was never made: the request surely did not arrive
 └── GraphProtocolError   an answer that is not the JSON Meta documents
      └── GraphContentError  JSON beyond opencams's bounds (size, nesting, count, values): not retried
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..redact import clean, redact

# Meta's "retry with backoff" codes; 4/17/32/80007 are budget blocks: waiting, not retrying, helps.
RETRYABLE_CODES = frozenset({1, 2, 131000, 131016})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 80007})
PERMANENT_CODES = frozenset({0, 3, 10, 100, 104, 190, 341, 368, 131031}) | frozenset(range(200, 300))
KNOWN_CODES = RETRYABLE_CODES | RATE_LIMIT_CODES | PERMANENT_CODES


class GraphError(Exception):
    """Any failure to get phone numbers from Meta."""

    retryable: bool = False


class GraphApiError(GraphError):
    """Meta's error envelope, parsed."""

    def __init__(
        self,
        *,
        http_status: int,
        code: int | None,
        subcode: int | None,
        type: str | None,
        message: str,
        fbtrace_id: str | None,
        is_transient: bool,
    ) -> None:
        self.http_status = http_status
        self.code = code
        self.subcode = subcode
        self.type = type
        self.message = message
        self.fbtrace_id = fbtrace_id
        self.is_transient = is_transient
        super().__init__(f"Graph error {code}/{subcode}: {message} (fbtrace_id {fbtrace_id})")

    @classmethod
    def from_envelope(
        cls, http_status: int, error: Mapping[str, Any], *, secrets: Iterable[str | None] = ()
    ) -> GraphApiError:
        """The parsed envelope; Meta's texts are cleaned, bounded and stripped of `secrets`."""

        def as_int(value: Any) -> int | None:
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        def as_text(value: Any, limit: int) -> str | None:
            return redact(clean(value, limit=limit), secrets) if isinstance(value, str) else None

        return cls(
            http_status=http_status,
            code=as_int(error.get("code")),
            subcode=as_int(error.get("error_subcode")),
            type=as_text(error.get("type"), 100),
            message=as_text(error.get("message"), 500) or "no message",
            fbtrace_id=as_text(error.get("fbtrace_id"), 100),
            is_transient=error.get("is_transient") is True,
        )

    @property
    def rate_limited(self) -> bool:
        return self.code in RATE_LIMIT_CODES

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        # Keyed on Meta's code, not the HTTP status (meta-graph.md §4): code 3 comes with a 500
        # and will not get better. A 5xx without a code we know is treated as transient.
        if self.rate_limited or self.code in PERMANENT_CODES:
            return False
        if self.code in RETRYABLE_CODES or self.is_transient:
            return True
        return self.http_status >= 500 and self.code not in KNOWN_CODES


class GraphTransportError(GraphError):
    """Meta could not be reached or did not answer in time."""

    retryable = True


class GraphConnectError(GraphTransportError):
    """No connection to Meta was made: the request was never sent, so even a write may be retried."""


class GraphProtocolError(GraphError):
    """Meta's answer was not the JSON it documents (truncated, malformed, wrong shape)."""

    retryable = True


class GraphContentError(GraphProtocolError):
    """An answer beyond what opencams accepts (too large, too deep, too many numbers, bad values).

    Not retried: asking again would get the same answer and spend Meta's budget on it.
    """

    retryable = False
