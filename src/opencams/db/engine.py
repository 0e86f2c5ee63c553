"""Async engine creation with per-backend settings: SQLite in WAL mode with immediate transactions."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

# Async drivers for the URLs an operator is likely to write.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


def async_url(url: str) -> str:
    """The URL with an async driver, so `postgresql://` and `sqlite:///` work as written."""
    parsed = make_url(url)
    if "+" not in parsed.drivername and parsed.drivername in _ASYNC_DRIVERS:
        parsed = parsed.set(drivername=_ASYNC_DRIVERS[parsed.drivername])
    if parsed.drivername == "postgresql+psycopg2":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


WRITE_OPTION = "opencams_write"
_WRITE_LOCKS: dict[int, asyncio.Lock] = {}


@asynccontextmanager
async def write(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A write transaction; on SQLite, one at a time per process.

    SQLite has one writer at a time anyway. Queueing writers here costs nothing, while letting
    them all wait in SQLite's busy handler (which sleeps up to 100 ms between tries) stretched
    p99 latency to seconds under load. Other processes still wait in the busy handler.
    """
    writing = engine.execution_options(**{WRITE_OPTION: True})
    if engine.dialect.name != "sqlite":
        async with writing.begin() as conn:
            yield conn
        return
    lock = _WRITE_LOCKS.setdefault(id(engine.sync_engine), asyncio.Lock())
    async with lock, writing.begin() as conn:
        yield conn


def secure_sqlite_file(url: str) -> None:
    """Create the SQLite file owner-only (0600) before SQLite does, or narrow an existing one.

    SQLite gives its -wal and -shm files the database file's mode, so they follow.
    """
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            info = file.stat()
            if info.st_uid == os.getuid() and info.st_mode & 0o077:
                file.chmod(0o600)


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE transactions."""
    url = async_url(url)
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        secure_sqlite_file(url)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_size"] = pool_size
        kwargs["max_overflow"] = pool_size
        kwargs["pool_pre_ping"] = True
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event own transaction start (pysqlite's implicit BEGIN is DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL: readers never block the writer, and a killed process leaves the last commit intact.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Any) -> None:
        # Writes take the lock up front with IMMEDIATE: a deferred transaction that reads and then
        # writes fails with SQLITE_BUSY under concurrency instead of waiting; this also serialises
        # syncs. Reads open no transaction at all (autocommit), so they never wait for a writer.
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` means the database could not be reached or used, rather than a bug.

    Connection failures (refused, reset, timed out, the server shutting down) and a lost
    connection are temporary: answered 503. Constraint violations, syntax errors and the like
    stay 500s: retrying would not help.
    """
    if isinstance(exc, OperationalError | InterfaceError | TimeoutError | ConnectionError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        if isinstance(state, str) and state.startswith(_UNAVAILABLE_STATES):
            return True
    # asyncpg raises its own errors for a server that goes away, outside SQLAlchemy's wrapping.
    return type(exc).__module__.startswith("asyncpg") and type(exc).__name__ in _ASYNCPG_GONE


# PostgreSQL SQLSTATEs of a database that cannot be used now: connection exceptions (08), no
# resources (53), operator intervention such as a shutdown (57P), no such database (3D000),
# refused credentials (28), and a database not accepting connections (55000).
_UNAVAILABLE_STATES = ("08", "53", "57P", "3D000", "28", "55000")
_ASYNCPG_GONE = frozenset(
    {"ConnectionDoesNotExistError", "CannotConnectNowError", "ConnectionFailureError", "AdminShutdownError"}
)
