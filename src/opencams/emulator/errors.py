"""Meta's Graph error envelope and the catalogue of errors the emulator answers with.

Codes, HTTP statuses and wording follow meta-graph.md §4; nothing here knows about routes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# HTTP status Meta uses for a code when a fault rule does not name one (meta-graph.md §4:
# WhatsApp error table; code 4 is 400 there although OAS says 429).
DEFAULT_STATUS: Mapping[int, int] = {
    0: 401,
    1: 400,
    2: 503,
    3: 500,
    4: 400,
    10: 403,
    15: 400,
    17: 400,
    32: 400,
    100: 400,
    104: 401,
    190: 401,
    200: 403,
    341: 400,
    368: 403,
    2200: 400,
    2500: 400,
    80007: 400,
    131000: 500,
    131016: 503,
    131031: 403,
    133000: 500,
    133004: 503,
}

# Meta's usual wording, used when a fault rule gives a code but no message.
DEFAULT_MESSAGE: Mapping[int, str] = {
    0: "(#0) AuthException",
    1: "An unknown error has occurred.",
    2: "An unexpected error has occurred. Please retry your request later.",
    3: "(#3) Application does not have the capability to make this API call.",
    4: "(#4) Application request limit reached",
    10: "(#10) Application does not have permission for this action",
    15: "(#15) This method must be called with an app access_token.",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    100: "(#100) Invalid parameter",
    104: "An access token is required to request this resource.",
    190: "Invalid OAuth access token - Cannot parse access token",
    200: "(#200) Requires whatsapp_business_management permission to manage the object",
    341: "(#341) Application limit reached",
    368: "(#368) Temporarily blocked for policies violations",
    80007: "(#80007) Rate limit hit for WhatsApp Business Account",
    131000: "(#131000) Something went wrong",
    131016: "(#131016) Service unavailable",
    131031: "(#131031) Business Account locked",
    133000: "(#133000) Incomplete deregistration",
    133004: "(#133004) Server temporarily unavailable",
    133005: "(#133005) Two step verification PIN Mismatch",
    133006: "(#133006) Phone number re-verification needed",
    133008: "(#133008) Too many two step verification PIN guesses",
    133010: "(#133010) Phone number Not Registered",
    133016: "(#133016) Account register deregister rate limit exceeded",
    136024: "(#136024) Request code error",
    136025: "(#136025) Verify code error",
}

# Meta marks throttling and downtime errors as transient; the SDK reads the flag
# (FacebookRequestError.api_transient_error) and clients key retries on it.
DEFAULT_TRANSIENT: Mapping[int, bool] = {
    1: True,
    2: True,
    4: True,
    17: True,
    32: True,
    341: True,
    80007: True,
    131016: True,
    133004: True,
}


def default_status(code: int) -> int:
    """Return the HTTP status Meta pairs with `code` (400 when unknown; 2xx codes are 403)."""
    if code in DEFAULT_STATUS:
        return DEFAULT_STATUS[code]
    if 200 <= code <= 299:
        return 403
    return 400


class GraphError(Exception):
    """A Graph API failure, rendered as Meta's `{"error": {...}}` envelope."""

    def __init__(
        self,
        code: int,
        message: str | None = None,
        *,
        status: int | None = None,
        subcode: int | None = None,
        error_type: str = "OAuthException",
        is_transient: bool | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.code = code
        self.message = message if message is not None else DEFAULT_MESSAGE.get(code, f"(#{code}) Error")
        self.status = status if status is not None else default_status(code)
        self.subcode = subcode
        self.error_type = error_type
        self.is_transient = is_transient
        self.extra: dict[str, Any] = dict(extra or {})
        super().__init__(self.message)

    def envelope(self, fbtrace_id: str) -> dict[str, Any]:
        """Return the JSON body Meta sends for this error."""
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.error_type,
            "code": self.code,
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error.update(self.extra)
        if self.is_transient is not None:
            error["is_transient"] = self.is_transient
        error["fbtrace_id"] = fbtrace_id
        return {"error": error}


def missing_token() -> GraphError:
    """Return the error for a request without any access token (code 104)."""
    return GraphError(104, status=401)


def invalid_token(*, expired: bool) -> GraphError:
    """Return the error for an unknown (subcode 467) or expired (463) token."""
    if expired:
        return GraphError(
            190,
            "Error validating access token: Session has expired.",
            subcode=463,
            is_transient=False,
        )
    return GraphError(190, subcode=467, is_transient=False)


def no_permission() -> GraphError:
    """Return the error for a valid token without access to the addressed WABA (code 200)."""
    return GraphError(200, is_transient=False)


def unknown_object(object_id: str, method: str = "GET") -> GraphError:
    """Return Meta's 100/33 error for an id that does not exist or cannot be seen."""
    return GraphError(
        100,
        f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation. "
        "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        subcode=33,
        error_type="GraphMethodException",
    )


def unsupported_method(method: str) -> GraphError:
    """Return the error for a verb the addressed node or edge does not serve."""
    return GraphError(
        100,
        f"Unsupported {method.lower()} request. "
        "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        error_type="GraphMethodException",
    )


def nonexisting_field(name: str, node_type: str) -> GraphError:
    """Return the error Graph gives when `fields` names a field the node type lacks."""
    return GraphError(
        100,
        f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})",
    )


def invalid_parameter(detail: str) -> GraphError:
    """Return a code-100 error for a malformed query parameter."""
    return GraphError(100, f"(#100) {detail}")


def unknown_path(components: str) -> GraphError:
    """Return the code-2500 error Graph gives for path segments it cannot route."""
    return GraphError(2500, f"Unknown path components: {components}")


def required_param(name: str) -> GraphError:
    """Return Graph's complaint about a missing required parameter (code 100)."""
    return GraphError(100, f"(#100) The parameter {name} is required")


def enum_param(name: str, allowed: Iterable[str], got: object) -> GraphError:
    """Return Graph's complaint about a parameter outside its enum (code 100)."""
    return GraphError(100, f'(#100) Param {name} must be one of {{{", ".join(allowed)}}} - got "{got}"')


def whatsapp_error(
    code: int,
    details: str,
    *,
    user_title: str | None = None,
    user_msg: str | None = None,
    subcode: int | None = None,
) -> GraphError:
    """Return a WhatsApp-platform error: `(#code) Title` plus `error_data.details` (meta-graph.md §4)."""
    extra: dict[str, Any] = {"error_data": {"messaging_product": "whatsapp", "details": details}}
    if user_title is not None:
        extra["error_user_title"] = user_title
    if user_msg is not None:
        extra["error_user_msg"] = user_msg
    return GraphError(code, subcode=subcode, is_transient=DEFAULT_TRANSIENT.get(code, False), extra=extra)


def app_token_required() -> GraphError:
    """Return Graph's code-15 error for an app-only edge called with a user or system-user token."""
    return GraphError(15, is_transient=False)


def callback_verification_failed(detail: str) -> GraphError:
    """Return Graph's code-2200 error for a webhook callback that failed the hub.challenge handshake."""
    return GraphError(2200, f"(#2200) Callback verification failed with the following errors: {detail}")
