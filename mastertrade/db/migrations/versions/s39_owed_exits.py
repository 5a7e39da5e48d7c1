"""A live strategy's exit signal owed across restarts: ``owed_exits``.

A strategy's exit signal that found its exits resting at the exchange not taken back (the cancel failed)
sold nothing and was owed, tried again at the next prices until they were. It was kept in the daemon's
memory only: after a restart the strategy held its position until its next exit signal or protection
level. One row per strategy and symbol now keeps it until it is paid, and the next start resumes it.

A new table only; nothing stored changes.

Revision ID: s39_owed_exits
Revises: s39_forecast_trials
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s39_owed_exits"
down_revision: str | None = "s39_forecast_trials"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "owed_exits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book", sa.String(length=80), nullable=False),
        sa.Column("strategy_id", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("bar_ts", sa.BigInteger(), nullable=False),
        sa.Column("owed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["book"], ["trading_books.id"], name="fk_owed_exits_book_trading_books"),
        sa.PrimaryKeyConstraint("id", name="pk_owed_exits"),
        sa.UniqueConstraint("book", "strategy_id", "symbol", name="uq_owed_exits_book_strategy_symbol"),
    )


def downgrade() -> None:
    op.drop_table("owed_exits")
