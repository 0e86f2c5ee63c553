"""Where a space's number-state events go (UpdateAccountWebhook), and a number's own queue flag.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy): SQLite could not drop `spaces` to copy it while
    # phone_numbers references it.
    op.add_column("spaces", sa.Column("webhook_url", sa.Text(), nullable=True))
    op.add_column("spaces", sa.Column("webhook_http", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("spaces", sa.Column("webhook_queue", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_spaces_waba_id", "spaces", ["waba_id"])
    op.add_column("phone_numbers", sa.Column("queue_flag", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("phone_numbers", schema=None) as batch_op:
        batch_op.drop_column("queue_flag")
    with op.batch_alter_table("spaces", schema=None) as batch_op:
        batch_op.drop_index("ix_spaces_waba_id")
        batch_op.drop_column("webhook_queue")
        batch_op.drop_column("webhook_http")
        batch_op.drop_column("webhook_url")
