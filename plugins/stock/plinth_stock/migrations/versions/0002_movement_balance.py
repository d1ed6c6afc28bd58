"""movement balance: each ledger line keeps the level's on hand after it

Revision ID: 570c00000002
Revises: 570c00000001
Create Date: 2026-11-30 15:25:00

Existing lines get the running sum of their level's ledger in id order, which
is what the movements report showed as their balance until now.
"""

from alembic import op
import sqlalchemy as sa


revision = "570c00000002"
down_revision = "570c00000001"
branch_labels = None
depends_on = None

# Both databases take UPDATE ... FROM (SQLite since 3.33).
BACKFILL = (
    "UPDATE stock_movements SET balance = running.balance FROM ("
    "SELECT id, sum(quantity) OVER (PARTITION BY item_id, location_id ORDER BY id "
    "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS balance FROM stock_movements"
    ") AS running WHERE running.id = stock_movements.id"
)


def upgrade() -> None:
    op.add_column("stock_movements", sa.Column("balance", sa.Integer(), nullable=True))
    op.execute(BACKFILL)
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.alter_column("balance", existing_type=sa.Integer(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.drop_column("balance")
