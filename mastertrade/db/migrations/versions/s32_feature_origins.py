"""Feature values know what they were derived from: ``feature_origins`` and ``features.origin_id``.

The simulated market's features (source ``sim``) are derived from the simulated candles of one
``mt data sim`` run; the market-wide ones (sentiment, fear & greed ...) serve every simulated symbol. Before
this revision nothing recorded which run's symbols produced them, so re-simulating the producer once
another simulated symbol was stored kept its stale values (they no longer matched its candles).

The new column is nullable and added in place: every stored row is kept as it was, with no origin
(NULL), which the commands treat as unknown and say so; the next ``mt data sim`` of every stored
simulated symbol records it.

Revision ID: s32_origins
Revises: ml_0001
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s32_origins"
down_revision: str | None = "ml_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feature_origins",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("derived_from", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feature_origins"),
        sa.UniqueConstraint("derived_from", name="uq_feature_origins_derived_from"),
    )
    # ALTER TABLE ... ADD COLUMN on both SQLite and Postgres: no copy of the table, no row touched.
    op.add_column("features", sa.Column("origin_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("features", recreate="never") as batch:
        batch.drop_column("origin_id")
    op.drop_table("feature_origins")
