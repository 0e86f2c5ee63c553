"""RAM policy documents (Version "1"): strict parsing and validation, and Allow/Deny evaluation of a request."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, NoReturn

from opencams.iam.conditions import (
    Condition,
    ConditionValueError,
    RequestKeys,
    RequestValue,
    json_type,
    lookup_operator,
    parse_condition_values,
    render,
    suggest_operator,
    wildcard_match,
)

__all__ = [
    "ACCOUNT_LEVEL_IDENTITY_POLICY",
    "MAX_POLICY_LENGTH",
    "SESSION_POLICY",
    "SYSTEM_POLICIES",
    "Condition",
    "Decision",
    "NamedPolicy",
    "PolicyDocument",
    "PolicyError",
    "RequestContext",
    "Statement",
    "evaluate",
    "parse_policy",
]

# RAM's CreatePolicy/CreatePolicyVersion accept documents of 1 to 6,144 characters.
MAX_POLICY_LENGTH = 6144

# AccessDeniedDetail.PolicyType values for the two layers this module evaluates.
ACCOUNT_LEVEL_IDENTITY_POLICY = "AccountLevelIdentityBasedPolicy"
SESSION_POLICY = "SessionPolicy"

Effect = Literal["Allow", "Deny"]
NoPermissionType = Literal["ImplicitDeny", "ExplicitDeny"]

_TOP_LEVEL_KEYS = ("Version", "Statement")
_STATEMENT_KEYS = ("Effect", "Action", "NotAction", "Resource", "Condition")
_ACTION_RE = re.compile(r"\*|[A-Za-z0-9_*?-]+:[A-Za-z0-9_.*?/-]+", re.ASCII)
_CONDITION_KEY_RE = re.compile(r"[A-Za-z0-9_.-]+:\S.*", re.ASCII | re.DOTALL)


class PolicyError(ValueError):
    """A policy document RAM would refuse; the message names the offending element and value."""


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement: an effect over actions (or all but `not_actions`) on resources, under conditions."""

    effect: Effect
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...]
    conditions: tuple[Condition, ...] = ()

    def __post_init__(self) -> None:
        if (self.actions is None) == (self.not_actions is None):
            raise ValueError("a Statement needs exactly one of actions or not_actions")

    def matches_action(self, action: str) -> bool:
        """Whether the statement covers `action` (case-insensitive; NotAction inverts the match)."""
        if self.actions is not None:
            return any(wildcard_match(p, action, ignore_case=True) for p in self.actions)
        assert self.not_actions is not None
        return not any(wildcard_match(p, action, ignore_case=True) for p in self.not_actions)

    def matches_resource(self, resource: str) -> bool:
        """Whether any Resource pattern covers `resource` (ARNs compare case-sensitively)."""
        return any(wildcard_match(p, resource) for p in self.resources)

    def applies(self, ctx: RequestContext, keys: RequestKeys) -> bool:
        """Whether this statement's effect applies to the request."""
        return (
            self.matches_action(ctx.action)
            and self.matches_resource(ctx.resource)
            and all(c.holds(keys.get(c.key)) for c in self.conditions)
        )


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    """A validated policy; `source` is the JSON it came from, kept for display only."""

    statements: tuple[Statement, ...]
    source: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class NamedPolicy:
    """A policy attached to a principal, under the name it is shown with in denials."""

    name: str
    policy_type: str
    document: PolicyDocument


