"""Strategies: stored strategies, their transitions, and generation runs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "generation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("exchange", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=40), nullable=False),
        sa.Column("timeframe", sa.String(length=8), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("timings", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_generation_runs"),
    )
    op.create_table(
        "strategies",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("fingerprint", sa.String(length=16), nullable=False),
        sa.Column("symbol", sa.String(length=40), nullable=False),
        sa.Column("timeframe", sa.String(length=8), nullable=False),
        sa.Column("exchange", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("genome", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("in_sample", sa.JSON(), nullable=False),
        sa.Column("out_of_sample", sa.JSON(), nullable=False),
        sa.Column("folds", sa.JSON(), nullable=False),
        sa.Column("deflated_sharpe", sa.Float(), nullable=True),
        sa.Column("reference_agrees", sa.Boolean(), nullable=True),
        sa.Column("reference", sa.JSON(), nullable=True),
        sa.Column("complexity", sa.Integer(), nullable=False),
        sa.Column("generation_run_id", sa.Integer(), nullable=True),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state_since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["generation_run_id"],
            ["generation_runs.id"],
            name="fk_strategies_generation_run_id_generation_runs",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_strategies"),
        sa.UniqueConstraint("symbol", "timeframe", "fingerprint", name="uq_strategies_market_fingerprint"),
    )
    op.create_index("ix_strategies_state", "strategies", ["state"])
    op.create_index("ix_strategies_market", "strategies", ["symbol", "timeframe"])
    op.create_table(
        "strategy_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("strategy_id", sa.String(length=16), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["strategy_id"],
            ["strategies.id"],
            name="fk_strategy_transitions_strategy_id_strategies",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_strategy_transitions"),
    )
    op.create_index("ix_strategy_transitions_strategy", "strategy_transitions", ["strategy_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_strategy_transitions_strategy", table_name="strategy_transitions")
    op.drop_table("strategy_transitions")
    op.drop_index("ix_strategies_market", table_name="strategies")
    op.drop_index("ix_strategies_state", table_name="strategies")
    op.drop_table("strategies")
    op.drop_table("generation_runs")
