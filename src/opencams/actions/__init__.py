"""CAMS actions: every module here holds handlers declared with `@action`; `build_registry` registers them.

Adding an action is one handler in a module of this package (a new module is found by itself)
plus its tests; see docs/ARCHITECTURE.md, "Adding an action".
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

from ..domain.errors import DomainError
from ..graph.errors import GraphError
from ..ratelimit import Rate
from ..rpc.registry import ActionSpec, Invocation, Registry
from ..services import Services
from .declaration import Call, Declaration, HandlerFn, Result, declaration_of
from .failures import to_api_error

_NOT_ACTIONS = frozenset({"declaration", "failures"})


def declared_actions() -> list[tuple[Declaration, HandlerFn]]:
    """Every declared handler of this package, by module and then by order in the module."""
    found: list[tuple[Declaration, HandlerFn]] = []
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name in _NOT_ACTIONS or module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for value in vars(module).values():
            declaration = declaration_of(value) if callable(value) else None
            if declaration is not None and value.__module__ == module.__name__:
                found.append((declaration, value))
    return found


def _bind(fn: HandlerFn, declaration: Declaration, services: Services) -> Callable[..., Any]:
    """The registry's handler: builds the Call, maps failures to CAMS errors, frames the answer."""

    @functools.wraps(fn)
    async def handler(inv: Invocation, **params: Any) -> Result:
        call = Call(inv.principal, inv.request_id, inv.source_ip, services)
        try:
            fields = await fn(call, **params)
        except (DomainError, GraphError) as exc:
            raise to_api_error(exc, services.meta.secrets_for(None)) from None
        head: Result = {"Code": "OK", "Message": "OK"}
        if declaration.success:
            head["Success"] = True
        return {**head, **fields}

    return handler


def build_registry(services: Services) -> Registry:
    """A registry of every declared action; ValueError at start-up for any declaration mistake."""
    registry = Registry()
    for declaration, fn in declared_actions():
        try:
            rate = Rate.parse(declaration.rate)
        except ValueError as exc:
            raise ValueError(f"{declaration.name}: {exc}") from None
        spec = ActionSpec(
            declaration.name,
            declaration.params,
            _bind(fn, declaration, services),
            declaration.access,
            rate,
            declaration.summary,
        )
        registry.add(spec, signature_of=fn)
    return registry
