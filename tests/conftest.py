"""Shared fixtures: database backends, the Graph emulator, the opencams server, SDK clients."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stamina
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from opencams.config import Settings
from opencams.db.migrate import upgrade
from opencams.emulator.app import create_app as create_emulator

from .harness import LOG_FILES, SECRETS, Admin, Emulator, find_leaks, load_fixture, serve_app

POSTGRES_URL = os.environ.get("OPENCAMS_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("OPENCAMS_TEST_REDIS_URL")


def _postgres_admin() -> Any:
    assert POSTGRES_URL
    admin_url = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg", database="postgres")
    return create_engine(admin_url, isolation_level="AUTOCOMMIT")


def _postgres_url(name: str) -> str:
    assert POSTGRES_URL
    url = make_url(POSTGRES_URL).set(drivername="postgresql+asyncpg", database=name)
    return url.render_as_string(hide_password=False)


def _postgres_database(template: str | None = None) -> Iterator[str]:
    """A fresh PostgreSQL database for one test (a copy of `template` if given), dropped after it."""
    name = f"opencams_test_{uuid.uuid4().hex[:12]}"
    engine = _postgres_admin()
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    try:
        yield _postgres_url(name)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once per test run; tests get copies (migrating takes longer than copying)."""
    path = tmp_path_factory.mktemp("template") / "opencams.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str | None]:
    """A PostgreSQL database migrated once per test run, the template of every test's database."""
    if not POSTGRES_URL:
        yield None
        return
    name = f"opencams_template_{uuid.uuid4().hex[:12]}"
    engine = _postgres_admin()
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    upgrade(_postgres_url(name))
    try:
        yield name
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def _skip_without_postgres() -> None:
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need OPENCAMS_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1/test)")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on SQLite and, when OPENCAMS_TEST_POSTGRES_URL is set, on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'opencams.db'}"
        return
    _skip_without_postgres()
    yield from _postgres_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, postgres_template: str | None
) -> Iterator[str]:
    """A database at the schema's head, on SQLite and (when configured) PostgreSQL, copied from a template."""
    if request.param == "sqlite":
        path = tmp_path / "opencams.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    _skip_without_postgres()
    yield from _postgres_database(template=postgres_template)


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[str]:
    """One Graph emulator for the whole run (starting one per test cost more than the tests)."""
    with serve_app(create_emulator(load_fixture("waba_250.json"), seed=7), lifespan="off") as url:
        yield url


@pytest.fixture
def emulator(emulator_server: str) -> Emulator:
    """The Graph emulator, reset to the 250-number fixture: no faults, calls, codes or deliveries."""
    emulator = Emulator(emulator_server)
    emulator.reset()
    return emulator


@pytest.fixture
def settings(tmp_path: Path, migrated_database_url: str, emulator: Emulator) -> Settings:
    cfg = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        database_url=migrated_database_url,
        secret_key="test-deployment-key",  # type: ignore[arg-type]
        graph_url=emulator.url,
        graph_token="test-token",  # type: ignore[arg-type]
        sync_deadline=5.0,
        redis_url=None,
    )
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    return cfg


@pytest.fixture
def admin(settings: Settings) -> Iterator[Admin]:
    admin = Admin(settings)
    yield admin
    admin.close()


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
def retries_without_waiting() -> Iterator[None]:
    """Meta calls retry as configured, without the backoff sleeps (servers in subprocesses still wait)."""
    with stamina.set_testing(True, attempts=5, cap=True):
        yield


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
