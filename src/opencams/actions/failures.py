"""The one table from use-case and Meta failures to CAMS errors (what the caller sees, and in which code).

SpaceNotFound, WabaOfAnotherAccount  -> 400 Unknown.ResourceOwnerId
SpaceRequired                         -> 400 MissingCustSpaceId (with the reason)
NumberNotInSpace                      -> 400 ERR-OPERATION-MAAP-0065
InvalidValue                          -> 400 InvalidParameter naming the parameter
                                         (ERR-OPERATION-MAAP-0085 for a website without http(s))
NotSupported                          -> 400 OperationNotSupported
NoGraphToken, Meta refusing           -> 400 ERR-FB-001 with Meta's code, subcode, message, fbtrace_id
Meta refusing a step of a number's    -> 400 ERR-FB-001 naming Meta's code and the next step
  life (META_NEXT_STEPS below)           (Meta's own text is not repeated), fbtrace_id
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

# Meta's refusals in a number's life that the caller can act on: (code, subcode or None for any)
# -> what happened and what to do next. Meta's 136025 does not tell a wrong code from an expired
# one (only its error_data.details does), so one message covers both.
META_NEXT_STEPS: dict[tuple[int, int | None], str] = {
    (200000, None): "the number is already in another WhatsApp Business Account; remove it there (in WhatsApp "
    "Manager, or ask the provider that added it), then retry AddChatappPhoneNumber",
    (136024, None): "Meta could not send a verification code, usually because too many were requested for this "
    "number; wait an hour, then call GetChatappVerifyCode again",
    (136025, None): "the verification code is wrong or has expired; request a new one with GetChatappVerifyCode, "
    "then retry ChatappVerifyAndRegister with it",
    (133005, None): "the number has a two-step verification PIN that was set outside opencams (by a provider it "
    "was registered with, or in WhatsApp Manager); turn off two-step verification for the number in WhatsApp "
    "Manager, or ask whoever set it to, then retry: opencams then sets its own PIN",
    (133006, None): "the number must be verified first; request a code with GetChatappVerifyCode, then call "
    "ChatappVerifyAndRegister with it",
    (133010, None): "the number is not registered on the WhatsApp Business Platform; register it with "
    "ChatappPhoneNumberRegister (or ChatappVerifyAndRegister), then retry",
    (133016, None): "the number was registered or deregistered too often (Meta allows 10 attempts in 72 hours); "
    "retry when the oldest of them is 72 hours old",
    (100, 2207051): "the number is not registered on the WhatsApp Business Platform, so there is nothing to "
    "deregister; ChatappSyncPhoneNumber shows its status",
}

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
        next_step = next_step_after(exc, secrets)
        if next_step is not None:
            return UpstreamRefused(next_step)
        return UpstreamRefused(
            "Meta Graph API refused the request: "
            f"code={exc.code}, subcode={exc.subcode}, message={redact(exc.message, secrets)}, "
            f"fbtrace_id={exc.fbtrace_id}"
        )
    return ServiceUnavailable()


def next_step_after(exc: GraphApiError, secrets: tuple[str | None, ...] = ()) -> str | None:
    """The CAMS message for a refusal in META_NEXT_STEPS: Meta's code, the next step, Meta's trace id."""
    if exc.code is None:
        return None
    step = META_NEXT_STEPS.get((exc.code, exc.subcode)) or META_NEXT_STEPS.get((exc.code, None))
    if step is None:
        return None
    code = f"code {exc.code}" + (f", subcode {exc.subcode}" if exc.subcode is not None else "")
    trace = redact(exc.fbtrace_id, secrets) if exc.fbtrace_id else None
    return f"Meta refused the request ({code}): {step}. fbtrace_id={trace}"
