"""What the use cases need from storage and from Meta, as protocols: the adapters in `db/` and
`graph/` provide them, and the unit tests provide in-memory fakes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ..db.spaces import Space
from ..domain.phone_numbers import MetaNumber, StoredNumber
from ..graph.client import FetchReport


class GraphPort(Protocol):
    """Meta's Graph API (graph/client.py)."""

    async def get(
        self, path: str, token: str, params: Mapping[str, str] | None = None, report: FetchReport | None = None
    ) -> dict[str, Any]: ...

    async def post(
        self,
        path: str,
        token: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        report: FetchReport | None = None,
    ) -> dict[str, Any]: ...

    async def delete(self, path: str, token: str, report: FetchReport | None = None) -> dict[str, Any]: ...

    async def list_phone_numbers(
        self, waba_id: str, token: str, fields: Sequence[str], report: FetchReport | None = None
    ) -> list[dict[str, Any]]: ...


class BudgetPort(Protocol):
    """Meta's blocks per WABA (db/budget.py)."""

    async def block(self, waba_id: str, until: float, reason: str) -> None: ...


class SpaceRepository(Protocol):
    """Spaces and their numbers (db/spaces.py)."""

    async def find_space(self, space_id: str) -> Space | None: ...

    async def list_spaces(self, account_id: str) -> list[Space]: ...

    async def list_numbers(self, space_id: str, *, include_removed: bool = False) -> list[StoredNumber]: ...

    async def apply_sync(
        self, space_id: str, nodes: Sequence[tuple[MetaNumber, dict[str, Any]]], fetch_started_at: float
    ) -> list[StoredNumber]: ...

    async def record_sync_failure(self, space_id: str, code: str, message: str) -> None: ...
