"""Each generation run names the process running it: ``generation_runs.owner_pid``, ``owner_host`` and
``owner_started`` (that process's start, so a pid reused by a later process is not taken for it).

A ``mt generate`` killed mid-search (kill -9, a crash, a lost machine) left its run "running" for ever:
nothing told it from a run still going on in another process. With its owner recorded, a run whose owner
on this host is gone is marked "interrupted" when runs are listed or a new one starts. The runs stored
before this revision have no owner: they are left as they are (any of them may still be going on).

Revision ID: s37_run_owner
Revises: s34_trial_key_index
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s37_run_owner"
down_revision: str | None = "s34_trial_key_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("generation_runs") as batch:
        batch.add_column(sa.Column("owner_pid", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("owner_host", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("owner_started", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("generation_runs") as batch:
        batch.drop_column("owner_started")
        batch.drop_column("owner_host")
        batch.drop_column("owner_pid")
