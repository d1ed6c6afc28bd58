"""stored roles

Revision ID: c0de00000002
Revises: c0de00000001
Create Date: 2026-11-30 09:20:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "c0de00000002"
down_revision = "c0de00000001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "acl_roles",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_acl_roles")),
    )


def downgrade() -> None:
    op.drop_table("acl_roles")
