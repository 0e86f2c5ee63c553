"""The action registry: each CAMS action is one handler plus its parameter spec, declared once.

`rpc` never imports the handlers; the composition root hands it a filled registry.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import invalid_parameter, missing_parameter
from ..principal import Principal

ParamType = Literal["string", "long", "boolean"]
API_VERSION = "2020-06-06"
RAM_SERVICE = "cams"
LONG_RE = re.compile(r"-?[0-9]{1,19}")
# The control characters the wire layer lets through for multi-line parameters.
_LINE_BREAKS = re.compile(r"[\t\n\r]")


@dataclass(frozen=True, slots=True)
class Param:
    """One request parameter: its wire name, type and constraints."""

    name: str
    type: ParamType = "string"
    required: bool = False
    max_length: int = 256
    # Whether line breaks and tabs are allowed (a PEM key); other control characters never are.
    multiline: bool = False

    @property
    def argument(self) -> str:
        """The handler's keyword for this parameter (CustSpaceId -> cust_space_id)."""
        return snake_case(self.name)

    def coerce(self, raw: str) -> str | int | bool:
        """The typed value of a raw wire string, or InvalidParameter naming the parameter."""
        if self.type == "long":
            if not LONG_RE.fullmatch(raw):
                raise invalid_parameter(self.name, "It must be an integer.")
            return int(raw)
        if self.type == "boolean":
            if raw.lower() not in ("true", "false"):
                raise invalid_parameter(self.name, "It must be true or false.")
            return raw.lower() == "true"
        if len(raw) > self.max_length:
            raise invalid_parameter(self.name, f"It is longer than {self.max_length} characters.")
        if not self.multiline and _LINE_BREAKS.search(raw):
            raise invalid_parameter(self.name, "It contains a control character.")
        return raw


# Every CAMS action accepts these generic parameters (cams.md §2).
GENERIC_PARAMS = (
    Param("OwnerId", "long"),
    Param("ResourceOwnerAccount", "string"),
    Param("ResourceOwnerId", "long"),
)


@dataclass(frozen=True, slots=True)
class Invocation:
    """What a handler knows about the call besides its parameters."""

    principal: Principal
    request_id: str
    source_ip: str


Handler = Callable[..., Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """An action: name, parameters, RAM action, default rate limit, handler."""

    name: str
    params: tuple[Param, ...]
    handler: Handler
    rate_limit: str | None = None
    access_level: str = "read"

    @property
    def ram_action(self) -> str:
        return f"{RAM_SERVICE}:{self.name}"

    def bind(self, raw: Mapping[str, str]) -> dict[str, Any]:
        """Keyword arguments for the handler; Missing<Param>/InvalidParameter on bad input."""
        kwargs: dict[str, Any] = {}
        for param in (*self.params, *GENERIC_PARAMS):
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


@dataclass
class Registry:
    """Actions by name; `action` registers a handler under its wire name."""

    actions: dict[str, ActionSpec] = field(default_factory=dict)

    def action(
        self,
        name: str,
        *,
        params: tuple[Param, ...] = (),
        rate_limit: str | None = None,
        access_level: str = "read",
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            if name in self.actions:
                raise ValueError(f"action {name} registered twice")
            expected = snake_case(name)
            if getattr(handler, "__name__", expected) != expected:
                raise ValueError(f"handler for {name} must be named {expected}")
            self.actions[name] = ActionSpec(name, params, handler, rate_limit, access_level)
            return handler

        return register

    def get(self, name: str) -> ActionSpec | None:
        return self.actions.get(name)
