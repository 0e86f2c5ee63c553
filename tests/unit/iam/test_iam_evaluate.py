"""Table-driven tests of RAM policy evaluation: effects, matching, conditions, layers and system policies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from opencams.iam.policy import (
    SYSTEM_POLICIES,
    Decision,
    NamedPolicy,
    PolicyDocument,
    RequestContext,
    evaluate,
    parse_policy,
)

ACCOUNT = "1234567890123456"
OTHER_ACCOUNT = "9999999999999999"
RESOURCE = f"acs:cams:*:{ACCOUNT}:*"
SYNC = "cams:ChatappSyncPhoneNumber"
QUERY = "cams:QueryChatappPhoneNumbers"
IDENTITY = "AccountLevelIdentityBasedPolicy"
SESSION = "SessionPolicy"

BASE_KEYS: dict[str, Any] = {
    "acs:SourceIp": "203.0.113.10",
    "acs:SecureTransport": True,
    "acs:CurrentTime": "2026-11-26T20:14:38Z",
    "acs:MFAPresent": False,
    "acs:AccessId": "LTAI5tExample",
    "cams:Count": 10,
    "cams:Env": "prod",
}

FULL = SYSTEM_POLICIES["AliyunCAMSFullAccess"]
READ_ONLY = SYSTEM_POLICIES["AliyunCAMSReadOnlyAccess"]


def st(
    effect: str = "Allow",
    action: str | list[str] | None = "cams:*",
    resource: str | list[str] = "*",
    *,
    not_action: str | list[str] | None = None,
    condition: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One statement as JSON; `not_action` replaces `action`."""
    out: dict[str, Any] = {"Effect": effect, "Resource": resource}
    if not_action is not None:
        out["NotAction"] = not_action
    else:
        out["Action"] = action
    if condition is not None:
        out["Condition"] = condition
    return out


def doc(*statements: dict[str, Any]) -> PolicyDocument:
    return parse_policy({"Version": "1", "Statement": list(statements)})


def pol(*statements: dict[str, Any], name: str = "P") -> NamedPolicy:
    return NamedPolicy(name=name, policy_type="Custom", document=doc(*statements))


def cond(operator: str, key: str, value: object) -> dict[str, Any]:
    return {operator: {key: value}}


def allow(name: str = "P", index: int = 0) -> Decision:
    return Decision(True, None, IDENTITY, name, index)


IMPLICIT = Decision(False, "ImplicitDeny", IDENTITY, None, None)
IMPLICIT_SESSION = Decision(False, "ImplicitDeny", SESSION, None, None)


def explicit(name: str = "P", index: int = 0) -> Decision:
    return Decision(False, "ExplicitDeny", IDENTITY, name, index)


def explicit_session(index: int = 0) -> Decision:
    return Decision(False, "ExplicitDeny", SESSION, None, index)


def case(
    case_id: str,
    policies: Sequence[NamedPolicy],
    expected: Decision,
    *,
    action: str = SYNC,
    resource: str = RESOURCE,
    keys: Mapping[str, Any] | None = None,
    extra_keys: Mapping[str, Any] | None = None,
    session: PolicyDocument | None = None,
) -> Any:
    request_keys = dict(BASE_KEYS if keys is None else keys)
    request_keys.update(extra_keys or {})
    ctx = RequestContext(action=action, resource=resource, keys=request_keys)
    return pytest.param(policies, ctx, session, expected, id=case_id)


def conditional(operator: str, key: str, value: object, effect: str = "Allow") -> NamedPolicy:
    return pol(st(effect, condition=cond(operator, key, value)))


