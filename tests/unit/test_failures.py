"""The one table from failures to CAMS errors."""

from __future__ import annotations

import pytest

from opencams.actions.failures import to_api_error
from opencams.domain.errors import (
    InvalidValue,
    NoGraphToken,
    NotSupported,
    NumberNotInSpace,
    SpaceNotFound,
    SpaceRequired,
    WabaBlocked,
    WabaOfAnotherAccount,
)
from opencams.graph.errors import GraphApiError, GraphContentError, GraphTransportError


def meta(code: int, status: int = 400, message: str = "boom", subcode: int | None = None) -> GraphApiError:
    return GraphApiError(
        http_status=status,
        code=code,
        subcode=subcode,
        type="OAuthException",
        message=message,
        fbtrace_id="Atrace",
        is_transient=False,
    )


@pytest.mark.parametrize(
    ("failure", "status", "code", "message"),
    [
        (SpaceNotFound("x"), 400, "Unknown.ResourceOwnerId", "The resource does not belong to the current user."),
        (WabaOfAnotherAccount("bound elsewhere"), 400, "Unknown.ResourceOwnerId", "bound elsewhere"),
        (SpaceRequired("why"), 400, "MissingCustSpaceId", "why"),
        (NumberNotInSpace("not here"), 400, "ERR-OPERATION-MAAP-0065", "not here"),
        (
            InvalidValue("Email", "Too long."),
            400,
            "InvalidParameter",
            "Specified parameter Email is not valid. Too long.",
        ),
        (
            InvalidValue("Websites", "Website 1 must start with http:// or https://."),
            400,
            "ERR-OPERATION-MAAP-0085",
            "Websites",
        ),
        (NotSupported("not here"), 400, "OperationNotSupported", "not here"),
        (NoGraphToken("no token"), 400, "ERR-FB-001", "no token"),
        (meta(190, 401), 400, "ERR-FB-001", "code=190, subcode=None, message=boom, fbtrace_id=Atrace"),
        (meta(100, subcode=33), 400, "ERR-FB-001", "subcode=33"),
        (meta(2, 500), 503, "ServiceUnavailable", "temporary failure"),
        (meta(4), 503, "ServiceUnavailable", "temporary failure"),
        (WabaBlocked("blocked", 12.2), 503, "ServiceUnavailable", "rate limiting"),
        (GraphTransportError("down"), 503, "ServiceUnavailable", "temporary failure"),
        (GraphContentError("too big"), 503, "ServiceUnavailable", "temporary failure"),
    ],
)
def test_each_failure_has_its_cams_error(failure: Exception, status: int, code: str, message: str) -> None:
    error = to_api_error(failure)  # type: ignore[arg-type]
    assert (error.http_status, error.code) == (status, code)
    assert message in error.message


def test_waits_are_whole_seconds_at_least_one() -> None:
    assert to_api_error(WabaBlocked("b", 12.2)).retry_after == 13
    assert to_api_error(WabaBlocked("b", 0.01)).retry_after == 1


def test_metas_text_never_carries_a_token_out() -> None:
    error = to_api_error(meta(190, 401, message="bad token SeCrEt-Tok"), secrets=("secret-tok",))
    assert "SeCrEt" not in error.message and "***" in error.message
