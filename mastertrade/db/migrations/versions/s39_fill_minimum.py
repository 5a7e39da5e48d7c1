"""A live sell's last fill keeps the least the exchange takes in one order: ``fills.minimum``.

A full exit at an exchange taking a buy's fee in the coin bought (Binance without BNB) left a remainder
under one lot step: no sell could take it, yet it stayed the strategy's open position, every later exit
signal was refused, and the strategy never entered again. The last fill of a live sell now keeps the least
amount the exchange takes in one order (its lot step or minimum amount), and a position the sell leaves
under that is dust: its round trip closes.

A new nullable column only; the fills stored before this revision have none (they fold as before).

Revision ID: s39_fill_minimum
Revises: s39_owed_exits
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s39_fill_minimum"
down_revision: str | None = "s39_owed_exits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fills") as batch:
        batch.add_column(sa.Column("minimum", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fills") as batch:
        batch.drop_column("minimum")
