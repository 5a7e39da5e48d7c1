"""Every training of a forecast model, and the hold-out its verdict was scored on: ``forecast_trials``.

A trader who trained a series' forecast again with other settings (another model, horizon, features,
epochs, seed) and kept the training with the best hold-out verdict had chosen on the hold-out, and the
verdict then shown as out-of-sample was not; nothing remembered the trainings to say so. Each training
now records its settings, its hold-out window and its verdict against the naive baselines
(``engine/ml/trials.py``), and `mt ml train` and `mt ml evaluate` say how many trainings saw the hold-out.

A new table only; trainings before this revision were not recorded (the count starts here).

Revision ID: s39_forecast_trials
Revises: s38_forecast_reads
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s39_forecast_trials"
down_revision: str | None = "s38_forecast_reads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "forecast_trials",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("exchange", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=40), nullable=False),
        sa.Column("timeframe", sa.String(length=8), nullable=False),
        sa.Column("model", sa.String(length=32), nullable=False),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("settings_key", sa.String(length=32), nullable=False),
        sa.Column("forecasts", sa.String(length=16), nullable=False),
        sa.Column("holdout_first", sa.BigInteger(), nullable=True),
        sa.Column("holdout_last", sa.BigInteger(), nullable=True),
        sa.Column("holdout_bars", sa.Integer(), nullable=False),
        sa.Column("holdout_digest", sa.String(length=32), nullable=True),
        sa.Column("evaluation", sa.JSON(), nullable=False),
        sa.Column("verdict", sa.Text(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=True),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_forecast_trials"),
    )
    op.create_index("ix_forecast_trials_series", "forecast_trials", ["exchange", "symbol", "timeframe"])


def downgrade() -> None:
    op.drop_index("ix_forecast_trials_series", table_name="forecast_trials")
    op.drop_table("forecast_trials")
