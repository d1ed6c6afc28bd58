"""auth tables bump the security version

Revision ID: a0714000002
Revises: a0714000001
Create Date: 2026-11-30 09:10:00
"""

from alembic import op

from plinth.api import bump_on_change, drop_bump


revision = "a0714000002"
down_revision = "a0714000001"
branch_labels = None
# No depends_on: alembic would then stop recording the core's head, and the
# core's branch is always upgraded first (plinth.schema.upgrade).
depends_on = None

# A token's last_used_at is bookkeeping: recording a use must not empty caches.
TOKEN_COLUMNS = ("id", "user_id", "secret_hash", "expires_at", "revoked_at")
TABLES = ("auth_users", "auth_groups", "auth_memberships")


def upgrade() -> None:
    for table in TABLES:
        bump_on_change(op, table)
    bump_on_change(op, "auth_tokens", TOKEN_COLUMNS)


def downgrade() -> None:
    for table in (*TABLES, "auth_tokens"):
        drop_bump(op, table)
