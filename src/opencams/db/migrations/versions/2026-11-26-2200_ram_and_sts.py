"""RAM users, custom policies and their attachments, roles, STS credentials; AccessKeys of RAM users.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The metadata's naming convention: SQLite reflects foreign keys without names, so batch mode
# needs it to find the one the downgrade drops.
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def upgrade() -> None:
    op.create_table(
        "ram_users",
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_ram_users_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "name", name=op.f("pk_ram_users")),
    )
    op.create_table(
        "ram_policies",
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_ram_policies_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "name", name=op.f("pk_ram_policies")),
    )
    op.create_table(
        "ram_attachments",
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("principal_type", sa.String(length=8), nullable=False),
        sa.Column("principal_name", sa.String(length=64), nullable=False),
        sa.Column("policy_type", sa.String(length=8), nullable=False),
        sa.Column("policy_name", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_ram_attachments_account_id_accounts")),
        sa.PrimaryKeyConstraint(
            "account_id",
            "principal_type",
            "principal_name",
            "policy_type",
            "policy_name",
            name=op.f("pk_ram_attachments"),
        ),
    )
    op.create_table(
        "ram_roles",
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role_id", sa.String(length=32), nullable=False),
        sa.Column("trust_users", sa.Text(), nullable=False),
        sa.Column("max_session_duration", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_ram_roles_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "name", name=op.f("pk_ram_roles")),
        sa.UniqueConstraint("role_id", name=op.f("uq_ram_roles_role_id")),
    )
    op.create_table(
        "sts_credentials",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("role_name", sa.String(length=64), nullable=False),
        sa.Column("session_name", sa.String(length=64), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=False),
        sa.Column("token_enc", sa.Text(), nullable=False),
        sa.Column("session_policy", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_sts_credentials_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sts_credentials")),
    )
    with op.batch_alter_table("sts_credentials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sts_credentials_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sts_credentials_expires_at"), ["expires_at"], unique=False)

    with op.batch_alter_table("access_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_name", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_access_keys_account_id_ram_users"),
            "ram_users",
            ["account_id", "user_name"],
            ["account_id", "name"],
        )


def downgrade() -> None:
    with op.batch_alter_table("access_keys", schema=None, naming_convention=NAMING) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_access_keys_account_id_ram_users"), type_="foreignkey")
        batch_op.drop_column("user_name")

    with op.batch_alter_table("sts_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sts_credentials_expires_at"))
        batch_op.drop_index(batch_op.f("ix_sts_credentials_account_id"))

    op.drop_table("sts_credentials")
    op.drop_table("ram_roles")
    op.drop_table("ram_attachments")
    op.drop_table("ram_policies")
    op.drop_table("ram_users")
