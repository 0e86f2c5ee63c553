"""Statements that differ per backend: insert-or-ignore and upsert."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


def insert_ignore(dialect: str, table: Table) -> Insert:
    """INSERT that silently skips rows whose key exists."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def upsert(dialect: str, table: Table, keys: Sequence[str], update: Sequence[str]) -> Insert:
    """INSERT ... ON CONFLICT (keys) DO UPDATE of the `update` columns only."""
    stmt: Any = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=list(keys), set_={c: stmt.excluded[c] for c in update}
    )
