"""Initial schema: accounts, AccessKeys, customer spaces, phone numbers, nonces.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 20:53:58.513594
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("cams_enabled", sa.Boolean(), nullable=False),
        sa.Column("queue_delivery", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )
    op.create_table(
        "nonces",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_nonces")),
    )
    with op.batch_alter_table("nonces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nonces_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "access_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_access_keys_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_keys")),
    )
    with op.batch_alter_table("access_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_keys_account_id"), ["account_id"], unique=False)

    op.create_table(
        "spaces",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("waba_id", sa.String(length=32), nullable=False),
        sa.Column("graph_token_enc", sa.Text(), nullable=True),
        sa.Column("status_callback_url", sa.Text(), nullable=True),
        sa.Column("up_callback_url", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sync_generation", sa.Integer(), nullable=False),
        sa.Column("fetch_started_at", sa.Float(), nullable=True),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sync_code", sa.String(length=64), nullable=True),
        sa.Column("last_sync_message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_spaces_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spaces")),
    )
    with op.batch_alter_table("spaces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_spaces_account_id"), ["account_id"], unique=False)

    op.create_table(
        "phone_numbers",
        sa.Column("space_id", sa.String(length=64), nullable=False),
        sa.Column("phone_number_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("display_phone_number", sa.String(length=64), nullable=True),
        sa.Column("verified_name", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("quality_rating", sa.String(length=32), nullable=True),
        sa.Column("code_verification_status", sa.String(length=32), nullable=True),
        sa.Column("name_status", sa.String(length=32), nullable=True),
        sa.Column("new_name_status", sa.String(length=32), nullable=True),
        sa.Column("messaging_limit_tier", sa.String(length=32), nullable=True),
        sa.Column("portfolio_messaging_limit", sa.String(length=32), nullable=True),
        sa.Column("is_official", sa.Boolean(), nullable=True),
        sa.Column("node", sa.Text(), nullable=False),
        sa.Column("status_callback_url", sa.Text(), nullable=True),
        sa.Column("up_callback_url", sa.Text(), nullable=True),
        sa.Column("sync_generation", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["space_id"], ["spaces.id"], name=op.f("fk_phone_numbers_space_id_spaces")),
        sa.PrimaryKeyConstraint("space_id", "phone_number_id", name=op.f("pk_phone_numbers")),
    )


def downgrade() -> None:

    op.drop_table("phone_numbers")
    with op.batch_alter_table("spaces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spaces_account_id"))

    op.drop_table("spaces")
    with op.batch_alter_table("access_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_keys_account_id"))

    op.drop_table("access_keys")
    with op.batch_alter_table("nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nonces_expires_at"))

    op.drop_table("nonces")
    op.drop_table("accounts")
