"""Fault rules: which Graph requests misbehave, and how (errors, delays, drops, bad bodies).

A rule is JSON; every key but `action` is optional::

    {"path": "/v*/102290129340398/phone_numbers",  # fnmatch glob on the URL path
     "path_regex": "^/v2[0-9]\\.0/",               # or a regex (re.search) on it
     "waba_id": "102290129340398",   # the WABA addressed: edge, WABA node or one of its numbers
     "skip": 2,                      # let the first 2 matching requests through untouched
     "times": 2,                     # then apply to the next 2 matching requests, then go idle
     "probability": 0.5,             # apply with this chance (seeded RNG: repeatable)
     "action": {
        "delay": 1.5,                # seconds before answering; combines with anything
        # at most one outcome:
        "error": {"code": 4, "subcode": 2446079, "status": 400, "message": "...",
                  "type": "OAuthException", "is_transient": true,
                  "error_data": {...}, "error_user_title": "...", "error_user_msg": "..."},
        "drop": true,                # send headers, then abort the connection (see app.py)
        "malformed": true,           # HTTP 200, non-JSON body (or give the body as a string)
        "truncated": true,           # the normal JSON answer cut in half
        "headers": {"X-App-Usage": {"call_count": 95}}  # added; object values are JSON-encoded
     }}

Only `error.code` is required; status, message and is_transient default per errors.py.
`skip` counts matching requests before any probability draw, so `{"skip": 2, "times": 1}`
fails exactly the third page of a listing.
Rules are tried in insertion order. Every matching rule whose probability draw succeeds is
applied (its `times` is spent): delays add up, headers merge, and the first applied outcome
wins; once a request has an outcome, later outcome rules are skipped without a draw or a
use, so a fault scheduled for "the next request" is not wasted.
"""

from __future__ import annotations

import fnmatch
import json
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import DEFAULT_TRANSIENT, GraphError

MAX_DELAY_SECONDS = 300.0
DEFAULT_MALFORMED_BODY = (
    "<!DOCTYPE html><html><head><title>Error</title></head>"
    "<body>Sorry, something went wrong. We're working on it.</body></html>"
)

_RULE_KEYS = frozenset({"path", "path_regex", "waba_id", "skip", "times", "probability", "action"})
_ACTION_KEYS = frozenset({"delay", "error", "drop", "malformed", "truncated", "headers"})
_OUTCOMES = ("error", "drop", "malformed", "truncated")
_ERROR_KEYS = frozenset(
    {"code", "subcode", "status", "message", "type", "is_transient", "error_data", "error_user_title", "error_user_msg"}
)
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")

OutcomeKind = Literal["error", "drop", "malformed", "truncated"]