CONDITIONAL_ALLOW = [
    # String family
    case(
        "string-equals-match",
        [conditional("StringEquals", "acs:AccessId", "LTAI5tExample")],
        allow(),
    ),
    case(
        "string-equals-mismatch",
        [conditional("StringEquals", "acs:AccessId", "LTAIother")],
        IMPLICIT,
    ),
    case(
        "string-equals-is-case-sensitive",
        [conditional("StringEquals", "acs:AccessId", "ltai5texample")],
        IMPLICIT,
    ),
    case(
        "string-equals-ignore-case",
        [conditional("StringEqualsIgnoreCase", "acs:AccessId", "ltai5texample")],
        allow(),
    ),
    case(
        "string-not-equals-differs",
        [conditional("StringNotEquals", "acs:AccessId", "LTAIother")],
        allow(),
    ),
    case(
        "string-not-equals-same",
        [conditional("StringNotEquals", "acs:AccessId", "LTAI5tExample")],
        IMPLICIT,
    ),
    case(
        "string-not-equals-ignore-case-same",
        [conditional("StringNotEqualsIgnoreCase", "acs:AccessId", "LTAI5TEXAMPLE")],
        IMPLICIT,
    ),
    case(
        "string-not-equals-ignore-case-differs",
        [conditional("StringNotEqualsIgnoreCase", "acs:AccessId", "STS.x")],
        allow(),
    ),
    case(
        "string-like-star",
        [conditional("StringLike", "acs:AccessId", "LTAI*")],
        allow(),
    ),
    case(
        "string-like-question",
        [conditional("StringLike", "acs:AccessId", "LTAI?tExample")],
        allow(),
    ),
    case(
        "string-like-is-case-sensitive",
        [conditional("StringLike", "acs:AccessId", "ltai*")],
        IMPLICIT,
    ),
    case(
        "string-not-like-matching",
        [conditional("StringNotLike", "acs:AccessId", "LTAI*")],
        IMPLICIT,
    ),
    case(
        "string-not-like-other",
        [conditional("StringNotLike", "acs:AccessId", "STS.*")],
        allow(),
    ),
    case(
        "string-equals-json-number-value",
        [conditional("StringEquals", "cams:Count", 10)],
        allow(),
    ),
    # Numeric family (request cams:Count = 10)
    case("numeric-equals", [conditional("NumericEquals", "cams:Count", 10)], allow()),
    case(
        "numeric-equals-decimal-string",
        [conditional("NumericEquals", "cams:Count", "10.0")],
        allow(),
    ),
    case(
        "numeric-not-equals-same",
        [conditional("NumericNotEquals", "cams:Count", 10)],
        IMPLICIT,
    ),
    case(
        "numeric-not-equals-differs",
        [conditional("NumericNotEquals", "cams:Count", 11)],
        allow(),
    ),
    case(
        "numeric-less-than-true",
        [conditional("NumericLessThan", "cams:Count", 11)],
        allow(),
    ),
    case(
        "numeric-less-than-equal-is-false",
        [conditional("NumericLessThan", "cams:Count", 10)],
        IMPLICIT,
    ),
    case(
        "numeric-less-than-equals",
        [conditional("NumericLessThanEquals", "cams:Count", 10)],
        allow(),
    ),
    case(
        "numeric-greater-than",
        [conditional("NumericGreaterThan", "cams:Count", 9.5)],
        allow(),
    ),
    case(
        "numeric-greater-than-false",
        [conditional("NumericGreaterThan", "cams:Count", 10)],
        IMPLICIT,
    ),
    case(
        "numeric-greater-than-equals-string",
        [conditional("NumericGreaterThanEquals", "cams:Count", "10")],
        allow(),
    ),
    case(
        "numeric-request-value-as-string",
        [conditional("NumericLessThan", "cams:Count", 11)],
        allow(),
        extra_keys={"cams:Count": "10"},
    ),
    # Date family (request acs:CurrentTime = 2026-11-26T20:14:38Z)
    case(
        "date-less-than-future",
        [conditional("DateLessThan", "acs:CurrentTime", "2027-01-01T00:00:00Z")],
        allow(),
    ),
    case(
        "date-less-than-past",
        [conditional("DateLessThan", "acs:CurrentTime", "2026-01-01T00:00:00Z")],
        IMPLICIT,
    ),
    case(
        "date-greater-than-with-offset",
        [conditional("DateGreaterThan", "acs:CurrentTime", "2026-11-27T04:14:37+08:00")],
        allow(),
    ),
    case(
        "date-equals-same-instant-other-offset",
        [conditional("DateEquals", "acs:CurrentTime", "2026-11-27T04:14:38+08:00")],
        allow(),
    ),
    case(
        "date-not-equals-same-instant",
        [conditional("DateNotEquals", "acs:CurrentTime", "2026-11-26T20:14:38Z")],
        IMPLICIT,
    ),
    case(
        "date-greater-than-equals-same-instant",
        [conditional("DateGreaterThanEquals", "acs:CurrentTime", "2026-11-26T20:14:38Z")],
        allow(),
    ),
    case(
        "date-less-than-equals-one-second-early",
        [conditional("DateLessThanEquals", "acs:CurrentTime", "2026-11-26T20:14:37Z")],
        IMPLICIT,
    ),
    # Bool family (request SecureTransport True, MFAPresent False)
    case(
        "bool-string-true-matches",
        [conditional("Bool", "acs:SecureTransport", "true")],
        allow(),
    ),
    case(
        "bool-json-false-mismatch",
        [conditional("Bool", "acs:SecureTransport", False)],
        IMPLICIT,
    ),
    case("bool-mfa-false", [conditional("Bool", "acs:MFAPresent", "false")], allow()),
    case(
        "bool-deny-insecure-transport",
        [pol(st(), st("Deny", condition=cond("Bool", "acs:SecureTransport", "false")))],
        explicit(index=1),
        extra_keys={"acs:SecureTransport": False},
    ),
    # IP family (request acs:SourceIp = 203.0.113.10)
    case(
        "ip-in-ipv4-cidr",
        [conditional("IpAddress", "acs:SourceIp", "203.0.113.0/24")],
        allow(),
    ),
    case(
        "ip-exact-address",
        [conditional("IpAddress", "acs:SourceIp", "203.0.113.10")],
        allow(),
    ),
    case(
        "ip-outside-ipv4-cidr",
        [conditional("IpAddress", "acs:SourceIp", "198.51.100.0/24")],
        IMPLICIT,
    ),
    case(
        "not-ip-inside-cidr",
        [conditional("NotIpAddress", "acs:SourceIp", "203.0.113.0/24")],
        IMPLICIT,
    ),
    case(
        "not-ip-outside-cidr",
        [conditional("NotIpAddress", "acs:SourceIp", "10.0.0.0/8")],
        allow(),
    ),
    case(
        "deny-not-ip-outside-corporate-range",
        [
            pol(
                st(),
                st("Deny", condition=cond("NotIpAddress", "acs:SourceIp", "10.0.0.0/8")),
            )
        ],
        explicit(index=1),
    ),
    case(
        "ip-in-ipv6-cidr",
        [conditional("IpAddress", "acs:SourceIp", "2001:db8::/32")],
        allow(),
        extra_keys={"acs:SourceIp": "2001:db8::1"},
    ),
    case(
        "ip-outside-ipv6-cidr",
        [conditional("IpAddress", "acs:SourceIp", "2001:db8::/32")],
        IMPLICIT,
        extra_keys={"acs:SourceIp": "2001:db9::1"},
    ),
    case(
        "ipv4-request-vs-ipv6-cidr",
        [conditional("IpAddress", "acs:SourceIp", "::/0")],
        IMPLICIT,
    ),
    case(
        "ipv4-mapped-ipv6-request",
        [conditional("IpAddress", "acs:SourceIp", "203.0.113.0/24")],
        allow(),
        extra_keys={"acs:SourceIp": "::ffff:203.0.113.10"},
    ),
    # Missing keys: positive operators fail, negated ones hold, IfExists holds
    case(
        "missing-key-positive-operator",
        [conditional("StringEquals", "cams:Missing", "x")],
        IMPLICIT,
    ),
    case(
        "missing-key-negated-operator",
        [conditional("StringNotEquals", "cams:Missing", "x")],
        allow(),
    ),
    case(
        "missing-source-ip-not-ip-address",
        [conditional("NotIpAddress", "acs:SourceIp", "10.0.0.0/8")],
        allow(),
        keys={},
    ),
    case(
        "missing-key-negated-deny-applies",
        [pol(st(), st("Deny", condition=cond("StringNotEquals", "cams:Missing", "x")))],
        explicit(index=1),
    ),
    case(
        "missing-key-positive-deny-skipped",
        [pol(st(), st("Deny", condition=cond("StringEquals", "cams:Missing", "x")))],
        allow(),
    ),
    case(
        "missing-key-if-exists-holds",
        [conditional("StringEqualsIfExists", "cams:Missing", "x")],
        allow(),
    ),
    case(
        "present-key-if-exists-mismatch",
        [conditional("StringEqualsIfExists", "cams:Env", "dev")],
        IMPLICIT,
    ),
    case(
        "empty-list-counts-as-missing",
        [conditional("StringEquals", "cams:Tags", "x")],
        IMPLICIT,
        extra_keys={"cams:Tags": []},
    ),
    # Condition key lookup is case-insensitive
    case(
        "condition-key-case-insensitive",
        [conditional("IpAddress", "acs:sourceip", "203.0.113.0/24")],
        allow(),
    ),
    case(
        "service-key-case-insensitive",
        [conditional("StringEquals", "CAMS:env", "prod")],
        allow(),
    ),
    # Several values for one key: OR
    case(
        "values-ored-string",
        [conditional("StringEquals", "acs:AccessId", ["LTAIother", "LTAI5tExample"])],
        allow(),
    ),
    case(
        "values-ored-ip",
        [conditional("IpAddress", "acs:SourceIp", ["10.0.0.0/8", "203.0.113.0/24"])],
        allow(),
    ),
    case(
        "values-negated-none-must-match",
        [conditional("StringNotEquals", "acs:AccessId", ["LTAIother", "LTAI5tExample"])],
        IMPLICIT,
    ),
    case(
        "multivalued-request-key-any-match",
        [conditional("StringEquals", "acs:ResourceTag/team", ["dev", "ops"])],
        allow(),
        extra_keys={"acs:ResourceTag/team": ["qa", "ops"]},
    ),
    # Several keys under one operator: AND
    case(
        "keys-anded-all-match",
        [
            pol(
                st(
                    condition={
                        "StringEquals": {
                            "acs:AccessId": "LTAI5tExample",
                            "cams:Env": "prod",
                        }
                    }
                )
            )
        ],
        allow(),
    ),
    case(
        "keys-anded-one-fails",
        [
            pol(
                st(
                    condition={
                        "StringEquals": {
                            "acs:AccessId": "LTAI5tExample",
                            "cams:Env": "dev",
                        }
                    }
                )
            )
        ],
        IMPLICIT,
    ),
    # Several operators: AND
    case(
        "operators-anded-all-match",
        [
            pol(
                st(
                    condition={
                        "IpAddress": {"acs:SourceIp": "203.0.113.0/24"},
                        "DateLessThan": {"acs:CurrentTime": "2027-01-01T00:00:00Z"},
                        "Bool": {"acs:SecureTransport": True},
                    }
                )
            )
        ],
        allow(),
    ),
    case(
        "operators-anded-one-fails",
        [
            pol(
                st(
                    condition={
                        "IpAddress": {"acs:SourceIp": "203.0.113.0/24"},
                        "DateLessThan": {"acs:CurrentTime": "2026-01-01T00:00:00Z"},
                    }
                )
            )
        ],
        IMPLICIT,
    ),
]

