"""The schema, as SQLAlchemy Core tables; Alembic migrations are the only way it reaches a database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone and would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if dialect.name != "sqlite" else value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


accounts = Table(
    "accounts",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("cams_enabled", Boolean, nullable=False),
    Column("queue_delivery", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
)

access_keys = Table(
    "access_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("account_id", String(16), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("secret_enc", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

spaces = Table(
    "spaces",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("account_id", String(16), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("waba_id", String(32), nullable=False),
    Column("graph_token_enc", Text, nullable=True),
    Column("status_callback_url", Text, nullable=True),
    Column("up_callback_url", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Bumped by every applied sync; rows not touched by the latest one are the removed numbers.
    Column("sync_generation", Integer, nullable=False, default=0),
    # When the fetch behind the stored data started: an older fetch never overwrites a newer one.
    Column("fetch_started_at", Float, nullable=True),
    Column("last_sync_at", UTCDateTime, nullable=True),
    Column("last_sync_code", String(64), nullable=True),
    Column("last_sync_message", Text, nullable=True),
)

phone_numbers = Table(
    "phone_numbers",
    metadata,
    Column("space_id", String(64), ForeignKey("spaces.id"), primary_key=True),
    Column("phone_number_id", String(32), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("display_phone_number", String(64), nullable=True),
    Column("verified_name", Text, nullable=True),
    Column("status", String(32), nullable=True),
    Column("quality_rating", String(32), nullable=True),
    Column("code_verification_status", String(32), nullable=True),
    Column("name_status", String(32), nullable=True),
    Column("new_name_status", String(32), nullable=True),
    Column("messaging_limit_tier", String(32), nullable=True),
    Column("portfolio_messaging_limit", String(32), nullable=True),
    Column("is_official", Boolean, nullable=True),
    Column("node", Text, nullable=False),
    Column("status_callback_url", Text, nullable=True),
    Column("up_callback_url", Text, nullable=True),
    Column("sync_generation", Integer, nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("synced_at", UTCDateTime, nullable=False),
    Column("removed_at", UTCDateTime, nullable=True),
)

nonces = Table(
    "nonces",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("expires_at", Float, nullable=False, index=True),
)
