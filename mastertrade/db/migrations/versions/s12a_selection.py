"""Honest selection: search vs hold-out metrics on stored strategies, and the trial registry.

- ``strategies.search``: the walk-forward metrics on the search window that the search optimised;
  ``strategies.selection``: the hold-out window, the trials the deflated Sharpe ratio counted, the PBO.
  From this revision on ``strategies.out_of_sample`` holds hold-out metrics. Rows stored before it kept
  search-optimised numbers there: they are copied into ``search`` and flagged in ``selection``
  (``{"legacy": true}``) so no reader mistakes them for a hold-out.
- ``selection_trials``: every batch of trials scored on a series (the persisted trial registry).

Revision ID: s12a
Revises: 0002
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s12a"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = ("selection",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("strategies") as batch:
        batch.add_column(sa.Column("search", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("selection", sa.JSON(), nullable=True))
    strategies = sa.table(
        "strategies",
        sa.column("out_of_sample", sa.JSON()),
        sa.column("search", sa.JSON()),
        sa.column("selection", sa.JSON()),
    )
    op.execute(
        strategies.update().values(
            search=strategies.c.out_of_sample, selection=sa.literal({"legacy": True}, type_=sa.JSON())
        )
    )
    with op.batch_alter_table("strategies") as batch:
        batch.alter_column("search", existing_type=sa.JSON(), nullable=False)
        batch.alter_column("selection", existing_type=sa.JSON(), nullable=False)
    op.create_table(
        "selection_trials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exchange", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=40), nullable=False),
        sa.Column("timeframe", sa.String(length=8), nullable=False),
        sa.Column("start_ts", sa.BigInteger(), nullable=False),
        sa.Column("end_ts", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("trials", sa.Integer(), nullable=False),
        sa.Column("sharpe_count", sa.Integer(), nullable=False),
        sa.Column("sharpe_mean", sa.Float(), nullable=False),
        sa.Column("sharpe_m2", sa.Float(), nullable=False),
        sa.Column("generation_run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_selection_trials"),
    )
    op.create_index("ix_selection_trials_series", "selection_trials", ["exchange", "symbol", "timeframe"])


def downgrade() -> None:
    op.drop_index("ix_selection_trials_series", table_name="selection_trials")
    op.drop_table("selection_trials")
    with op.batch_alter_table("strategies") as batch:
        batch.drop_column("selection")
        batch.drop_column("search")
