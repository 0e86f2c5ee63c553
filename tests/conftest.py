"""Shared fixtures: database backends, the Graph emulator, the opencams server, SDK clients."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from opencams.config import Settings
from opencams.db.migrate import upgrade
from opencams.emulator.app import create_app as create_emulator

from .harness import LOG_FILES, SECRETS, Admin, Emulator, find_leaks, load_fixture, serve_app

POSTGRES_URL = os.environ.get("OPENCAMS_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("OPENCAMS_TEST_REDIS_URL")


def _postgres_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test, dropped after it."""
    assert POSTGRES_URL
    admin_url = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg", database="postgres")
    name = f"opencams_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = (
        make_url(POSTGRES_URL).set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    )
    try:
        yield url
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each database test runs on SQLite and, when OPENCAMS_TEST_POSTGRES_URL is set, PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'opencams.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need OPENCAMS_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1/test)")
    yield from _postgres_database()


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A Graph emulator on a free port, loaded with the 250-number fixture."""
    with serve_app(create_emulator(load_fixture("waba_250.json"), seed=7), lifespan="off") as url:
        yield Emulator(url)


@pytest.fixture
def settings(tmp_path: Path, database_url: str, emulator: Emulator) -> Settings:
    cfg = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-deployment-key",  # type: ignore[arg-type]
        graph_url=emulator.url,
        graph_token="test-token",  # type: ignore[arg-type]
        sync_deadline=5.0,
        redis_url=None,
    )
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(cfg.effective_database_url)
    return cfg


@pytest.fixture
def admin(settings: Settings) -> Admin:
    return Admin(settings)


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    """A running opencams server (real HTTP); yields its `host:port` endpoint."""
    from opencams.bootstrap import create_app

    with serve_app(create_app(settings)) as url:
        yield url.removeprefix("http://")


class _Recorder(logging.Handler):
    """Keeps every formatted log line of the session, tracebacks included."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.paused = False
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if self.paused:
            return
        try:
            self.lines.append(self.format(record))
        except Exception:  # a record that cannot be formatted still must not hide a secret
            self.lines.append(repr(record.__dict__))


RECORDER = _Recorder()


@pytest.fixture(scope="session", autouse=True)
def no_secret_in_logs() -> Iterator[None]:
    """After the whole session: no log line, in process or in a server subprocess, holds a secret."""
    recorder = RECORDER
    root = logging.getLogger()
    ours = logging.getLogger("opencams")
    previous = root.level, ours.level
    root.addHandler(recorder)
    # Everything at INFO, opencams' own loggers at DEBUG (drivers log every statement at DEBUG).
    root.setLevel(logging.INFO)
    ours.setLevel(logging.DEBUG)
    yield
    root.removeHandler(recorder)
    root.setLevel(previous[0])
    ours.setLevel(previous[1])
    lines = list(recorder.lines)
    for path in LOG_FILES:
        if path.exists():
            lines += path.read_text(errors="replace").splitlines()
    leaks = find_leaks(lines, SECRETS)
    assert not leaks, f"secrets found in {len(leaks)} log lines: {leaks[:5]}"
