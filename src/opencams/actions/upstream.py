"""The one mapping from sync failures to CAMS errors (cams.md §3.4)."""

from __future__ import annotations

import math

from ..errors import ApiError, ServiceUnavailable, UpstreamRefused
from ..graph.errors import GraphApiError
from ..redact import redact
from ..services.sync import NoGraphToken, SyncCause, WabaBlocked

# When Meta throttles without saying for how long, callers are asked to wait this long.
DEFAULT_RETRY_AFTER = 60


def upstream_error(exc: SyncCause, *, retry_after: float | None, secrets: tuple[str | None, ...]) -> ApiError:
    """The CAMS error for a failed fetch; Meta's message never carries a token back out."""
    if isinstance(exc, WabaBlocked):
        return ServiceUnavailable(
            "Meta is rate limiting this WhatsApp Business Account; retry later.",
            retry_after=max(1, math.ceil(retry_after or DEFAULT_RETRY_AFTER)),
        )
    if isinstance(exc, NoGraphToken):
        return UpstreamRefused(f"Meta Graph API refused the request: {exc}.")
    if isinstance(exc, GraphApiError):
        if exc.rate_limited:
            wait = max(1, math.ceil(retry_after or DEFAULT_RETRY_AFTER))
            return ServiceUnavailable(
                f"Meta is rate limiting this WhatsApp Business Account (code {exc.code}); retry later.",
                retry_after=wait,
            )
        if not exc.retryable:
            return UpstreamRefused(
                "Meta Graph API refused the request: "
                f"code={exc.code}, subcode={exc.subcode}, message={redact(exc.message, secrets)}, "
                f"fbtrace_id={exc.fbtrace_id}"
            )
    return ServiceUnavailable()