ACTIONS_AND_RESOURCES = [
    case("allow-exact-action", [pol(st(action=SYNC))], allow()),
    case("no-policies", [], IMPLICIT),
    case("allow-other-action-only", [pol(st(action=QUERY))], IMPLICIT),
    case("allow-star-alone", [pol(st(action="*"))], allow()),
    case("allow-service-wildcard", [pol(st(action="cams:*"))], allow()),
    case("allow-prefix-wildcard", [pol(st(action="cams:Chatapp*"))], allow()),
    case("prefix-wildcard-no-match", [pol(st(action="cams:Query*"))], IMPLICIT),
    case(
        "question-mark-one-char",
        [pol(st(action="cams:ChatappSyncPhoneNumbe?"))],
        allow(),
    ),
    case(
        "question-mark-needs-a-char",
        [pol(st(action="cams:ChatappSyncPhoneNumber?"))],
        IMPLICIT,
    ),
    case("star-matches-empty", [pol(st(action="cams:ChatappSyncPhoneNumber*"))], allow()),
    case("star-in-the-middle", [pol(st(action="cams:Chatapp*Number"))], allow()),
    case("star-service-part", [pol(st(action="*:ChatappSyncPhoneNumber"))], allow()),
    case(
        "action-case-insensitive",
        [pol(st(action="CAMS:chatappsyncphonenumber"))],
        allow(),
    ),
    case(
        "request-action-case-insensitive",
        [pol(st(action=SYNC))],
        allow(),
        action="cams:chatappSYNCphonenumber",
    ),
    case("other-service-wildcard", [pol(st(action="ecs:*"))], IMPLICIT),
    case("action-list-one-matches", [pol(st(action=["ecs:Describe*", SYNC]))], allow()),
    # NotAction
    case("not-action-other-service", [pol(st(not_action="ram:*"))], allow()),
    case("not-action-exact-excluded", [pol(st(not_action=SYNC))], IMPLICIT),
    case("not-action-wildcard-excluded", [pol(st(not_action="cams:Chatapp*"))], IMPLICIT),
    case("not-action-case-insensitive", [pol(st(not_action="CAMS:CHATAPP*"))], IMPLICIT),
    case("not-action-list", [pol(st(not_action=["ram:*", "ecs:*"]))], allow()),
    case(
        "deny-not-action-covers-rest",
        [pol(st(action="*"), st("Deny", not_action="cams:Query*"))],
        explicit(index=1),
    ),
    case(
        "deny-not-action-spares-listed",
        [pol(st(action="*"), st("Deny", not_action="cams:Query*"))],
        allow(),
        action=QUERY,
    ),
    # Resources
    case(
        "resource-account-scoped",
        [pol(st(resource=f"acs:cams:*:{ACCOUNT}:*"))],
        allow(),
    ),
    case(
        "resource-wrong-account",
        [pol(st(resource=f"acs:cams:*:{OTHER_ACCOUNT}:*"))],
        IMPLICIT,
    ),
    case("resource-any-account", [pol(st(resource="acs:cams:*:*:*"))], allow()),
    case(
        "resource-is-case-sensitive",
        [pol(st(resource=f"ACS:CAMS:*:{ACCOUNT}:*"))],
        IMPLICIT,
    ),
    case(
        "resource-question-mark",
        [pol(st(resource="acs:cams:*:123456789012345?:*"))],
        allow(),
    ),
    case(
        "resource-list-one-matches",
        [
            pol(
                st(
                    resource=[
                        f"acs:cams:*:{OTHER_ACCOUNT}:*",
                        f"acs:cams:*:{ACCOUNT}:*",
                    ]
                )
            )
        ],
        allow(),
    ),
    case("resource-other-service", [pol(st(resource="acs:ecs:*:*:*"))], IMPLICIT),
    case(
        "resource-specific-region-vs-any-region-request",
        [pol(st(resource=f"acs:cams:ap-southeast-1:{ACCOUNT}:*"))],
        IMPLICIT,
    ),
    case(
        "deny-on-other-account-does-not-apply",
        [pol(st(), st("Deny", resource=f"acs:cams:*:{OTHER_ACCOUNT}:*"))],
        allow(),
    ),
]

