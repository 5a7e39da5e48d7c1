"""Alert rule ids are never handed out twice (SQLite: AUTOINCREMENT on ``alert_rules``).

A rule's alerts are deduplicated by a key that starts with its id (``rule3:BTC/USDT``). Without
AUTOINCREMENT, SQLite gives a new rule the id of the newest one removed, so the new rule's first alerts
could be taken for repeats of the removed rule's and held back, and its id named two rules in the
history. Postgres sequences never reuse an id; there nothing changes.

The sequence starts above every id a rule ever had that the database still shows: the rules kept and
the ids in the alert history's keys (a removed rule's alerts stay in the history).

Revision ID: 0003a
Revises: 0003
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003a"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _highest_id_used(bind: sa.Connection) -> int:
    highest = int(bind.execute(sa.text("SELECT coalesce(max(id), 0) FROM alert_rules")).scalar_one())
    keys = bind.execute(sa.text("SELECT DISTINCT dedupe_key FROM alerts WHERE dedupe_key LIKE 'rule%:%'"))
    for (key,) in keys:
        number = str(key)[len("rule") :].partition(":")[0]
        if number.isdigit():
            highest = max(highest, int(number))
    return highest


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    highest = _highest_id_used(bind)
    with op.batch_alter_table("alert_rules", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
        pass  # recreate="always": leaving the block rebuilds the table, no column changes
    # Copying the rows set the sequence to the largest id kept; a removed rule's id may be larger.
    updated = bind.execute(
        sa.text("UPDATE sqlite_sequence SET seq = :seq WHERE name = 'alert_rules' AND seq < :seq"),
        {"seq": highest},
    )
    exists = bind.execute(
        sa.text("SELECT count(*) FROM sqlite_sequence WHERE name = 'alert_rules'")
    ).scalar_one()
    if not updated.rowcount and not exists and highest:
        bind.execute(
            sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('alert_rules', :seq)"), {"seq": highest}
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    with op.batch_alter_table("alert_rules", recreate="always"):
        pass  # recreate="always": leaving the block rebuilds the table, no column changes
