"""A fill's trade id is unique per book and symbol, not per book.

Exchanges number each market's trades on their own (Binance: a BTC/USDT trade and an ETH/USDT trade of
one account can carry the same id). Keyed by (book, trade_id), the second of two such fills could not be
stored: the order stayed ``sent`` with its fill unbooked and every later look at it failed again. Every
stored fill is kept; the new key only allows more.

Revision ID: s31_fills
Revises: 0006
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "s31_fills"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fills") as batch:
        batch.drop_constraint("uq_fills_book_trade", type_="unique")
        batch.create_unique_constraint("uq_fills_book_symbol_trade", ["book", "symbol", "trade_id"])


def downgrade() -> None:
    with op.batch_alter_table("fills") as batch:
        batch.drop_constraint("uq_fills_book_symbol_trade", type_="unique")
        batch.create_unique_constraint("uq_fills_book_trade", ["book", "trade_id"])