EFFECTS_AND_LAYERS = [
    # Deny over Allow
    case(
        "deny-over-allow-same-policy",
        [pol(st(action="*"), st("Deny", action=SYNC))],
        explicit(index=1),
    ),
    case(
        "deny-over-allow-across-policies",
        [pol(st(), name="Grant"), pol(st("Deny", action=SYNC), name="Block")],
        explicit("Block", 0),
    ),
    case(
        "deny-first-allow-later",
        [pol(st("Deny", action=SYNC), name="Block"), pol(st(), name="Grant")],
        explicit("Block", 0),
    ),
    case("deny-only-is-explicit", [pol(st("Deny", action="*"))], explicit()),
    case(
        "deny-unrelated-action",
        [pol(st("Deny", action="cams:Delete*"), st())],
        allow(index=1),
    ),
    case(
        "deny-star-beats-system-full",
        [FULL, pol(st("Deny", action="*"), name="Lock")],
        explicit("Lock", 0),
    ),
    # Multiple statements and policies
    case(
        "second-statement-grants",
        [pol(st(action=QUERY), st(action=SYNC))],
        allow(index=1),
    ),
    case(
        "first-matching-deny-reported",
        [pol(st(), st("Deny", action="cams:Chatapp*"), st("Deny", action=SYNC))],
        explicit(index=1),
    ),
    case(
        "second-policy-grants",
        [pol(st(action=QUERY), name="A"), pol(st(action=SYNC), name="B")],
        allow("B", 0),
    ),
    case(
        "first-granting-policy-reported",
        [pol(st(), name="A"), pol(st(), name="B")],
        allow("A", 0),
    ),
    # Session policy narrowing
    case(
        "session-allow-and-allow",
        [pol(st(), name="RolePolicy")],
        allow("RolePolicy", 0),
        session=doc(st(action=SYNC)),
    ),
    case(
        "session-implicit-deny",
        [pol(st(), name="RolePolicy")],
        IMPLICIT_SESSION,
        session=doc(st(action=QUERY)),
    ),
    case(
        "session-explicit-deny",
        [pol(st(), name="RolePolicy")],
        explicit_session(1),
        session=doc(st(action="*"), st("Deny", action=SYNC)),
    ),
    case("session-cannot-grant-alone", [], IMPLICIT, session=doc(st(action="*"))),
    case("session-cannot-widen", [READ_ONLY], IMPLICIT, session=doc(st(action="cams:*"))),
    case(
        "session-deny-reported-before-identity-deny",
        [pol(st("Deny", action=SYNC))],
        explicit_session(0),
        session=doc(st("Deny", action=SYNC)),
    ),
    case(
        "identity-deny-despite-session-allow",
        [pol(st(), st("Deny", action=SYNC))],
        explicit(index=1),
        session=doc(st(action="*")),
    ),
    case(
        "session-condition-narrows",
        [FULL],
        IMPLICIT_SESSION,
        session=doc(st(condition=cond("IpAddress", "acs:SourceIp", "10.0.0.0/8"))),
    ),
    # System policies
    case("system-full-access-allows-sync", [FULL], allow("AliyunCAMSFullAccess", 0)),
    case("system-read-only-denies-sync", [READ_ONLY], IMPLICIT),
    case(
        "system-read-only-allows-query",
        [READ_ONLY],
        allow("AliyunCAMSReadOnlyAccess", 0),
        action=QUERY,
    ),
    case(
        "system-read-only-allows-get",
        [READ_ONLY],
        allow("AliyunCAMSReadOnlyAccess", 0),
        action="cams:GetChatappTemplateDetail",
    ),
    case(
        "system-full-access-not-other-services",
        [FULL],
        IMPLICIT,
        action="ecs:DescribeInstances",
    ),
]

