"""Trial keys are found by key, and a key kept again is marked: ``selection_trial_keys.seen_before``.

``mt generate`` now keeps the key of every candidate its search counted (a few thousand a run, every
night), each run (``mt optimize`` too) asks which of its candidates' keys the registry counted before
on overlapping bars of the series, and the registry counts each key once among the batches it pools.
Without an index on the key the first question reads every key of those batches; without the mark the
count does. ``seen_before`` is true on a row whose key an earlier batch of the same series kept: of any
two rows of one key the later is marked, so the count reads only the marked rows' keys.

The tunings' rows stored since ``s33_trial_keys`` are marked here by the same rule. No row is removed;
generation runs stored before this revision have no keys, and their trials stay counted as they were.

Revision ID: s34_trial_key_index
Revises: s33_trial_keys
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s34_trial_key_index"
down_revision: str | None = "s33_trial_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("selection_trial_keys") as batch:
        batch.add_column(sa.Column("seen_before", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        """
        UPDATE selection_trial_keys SET seen_before = TRUE WHERE EXISTS (
            SELECT 1 FROM selection_trial_keys AS earlier
            JOIN selection_trials AS its ON its.id = earlier.batch_id
            JOIN selection_trials AS mine ON mine.id = selection_trial_keys.batch_id
            WHERE earlier.key = selection_trial_keys.key
              AND earlier.batch_id < selection_trial_keys.batch_id
              AND its.exchange = mine.exchange AND its.symbol = mine.symbol
              AND its.timeframe = mine.timeframe
        )
        """
    )
    op.create_index("ix_selection_trial_keys_key", "selection_trial_keys", ["key"])
    op.create_index("ix_selection_trial_keys_seen", "selection_trial_keys", ["batch_id", "seen_before"])


def downgrade() -> None:
    op.drop_index("ix_selection_trial_keys_seen", table_name="selection_trial_keys")
    op.drop_index("ix_selection_trial_keys_key", table_name="selection_trial_keys")
    with op.batch_alter_table("selection_trial_keys") as batch:
        batch.drop_column("seen_before")
