"""The trial registry knows which configurations a batch counted: ``selection_trial_keys``.

Before this revision a batch of trials was only a count and the moments of its Sharpe ratios, so
``mt optimize`` run again with the same seed on the same strategy and bars counted the same trials a
second time: the deflated Sharpe ratio's N grew although no new configuration had been tried. Each
distinct configuration a tuning scored is now kept by the hash of its parameters, and a configuration
already counted on the same bars of the series is not counted again.

A new table only; every stored batch is kept as it was (with no keys: its trials stay counted, and a
tuning that repeats one of them counts it once more, as before).

Revision ID: s33_trial_keys
Revises: s12a
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s33_trial_keys"
down_revision: str | None = "s12a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "selection_trial_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["selection_trials.id"],
            name="fk_selection_trial_keys_batch_id_selection_trials",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_selection_trial_keys"),
    )
    op.create_index("ix_selection_trial_keys_batch", "selection_trial_keys", ["batch_id"])


def downgrade() -> None:
    op.drop_index("ix_selection_trial_keys_batch", table_name="selection_trial_keys")
    op.drop_table("selection_trial_keys")
