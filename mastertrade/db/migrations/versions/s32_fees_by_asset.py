"""Fees kept in the asset they were charged in; an order's fee in the quote currency only where it is known.

An order's ``fee`` was the plain sum of its fills' fees, whatever asset each was paid in (0.4 USDT and
0.008 BNB made "0.408"). Now an order keeps its fees by asset (``orders.fees``) and ``fee`` is their
value in the quote currency: a fee in the base asset at its fill's price, a fee in a third asset at a
price the engine had, and NULL when it had none. A fill keeps that value (``fills.fee_quote``) and any
fees of the trade in further assets (``fills.more_fees``).

Every stored row is kept. The new figures of existing rows come from their fills: a fee in the quote or
the base asset is valued as above; a stored fee in a third asset had no price recorded, so its fill's
``fee_quote`` and its order's ``fee`` become NULL (the old figure added unlike amounts).

Revision ID: s32_fees
Revises: s31_fills
Create Date: 2026-12-04
"""

import math
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s32_fees"
down_revision: str | None = "s31_fills"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _assets(symbol: str) -> tuple[str, str]:
    base, _, quote = symbol.partition("/")
    return base, quote.split(":")[0]


def upgrade() -> None:
    with op.batch_alter_table("fills") as batch:
        batch.add_column(sa.Column("fee_quote", sa.Float(), nullable=True))
        batch.add_column(sa.Column("more_fees", sa.JSON(), nullable=True))
    with op.batch_alter_table("orders") as batch:
        batch.alter_column("fee", existing_type=sa.Float(), nullable=True)
        batch.add_column(sa.Column("fees", sa.JSON(), nullable=True))
    connection = op.get_bind()
    fills = connection.execute(
        sa.text("SELECT id, order_id, symbol, price, fee, fee_asset FROM fills ORDER BY id")
    ).all()
    orders: dict[int, tuple[dict[str, list[float]], list[float | None]]] = {}
    for fill_id, order_id, symbol, price, fee, fee_asset in fills:
        base, quote = _assets(symbol)
        value = fee if fee_asset == quote else fee * price if fee_asset == base else None
        if value is None and fee == 0:
            value = 0.0
        connection.execute(
            sa.text("UPDATE fills SET fee_quote = :value WHERE id = :id"), {"value": value, "id": fill_id}
        )
        by_asset, values = orders.setdefault(order_id, ({}, []))
        by_asset.setdefault(fee_asset, []).append(fee)
        values.append(value)
    table = sa.table(
        "orders", sa.column("id", sa.Integer), sa.column("fee", sa.Float), sa.column("fees", sa.JSON)
    )
    for order_id, (by_asset, values) in orders.items():
        fees = {asset: math.fsum(costs) for asset, costs in by_asset.items()}
        total = None if any(value is None for value in values) else math.fsum(v or 0.0 for v in values)
        connection.execute(table.update().where(table.c.id == order_id).values(fees=fees, fee=total))


def downgrade() -> None:
    # The old column held the plain sum of the fills' fees, NOT NULL.
    connection = op.get_bind()
    connection.execute(
        sa.text(
            "UPDATE orders SET fee = (SELECT COALESCE(SUM(fills.fee), 0) FROM fills"
            " WHERE fills.order_id = orders.id)"
        )
    )
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("fees")
        batch.alter_column("fee", existing_type=sa.Float(), nullable=False)
    with op.batch_alter_table("fills") as batch:
        batch.drop_column("more_fees")
        batch.drop_column("fee_quote")
