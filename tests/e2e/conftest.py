"""Fixtures of the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from opencams.config import Settings

from ..harness import Admin, Emulator, load_fixture, serve_app
from .business import APP_ID, World


@pytest.fixture
def world(settings: Settings, admin: Admin, emulator: Emulator) -> Iterator[World]:
    from opencams.bootstrap import create_app

    emulator.set_state(load_fixture("business.json"))
    configured = settings.model_copy(update={"meta_app_id": APP_ID})
    with serve_app(create_app(configured)) as url:
        account = admin.account()
        yield World(url.removeprefix("http://"), admin, emulator, account, admin.key(account))