class FaultRuleError(ValueError):
    """A fault rule with the wrong shape; `location` is a JSON path such as `$[0].action`."""

    def __init__(self, location: str, problem: str) -> None:
        self.location = location
        self.problem = problem
        super().__init__(f"{location}: {problem}")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What replaces (or mangles) the normal answer."""

    kind: OutcomeKind
    error: GraphError | None = None
    body: str | None = None


@dataclass(slots=True)
class FaultRule:
    """One validated rule plus its run-time counters."""

    id: int
    spec: Mapping[str, Any]
    path_glob: str | None
    path_regex: re.Pattern[str] | None
    waba_id: str | None
    probability: float | None
    delay: float
    outcome: Outcome | None
    headers: Mapping[str, str]
    skip_remaining: int
    remaining: int | None
    hits: int = 0

    def matches(self, path: str, waba_id: str | None) -> bool:
        """Whether this rule targets the request (ignoring probability)."""
        if self.remaining == 0:
            return False
        if self.path_glob is not None and not fnmatch.fnmatchcase(path, self.path_glob):
            return False
        if self.path_regex is not None and self.path_regex.search(path) is None:
            return False
        return self.waba_id is None or self.waba_id == waba_id

    def describe(self) -> dict[str, Any]:
        """Return the rule as given, plus `id`, `skip_remaining`, `remaining` and `hits`."""
        return {
            "id": self.id,
            **self.spec,
            "skip_remaining": self.skip_remaining,
            "remaining": self.remaining,
            "hits": self.hits,
        }


@dataclass(slots=True)
class Plan:
    """The combined effect of the rules applied to one request."""

    delay: float = 0.0
    outcome: Outcome | None = None
    headers: dict[str, str] = field(default_factory=dict)
    rule_ids: list[int] = field(default_factory=list)


class FaultBook:
    """The ordered rule list and the seeded random source for probabilistic rules."""

    def __init__(self, seed: int | None) -> None:
        self._rules: list[FaultRule] = []
        self._next_id = 1
        self._rng = random.Random(seed)

    def reseed(self, seed: int | None) -> None:
        """Restart the random sequence, so a seeded run can be replayed."""
        self._rng = random.Random(seed)

    def add(self, document: object) -> list[FaultRule]:
        """Validate one rule or a list of rules and append them all, or none on error."""
        if isinstance(document, list):
            parsed = [_parse_rule(spec, f"$[{i}]") for i, spec in enumerate(document)]
        else:
            parsed = [_parse_rule(document, "$")]
        added: list[FaultRule] = []
        for rule in parsed:
            rule.id = self._next_id
            self._next_id += 1
            self._rules.append(rule)
            added.append(rule)
        return added

    def remove(self, rule_id: int) -> bool:
        """Delete one rule; return whether it existed."""
        before = len(self._rules)
        self._rules = [r for r in self._rules if r.id != rule_id]
        return len(self._rules) != before

    def clear(self) -> int:
        """Delete every rule; return how many there were."""
        count = len(self._rules)
        self._rules.clear()
        return count

    def describe(self) -> list[dict[str, Any]]:
        """Return every rule with its counters, in evaluation order."""
        return [rule.describe() for rule in self._rules]

    def plan(self, path: str, waba_id: str | None) -> Plan:
        """Apply the rules to one request and return what should happen to it."""
        plan = Plan()
        for rule in self._rules:
            if rule.outcome is not None and plan.outcome is not None:
                continue
            if not rule.matches(path, waba_id):
                continue
            if rule.skip_remaining > 0:
                rule.skip_remaining -= 1
                continue
            if rule.probability is not None and self._rng.random() >= rule.probability:
                continue
            rule.hits += 1
            if rule.remaining is not None:
                rule.remaining -= 1
            plan.rule_ids.append(rule.id)
            plan.delay += rule.delay
            plan.headers.update(rule.headers)
            if rule.outcome is not None:
                plan.outcome = rule.outcome
        return plan


def _parse_rule(spec: object, where: str) -> FaultRule:
    if not isinstance(spec, dict):
        raise FaultRuleError(where, "a rule must be a JSON object")
    _only_keys(spec, _RULE_KEYS, where)
    path_glob = _optional_str(spec, "path", where)
    regex_text = _optional_str(spec, "path_regex", where)
    try:
        path_regex = re.compile(regex_text) if regex_text is not None else None
    except re.error as exc:
        raise FaultRuleError(f"{where}.path_regex", f"not a valid regex: {exc}") from None
    waba_id = _optional_str(spec, "waba_id", where)

    times = spec.get("times")
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        raise FaultRuleError(f"{where}.times", "expected a positive integer")
    skip = spec.get("skip", 0)
    if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
        raise FaultRuleError(f"{where}.skip", "expected a non-negative integer")
    probability = spec.get("probability")
    if probability is not None and (
        isinstance(probability, bool) or not isinstance(probability, int | float) or not 0 <= probability <= 1
    ):
        raise FaultRuleError(f"{where}.probability", "expected a number from 0 to 1")

    action = spec.get("action")
    awhere = f"{where}.action"
    if not isinstance(action, dict) or not action:
        raise FaultRuleError(awhere, f"expected an object with some of {sorted(_ACTION_KEYS)}")
    _only_keys(action, _ACTION_KEYS, awhere)
    delay = action.get("delay", 0)
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= MAX_DELAY_SECONDS:
        raise FaultRuleError(f"{awhere}.delay", f"expected seconds from 0 to {MAX_DELAY_SECONDS:g}")
    outcomes = [k for k in _OUTCOMES if k in action]
    if len(outcomes) > 1:
        raise FaultRuleError(awhere, f"at most one of {list(_OUTCOMES)} per rule, got {outcomes}")
    outcome = _parse_outcome(action, awhere)
    headers = _parse_headers(action.get("headers"), f"{awhere}.headers")
    if outcome is not None and outcome.kind == "drop" and headers:
        raise FaultRuleError(awhere, "a dropped connection carries no headers")

    return FaultRule(
        id=0,
        spec=json.loads(json.dumps(spec)),
        path_glob=path_glob,
        path_regex=path_regex,
        waba_id=waba_id,
        probability=float(probability) if probability is not None else None,
        delay=float(delay),
        outcome=outcome,
        headers=headers,
        skip_remaining=skip,
        remaining=times,
    )


def _parse_outcome(action: Mapping[str, Any], where: str) -> Outcome | None:
    if "error" in action:
        return Outcome("error", error=_parse_error(action["error"], f"{where}.error"))
    for flag in ("drop", "truncated"):
        if flag in action:
            if action[flag] is not True:
                raise FaultRuleError(f"{where}.{flag}", "expected true")
            return Outcome("drop" if flag == "drop" else "truncated")
    if "malformed" in action:
        value = action["malformed"]
        if value is True:
            return Outcome("malformed", body=DEFAULT_MALFORMED_BODY)
        if isinstance(value, str):
            return Outcome("malformed", body=value)
        raise FaultRuleError(f"{where}.malformed", "expected true or the body text to send")
    return None


def _parse_error(raw: object, where: str) -> GraphError:
    if not isinstance(raw, dict):
        raise FaultRuleError(where, "expected an object with at least 'code'")
    _only_keys(raw, _ERROR_KEYS, where)
    code = raw.get("code")
    if isinstance(code, bool) or not isinstance(code, int):
        raise FaultRuleError(f"{where}.code", "expected an integer Graph error code")
    subcode = _optional_int(raw, "subcode", where)
    status = _optional_int(raw, "status", where)
    if status is not None and not 400 <= status <= 599:
        raise FaultRuleError(f"{where}.status", "expected an HTTP error status (400-599)")
    message = _optional_str(raw, "message", where)
    error_type = _optional_str(raw, "type", where) or "OAuthException"
    transient = raw.get("is_transient")
    if transient is not None and not isinstance(transient, bool):
        raise FaultRuleError(f"{where}.is_transient", "expected true or false")
    extra: dict[str, Any] = {}
    for key in ("error_user_title", "error_user_msg"):
        value = _optional_str(raw, key, where)
        if value is not None:
            extra[key] = value
    if "error_data" in raw:
        if not isinstance(raw["error_data"], dict):
            raise FaultRuleError(f"{where}.error_data", "expected an object")
        extra["error_data"] = raw["error_data"]
    return GraphError(
        code,
        message,
        status=status,
        subcode=subcode,
        error_type=error_type,
        is_transient=transient if "is_transient" in raw else DEFAULT_TRANSIENT.get(code),
        extra=extra,
    )


def _parse_headers(raw: object, where: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise FaultRuleError(where, "expected an object of header name to value")
    headers: dict[str, str] = {}
    for name, value in raw.items():
        if not _HEADER_NAME.match(name):
            raise FaultRuleError(f"{where}.{name}", "not a valid header name")
        if isinstance(value, str):
            headers[name] = value
        elif isinstance(value, dict | list):
            # Meta's usage headers are JSON text; accepting objects spares callers the quoting.
            headers[name] = json.dumps(value, separators=(",", ":"))
        else:
            raise FaultRuleError(f"{where}.{name}", "expected a string or a JSON object")
    return headers


def _only_keys(value: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise FaultRuleError(where, f"unknown keys {unknown}; allowed: {sorted(allowed)}")


def _optional_str(raw: Mapping[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise FaultRuleError(f"{where}.{key}", "expected a string")
    return value


def _optional_int(raw: Mapping[str, Any], key: str, where: str) -> int | None:
    value = raw.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise FaultRuleError(f"{where}.{key}", "expected an integer")
    return value
