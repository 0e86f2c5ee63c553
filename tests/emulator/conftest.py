"""Fixtures for the Graph emulator tests: the 250-number and lifecycle data sets, in-process and live apps, a webhook receiver."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from opencams.emulator import create_app
from opencams.emulator.server import serve_in_thread

from .helpers import BASE_URL, WABA_250, life_state
from .receiver import Receiver


@pytest.fixture(autouse=True)
def _not_scanned_for_secrets() -> Iterator[None]:
    """These tests play Meta's own client, which sends tokens in URLs (`access_token=`) by design,
    and httpx logs those URLs; opencams is not involved, so the session's secret scan skips them."""
    from ..conftest import RECORDER

    RECORDER.paused = True
    yield
    RECORDER.paused = False


@pytest.fixture
def waba250_state() -> dict[str, Any]:
    """A fresh copy of tests/fixtures/graph/waba_250.json."""
    state: dict[str, Any] = json.loads(WABA_250.read_text(encoding="utf-8"))
    return state


@pytest.fixture
def app(waba250_state: dict[str, Any]) -> Starlette:
    """An emulator over waba_250, seeded."""
    return create_app(waba250_state, seed=1234)


@pytest_asyncio.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to `app` in process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


@pytest.fixture
def live_url(app: Starlette) -> Iterator[str]:
    """`app` served by uvicorn on a free loopback port; yields its base URL."""
    with serve_in_thread(app) as url:
        yield url


@pytest.fixture
def life_app() -> Starlette:
    """An emulator over the small lifecycle data set (tests/emulator/helpers.py), seeded."""
    return create_app(life_state(), seed=7)


@pytest_asyncio.fixture
async def life(life_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to `life_app` in process."""
    transport = httpx.ASGITransport(app=life_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


@pytest.fixture
def life_url(life_app: Starlette) -> Iterator[str]:
    """`life_app` served by uvicorn on a free loopback port; yields its base URL."""
    with serve_in_thread(life_app) as url:
        yield url


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    """A webhook receiver on a free loopback port: (Receiver, base URL)."""
    hooks = Receiver()
    with serve_in_thread(hooks.app) as url:
        yield hooks, url
