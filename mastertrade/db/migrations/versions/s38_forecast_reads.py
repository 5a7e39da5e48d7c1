"""The candles each forecast added after a training read: ``forecast_reads``.

A training records in its model the candles it read, so its forecasts are never read beside other
prices; the forecasts a stored model adds afterwards, one per new bar (the daemon's ``forecasts``
service, ``mt ml predict``), recorded nothing, and a rewrite of those newer bars went unnoticed. Each
such forecast now records the bars it read beyond the training's (``collectors/forecast_candles.py``).

A new table only; forecasts added before this revision have no record (not checked, as before).

Revision ID: s38_forecast_reads
Revises: s38_sell_shares
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s38_forecast_reads"
down_revision: str | None = "s38_sell_shares"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "forecast_reads",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("after", sa.BigInteger(), nullable=False),
        sa.Column("bars", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("source", "name", "symbol", "ts", name="pk_forecast_reads"),
    )


def downgrade() -> None:
    op.drop_table("forecast_reads")
