"""The selection migration (s12a): models and schema agree, and rows stored before it are flagged legacy
(their out-of-sample figures were seen by the search), never shown as a hold-out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from mastertrade.db.migrate import alembic_config
from mastertrade.db.models import metadata
from mastertrade.db.models.strategies import SelectionTrials, StrategyRecord
from mastertrade.engine.generator.store import StoredStrategy

MINE = {"selection_trials", "selection_trial_keys", "strategies"}


def test_upgrade_flags_old_rows_and_matches_the_models(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0002")
        connection.execute(
            text(
                "INSERT INTO strategies (id, name, fingerprint, symbol, timeframe, state, genome, metrics,"
                " in_sample, out_of_sample, folds, complexity, created_at, updated_at, state_since) VALUES"
                " ('00aa11bb22cc33dd', 'old', '00aa11bb22cc33dd', 'BTC/USDT', '1h', 'paper', '{}', '{}',"
                " '{}', '{\"sharpe\": 3.5}', '[]', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00',"
                " '2026-01-01 00:00:00')"
            )
        )
        command.upgrade(alembic_config(connection), "heads")
    with engine.connect() as connection:
        row = connection.execute(text("SELECT search, selection, out_of_sample FROM strategies")).one()
        diffs = MigrationContext.configure(connection, opts={"compare_type": True})
        found: list[Any] = compare_metadata(diffs, metadata)
    assert '"sharpe": 3.5' in row[0] and "legacy" in row[1]
    mine = [diff for diff in found if any(name in str(diff) for name in MINE)]
    assert mine == []
    assert SelectionTrials.__tablename__ == "selection_trials"
    record = StrategyRecord(
        id="00aa11bb22cc33dd",
        name="old",
        fingerprint="00aa11bb22cc33dd",
        symbol="BTC/USDT",
        timeframe="1h",
        state="paper",
        genome={},
        out_of_sample={"sharpe": 3.5},
        search={"sharpe": 3.5},
        selection={"legacy": True},
    )
    stored = StoredStrategy.from_record(record)
    assert stored.holdout == {} and stored.as_dict()["out_of_sample"] == {}
