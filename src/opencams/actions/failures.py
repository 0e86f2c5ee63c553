"""The one table from use-case and Meta failures to CAMS errors (what the caller sees, and in which code).

SpaceNotFound, WabaOfAnotherAccount  -> 400 Unknown.ResourceOwnerId
SpaceRequired                         -> 400 MissingCustSpaceId (with the reason)
NumberNotInSpace                      -> 400 ERR-OPERATION-MAAP-0065
InvalidValue                          -> 400 InvalidParameter naming the parameter
                                         (ERR-OPERATION-MAAP-0085 for a website without http(s))
NotSupported                          -> 400 OperationNotSupported
NoGraphToken, Meta refusing           -> 400 ERR-FB-001 with Meta's code, subcode, message, fbtrace_id
WabaBlocked, Meta throttling          -> 503 ServiceUnavailable with Retry-After
Meta unreachable, malformed, too big  -> 503 ServiceUnavailable
"""

from __future__ import annotations

import math

from ..domain.errors import (
    DomainError,
    InvalidValue,
    NoGraphToken,
    NotSupported,
    NumberNotInSpace,
    SpaceNotFound,
    SpaceRequired,
    WabaBlocked,
    WabaOfAnotherAccount,
)
from ..errors import (
    ApiError,
    PhoneNumberNotBound,
    ServiceUnavailable,
    UnknownResourceOwner,
    UpstreamRefused,
    invalid_parameter,
)
from ..graph.errors import GraphApiError, GraphError
from ..redact import redact

# When Meta throttles without saying for how long, callers are asked to wait this long.
DEFAULT_RETRY_AFTER = 60
WEBSITE_SCHEME = "ERR-OPERATION-MAAP-0085"


def to_api_error(exc: DomainError | GraphError, secrets: tuple[str | None, ...] = ()) -> ApiError:
    """The CAMS error for a failure; no text of Meta's leaves without its tokens masked."""
    if isinstance(exc, SpaceNotFound):
        return UnknownResourceOwner()
    if isinstance(exc, WabaOfAnotherAccount):
        return UnknownResourceOwner(str(exc))
    if isinstance(exc, SpaceRequired):
        return ApiError(str(exc), code="MissingCustSpaceId", http_status=400)
    if isinstance(exc, NumberNotInSpace):
        return PhoneNumberNotBound(str(exc))
    if isinstance(exc, InvalidValue):
        if exc.param == "Websites" and "http" in exc.why:
            return ApiError(
                f"Specified parameter Websites is not valid. {exc.why}", code=WEBSITE_SCHEME, http_status=400
            )
        return invalid_parameter(exc.param, exc.why)
    if isinstance(exc, NotSupported):
        return ApiError(str(exc), code="OperationNotSupported", http_status=400)
    if isinstance(exc, WabaBlocked):
        return ServiceUnavailable(
            "Meta is rate limiting this WhatsApp Business Account; retry later.",
            retry_after=max(1, math.ceil(exc.retry_after or DEFAULT_RETRY_AFTER)),
        )
    if isinstance(exc, NoGraphToken):
        return UpstreamRefused(f"Meta Graph API refused the request: {exc}.")
    if isinstance(exc, GraphApiError) and not exc.retryable and not exc.rate_limited:
        return UpstreamRefused(
            "Meta Graph API refused the request: "
            f"code={exc.code}, subcode={exc.subcode}, message={redact(exc.message, secrets)}, "
            f"fbtrace_id={exc.fbtrace_id}"
        )
    return ServiceUnavailable()
