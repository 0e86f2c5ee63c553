"""What one Graph call sees: the parsed request, the caller's identity and the emulator's parts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .clock import Clock
    from .runtime import Runtime
    from .state import GraphState
    from .store import Store
    from .webhooks import WebhookBook


@dataclass(frozen=True, slots=True)
class GraphRequest:
    """The parts of an HTTP request a Graph call depends on."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    authorization: str | None
    # absolute URL of the request without its query: the base of paging links
    url: str
    # parameters from a JSON, form-urlencoded or multipart body (values as decoded)
    form: Mapping[str, Any] = field(default_factory=dict)
    # the raw body, for the upload endpoint
    body: bytes = b""
    # lower-case header names
    headers: Mapping[str, str] = field(default_factory=dict)

    def param(self, name: str) -> str | None:
        """Return the last value of a query parameter, or None."""
        value = None
        for key, item in self.query:
            if key == name:
                value = item
        return value

    def arg(self, name: str) -> Any:
        """Return a parameter from the body, else from the query (Graph takes POST params from both)."""
        if name in self.form:
            return self.form[name]
        return self.param(name)

    @property
    def segments(self) -> list[str]:
        """Return the non-empty path segments."""
        return [s for s in self.path.split("/") if s]

    @property
    def version(self) -> str:
        """Return the `vNN.N` path segment."""
        return self.segments[0]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a (system-)user token of an app, or the app's own access token."""

    token: str
    app_id: str
    wabas: frozenset[str]
    app_token: bool = False


@dataclass(slots=True)
class Ctx:
    """The emulator's moving parts, handed to every route."""

    store: Store
    runtime: Runtime
    clock: Clock
    webhooks: WebhookBook

    @property
    def state(self) -> GraphState:
        """The current data-set snapshot."""
        return self.store.state
