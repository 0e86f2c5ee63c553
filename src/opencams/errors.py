"""The API error tree: every error a client can see, with its CAMS code, HTTP status and message.

    ApiError
     ├── gateway errors (wire and authentication, alibaba-rpc.md §5)
     ├── CAMS business errors (Product.Unsubscript, Ram.PermissionDeny, ...)
     └── upstream errors (ERR-FB-001, ServiceUnavailable)

Only `rpc.envelope` turns these into response bodies.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answered to the client with `code`, `http_status` and `message`.

    Subclasses set the three as class attributes; `missing_parameter` and `invalid_parameter`
    build instances whose code is only known at run time. A message given to the constructor
    replaces the class's default for that instance.
    """

    code: str = "InternalError"
    http_status: int = 500
    message: str = "The request processing has failed due to some unknown error."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        http_status: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        if http_status is not None:
            self.http_status = http_status
        self.retry_after = retry_after
        super().__init__(self.message)

    def extra_body(self) -> dict[str, Any]:
        """Fields added to the error envelope beyond the standard five."""
        return {}


# --- wire -----------------------------------------------------------------------------------
class InvalidActionNotFound(ApiError):
    code = "InvalidAction.NotFound"
    http_status = 404
    message = "Specified api is not found, please check your url and method."


class InvalidVersion(ApiError):
    code = "InvalidVersion"
    http_status = 400
    message = "Specified parameter Version is not valid."


class UnsupportedHTTPMethod(ApiError):
    code = "UnsupportedHTTPMethod"
    http_status = 400
    message = "This http method is not supported."


# --- authentication -------------------------------------------------------------------------
class AccessKeyNotFound(ApiError):
    code = "InvalidAccessKeyId.NotFound"
    http_status = 404
    message = "Specified access key is not found."


class AccessKeyInactive(ApiError):
    code = "InvalidAccessKeyId.Inactive"
    http_status = 400
    message = "Specified access key is disabled."


class SignatureNonceUsed(ApiError):
    code = "SignatureNonceUsed"
    http_status = 400
    message = "Specified signature nonce was used already."


class TimestampExpired(ApiError):
    code = "InvalidTimeStamp.Expired"
    http_status = 400
    message = "Specified time stamp or date value is expired."


class TimestampFormat(ApiError):
    code = "InvalidTimeStamp.Format"
    http_status = 400
    message = "Specified time stamp or date value is not well formatted."


class InvalidSignatureMethod(ApiError):
    code = "InvalidSignatureMethod"
    http_status = 400
    message = "Specified signature method is not supported."


class InvalidSignatureVersion(ApiError):
    code = "InvalidSignatureVersion"
    http_status = 400
    message = "Specified signature version is not supported."


class SecurityTokenExpired(ApiError):
    code = "InvalidSecurityToken.Expired"
    http_status = 400
    message = "Specified SecurityToken is expired."


class SecurityTokenMalformed(ApiError):
    code = "InvalidSecurityToken.Malformed"
    http_status = 400
    message = "Specified SecurityToken is malformed."


class SecurityTokenMismatch(ApiError):
    code = "InvalidSecurityToken.MismatchWithAccessKey"
    http_status = 400
    message = "Specified SecurityToken mismatch with the AccessKey."


class SignatureDoesNotMatch(ApiError):
    """The signature differs from the server's; the message carries the server's string to sign.

    The legacy Python SDK splits this message on ':' and compares part [1] with its own
    string to sign, so the prefix must stay exactly as Alibaba's gateway writes it.
    """

    code = "SignatureDoesNotMatch"
    http_status = 400
    message = "Specified signature is not matched with our calculation."
    PREFIX = "Specified signature is not matched with our calculation. server string to sign is:"

    def __init__(self, string_to_sign: str) -> None:
        super().__init__(self.PREFIX + string_to_sign)


class IncompleteSignature(ApiError):
    """The Authorization header or the signature parameters are missing a part."""

    code = "IncompleteSignature"
    http_status = 400
    message = "The request signature does not conform to Aliyun standards."

    def __init__(self, detail: str) -> None:
        super().__init__(f"{IncompleteSignature.message} {detail}")


class RequestBodyTooLarge(ApiError):
    """The body is over the limit; refused before it is read whole (as Alibaba's gateway does, 413)."""

    code = "RequestBodyTooLarge"
    http_status = 413
    message = "Request body too large."

    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body too large: the limit is {limit} bytes.")


# --- CAMS business ---------------------------------------------------------------------------
class ProductUnsubscribed(ApiError):
    code = "Product.Unsubscript"
    http_status = 400
    message = "You have not subscribed to the specified product."


class LimitControl(ApiError):
    code = "System.LimitControl"
    http_status = 400
    message = "The system is under flow control."


class UnknownResourceOwner(ApiError):
    code = "Unknown.ResourceOwnerId"
    http_status = 400
    message = "The resource does not belong to the current user."


class PhoneNumberNotBound(ApiError):
    code = "ERR-OPERATION-MAAP-0065"
    http_status = 400
    message = "The phone number is not bound to this customer space."


class PermissionDenied(ApiError):
    """RAM refused the call; carries Alibaba's AccessDeniedDetail object."""

    code = "Ram.PermissionDeny"
    http_status = 400
    message = "You are not authorized to perform the operation."

    def __init__(self, detail: dict[str, str]) -> None:
        super().__init__()
        self.detail = detail

    def extra_body(self) -> dict[str, Any]:
        return {"AccessDeniedDetail": self.detail}


# --- server / upstream -----------------------------------------------------------------------
class InternalError(ApiError):
    code = "InternalError"
    http_status = 500
    message = "The request processing has failed due to some unknown error."


class ServiceUnavailable(ApiError):
    code = "ServiceUnavailable"
    http_status = 503
    message = "The request has failed due to a temporary failure of the server."


class UpstreamRefused(ApiError):
    """Meta refused the call for a reason a retry cannot fix (token, permission, unknown WABA)."""

    code = "ERR-FB-001"
    http_status = 400
    message = "Meta Graph API refused the request."


def missing_parameter(name: str) -> ApiError:
    """`Missing<Name>`, as Alibaba's gateway names a missing mandatory parameter."""
    return ApiError(f"{name} is mandatory for this action.", code=f"Missing{name}", http_status=400)


def invalid_parameter(name: str, why: str = "") -> ApiError:
    """`InvalidParameter` naming the parameter, and why when it helps the caller."""
    suffix = f" {why}" if why else ""
    return ApiError(f"Specified parameter {name} is not valid.{suffix}", code="InvalidParameter", http_status=400)
