"""A sell by hand of several owners' coins keeps each one's share: ``orders.shares``.

A sell by hand taking coins from several strategies' positions that no exit order reserves (and the
account's own) was booked as the account's own: every strategy kept counting the coins it sold, so their
positions added up to more than the account held. Such a sell now keeps each owner's share (a JSON list of
``{"strategy_id", "amount"}``, in the order its fills go to them), and the strategies' positions are
folded from the fills with it.

A new nullable column only; the orders stored before this revision have none (each is its
``strategy_id``'s, as before).

Revision ID: s38_sell_shares
Revises: s34_unprotected
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s38_sell_shares"
down_revision: str | None = "s34_unprotected"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("shares", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("shares")
