"""Tests of the EncodedDiagnosticMessage codec: round trips and refusal of garbage."""

from __future__ import annotations

import base64
import json

import pytest

from opencams.iam.diagnostic import decode_diagnostic, encode_diagnostic
from opencams.iam.policy import SYSTEM_POLICIES, Decision, RequestContext, evaluate

CTX = RequestContext(
    action="cams:ChatappSyncPhoneNumber",
    resource="acs:cams:*:1234567890123456:*",
    keys={"acs:SourceIp": "127.0.0.1"},
)


@pytest.mark.parametrize(
    "decision",
    [
        pytest.param(
            Decision(False, "ExplicitDeny", "AccountLevelIdentityBasedPolicy", "Lock", 2),
            id="explicit",
        ),
        pytest.param(
            Decision(False, "ExplicitDeny", "SessionPolicy", None, 0),
            id="explicit-session",
        ),
        pytest.param(
            Decision(False, "ImplicitDeny", "AccountLevelIdentityBasedPolicy", None, None),
            id="implicit",
        ),
        pytest.param(
            Decision(True, None, "AccountLevelIdentityBasedPolicy", "AliyunCAMSFullAccess", 0),
            id="allowed",
        ),
    ],
)
def test_round_trip(decision: Decision) -> None:
    message = encode_diagnostic(decision, CTX, principal="alice", account_id="1234567890123456")
    assert message.isascii()
    decoded = decode_diagnostic(message)
    assert decoded["AuthAction"] == CTX.action
    assert decoded["AuthResource"] == CTX.resource
    assert decoded["AuthPrincipal"] == "alice"
    assert decoded["AccountId"] == "1234567890123456"
    assert decoded["NoPermissionType"] == decision.no_permission_type
    assert decoded["PolicyType"] == decision.policy_type
    assert decoded["PolicyName"] == decision.policy_name
    assert decoded["StatementIndex"] == decision.statement_index


def test_round_trip_of_a_real_denial_with_non_ascii_principal() -> None:
    decision = evaluate([SYSTEM_POLICIES["AliyunCAMSReadOnlyAccess"]], CTX)
    message = encode_diagnostic(decision, CTX, principal="运维:会话", account_id="1")
    decoded = decode_diagnostic(message)
    assert decoded["AuthPrincipal"] == "运维:会话"
    assert decoded["NoPermissionType"] == "ImplicitDeny"


def test_payload_is_compact_json() -> None:
    decision = Decision(False, "ImplicitDeny", "AccountLevelIdentityBasedPolicy", None, None)
    raw = base64.b64decode(encode_diagnostic(decision, CTX, principal="p", account_id="a"))
    assert b" " not in raw
    assert json.loads(raw)["Version"] == 1


def test_stripped_padding_and_line_breaks_are_tolerated() -> None:
    decision = Decision(False, "ImplicitDeny", "AccountLevelIdentityBasedPolicy", None, None)
    message = encode_diagnostic(decision, CTX, principal="bob", account_id="1")
    mangled = message.rstrip("=")
    mangled = mangled[:10] + "\n" + mangled[10:]
    assert decode_diagnostic(mangled)["AuthPrincipal"] == "bob"


def b64(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("message", "fault"),
    [
        pytest.param("", "empty", id="empty"),
        pytest.param("   ", "empty", id="blank"),
        pytest.param("not base64!!", "not valid base64", id="bad-alphabet"),
        pytest.param("abcde", "not valid base64", id="bad-length"),
        pytest.param(b64(b"\xff\xfe\x00"), "UTF-8", id="not-utf8"),
        pytest.param(b64("hello"), "does not decode to JSON", id="not-json"),
        pytest.param(b64("[1, 2]"), "JSON object", id="json-array"),
        pytest.param(b64('{"AuthAction": "x"}'), "unsupported Version", id="no-version"),
        pytest.param(
            b64('{"Version": 1, "AuthAction": "x"}'),
            "lacks fields",
            id="missing-fields",
        ),
        pytest.param(None, "not a string", id="none"),
    ],
)
def test_garbage_is_refused(message: object, fault: str) -> None:
    with pytest.raises(ValueError, match=fault):
        decode_diagnostic(message)  # type: ignore[arg-type]
