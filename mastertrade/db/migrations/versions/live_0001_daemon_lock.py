"""The trading daemon's lock row (one trading daemon per database; SQLite's lock with a heartbeat).

Revision ID: live_0001
Revises: 0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "live_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("daemon_lock",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "daemon_lock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("runtime", sa.String(length=1024), nullable=False),
        sa.Column("heartbeat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daemon_lock")),
    )


def downgrade() -> None:
    op.drop_table("daemon_lock")
