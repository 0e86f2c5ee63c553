"""Property tests: parse_policy fails only with PolicyError, evaluation never crashes, wildcards match a reference."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from opencams.iam.conditions import OPERATORS, wildcard_match
from opencams.iam.policy import (
    NamedPolicy,
    PolicyDocument,
    PolicyError,
    RequestContext,
    evaluate,
    parse_policy,
)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)

# Values shaped like policy elements, so generated documents get past the first checks.
element_values = st.one_of(
    json_values,
    st.sampled_from(
        [
            "Allow",
            "Deny",
            "*",
            "cams:*",
            "cams:Get?",
            "acs:cams:*:1:*",
            "10.0.0.0/8",
            "2026-01-01T00:00:00Z",
            "true",
            "5",
        ]
    ),
    st.lists(st.sampled_from(["cams:Query*", "ecs:*", "*", "x"]), max_size=3),
)
condition_blocks = st.dictionaries(
    st.sampled_from([*OPERATORS, "Nope"]),
    st.dictionaries(
        st.sampled_from(
            [
                "acs:SourceIp",
                "acs:CurrentTime",
                "cams:Count",
                "acs:SecureTransport",
                "bad",
            ]
        ),
        element_values,
        max_size=3,
    ),
    max_size=3,
)
statements = st.dictionaries(
    st.sampled_from(["Effect", "Action", "NotAction", "Resource", "Condition", "Principal", "Sid"]),
    element_values | condition_blocks,
    max_size=6,
)
documents = st.fixed_dictionaries(
    {
        "Version": st.sampled_from(["1", 1, "2"]),
        "Statement": st.lists(statements, max_size=3) | json_values,
    }
)

request_values = st.one_of(
    st.text(max_size=15),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.text(max_size=8), max_size=3),
    st.sampled_from(["203.0.113.10", "::ffff:10.0.0.1", "2026-11-26T20:14:38Z", "true", "10"]),
)
request_keys = st.dictionaries(
    st.sampled_from(
        [
            "acs:SourceIp",
            "acs:sourceip",
            "acs:CurrentTime",
            "cams:Count",
            "acs:SecureTransport",
        ]
    ),
    request_values,
    max_size=5,
)


def _parse_or_none(document: Any) -> PolicyDocument | None:
    try:
        return parse_policy(document)
    except PolicyError:
        return None


@given(json_values)
def test_arbitrary_json_text_only_raises_policy_error(value: Any) -> None:
    _parse_or_none(json.dumps(value))


@given(json_values)
def test_arbitrary_mapping_only_raises_policy_error(value: Any) -> None:
    if isinstance(value, dict):
        _parse_or_none(value)


@given(st.text(max_size=200))
def test_arbitrary_text_only_raises_policy_error(text: str) -> None:
    _parse_or_none(text)


@settings(max_examples=300)
@given(
    documents,
    request_keys,
    st.sampled_from(["cams:ChatappSyncPhoneNumber", "cams:GetX", "ecs:Run"]),
)
def test_policy_shaped_documents_parse_or_fail_cleanly_and_evaluate(document: Any, keys: Any, action: str) -> None:
    parsed = _parse_or_none(document)
    if parsed is None:
        return
    ctx = RequestContext(action=action, resource="acs:cams:*:1:*", keys=keys)
    decision = evaluate([NamedPolicy("P", "Custom", parsed)], ctx, session_policy=parsed)
    assert decision.allowed == (decision.no_permission_type is None)


def _reference(pattern: str, text: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


@given(st.text(alphabet="ab*?", max_size=8), st.text(alphabet="ab", max_size=8))
def test_wildcard_match_agrees_with_regex_reference(pattern: str, text: str) -> None:
    assert wildcard_match(pattern, text) == _reference(pattern, text)
