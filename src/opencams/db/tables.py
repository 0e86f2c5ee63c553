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
    ForeignKeyConstraint,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
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
    # NULL for the account's own (root) keys; otherwise the RAM user the key belongs to.
    Column("user_name", String(64), nullable=True),
    # Written at most once a minute per key and process: enough to tell a key in use from a stale one.
    Column("last_used_at", UTCDateTime, nullable=True),
    ForeignKeyConstraint(["account_id", "user_name"], ["ram_users.account_id", "ram_users.name"]),
)

spaces = Table(
    "spaces",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("account_id", String(16), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("waba_id", String(32), nullable=False, index=True),
    Column("graph_token_enc", Text, nullable=True),
    Column("status_callback_url", Text, nullable=True),
    Column("up_callback_url", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Bumped by every applied sync; rows not touched by the latest one are the removed numbers.
    Column("sync_generation", Integer, nullable=False, default=0),
    # When the fetch behind the stored data started: an older fetch never overwrites a newer one.
    Column("fetch_started_at", Float, nullable=True),
    # SHA-256 of the stored fetch (every node, in Meta's order): an identical fetch writes no rows.
    Column("content_digest", String(64), nullable=True),
    Column("last_sync_at", UTCDateTime, nullable=True),
    Column("last_sync_code", String(64), nullable=True),
    Column("last_sync_message", Text, nullable=True),
    # UpdateAccountWebhook: where this space's number-state events go, and by which means.
    Column("webhook_url", Text, nullable=True),
    Column("webhook_http", Boolean, nullable=False, server_default=false()),
    Column("webhook_queue", Boolean, nullable=False, server_default=false()),
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
    # UpdatePhoneWebhook's QueueFlag; NULL follows the account's queue delivery setting.
    Column("queue_flag", Boolean, nullable=True),
    Column("sync_generation", Integer, nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("synced_at", UTCDateTime, nullable=False),
    Column("removed_at", UTCDateTime, nullable=True),
)

# The two-step verification PIN opencams set at Meta for a number (Meta's register needs one and
# CAMS takes none). Keyed by Meta's phone-number id: the PIN belongs to the number at Meta, whichever
# space shows it. Sealed with the deployment key; never logged, never answered.
number_pins = Table(
    "number_pins",
    metadata,
    Column("phone_number_id", String(32), primary_key=True),
    Column("pin_enc", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

nonces = Table(
    "nonces",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("expires_at", Float, nullable=False, index=True),
)

# --- Meta's budget per WABA, and operator-set rates per account ---

waba_blocks = Table(
    "waba_blocks",
    metadata,
    Column("waba_id", String(32), primary_key=True),
    # Epoch seconds until which Meta told us not to call for this WABA.
    Column("blocked_until", Float, nullable=False),
    Column("reason", String(64), nullable=False),
)

account_rate_limits = Table(
    "account_rate_limits",
    metadata,
    Column("account_id", String(16), ForeignKey("accounts.id"), primary_key=True),
    Column("action", String(64), primary_key=True),
    Column("rate", String(32), nullable=False),
)

# --- RAM (users, policies, roles, STS) ---

ram_users = Table(
    "ram_users",
    metadata,
    Column("account_id", String(16), ForeignKey("accounts.id"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# Custom policies only: the system policies live in code (iam.policy.SYSTEM_POLICIES).
ram_policies = Table(
    "ram_policies",
    metadata,
    Column("account_id", String(16), ForeignKey("accounts.id"), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("document", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# No foreign key to the principal or the policy: the principal is a user or a role, and a
# System policy has no row. The primary key's prefix serves the per-call lookup by principal.
ram_attachments = Table(
    "ram_attachments",
    metadata,
    Column("account_id", String(16), ForeignKey("accounts.id"), primary_key=True),
    Column("principal_type", String(8), primary_key=True),
    Column("principal_name", String(64), primary_key=True),
    Column("policy_type", String(8), primary_key=True),
    Column("policy_name", String(128), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)

ram_roles = Table(
    "ram_roles",
    metadata,
    Column("account_id", String(16), ForeignKey("accounts.id"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("role_id", String(32), nullable=False, unique=True),
    # JSON list of the RAM user names the trust policy lets assume the role.
    Column("trust_users", Text, nullable=False),
    Column("max_session_duration", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

sts_credentials = Table(
    "sts_credentials",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("account_id", String(16), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("role_name", String(64), nullable=False),
    Column("session_name", String(64), nullable=False),
    Column("secret_enc", Text, nullable=False),
    Column("token_enc", Text, nullable=False),
    Column("session_policy", Text, nullable=True),
    # Epoch seconds, compared on every call; indexed for the purge of long-expired rows.
    Column("expires_at", Float, nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
)
