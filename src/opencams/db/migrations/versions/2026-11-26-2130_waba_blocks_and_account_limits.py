"""Meta's per-WABA blocks and operator-set per-account rate limits.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "waba_blocks",
        sa.Column("waba_id", sa.String(length=32), nullable=False),
        sa.Column("blocked_until", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("waba_id", name=op.f("pk_waba_blocks")),
    )
    op.create_table(
        "account_rate_limits",
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("rate", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_rate_limits_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "action", name=op.f("pk_account_rate_limits")),
    )


def downgrade() -> None:
    op.drop_table("account_rate_limits")
    op.drop_table("waba_blocks")
