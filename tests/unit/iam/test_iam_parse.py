"""Tests of RAM policy parsing: accepted shapes, typed conditions, and precise refusal of invalid documents."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from ipaddress import ip_network
from types import MappingProxyType
from typing import Any

import pytest

from opencams.iam.policy import (
    MAX_POLICY_LENGTH,
    Condition,
    PolicyError,
    Statement,
    parse_policy,
)

ALLOW_ALL: dict[str, Any] = {"Effect": "Allow", "Action": "cams:*", "Resource": "*"}


def with_statement(**changes: Any) -> dict[str, Any]:
    """A valid one-statement policy with statement elements replaced (None removes one)."""
    statement = dict(ALLOW_ALL)
    for key, value in changes.items():
        if value is None:
            statement.pop(key, None)
        else:
            statement[key] = value
    return {"Version": "1", "Statement": [statement]}


def with_condition(condition: Any) -> dict[str, Any]:
    return with_statement(Condition=condition)


INVALID_DOCUMENTS = [
    pytest.param('{"Version": "1", "Statement": [', "not valid JSON", id="not-json-truncated"),
    pytest.param(
        '{"Version": "1",\n  "Statement": [}]}',
        "line 2 column",
        id="not-json-reports-position",
    ),
    pytest.param("", "not valid JSON", id="not-json-empty"),
    pytest.param('{"Version": "1", "Statement": [{"Effect": NaN}]}', "NaN", id="not-json-nan"),
    pytest.param("[]", "must be a JSON object, got array", id="not-an-object-array"),
    pytest.param('"Version"', "must be a JSON object, got string", id="not-an-object-string"),
    pytest.param(
        {"Statement": [ALLOW_ALL]},
        'missing required element "Version"',
        id="missing-version",
    ),
    pytest.param(
        {"Version": "2012-10-17", "Statement": [ALLOW_ALL]},
        'Version must be "1", got "2012-10-17"',
        id="wrong-version",
    ),
    pytest.param(
        {"Version": 1, "Statement": [ALLOW_ALL]},
        'Version must be "1", got 1',
        id="version-not-a-string",
    ),
    pytest.param({"Version": "1"}, 'missing required element "Statement"', id="missing-statement"),
    pytest.param(
        {"Version": "1", "Statement": []},
        "at least one statement",
        id="statement-empty",
    ),
    pytest.param(
        {"Version": "1", "Statement": ALLOW_ALL},
        "got a single object",
        id="statement-single-object",
    ),
    pytest.param(
        {"Version": "1", "Statement": "Allow"},
        "Statement must be a list",
        id="statement-not-a-list",
    ),
    pytest.param(
        {"Version": "1", "Statement": [ALLOW_ALL, "x"]},
        "Statement[1] must be a JSON object",
        id="statement-item-not-object",
    ),
    pytest.param(
        {"Version": "1", "Statement": [ALLOW_ALL, dict(ALLOW_ALL, Effect="allow")]},
        'Statement[1].Effect must be "Allow" or "Deny", got "allow"',
        id="bad-effect-lowercase",
    ),
    pytest.param(
        with_statement(Effect=True),
        'Statement[0].Effect must be "Allow" or "Deny", got true',
        id="bad-effect-type",
    ),
    pytest.param(
        with_statement(Effect=None),
        'Statement[0] is missing required element "Effect"',
        id="missing-effect",
    ),
    pytest.param(
        with_statement(NotAction="ram:*"),
        'exactly one of "Action" or "NotAction", not both',
        id="both-action-and-not-action",
    ),
    pytest.param(
        with_statement(Action=None),
        'must have "Action" or "NotAction"',
        id="neither-action-nor-not-action",
    ),
    pytest.param(
        with_statement(Resource=None),
        'Statement[0] is missing required element "Resource"',
        id="missing-resource",
    ),
    pytest.param(
        with_statement(Action=5),
        "Statement[0].Action must be a string or a non-empty list of strings, got number",
        id="action-number",
    ),
    pytest.param(
        with_statement(Action={"a": 1}),
        "Statement[0].Action must be a string or a non-empty list of strings, got object",
        id="action-object",
    ),
    pytest.param(with_statement(Action=[]), "got an empty list", id="action-empty-list"),
    pytest.param(
        with_statement(Action=["cams:A", 7]),
        "Statement[0].Action[1] must be a string, got number",
        id="action-list-item-number",
    ),
    pytest.param(
        with_statement(Action="cams"),
        'Statement[0].Action "cams" is not a valid action',
        id="action-without-service",
    ),
    pytest.param(
        with_statement(Action=["cams:A", "cams: B"]),
        'Statement[0].Action[1] "cams: B" is not a valid action',
        id="action-with-space",
    ),
    pytest.param(
        with_statement(Action=":ChatappSyncPhoneNumber"),
        "is not a valid action",
        id="action-empty-service",
    ),
    pytest.param(
        with_statement(NotAction="cams:", Action=None),
        'Statement[0].NotAction "cams:" is not a valid action',
        id="not-action-empty-name",
    ),
    pytest.param(
        with_statement(Resource=""),
        "Statement[0].Resource must not be an empty string",
        id="resource-empty-string",
    ),
    pytest.param(
        with_statement(Resource=[None]),
        "Statement[0].Resource[0] must be a string, got null",
        id="resource-list-null",
    ),
    pytest.param(
        with_statement(NotResource="*"),
        "NotResource is not supported",
        id="not-resource",
    ),
    pytest.param(
        with_statement(Principal={"RAM": ["acs:ram::1:root"]}),
        "Statement[0].Principal is not allowed",
        id="principal-present",
    ),
    pytest.param(
        {"Version": "1", "Statement": [ALLOW_ALL], "Id": "x"},
        'unknown top-level element "Id"',
        id="unknown-top-level-key",
    ),
    pytest.param(
        {"version": "1", "Statement": [ALLOW_ALL]},
        'did you mean "Version"',
        id="top-level-key-wrong-case",
    ),
    pytest.param(
        with_statement(Sid="s1"),
        'Statement[0] has unknown element "Sid"',
        id="unknown-statement-key",
    ),
    pytest.param(
        with_statement(effect="Allow"),
        'did you mean "Effect"',
        id="statement-key-wrong-case",
    ),
    pytest.param(
        with_condition(["StringEquals"]),
        "Statement[0].Condition must be a JSON object",
        id="condition-not-object",
    ),
    pytest.param(
        with_condition({"StringEqual": {"acs:AccessId": "x"}}),
        'unknown operator "StringEqual"',
        id="unknown-operator",
    ),
    pytest.param(
        with_condition({"stringequals": {"acs:AccessId": "x"}}),
        'did you mean "StringEquals"',
        id="operator-wrong-case",
    ),
    pytest.param(
        with_condition({"Null": {"acs:AccessId": "true"}}),
        'unknown operator "Null"',
        id="operator-not-in-ram",
    ),
    pytest.param(
        with_condition({"StringEquals": ["acs:AccessId"]}),
        "Statement[0].Condition.StringEquals must be a JSON object",
        id="operator-block-not-object",
    ),
    pytest.param(
        with_condition({"StringEquals": {"AccessId": "x"}}),
        'invalid condition key "AccessId"',
        id="condition-key-without-prefix",
    ),
    pytest.param(
        with_condition({"StringEquals": {"acs:AccessId": []}}),
        "value list is empty",
        id="condition-values-empty",
    ),
    pytest.param(
        with_condition({"StringEquals": {"acs:AccessId": {"a": "b"}}}),
        'StringEquals["acs:AccessId"]: value {"a": "b"} is not a string',
        id="string-value-object",
    ),
    pytest.param(
        with_condition({"NumericLessThan": {"cams:Count": "ten"}}),
        'NumericLessThan["cams:Count"]: value "ten" is not a number',
        id="bad-numeric",
    ),
    pytest.param(
        with_condition({"NumericEquals": {"cams:Count": True}}),
        'NumericEquals["cams:Count"]: value true is not a number',
        id="bad-numeric-bool",
    ),
    pytest.param(
        with_condition({"NumericEquals": {"cams:Count": "1e99999999999999999999999"}}),
        "is not a number",
        id="bad-numeric-overflow",
    ),
    pytest.param(
        with_condition({"DateLessThan": {"acs:CurrentTime": "tomorrow"}}),
        'DateLessThan["acs:CurrentTime"]: value "tomorrow" is not an ISO 8601 date-time',
        id="bad-date",
    ),
    pytest.param(
        with_condition({"DateEquals": {"acs:CurrentTime": "2026-13-01T00:00:00Z"}}),
        "is not an ISO 8601",
        id="bad-date-month",
    ),
    pytest.param(
        with_condition({"DateEquals": {"acs:CurrentTime": 1767225600}}),
        "value 1767225600 is not an ISO 8601",
        id="bad-date-number",
    ),
    pytest.param(
        with_condition({"IpAddress": {"acs:SourceIp": "10.0.0.0/33"}}),
        'IpAddress["acs:SourceIp"]: value "10.0.0.0/33" is not an IPv4/IPv6 address or CIDR',
        id="bad-ip-prefix",
    ),
    pytest.param(
        with_condition({"NotIpAddress": {"acs:SourceIp": ["10.0.0.1", "300.1.1.1"]}}),
        'value "300.1.1.1"',
        id="bad-ip-in-list",
    ),
    pytest.param(
        with_condition({"IpAddress": {"acs:SourceIp": "2001:db8::g/32"}}),
        "is not an IPv4/IPv6",
        id="bad-ipv6",
    ),
    pytest.param(
        with_condition({"Bool": {"acs:SecureTransport": "yes"}}),
        'Bool["acs:SecureTransport"]: value "yes" is not a boolean',
        id="bad-bool-string",
    ),
    pytest.param(
        with_condition({"Bool": {"acs:SecureTransport": 1}}),
        "value 1 is not a boolean",
        id="bad-bool-number",
    ),
    pytest.param(
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Effect": "Deny", "Action": "*", "Resource": "*"}]}',
        'repeats the key "Effect"',
        id="duplicate-key",
    ),
    pytest.param(
        {"Version": "1", "Statement": [dict(ALLOW_ALL, Resource=["*"] * 2000)]},
        f"RAM allows at most {MAX_POLICY_LENGTH}",
        id="too-large-mapping",
    ),
    pytest.param(
        json.dumps({"Version": "1", "Statement": [ALLOW_ALL]}) + " " * MAX_POLICY_LENGTH,
        "characters long",
        id="too-large-text-counts-whitespace",
    ),
    pytest.param(
        {"Version": "1", "Statement": [ALLOW_ALL], "x": {1, 2}},
        "not valid JSON",
        id="mapping-not-json-serializable",
    ),
    pytest.param("[" * 3000 + "]" * 3000, "nested too deeply", id="nested-too-deeply"),
]


@pytest.mark.parametrize(("document", "fault"), INVALID_DOCUMENTS)
def test_invalid_documents_are_refused_naming_the_fault(document: Any, fault: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(document)
    assert fault in str(caught.value)


def test_policy_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_policy("nope")


def test_non_document_argument_is_refused() -> None:
    with pytest.raises(PolicyError, match="got int"):
        parse_policy(42)  # type: ignore[arg-type]


def test_minimal_policy() -> None:
    policy = parse_policy('{"Version": "1", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}')
    assert policy.statements == (
        Statement(
            effect="Deny",
            actions=("*",),
            not_actions=None,
            resources=("*",),
            conditions=(),
        ),
    )
    assert policy.source["Statement"][0]["Effect"] == "Deny"


def test_single_value_equals_one_item_list() -> None:
    as_string = parse_policy(with_statement(Action="cams:Get*", Resource="*"))
    as_list = parse_policy(with_statement(Action=["cams:Get*"], Resource=["*"]))
    assert as_string == as_list


def test_not_action_is_kept_apart_from_action() -> None:
    policy = parse_policy(with_statement(Action=None, NotAction=["ram:*", "ecs:*"]))
    (statement,) = policy.statements
    assert statement.actions is None
    assert statement.not_actions == ("ram:*", "ecs:*")


def test_conditions_are_parsed_into_typed_values() -> None:
    policy = parse_policy(
        with_condition(
            {
                "StringLike": {"acs:AccessId": ["LTAI*", "STS.*"]},
                "NumericLessThanEquals": {"cams:Count": ["10", 2.5]},
                "DateLessThan": {"acs:CurrentTime": "2019-08-12T17:00:00+08:00"},
                "Bool": {"acs:SecureTransport": "TRUE", "acs:MFAPresent": False},
                "IpAddress": {"acs:SourceIp": ["42.120.88.0/24", "2001:db8::1"]},
            }
        )
    )
    assert policy.statements[0].conditions == (
        Condition("StringLike", "acs:AccessId", ("LTAI*", "STS.*")),
        Condition("NumericLessThanEquals", "cams:Count", (Decimal(10), Decimal("2.5"))),
        Condition(
            "DateLessThan",
            "acs:CurrentTime",
            (datetime(2019, 8, 12, 9, 0, tzinfo=UTC),),
        ),
        Condition("Bool", "acs:SecureTransport", (True,)),
        Condition("Bool", "acs:MFAPresent", (False,)),
        Condition(
            "IpAddress",
            "acs:SourceIp",
            (ip_network("42.120.88.0/24"), ip_network("2001:db8::1/128")),
        ),
    )


def test_if_exists_operator_variants_are_accepted() -> None:
    policy = parse_policy(with_condition({"DateLessThanIfExists": {"acs:CurrentTime": "2026-01-01T00:00:00Z"}}))
    assert policy.statements[0].conditions[0].operator == "DateLessThanIfExists"


def test_empty_condition_block_means_no_conditions() -> None:
    assert parse_policy(with_condition({})).statements[0].conditions == ()


def test_date_without_offset_is_utc() -> None:
    policy = parse_policy(with_condition({"DateEquals": {"acs:CurrentTime": "2026-01-01T00:00:00"}}))
    assert policy.statements[0].conditions[0].values == (datetime(2026, 1, 1, tzinfo=UTC),)


def test_document_at_the_size_limit_is_accepted() -> None:
    text = json.dumps({"Version": "1", "Statement": [ALLOW_ALL]})
    padded = text[:-1] + " " * (MAX_POLICY_LENGTH - len(text)) + "}"
    assert len(padded) == MAX_POLICY_LENGTH
    assert len(parse_policy(padded).statements) == 1


def test_mapping_input_is_copied_and_any_mapping_type_is_accepted() -> None:
    statement = dict(ALLOW_ALL)
    source = {"Version": "1", "Statement": [statement]}
    policy = parse_policy(MappingProxyType(source))
    statement["Effect"] = "Deny"
    assert policy.statements[0].effect == "Allow"
    assert policy.source["Statement"][0]["Effect"] == "Allow"


def test_source_is_not_part_of_equality() -> None:
    compact = parse_policy('{"Version":"1","Statement":[{"Effect":"Allow","Action":"cams:*","Resource":"*"}]}')
    listed = parse_policy(with_statement(Action=["cams:*"]))
    assert compact == listed
    assert hash(compact) == hash(listed)
