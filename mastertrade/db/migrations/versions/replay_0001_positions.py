"""Replay positions: the last stored bar a replayed market served, so a restart resumes after it.

Revision ID: replay_0001
Revises: 0001
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "replay_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("replay",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "replay_positions",
        sa.Column("exchange", sa.String(length=64), nullable=False),
        sa.Column("timeframe", sa.String(length=8), nullable=False),
        sa.Column("served_ts", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("exchange", "timeframe", name=op.f("pk_replay_positions")),
    )


def downgrade() -> None:
    op.drop_table("replay_positions")
