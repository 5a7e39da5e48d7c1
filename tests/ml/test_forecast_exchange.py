"""Forecasts are keyed by exchange: training a model on BTC/USDT 1h of exchange B leaves the forecasts
trained on exchange A as they were, and whatever reads A's forecasts (a strategy's feature term,
`mt ml predict`, the evaluation's verdict) reads A's. Before, both exchanges shared one stored series,
and the last training replaced the other's. The migration keeps the rows stored under the old key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from mastertrade.db.migrate import alembic_config
from mastertrade.db.models import metadata
from tests.conftest import MT
from tests.real_prices import as_real

MARKET = ("--symbol", "BTC/USDT", "--timeframe", "1h")
TRAIN = ("--train-bars", "150", "--retrain-every", "80", "--window", "8", "--seed", "1")


def _import(mt: MT, tmp_path: Path, seed: int, exchange: str) -> None:
    assert mt("data", "sim", "BTC/USDT", "--bars", "400", "--seed", str(seed)).exit_code == 0
    out = tmp_path / f"{exchange}.csv"
    exported = mt("data", "export", "BTC/USDT", "--timeframe", "1h", "--exchange", "sim", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    as_real(out)  # the simulated prices stand in for the exchange's
    imported = mt("data", "import", str(out), *MARKET, "--exchange", exchange)
    assert imported.exit_code == 0, imported.output


def test_training_on_one_exchange_leaves_the_others_forecasts(mt: MT, tmp_path: Path) -> None:
    pytest.importorskip("lightgbm")
    for seed, exchange in ((4, "exa"), (5, "exb")):
        _import(mt, tmp_path, seed, exchange)
    on_a = mt.json("ml", "train", "lightgbm", *MARKET, "--exchange", "exa", *TRAIN)
    predicted_a = mt.json("ml", "predict", "lightgbm", *MARKET, "--exchange", "exa", "--no-publish")
    evaluated_a = mt.json("ml", "evaluate", "lightgbm", *MARKET, "--exchange", "exa")
    assert evaluated_a["model"] == on_a["evaluation"]["model"]

    on_b = mt.json("ml", "train", "lightgbm", *MARKET, "--exchange", "exb", *TRAIN)
    assert on_b["series"] == "exb:BTC/USDT:1h" and on_b["evaluation"]["model"] != on_a["evaluation"]["model"]
    # A's stored series is untouched by B's training: predict and evaluate on A read A's forecasts.
    again_a = mt.json("ml", "predict", "lightgbm", *MARKET, "--exchange", "exa", "--no-publish")
    assert again_a["series_value"] == predicted_a["series_value"]
    assert mt.json("ml", "evaluate", "lightgbm", *MARKET, "--exchange", "exa") == evaluated_a
    predicted_b = mt.json("ml", "predict", "lightgbm", *MARKET, "--exchange", "exb", "--no-publish")
    assert predicted_b["series_value"] != predicted_a["series_value"]


async def test_a_strategy_reads_the_forecasts_of_its_own_exchange(database: Any) -> None:
    from mastertrade.engine.collectors.provider import features_for
    from mastertrade.engine.collectors.store import FeatureStore
    from mastertrade.engine.market.sim import simulate
    from mastertrade.engine.market.store import CandleStore, SeriesKey, rows_from_frame
    from mastertrade.engine.ml.series import forecast_points
    from mastertrade.engine.signals.forecast_term import series_name
    from mastertrade.engine.signals.genome import parse_genome

    frame = simulate("BTC/USDT", "1h", 50, seed=3)
    opens = np.asarray(frame.index.as_unit("ms").asi8, dtype=np.int64)
    for exchange, value in (("exa", 0.01), ("exb", -0.02)):
        await CandleStore(database).upsert(SeriesKey(exchange, "BTC/USDT", "1h"), rows_from_frame(frame))
        points = forecast_points(
            series_name("lightgbm", 1, "1h", exchange),
            "BTC/USDT",
            opens,
            np.full(len(opens), value),
            3_600_000,
        )
        await FeatureStore(database).replace("ml", points)
    term = {"feature": "forecast", "model": "lightgbm", "horizon": 1}
    genome = parse_genome(
        {
            "name": "f",
            "symbol": "BTC/USDT",
            "timeframe": "1h",
            "entry": {">": [term, 0]},
            "exit": {"<": [term, 0]},
        }
    )
    for exchange, value in (("exa", 0.01), ("exb", -0.02)):
        provider = await features_for(database, [genome], timeframe="1h", simulated=False, exchange=exchange)
        assert provider is not None
        seen = np.asarray(
            provider("forecast", {"model": "lightgbm", "horizon": 1, "symbol": ""}, frame)["value"]
        )
        assert set(seen[~np.isnan(seen)]) == {value}


def _old_forecasts(connection: Any, source: str, name: str, symbol: str, n: int) -> None:
    for ts in range(n):
        connection.execute(
            text(
                "INSERT INTO features (source, name, symbol, ts, value, published_at)"
                " VALUES (:source, :name, :symbol, :ts, :value, :published)"
            ),
            {
                "source": source,
                "name": name,
                "symbol": symbol,
                "ts": ts,
                "value": ts / 10,
                "published": ts + 1,
            },
        )


def _manifest(root: Path, model: str, exchange: str, symbol: str, timeframe: str, horizon: int) -> None:
    folder = (
        root / "models" / "forecast" / model / f"{exchange}_{symbol.replace('/', '-')}_{timeframe}_{horizon}"
    )
    (folder / "0123456789abcdef").mkdir(parents=True)
    key = {"exchange": exchange, "symbol": symbol, "timeframe": timeframe, "horizon": horizon}
    (folder / "0123456789abcdef" / "manifest.json").write_text(json.dumps({"name": model, "key": key}))


SERIES = (
    "INSERT INTO series (exchange, symbol, timeframe, created_at)"
    " VALUES (:exchange, :symbol, :timeframe, '2026-01-01 00:00:00+00')"
)


async def _upgrade_from_0005(db_url: str, store: Any) -> tuple[list[Any], list[Any], str | None]:
    """Store rows at revision 0005 with ``store(connection)``, upgrade as MasterTrade does; the forecast
    rows after it, the schema differences of ``features`` from the models, and SQLite's table SQL."""
    from mastertrade.db.database import create_engine
    from mastertrade.db.migrate import upgrade

    def at_0005(connection: Any) -> None:
        command.upgrade(alembic_config(connection), "0005")
        store(connection)

    def compare(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [diff for diff in compare_metadata(context, metadata) if "features" in repr(diff)]

    engine = create_engine(db_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(at_0005)
        await upgrade(engine)
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text(
                        "SELECT source, name, symbol, COUNT(*), SUM(value) FROM features"
                        " GROUP BY source, name, symbol ORDER BY name"
                    )
                )
            ).all()
            diffs = await connection.run_sync(compare)
            table_sql = None
            if connection.dialect.name == "sqlite":
                table_sql = (
                    await connection.execute(text("SELECT sql FROM sqlite_master WHERE name = 'features'"))
                ).scalar_one()
    finally:
        await engine.dispose()
    return list(rows), diffs, table_sql


