"""The two-step verification PIN opencams sets at Meta for each number it registers, sealed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "number_pins",
        sa.Column("phone_number_id", sa.String(length=32), nullable=False),
        sa.Column("pin_enc", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("phone_number_id", name=op.f("pk_number_pins")),
    )


def downgrade() -> None:
    op.drop_table("number_pins")
