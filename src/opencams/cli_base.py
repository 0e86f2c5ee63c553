"""What every `opencams` command shares: settings, preparing the database, running admin work, output, one-line errors."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .config import Settings
from .redact import redact

T = TypeVar("T")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of a table.")]
# How long starting a process waits for the database before saying it cannot be reached.
CONNECT_TIMEOUT = 10.0
# Data is never read as Rich markup: an ARN like acs:ram::1:role/x would turn into an emoji. Piped
# output is as wide as it needs to be, so a script never gets an id broken over two lines.
console = Console(markup=False, emoji=False, highlight=False, width=None if sys.stdout.isatty() else 1000)


class CliError(Exception):
    """A one-line error for the operator; exit code 2."""


def settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        raise CliError(f"bad configuration: OPENCAMS_{str(first['loc'][0]).upper()}: {message}") from None


def prepare(cfg: Settings) -> None:
    """Make sure the process can start: data directory, database reachable, schema at head.

    The schema is migrated here only when OPENCAMS_AUTO_MIGRATE says so (SQLite by default);
    otherwise a schema behind this version stops the start with the command to run.
    """
    from .secretbox import secure_directory

    try:
        secure_directory(cfg.data_dir)
    except OSError as exc:
        raise CliError(f"OPENCAMS_DATA_DIR {cfg.data_dir} cannot be used: {exc.strerror or exc}") from None
    revision, head = database_revision(cfg)
    if revision == head:
        return
    if cfg.should_auto_migrate:
        migrate(cfg)
        return
    raise CliError(
        f"the database schema is at {revision or 'nothing (an empty database)'}, this version needs {head}: "
        "run `opencams admin db upgrade` first (or set OPENCAMS_AUTO_MIGRATE=true)"
    )


def database_revision(cfg: Settings) -> tuple[str | None, str]:
    """(the database's schema revision, this version's); CliError if the database cannot be reached."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from .db.engine import create_engine
    from .db.migrate import current_revision, head_revision

    async def read() -> str | None:
        engine = create_engine(cfg.effective_database_url)
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT), engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return await current_revision(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(read()), head_revision()
    except Exception as exc:  # any failure to reach or read the database ends the start, in one line
        shown = make_url(cfg.effective_database_url).render_as_string(hide_password=True)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        secrets = [cfg.database_url, make_url(cfg.effective_database_url).password]
        raise CliError(f"cannot use the database at {shown}: {redact(reason, secrets)}") from None


def migrate(cfg: Settings, revision: str = "head") -> int:
    """Migrate the schema, then re-seal secrets stored in an older format; how many were re-sealed."""
    from .bootstrap import secret_box
    from .db.engine import create_engine
    from .db.migrate import upgrade
    from .db.reseal import reseal

    upgrade(cfg.effective_database_url, revision)
    if revision != "head":
        return 0

    async def main() -> int:
        engine = create_engine(cfg.effective_database_url)
        try:
            return await reseal(engine, secret_box(cfg))
        finally:
            await engine.dispose()

    return asyncio.run(main())


def run(fn: Callable[[Any], Awaitable[T]]) -> T:
    """Run an admin coroutine against a migrated database, closing everything after."""
    from .bootstrap import build_container

    cfg = settings()
    prepare(cfg)

    async def main() -> T:
        container = build_container(cfg)
        try:
            return await fn(container)
        finally:
            await container.aclose()

    return asyncio.run(main())


def show(rows: Sequence[dict[str, Any]], as_json: bool, *, key: str | None = None) -> None:
    """Print rows as a table, or as JSON (one object, or {key: [objects]} for lists)."""
    if as_json:
        payload: Any = {key: list(rows)} if key else rows[0]
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    table = Table()
    columns = list(rows[0]) if rows else []
    for column in columns:
        # Folded, never cut: an id is copied from here, so every character must show.
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text("" if row[c] is None else str(row[c])) for c in columns))
    console.print(table)
