"""An alert rule's id is never handed out twice: its alerts are deduplicated by a key that starts with it
(``rule3:...``), and the history names rules by it. SQLite needs AUTOINCREMENT for that (revision 0003a);
a database from before it starts its sequence above every id its rules and its history show."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from mastertrade.db.database import Database
from mastertrade.db.migrate import alembic_config
from mastertrade.db.models import metadata
from mastertrade.engine.alerts.store import AlertStore


async def test_a_new_rule_never_takes_a_removed_rules_id(database: Database) -> None:
    store = AlertStore(database)
    first = await store.add_rule(name="a", kind="price_cross", params={}, severity=None)
    newest = await store.add_rule(name="b", kind="price_cross", params={}, severity=None)
    assert await store.remove_rule(int(newest.id or 0))
    added = await store.add_rule(name="c", kind="price_cross", params={}, severity=None)
    assert added.id is not None and newest.id is not None and first.id is not None
    assert added.id > newest.id > first.id


def test_the_upgrade_starts_above_every_id_the_rules_and_the_history_show(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0003")
        for rule_id in (1, 2, 3):
            connection.execute(
                text(
                    "INSERT INTO alert_rules (id, name, kind, params, severity, enabled, created_at)"
                    " VALUES (:id, 'r', 'price_cross', '{}', '', 1, '2026-01-01 00:00:00')"
                ),
                {"id": rule_id},
            )
        connection.execute(text("DELETE FROM alert_rules WHERE id = 3"))
        connection.execute(  # rule 5 was added and removed long ago; its alerts stay in the history
            text(
                "INSERT INTO alerts (created_at, rule, severity, dedupe_key, title, body, status, attempts,"
                " repeats, last_seen_at) VALUES ('2026-01-01 00:00:00', 'old', 'info', 'rule5:BTC/USDT',"
                " 't', 'b', 'sent', 1, 0, '2026-01-01 00:00:00')"
            )
        )
        command.upgrade(alembic_config(connection), "heads")
        connection.execute(
            text(
                "INSERT INTO alert_rules (name, kind, params, severity, enabled, created_at)"
                " VALUES ('new', 'price_cross', '{}', '', 1, '2026-01-02 00:00:00')"
            )
        )
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, name FROM alert_rules ORDER BY id")).all()
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, metadata) if "alert_rules" in str(d)]
    assert [tuple(row) for row in rows] == [(1, "r"), (2, "r"), (6, "new")]
    assert diffs == []


def test_a_fresh_database_counts_from_one(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'new.db'}")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "heads")
        connection.execute(
            text(
                "INSERT INTO alert_rules (name, kind, params, severity, enabled, created_at)"
                " VALUES ('first', 'price_cross', '{}', '', 1, '2026-01-02 00:00:00')"
            )
        )
        assert connection.execute(text("SELECT id FROM alert_rules")).scalar_one() == 1
