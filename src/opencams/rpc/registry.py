"""The action registry: each action's parameters, RAM access level, rate and handler, checked at start.

`rpc` never imports the handlers; the composition root hands it a filled registry. A mistake in a
declaration (a handler whose keywords differ from its parameters, an unreadable rate, a name that
is not the handler's) fails `Registry.add`, so the server never starts with it.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import UnknownResourceOwner, invalid_parameter, missing_parameter
from ..principal import Principal
from ..ratelimit.rate import Rate

API_VERSION = "2020-06-06"
RAM_SERVICE = "cams"
ParamKind = Literal["string", "long", "integer", "millis", "flag", "json_list"]
AccessLevel = Literal["get", "update"]

_LONG = re.compile(r"-?[0-9]{1,19}")
# The control characters the wire layer lets through for multi-line parameters.
_LINE_BREAKS = re.compile(r"[\t\n\r]")
_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
# Milliseconds since the epoch between 2000-01-01 and 2100-01-01: anything else is a unit mistake.
_MILLIS = (946_684_800_000, 4_102_444_800_000)

_KIND_HELP = {
    "long": "It must be an integer.",
    "integer": "It must be an integer.",
    "millis": "It must be a time in milliseconds since 1970-01-01 UTC.",
    "flag": "It must be Y or N.",
    "json_list": "It must be a JSON array of strings.",
}


@dataclass(frozen=True, slots=True)
class Param:
    """One request parameter: its wire name, type and limits, and what the console shows of it."""

    name: str
    kind: ParamKind = "string"
    required: bool = False
    max_length: int = 256
    enum: tuple[str, ...] = ()
    # Compare enum values ignoring case (the metadata's own example writes `sms` for `SMS`);
    # the handler receives the enum's spelling.
    enum_ignores_case: bool = False
    # Whether line breaks and tabs are allowed (a PEM key); other control characters never are.
    multiline: bool = False
    # A regular expression the whole value must match, and how to say so to the caller.
    pattern: str | None = None
    pattern_help: str = "It does not have the expected form."
    max_items: int = 10
    description: str = ""
    example: str = ""

    @property
    def argument(self) -> str:
        """The handler's keyword for this parameter (CustSpaceId -> cust_space_id)."""
        return snake_case(self.name)

    def coerce(self, raw: str) -> Any:
        """The typed value of a raw wire string, or InvalidParameter naming the parameter."""
        if len(raw) > self.max_length:
            raise invalid_parameter(self.name, f"It is longer than {self.max_length} characters.")
        if not self.multiline and _LINE_BREAKS.search(raw):
            raise invalid_parameter(self.name, "It contains a control character.")
        if self.kind in ("long", "integer", "millis"):
            return self._number(raw)
        if self.kind == "flag":
            if raw not in ("Y", "N"):
                raise invalid_parameter(self.name, _KIND_HELP["flag"])
            return raw == "Y"
        if self.kind == "json_list":
            return self._json_list(raw)
        if self.enum:
            return self._enum(raw)
        if self.pattern is not None and not re.fullmatch(self.pattern, raw):
            raise invalid_parameter(self.name, self.pattern_help)
        return raw

    def _number(self, raw: str) -> int:
        low, high = {"integer": _INT32, "millis": _MILLIS}.get(self.kind, _INT64)
        value = int(raw) if _LONG.fullmatch(raw) else None
        if value is None or not low <= value <= high:
            raise invalid_parameter(self.name, _KIND_HELP[self.kind])
        return value

    def _enum(self, raw: str) -> str:
        for allowed in self.enum:
            if raw == allowed or (self.enum_ignores_case and raw.lower() == allowed.lower()):
                return allowed
        raise invalid_parameter(self.name, f"It must be one of {', '.join(self.enum)}.")

    def _json_list(self, raw: str) -> list[str]:
        try:
            value = json.loads(raw)
        except (ValueError, RecursionError):
            raise invalid_parameter(self.name, _KIND_HELP["json_list"]) from None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise invalid_parameter(self.name, _KIND_HELP["json_list"])
        if len(value) > self.max_items:
            raise invalid_parameter(self.name, f"It holds more than {self.max_items} items.")
        return value


