"""security version: one row bumped by every change to security data

Revision ID: c0de00000003
Revises: c0de00000002
Create Date: 2026-11-30 09:10:00
"""

from alembic import op
import sqlalchemy as sa

from plinth.securityversion import bump_on_change, create_function, drop_bump


revision = "c0de00000003"
down_revision = "c0de00000002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "security_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_version")),
    )
    op.execute("INSERT INTO security_version (id, version) VALUES (1, 1)")
    create_function(op)
    bump_on_change(op, "acl_resources")
    bump_on_change(op, "acl_entries")
    bump_on_change(op, "acl_roles")


def downgrade() -> None:
    drop_bump(op, "acl_roles")
    drop_bump(op, "acl_entries")
    drop_bump(op, "acl_resources")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS plinth_bump_security_version()")
    op.drop_table("security_version")
