"""The sync use case with in-memory fakes of storage and Meta: no database, no HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from opencams.db.spaces import Space
from opencams.domain.errors import NoGraphToken, WabaBlocked
from opencams.domain.phone_numbers import MetaNumber, StoredNumber
from opencams.graph.client import FetchReport
from opencams.graph.errors import GraphApiError, GraphContentError, GraphTransportError
from opencams.services.meta import DEFAULT_BLOCK_SECONDS, MetaService
from opencams.services.sync import SyncFailed, SyncService

NOW = 1_800_000_000.0
SPACE = Space("s1", "1111222233334444", "100", None, None, None, None, None, None)


@dataclass
class FakeGraph:
    """Meta as a list of nodes, or a failure to raise; counts its calls."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    failure: Exception | None = None
    blocked_for: float = 0.0
    calls: int = 0
    gate: asyncio.Event | None = None

    async def list_phone_numbers(
        self, waba_id: str, token: str, fields: Sequence[str], report: FetchReport | None = None
    ) -> list[dict[str, Any]]:
        self.calls += 1
        if report is not None:
            report.attempts += 1
            report.blocked_for = self.blocked_for
        if self.gate is not None:
            await self.gate.wait()
        if self.failure is not None:
            raise self.failure
        return list(self.nodes)

    async def get(self, path: str, token: str, params: Mapping[str, str] | None = None, report: Any = None) -> Any:
        raise AssertionError("not used by a sync")

    post = get  # type: ignore[assignment]
    delete = get  # type: ignore[assignment]


@dataclass
class FakeBudget:
    blocks: list[tuple[str, float, str]] = field(default_factory=list)

    async def block(self, waba_id: str, until: float, reason: str) -> None:
        self.blocks.append((waba_id, until, reason))


@dataclass
class FakeSpaces:
    applied: list[list[str]] = field(default_factory=list)
    failures: list[tuple[str, str, str]] = field(default_factory=list)

    async def find_space(self, space_id: str) -> Space | None:
        return SPACE

    async def list_spaces(self, account_id: str) -> list[Space]:
        return [SPACE]

    async def list_numbers(self, space_id: str, *, include_removed: bool = False) -> list[StoredNumber]:
        return []

    async def apply_sync(
        self, space_id: str, nodes: Sequence[tuple[MetaNumber, dict[str, Any]]], fetch_started_at: float
    ) -> list[StoredNumber]:
        self.applied.append([m.id for m, _ in nodes])
        return [StoredNumber(m, None, None) for m, _ in nodes]

    async def record_sync_failure(self, space_id: str, code: str, message: str) -> None:
        self.failures.append((space_id, code, message))


def service(graph: FakeGraph, token: str | None = "deploy-token") -> tuple[SyncService, FakeSpaces, FakeBudget]:
    spaces, budget = FakeSpaces(), FakeBudget()
    meta = MetaService(graph, budget, default_token=token, clock=lambda: NOW)
    return SyncService(spaces, meta), spaces, budget


def node(number_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": number_id, "display_phone_number": f"+1 555 {number_id}", **fields}


async def test_a_fetch_is_applied_in_metas_order_without_repeats() -> None:
    sync, spaces, _ = service(FakeGraph([node("3"), node("1"), node("3"), node("2")]))
    numbers = await sync.sync(SPACE)
    assert [n.meta.id for n in numbers] == ["3", "1", "2"]
    assert spaces.applied == [["3", "1", "2"]]


async def test_concurrent_syncs_of_a_space_share_one_fetch() -> None:
    graph = FakeGraph([node("1")], gate=asyncio.Event())
    sync, spaces, _ = service(graph)
    tasks = [asyncio.create_task(sync.sync(SPACE)) for _ in range(5)]
    await asyncio.sleep(0)
    graph.gate.set()  # type: ignore[union-attr]
    results = await asyncio.gather(*tasks)
    assert graph.calls == 1 and len(spaces.applied) == 1
    assert all([n.meta.id for n in r] == ["1"] for r in results)


async def test_a_blocked_waba_is_not_called_and_nothing_is_recorded() -> None:
    graph = FakeGraph([node("1")])
    sync, spaces, _ = service(graph)
    with pytest.raises(SyncFailed) as info:
        await sync.sync(replace(SPACE, waba_blocked_until=NOW + 30))
    assert isinstance(info.value.cause, WabaBlocked) and info.value.cause.retry_after == 30
    assert graph.calls == 0 and spaces.failures == [] and spaces.applied == []


async def test_an_absurd_stored_block_is_capped_at_a_day() -> None:
    sync, _, _ = service(FakeGraph())
    with pytest.raises(SyncFailed) as info:
        await sync.sync(replace(SPACE, waba_blocked_until=float("inf")))
    assert info.value.cause.retry_after == 86400  # type: ignore[union-attr]


async def test_throttling_stores_a_block_and_records_the_failure() -> None:
    failure = GraphApiError(
        http_status=400, code=80007, subcode=None, type=None, message="limit", fbtrace_id=None, is_transient=False
    )
    sync, spaces, budget = service(FakeGraph(failure=failure))
    with pytest.raises(SyncFailed) as info:
        await sync.sync(SPACE)
    assert isinstance(info.value.cause, WabaBlocked) and info.value.cause.meta_code == 80007
    assert budget.blocks == [("100", NOW + DEFAULT_BLOCK_SECONDS, "meta code 80007")]
    assert [(f[1]) for f in spaces.failures] == ["ServiceUnavailable"]


async def test_a_usage_header_block_is_stored_even_when_the_answer_was_good() -> None:
    sync, spaces, budget = service(FakeGraph([node("1")], blocked_for=120))
    await sync.sync(SPACE)
    assert budget.blocks == [("100", NOW + 120, "usage header")]
    assert spaces.applied == [["1"]]


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (
            GraphApiError(
                http_status=401,
                code=190,
                subcode=463,
                type=None,
                message="expired deploy-token",
                fbtrace_id="t",
                is_transient=False,
            ),
            "ERR-FB-001",
        ),
        (GraphTransportError("timeout"), "ServiceUnavailable"),
    ],
)
async def test_failures_are_recorded_with_tokens_masked(failure: Exception, code: str) -> None:
    sync, spaces, _ = service(FakeGraph(failure=failure))
    with pytest.raises(SyncFailed):
        await sync.sync(SPACE)
    assert spaces.applied == []
    assert spaces.failures[0][1] == code
    assert "deploy-token" not in spaces.failures[0][2]


async def test_without_a_token_nothing_is_called() -> None:
    graph = FakeGraph([node("1")])
    sync, spaces, _ = service(graph, token=None)
    with pytest.raises(SyncFailed) as info:
        await sync.sync(SPACE)
    assert isinstance(info.value.cause, NoGraphToken)
    assert graph.calls == 0 and spaces.failures[0][1] == "ERR-FB-001"


async def test_an_unusable_node_fails_the_whole_sync() -> None:
    sync, spaces, _ = service(FakeGraph([node("1"), {"id": "x" * 40}]))
    with pytest.raises(SyncFailed) as info:
        await sync.sync(SPACE)
    assert isinstance(info.value.cause, GraphContentError)
    assert spaces.applied == []
