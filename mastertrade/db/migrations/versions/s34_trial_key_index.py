"""Trial keys are looked up by key: ``ix_selection_trial_keys_key``.

``mt generate`` now keeps the key of every candidate its search counted (a few thousand a run, every
night), and each run, ``mt optimize`` too, asks which of its candidates' keys the registry counted before
on overlapping bars of the series: without this index that question reads every key of those batches.

An index only; no row changes. Generation runs stored before this revision have no keys: their trials
stay counted as they were.

Revision ID: s34_trial_key_index
Revises: s33_trial_keys
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "s34_trial_key_index"
down_revision: str | None = "s33_trial_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_selection_trial_keys_key", "selection_trial_keys", ["key"])


def downgrade() -> None:
    op.drop_index("ix_selection_trial_keys_key", table_name="selection_trial_keys")