# Every CAMS action accepts these generic parameters; the registry checks and consumes them.
GENERIC_PARAMS = (
    Param("OwnerId", "long", description="Generic Alibaba Cloud parameter; accepted and ignored."),
    Param("ResourceOwnerAccount", description="Generic Alibaba Cloud parameter; accepted and ignored."),
    Param("ResourceOwnerId", "long", description="If given, it must be the caller's account id."),
)
_GENERIC_NAMES = frozenset(p.name for p in GENERIC_PARAMS)


@dataclass(frozen=True, slots=True)
class Invocation:
    """What a handler knows about the call besides its parameters."""

    principal: Principal
    request_id: str
    source_ip: str


Handler = Callable[..., Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """An action: name, parameters, RAM access level, default rate, summary, handler."""

    name: str
    params: tuple[Param, ...]
    handler: Handler
    access: AccessLevel
    rate: Rate | None = None
    summary: str = ""

    @property
    def ram_action(self) -> str:
        return f"{RAM_SERVICE}:{self.name}"

    def bind(self, raw: Mapping[str, str], principal: Principal) -> dict[str, Any]:
        """Keyword arguments for the handler; Missing<Param>/InvalidParameter on bad input.

        The generic parameters are checked here and not passed on: a `ResourceOwnerId` other than
        the caller's account is `Unknown.ResourceOwnerId` for every action alike.
        """
        for param in GENERIC_PARAMS:
            value = raw.get(param.name)
            if value:
                param.coerce(value)
        owner = raw.get("ResourceOwnerId")
        if owner and owner != principal.account_id:
            raise UnknownResourceOwner()
        kwargs: dict[str, Any] = {}
        for param in self.params:
            value = raw.get(param.name)
            if value is None or value == "":
                if param.required:
                    raise missing_parameter(param.name)
                kwargs[param.argument] = None
                continue
            kwargs[param.argument] = param.coerce(value)
        return kwargs


def snake_case(name: str) -> str:
    """Mechanical snake_case of a PascalCase wire name."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def check_signature(name: str, handler: Callable[..., Any], params: tuple[Param, ...]) -> None:
    """ValueError unless `handler` takes one positional argument and exactly the params' keywords."""
    expected = snake_case(name)
    if getattr(handler, "__name__", expected) != expected:
        raise ValueError(f"the handler of {name} must be named {expected}")
    names = [p.name for p in params]
    if len(set(names)) != len(names) or _GENERIC_NAMES & set(names):
        raise ValueError(f"{name} declares a parameter twice or redeclares a generic one")
    signature = inspect.signature(handler)
    positional = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    keywords = {p.name for p in signature.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    if len(positional) != 1 or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in positional):
        raise ValueError(f"the handler of {name} must take the call, then only keyword-only parameters")
    wanted = {p.argument for p in params}
    if keywords != wanted:
        missing, extra = sorted(wanted - keywords), sorted(keywords - wanted)
        raise ValueError(f"the handler of {name} does not match its parameters: missing {missing}, extra {extra}")


@dataclass
class Registry:
    """Actions by name."""

    actions: dict[str, ActionSpec] = field(default_factory=dict)

    def add(self, spec: ActionSpec, *, signature_of: Callable[..., Any] | None = None) -> None:
        """Register an action, checking its handler (or `signature_of`, the function it wraps)."""
        if spec.name in self.actions:
            raise ValueError(f"action {spec.name} registered twice")
        check_signature(spec.name, signature_of or spec.handler, spec.params)
        self.actions[spec.name] = spec

    def get(self, name: str) -> ActionSpec | None:
        return self.actions.get(name)