async def test_the_upgrade_keeps_every_old_forecast_under_its_exchange(db_url: str) -> None:
    from mastertrade.locations import locations

    _manifest(locations().data_dir, "lightgbm", "binance", "BTC/USDT", "1h", 1)

    def store(connection: Any) -> None:
        for exchange, symbol in (("kraken", "ETH/USDT"), ("binance", "BTC/USDT"), ("kraken", "BTC/USDT")):
            connection.execute(text(SERIES), {"exchange": exchange, "symbol": symbol, "timeframe": "1h"})
        # recorded by an artifact: binance (though kraken has the candles too)
        _old_forecasts(connection, "ml", "forecast:lightgbm:h1:1h", "BTC/USDT", 5)
        # no artifact, one exchange with the candles: kraken
        _old_forecasts(connection, "ml", "forecast:lstm_transformer:h2:1h", "ETH/USDT", 4)
        # no artifact and no candles: kept as it was
        _old_forecasts(connection, "ml", "forecast:lightgbm:h1:4h", "SOL/USDT", 3)
        _old_forecasts(connection, "sim", "sentiment", "BTC", 2)

    rows, diffs, table_sql = await _upgrade_from_0005(db_url, store)
    assert [tuple(row[:4]) for row in rows] == [
        ("ml", "forecast:lightgbm:h1:1h@binance", "BTC/USDT", 5),
        ("ml", "forecast:lightgbm:h1:4h", "SOL/USDT", 3),
        ("ml", "forecast:lstm_transformer:h2:1h@kraken", "ETH/USDT", 4),
        ("sim", "sentiment", "BTC", 2),
    ]
    assert rows[0][4] == pytest.approx(1.0)
    assert diffs == []
    assert table_sql is None or "WITHOUT ROWID" in table_sql.upper()


async def test_the_upgrade_copies_a_series_several_exchanges_may_have_made(db_url: str) -> None:
    def store(connection: Any) -> None:
        for exchange in ("sim", "sim-live", "binance"):
            connection.execute(text(SERIES), {"exchange": exchange, "symbol": "BTC/USDT", "timeframe": "1h"})
        _old_forecasts(connection, "ml_sim", "forecast:lightgbm:h1:1h", "BTC/USDT", 6)

    rows, _, _ = await _upgrade_from_0005(db_url, store)
    # simulated forecasts go only to the simulated exchanges, each reading what it read before
    assert [(row[0], row[1], row[3]) for row in rows] == [
        ("ml_sim", "forecast:lightgbm:h1:1h@sim", 6),
        ("ml_sim", "forecast:lightgbm:h1:1h@sim-live", 6),
    ]


def test_the_upgrade_is_not_undone_at_the_cost_of_stored_forecasts() -> None:
    """A downgrade would have to merge (and so drop) every exchange's forecasts but one: refused."""
    import importlib

    migration = importlib.import_module("mastertrade.db.migrations.versions.ml_0001_forecast_exchange")
    with pytest.raises(RuntimeError, match="cannot be downgraded: it would merge the exchanges' forecasts"):
        migration.downgrade()
