"""Every forecast training is recorded, and a hold-out scored by several trainings says so.

Before: nothing kept the trainings. A trader who trained a series again with other settings (another
seed, horizon, window ...) and kept the best verdict saw each time a hold-out verdict that looked
out-of-sample, and `mt ml evaluate` said the same of the one kept: the choice among them, made on the
hold-out, was nowhere."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import MT
from tests.ml.test_cli import TRAIN
from tests.ml.test_refit_candles_changed import ml as ml  # the [ml] settings of the daemon's job

pytest.importorskip("lightgbm")

END = "2026-11-01T00:00:00Z"
SEEN = "hold-out seen by {n} trainings (different settings scored on these bars): keeping the best of {n}"
NOT_OOS = "chooses on the hold-out, so this verdict is not out-of-sample"
SERIES = ("--symbol", "BTC/USDT", "--timeframe", "1h")


def _sim(mt: MT, seed: int) -> None:
    result = mt("data", "sim", "BTC/USDT", "--bars", "400", "--seed", str(seed), "--end", END)
    assert result.exit_code == 0, result.stderr


def _evaluation(mt: MT, *args: str) -> dict[str, Any]:
    evaluation: dict[str, Any] = mt.json("ml", "train", "lightgbm", *TRAIN, *args)["evaluation"]
    return evaluation


def _said(text: str) -> str:
    return " ".join(text.split())


def test_trainings_that_saw_the_holdout_are_counted_and_said(mt: MT) -> None:
    _sim(mt, 4)
    first = _evaluation(mt, "--seed", "1")
    assert first["holdout_trainings"] == 1 and first["out_of_sample"] is True
    assert first["holdout_note"] is None

    # another seed on the same bars: a second look at the hold-out, said under the verdict
    second = mt("ml", "train", "lightgbm", *TRAIN, "--seed", "2")
    assert second.exit_code == 0, second.stderr
    assert f"{SEEN.format(n=2)} {NOT_OOS}" in _said(second.stdout), second.stdout

    # the same settings again (--epochs is not LightGBM's): the same forecasts, no new look
    again = _evaluation(mt, "--seed", "2", "--epochs", "7")
    assert again["holdout_trainings"] == 2 and again["out_of_sample"] is False
    assert again["holdout_note"] == f"{SEEN.format(n=2)} {NOT_OOS}"
    # another horizon scored on the same bars is one more
    assert _evaluation(mt, "--seed", "1", "--horizon", "2")["holdout_trainings"] == 3

    evaluated = mt.json("ml", "evaluate", "lightgbm", *SERIES)
    assert evaluated["holdout_trainings"] == 3 and evaluated["out_of_sample"] is False
    assert evaluated["holdout_note"] == f"{SEEN.format(n=3)} {NOT_OOS}"
    shown = mt("ml", "evaluate", "lightgbm", *SERIES)
    assert shown.exit_code == 0 and f"{SEEN.format(n=3)} {NOT_OOS}" in _said(shown.stdout), shown.stdout

    # deleting every model keeps the registry; the next training counts every earlier one
    for model in mt.json("ml", "list")["models"]:
        assert mt("ml", "delete", model["version"], "--yes").exit_code == 0
    assert mt.json("ml", "list")["models"] == []
    assert _evaluation(mt, "--seed", "3")["holdout_trainings"] == 4

    trials = mt.json("ml", "trials")
    assert [(t["settings"]["seed"], t["horizon"]) for t in trials] == [(3, 1), (1, 2), (2, 1), (2, 1), (1, 1)]
    assert {t["series"] for t in trials} == {"sim:BTC/USDT:1h"} and {t["by"] for t in trials} == {
        "mt ml train"
    }
    newest = trials[0]
    assert newest["forecasts"] == "walk-forward" and newest["settings"]["config"]["window"] == 8
    assert newest["holdout"]["end"] == "2026-10-31T22:00:00Z" and newest["holdout"]["bars"] > 30
    assert newest["verdict"] == newest["evaluation"]["verdict"] and "error_ratio_zero" in newest["evaluation"]
    assert trials[2]["settings_key"] == trials[3]["settings_key"] != trials[4]["settings_key"]
    listed = mt("ml", "trials", "--symbol", "btc/usdt", "--limit", "2")
    assert listed.exit_code == 0 and "seed 3, window 8, train 150/80" in listed.stdout, listed.stdout
    assert "seed 2" not in listed.stdout


def test_a_training_on_other_candles_saw_another_holdout(mt: MT) -> None:
    _sim(mt, 4)
    assert _evaluation(mt, "--seed", "1")["holdout_trainings"] == 1
    _sim(mt, 5)  # the same bars, another price path: the first training never saw these prices
    assert _evaluation(mt, "--seed", "2")["holdout_trainings"] == 1
    assert len(mt.json("ml", "trials")) == 2  # both recorded


@pytest.mark.usefixtures("ml")
async def test_the_nightly_refit_is_recorded_but_no_new_look(database: Any) -> None:
    from mastertrade.engine.generator.store import StrategyStore
    from mastertrade.engine.ml.models import ModelConfig
    from mastertrade.engine.ml.trainer import TrainRequest, train
    from mastertrade.engine.ml.trials import ForecastTrials
    from mastertrade.engine.services.forecasts import retrain_job
    from tests.ml.test_daemon import _ctx, _Run
    from tests.ml.test_refit_candles_changed import _candles, _train

    await _candles(database, seed=9)
    await _train(database)  # by hand, seed 0
    ctx = _ctx(database)
    first = (await retrain_job(ctx, _Run()))["models"]["lightgbm BTC/USDT"]  # type: ignore[arg-type]
    # the refit scored the forecasts that training made: one look at the hold-out
    assert first["holdout_trainings"] == 1 and first["holdout_note"] is None, first
    rows = await ForecastTrials(database).list()
    assert [(row["forecasts"], row["by"]) for row in rows] == [
        ("stored", "the nightly retraining"),
        ("walk-forward", "a training"),
    ]
    assert rows[0]["version"] == first["version"]

    tiny = ModelConfig(window=8, trees=10, leaves=7, threads=1)
    other = TrainRequest("lightgbm", "BTC/USDT", "1h", train_bars=60, retrain_every=200, seed=1, config=tiny)
    await train(database, other, strategies=StrategyStore(database))  # another seed on the same bars
    second = (await retrain_job(ctx, _Run()))["models"]["lightgbm BTC/USDT"]  # type: ignore[arg-type]
    assert second["holdout_trainings"] == 2 and second["holdout_note"].startswith(SEEN.format(n=2)), second
    assert len(await ForecastTrials(database).list()) == 4


async def test_the_migration_makes_the_table_the_model_describes(database: Any) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    from mastertrade.db.models import metadata

    def compare(connection: Any) -> tuple[list[str], list[Any]]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = [diff for diff in compare_metadata(context, metadata) if "forecast_trials" in repr(diff)]
        return inspect(connection).get_table_names(), diffs

    async with database.engine.connect() as connection:
        tables, diffs = await connection.run_sync(compare)
    assert "forecast_trials" in tables and diffs == []