ALL_CASES = ACTIONS_AND_RESOURCES + CONDITIONAL_ALLOW + EFFECTS_AND_LAYERS


@pytest.mark.parametrize(("policies", "ctx", "session", "expected"), ALL_CASES)
def test_evaluate(
    policies: Sequence[NamedPolicy],
    ctx: RequestContext,
    session: PolicyDocument | None,
    expected: Decision,
) -> None:
    decision = evaluate(policies, ctx, session_policy=session)
    assert decision.allowed is expected.allowed
    assert decision.no_permission_type == expected.no_permission_type
    assert decision.policy_type == expected.policy_type
    assert decision.policy_name == expected.policy_name
    assert decision.statement_index == expected.statement_index


def test_table_is_large_enough() -> None:
    assert len(ALL_CASES) >= 60


def test_system_policies_are_system_typed() -> None:
    assert set(SYSTEM_POLICIES) == {"AliyunCAMSFullAccess", "AliyunCAMSReadOnlyAccess"}
    assert all(p.policy_type == "System" for p in SYSTEM_POLICIES.values())


def test_decision_rejects_inconsistent_fields() -> None:
    with pytest.raises(ValueError, match="no_permission_type"):
        Decision(True, "ImplicitDeny", IDENTITY, None, None)
    with pytest.raises(ValueError, match="no_permission_type"):
        Decision(False, None, IDENTITY, None, None)
