"""Protective exits of live positions (the daemon's stop-loss, take-profit and trailing-stop levels).

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "protections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book", sa.String(length=80), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("strategy_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("entry_client_order_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("entry_price", sa.Float(), nullable=True),
        sa.Column("stop_loss", sa.Float(), nullable=True),
        sa.Column("take_profit", sa.Float(), nullable=True),
        sa.Column("trailing_stop", sa.Float(), nullable=True),
        sa.Column("stop_price", sa.Float(), nullable=True),
        sa.Column("take_price", sa.Float(), nullable=True),
        sa.Column("trail_peak", sa.Float(), nullable=True),
        sa.Column("armed_ts", sa.BigInteger(), nullable=True),
        sa.Column("trigger", sa.String(length=16), nullable=True),
        sa.Column("trigger_level", sa.Float(), nullable=True),
        sa.Column("trigger_seen", sa.Float(), nullable=True),
        sa.Column("exit_client_order_id", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("triggered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["book"], ["trading_books.id"], name="fk_protections_book_trading_books"),
        sa.PrimaryKeyConstraint("id", name="pk_protections"),
        sa.UniqueConstraint("entry_client_order_id", name="uq_protections_entry_client_order_id"),
    )
    op.create_index("ix_protections_book_state", "protections", ["book", "state"])


def downgrade() -> None:
    op.drop_index("ix_protections_book_state", table_name="protections")
    op.drop_table("protections")