@dataclass(frozen=True, slots=True)
class RequestContext:
    """What is being authorized: the action, the resource ARN and the request's condition keys."""

    action: str
    resource: str
    keys: Mapping[str, RequestValue] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of evaluation, with what Alibaba reports about the deciding policy layer."""

    allowed: bool
    no_permission_type: NoPermissionType | None
    policy_type: str | None
    policy_name: str | None
    statement_index: int | None

    def __post_init__(self) -> None:
        if self.allowed != (self.no_permission_type is None):
            raise ValueError("no_permission_type must be None exactly when the request is allowed")


def _fail(message: str) -> NoReturn:
    raise PolicyError(message)


def _hint(name: str, known: Sequence[str]) -> str:
    folded = name.casefold()
    for candidate in known:
        if candidate.casefold() == folded:
            return f' (element names are case-sensitive; did you mean "{candidate}"?)'
    return ""


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads silently keeps the last duplicate; a policy whose displayed and enforced
    # meanings could differ (two "Effect"s) must be refused instead.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            _fail(f"policy document repeats the key {render(key)} within one JSON object")
        result[key] = value
    return result


def _reject_constant(name: str) -> NoReturn:
    _fail(f"policy document is not valid JSON: {name} is not a JSON value")


def _load_json(text: str) -> object:
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        _fail(f"policy document is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno} (char {exc.pos})")
    except RecursionError:
        _fail("policy document is not valid JSON: nested too deeply")


def _dump_mapping(document: Mapping[str, Any]) -> str:
    def to_plain(value: object) -> object:
        if isinstance(value, Mapping):
            return dict(value)
        raise TypeError(f"{type(value).__name__} is not a JSON value")

    try:
        return json.dumps(
            dict(document),
            ensure_ascii=False,
            separators=(",", ":"),
            allow_nan=False,
            default=to_plain,
        )
    except (TypeError, ValueError) as exc:
        _fail(f"policy document is not valid JSON: {exc}")
    except RecursionError:
        _fail("policy document is not valid JSON: nested too deeply")


def _too_large(length: int) -> NoReturn:
    _fail(f"policy document is {length} characters long; RAM allows at most {MAX_POLICY_LENGTH}")


def parse_policy(document: str | Mapping[str, Any]) -> PolicyDocument:
    """Validate a RAM policy document (JSON text or an already-parsed object) as RAM would.

    Raises PolicyError naming the first fault found; never returns a partially valid policy.
    """
    if isinstance(document, str):
        if len(document) > MAX_POLICY_LENGTH:
            _too_large(len(document))
        data = _load_json(document)
    elif isinstance(document, Mapping):
        # Measured in compact form; the round trip also yields a private plain-JSON copy, so later
        # changes to the caller's mapping cannot alter an already-validated policy.
        text = _dump_mapping(document)
        if len(text) > MAX_POLICY_LENGTH:
            _too_large(len(text))
        data = _load_json(text)
    else:
        _fail(f"policy document must be JSON text or a JSON object, got {type(document).__name__}")
    if not isinstance(data, dict):
        _fail(f"policy document must be a JSON object, got {json_type(data)}")
    return PolicyDocument(statements=_parse_top_level(data), source=data)


def _parse_top_level(data: dict[str, Any]) -> tuple[Statement, ...]:
    for key in data:
        if key not in _TOP_LEVEL_KEYS:
            _fail(
                f'unknown top-level element {render(key)}{_hint(key, _TOP_LEVEL_KEYS)}; allowed: "Version", "Statement"'
            )
    if "Version" not in data:
        _fail('policy document is missing required element "Version"')
    version = data["Version"]
    if not isinstance(version, str) or version != "1":
        _fail(f'Version must be "1", got {render(version)}')
    if "Statement" not in data:
        _fail('policy document is missing required element "Statement"')
    raw_statements = data["Statement"]
    if isinstance(raw_statements, dict):
        # RAM's grammar is `"Statement": [ <statement>, ... ]`; unlike AWS it takes no bare object.
        _fail("Statement must be a list of statement objects, got a single object (wrap it in [ ])")
    if not isinstance(raw_statements, list):
        _fail(f"Statement must be a list of statement objects, got {json_type(raw_statements)}")
    if not raw_statements:
        _fail("Statement must contain at least one statement")
    return tuple(_parse_statement(raw, f"Statement[{index}]") for index, raw in enumerate(raw_statements))


def _parse_statement(raw: object, path: str) -> Statement:
    if not isinstance(raw, dict):
        _fail(f"{path} must be a JSON object, got {json_type(raw)}")
    for key in raw:
        if key == "Principal":
            _fail(
                f"{path}.Principal is not allowed in an identity-based policy "
                "(only trust and resource policies name a principal)"
            )
        if key == "NotResource":
            _fail(f'{path}.NotResource is not supported by RAM; use "Resource"')
        if key not in _STATEMENT_KEYS:
            _fail(
                f"{path} has unknown element {render(key)}{_hint(key, _STATEMENT_KEYS)}; "
                'allowed: "Effect", "Action"/"NotAction", "Resource", "Condition"'
            )

    if "Effect" not in raw:
        _fail(f'{path} is missing required element "Effect"')
    effect = raw["Effect"]
    if effect != "Allow" and effect != "Deny":
        _fail(f'{path}.Effect must be "Allow" or "Deny", got {render(effect)}')

    has_action, has_not_action = "Action" in raw, "NotAction" in raw
    if has_action and has_not_action:
        _fail(f'{path} must have exactly one of "Action" or "NotAction", not both')
    if not has_action and not has_not_action:
        _fail(f'{path} must have "Action" or "NotAction"')
    action_key = "Action" if has_action else "NotAction"
    patterns = _parse_actions(raw[action_key], f"{path}.{action_key}")

    if "Resource" not in raw:
        _fail(f'{path} is missing required element "Resource"')
    resources = _string_list(raw["Resource"], f"{path}.Resource")

    conditions = _parse_conditions(raw["Condition"], f"{path}.Condition") if "Condition" in raw else ()
    return Statement(
        effect="Allow" if effect == "Allow" else "Deny",
        actions=patterns if has_action else None,
        not_actions=None if has_action else patterns,
        resources=resources,
        conditions=conditions,
    )


def _string_list(value: object, path: str) -> tuple[str, ...]:
    """A string or a non-empty list of non-empty strings (RAM: a single value equals a one-item list)."""
    if isinstance(value, str):
        if not value:
            _fail(f"{path} must not be an empty string")
        return (value,)
    if not isinstance(value, list) or not value:
        shape = "an empty list" if isinstance(value, list) else json_type(value)
        _fail(f"{path} must be a string or a non-empty list of strings, got {shape}")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            _fail(f"{path}[{index}] must be a string, got {json_type(item)}")
        if not item:
            _fail(f"{path}[{index}] must not be an empty string")
    return tuple(value)


def _parse_actions(value: object, path: str) -> tuple[str, ...]:
    actions = _string_list(value, path)
    for index, action in enumerate(actions):
        if not _ACTION_RE.fullmatch(action):
            where = path if isinstance(value, str) else f"{path}[{index}]"
            _fail(
                f'{where} {render(action)} is not a valid action: expected "<service>:<ApiName>" '
                '(wildcards * and ? allowed), e.g. "cams:ChatappSyncPhoneNumber", or "*"'
            )
    return actions


def _parse_conditions(value: object, path: str) -> tuple[Condition, ...]:
    if not isinstance(value, dict):
        _fail(f"{path} must be a JSON object mapping operators to {{key: values}}, got {json_type(value)}")
    conditions: list[Condition] = []
    for operator_name, block in value.items():
        operator = lookup_operator(operator_name)
        if operator is None:
            suggestion = suggest_operator(operator_name)
            hint = f' (operator names are case-sensitive; did you mean "{suggestion}"?)' if suggestion else ""
            _fail(f"{path} has unknown operator {render(operator_name)}{hint}")
        where = f"{path}.{operator_name}"
        if not isinstance(block, dict):
            _fail(f"{where} must be a JSON object mapping condition keys to values, got {json_type(block)}")
        for key, raw_values in block.items():
            if not _CONDITION_KEY_RE.fullmatch(key):
                _fail(
                    f"{where} has invalid condition key {render(key)}: "
                    'expected "<service>:<KeyName>", e.g. "acs:SourceIp"'
                )
            try:
                values = parse_condition_values(operator, raw_values)
            except ConditionValueError as exc:
                _fail(f"{where}[{render(key)}]: {exc}")
            conditions.append(Condition(operator=operator_name, key=key, values=values))
    return tuple(conditions)


def _first_applying(document: PolicyDocument, effect: Effect, ctx: RequestContext, keys: RequestKeys) -> int | None:
    for index, statement in enumerate(document.statements):
        if statement.effect == effect and statement.applies(ctx, keys):
            return index
    return None


def evaluate(
    identity_policies: Sequence[NamedPolicy],
    ctx: RequestContext,
    *,
    session_policy: PolicyDocument | None = None,
) -> Decision:
    """Decide a RAM user's or role's request: explicit Deny wins, then an Allow is needed in every layer.

    Root accounts are not RAM principals and must be let through before calling this.
    """
    keys = RequestKeys(ctx.keys)

    # Explicit denies first, in RAM's documented evaluation order: the role session policy is
    # evaluated before identity-based policies, so its Deny is the one reported when both deny.
    if session_policy is not None:
        index = _first_applying(session_policy, "Deny", ctx, keys)
        if index is not None:
            # A session policy is anonymous (AssumeRole's Policy parameter), so no policy name.
            return Decision(False, "ExplicitDeny", SESSION_POLICY, None, index)
    for policy in identity_policies:
        index = _first_applying(policy.document, "Deny", ctx, keys)
        if index is not None:
            return Decision(False, "ExplicitDeny", ACCOUNT_LEVEL_IDENTITY_POLICY, policy.name, index)

    granted: tuple[NamedPolicy, int] | None = None
    for policy in identity_policies:
        index = _first_applying(policy.document, "Allow", ctx, keys)
        if index is not None:
            granted = (policy, index)
            break
    if granted is None:
        return Decision(False, "ImplicitDeny", ACCOUNT_LEVEL_IDENTITY_POLICY, None, None)
    # A session policy only narrows: the request also needs an Allow there (intersection).
    if session_policy is not None and _first_applying(session_policy, "Allow", ctx, keys) is None:
        return Decision(False, "ImplicitDeny", SESSION_POLICY, None, None)
    policy, index = granted
    return Decision(True, None, ACCOUNT_LEVEL_IDENTITY_POLICY, policy.name, index)


def _system_policy(name: str, actions: list[str]) -> NamedPolicy:
    document = parse_policy(
        {
            "Version": "1",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
        }
    )
    return NamedPolicy(name=name, policy_type="System", document=document)


SYSTEM_POLICIES: Mapping[str, NamedPolicy] = MappingProxyType(
    {
        policy.name: policy
        for policy in (
            _system_policy("AliyunCAMSFullAccess", ["cams:*"]),
            _system_policy("AliyunCAMSReadOnlyAccess", ["cams:Query*", "cams:Get*", "cams:List*"]),
        )
    }
)
