"""How a CAMS action is declared: `@action(...)` on a module-level handler, and what a handler receives.

    @action("QueryChatappBindWaba", access="get", params=(CUST_SPACE_ID_OPTIONAL, ISV_CODE),
            summary="The WABA bound to a customer space, as Meta has it now.", success=True)
    async def query_chatapp_bind_waba(call: Call, *, cust_space_id: str | None, isv_code: str | None) -> Result:
        return {"Data": {...}}   # the action's own fields; Code, Message (and Success) are added

The decorator only records the declaration on the function; `actions.build_registry` finds every
declared handler in this package and registers it, checking its keywords against its parameters
and parsing its rate, so a mistake stops the server from starting.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ..principal import Principal
from ..rpc.registry import AccessLevel, Param
from ..services import Services

Result = dict[str, Any]
HandlerFn = Callable[..., Awaitable[Result]]
F = TypeVar("F", bound=HandlerFn)
ATTRIBUTE = "__cams_action__"


@dataclass(frozen=True, slots=True)
class Call:
    """What a handler receives besides its parameters: who calls, the RequestId, the use cases."""

    principal: Principal
    request_id: str
    source_ip: str
    services: Services


@dataclass(frozen=True, slots=True)
class Declaration:
    """An action's wire name, RAM access level, default rate, parameters and summary."""

    name: str
    access: AccessLevel
    rate: str
    params: tuple[Param, ...]
    summary: str
    # Whether the SDKs' response model has `Success` (not every CAMS action answers it).
    success: bool


def action(
    name: str,
    *,
    access: AccessLevel,
    params: tuple[Param, ...] = (),
    rate: str = "10/s",
    summary: str,
    success: bool = False,
) -> Callable[[F], F]:
    """Declare `fn` as the handler of the CAMS action `name`."""

    def declare(fn: F) -> F:
        setattr(fn, ATTRIBUTE, Declaration(name, access, rate, params, summary, success))
        return fn

    return declare


def declaration_of(fn: Callable[..., Any]) -> Declaration | None:
    found = getattr(fn, ATTRIBUTE, None)
    return found if isinstance(found, Declaration) else None


# Parameters several actions share, declared once.
CUST_SPACE_ID = Param(
    "CustSpaceId",
    required=True,
    max_length=64,
    description="The customer space (the ISV's customer) the call is about.",
    example="293483938849493",
)
CUST_SPACE_ID_OPTIONAL = Param(
    "CustSpaceId",
    max_length=64,
    description="The customer space; when left out, the account's only space.",
    example="293483938849493",
)
PHONE_NUMBER = Param(
    "PhoneNumber",
    required=True,
    max_length=32,
    description="The business number with its country code, digits only (e.g. 8613800001234).",
    example="8613800001234",
)
ISV_CODE = Param("IsvCode", max_length=128, description="ISV check code; accepted and not checked by opencams.")
