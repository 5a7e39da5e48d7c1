"""Live positions left without exits are remembered across restarts: ``unprotected_parts``.

A part of a bracketed position that could have no exits at the exchange (under its minimum notional or
amount, or its exits refused: a sell by hand leaving a small rest, a buy filling in small parts) was
marked unprotected in the daemon's memory only: after a restart ``mt positions`` no longer said so and
no alert said it again. One row per entry order now keeps the mark until the position is protected
again or sold.

A new table only; nothing stored changes.

Revision ID: s34_unprotected
Revises: s32_fees
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s34_unprotected"
down_revision: str | None = "s32_fees"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unprotected_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book", sa.String(length=80), nullable=False),
        sa.Column("entry_order_id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("noted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["book"], ["trading_books.id"], name="fk_unprotected_parts_book_trading_books"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_unprotected_parts"),
        sa.UniqueConstraint("book", "entry_order_id", name="uq_unprotected_parts_book_entry"),
    )


def downgrade() -> None:
    op.drop_table("unprotected_parts")
