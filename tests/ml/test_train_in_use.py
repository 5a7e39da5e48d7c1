"""`mt ml train` replaces a model's whole stored forecast series: refused, naming them, while a strategy
in paper, active or paused state reads that series, and said plainly when it replaces one no such
strategy reads. Was: a retrain with other settings silently shortened the series a paper strategy had
traded on (2,429 values to 29), so its backtest replayed forecasts it never saw."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import MT

pytest.importorskip("lightgbm")

MARKET = ("--symbol", "BTC/USDT", "--timeframe", "1h")
TRAIN = ("--train-bars", "150", "--retrain-every", "80", "--window", "8", "--seed", "1")
OTHER = ("--train-bars", "300", "--retrain-every", "80", "--window", "8", "--seed", "1")
FORECAST = {"feature": "forecast", "model": "lightgbm", "horizon": 1}
NAME = "forecast:lightgbm:h1:1h@sim"


@pytest.fixture
def trained(mt: MT, db_url: str) -> dict[str, Any]:
    assert mt("data", "sim", "BTC/USDT", "--bars", "400", "--seed", "4").exit_code == 0
    return mt.json("ml", "train", "lightgbm", *MARKET, *TRAIN)  # type: ignore[no-any-return]


def _add(mt: MT, tmp_path: Path, *, paper: bool, threshold: float = 0.0) -> str:
    """Store a strategy that reads the lightgbm forecast (on paper, or only passed); its id."""
    genome = tmp_path / f"reads-forecast-{threshold}.json"
    rules = {"entry": {">": [FORECAST, threshold]}, "exit": {"<": [FORECAST, 0]}}
    genome.write_text(json.dumps({"name": f"fc{threshold}", **rules}))
    added = mt("strategy", "add", str(genome), *MARKET, *(("--paper",) if paper else ()), "--json")
    assert added.exit_code == 0, added.output
    return str(json.loads(added.stdout)["id"])


def _stored() -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The stored series: bar times, values and publication times."""

    async def read() -> Any:
        from mastertrade.config import load_settings
        from mastertrade.db.database import Database
        from mastertrade.engine.collectors.store import FeatureStore

        async with await Database.open(load_settings()) as db:
            return await FeatureStore(db).read("ml_sim", NAME, "BTC/USDT")

    series = asyncio.run(read())
    return series.ts.copy(), series.values.copy(), series.published_at.copy()


def _versions(mt: MT) -> list[str]:
    return [m["version"] for m in mt.json("ml", "list")["models"]]


def test_a_retrain_of_a_series_a_paper_strategy_reads_is_refused(
    mt: MT, trained: dict[str, Any], tmp_path: Path
) -> None:
    strategy_id = _add(mt, tmp_path, paper=True)
    before, versions = _stored(), _versions(mt)
    assert before[0].shape[0] == trained["forecasts"] > 0

    refused = mt("ml", "train", "lightgbm", *MARKET, *OTHER)
    assert refused.exit_code == 2, refused.output
    assert refused.stderr.startswith("mt: error: the lightgbm forecasts (horizon 1) of sim:BTC/USDT:1h")
    assert refused.stderr.count("\n") == 1 and refused.stdout == ""
    assert f"strategy {strategy_id} (paper)" in refused.stderr
    assert "nightly refit" in refused.stderr and "mt strategy retire" in refused.stderr
    assert "nothing trained, nothing stored" in refused.stderr
    after = _stored()
    for old, new in zip(before, after, strict=True):  # bit for bit
        assert old.dtype == new.dtype and old.tobytes() == new.tobytes()
    assert _versions(mt) == versions  # no model saved either

    # another horizon is another series: nobody reads it, it trains
    assert mt.json("ml", "train", "lightgbm", *MARKET, *OTHER, "--horizon", "2")["replaced"] is None


def test_a_retrain_no_trading_strategy_reads_replaces_the_series_and_says_so(
    mt: MT, trained: dict[str, Any], tmp_path: Path
) -> None:
    strategy_id = _add(mt, tmp_path, paper=True)
    assert mt("strategy", "retire", strategy_id).exit_code == 0
    # a strategy that does not trade (passed, not on paper) does not hold the series either
    _add(mt, tmp_path, paper=False, threshold=0.001)
    old_ts = _stored()[0]

    result = mt("ml", "train", "lightgbm", *MARKET, *OTHER)
    assert result.exit_code == 0, result.output
    new_ts = _stored()[0]
    assert new_ts.shape[0] < old_ts.shape[0]  # the shorter series of the other settings replaced it
    said = [line for line in result.stdout.splitlines() if line.startswith("replaced ")]
    assert said == [
        "replaced the stored lightgbm forecasts (horizon 1) of sim:BTC/USDT:1h:"
        f" {old_ts.shape[0]:,} values {_iso(old_ts[0])} .. {_iso(old_ts[-1])} are now"
        f" {new_ts.shape[0]:,} values {_iso(new_ts[0])} .. {_iso(new_ts[-1])}"
        " (no strategy in paper, active or paused state reads them)"
    ]
    again = mt.json("ml", "train", "lightgbm", *MARKET, *TRAIN)
    assert again["replaced"] == {
        "values": int(new_ts.shape[0]),
        "first": _iso(new_ts[0]),
        "last": _iso(new_ts[-1]),
    }
    assert again["forecasts"] == trained["forecasts"] and again["last_forecast"] == _iso(old_ts[-1])


def _iso(ms: Any) -> str:
    from mastertrade.engine.market.timeframes import to_iso

    return to_iso(int(ms))


@pytest.fixture
def passed(mt: MT, db_url: str, tmp_path: Path) -> str:
    """Candles, and a stored strategy reading the forecast that is not on paper yet: its id."""
    assert mt("data", "sim", "BTC/USDT", "--bars", "300", "--seed", "3").exit_code == 0
    return _add(mt, tmp_path, paper=False)


async def test_a_strategy_moved_to_paper_while_the_model_trains_is_still_protected(
    database: Any, passed: str, tmp_path: Path
) -> None:
    """The check before the training passes; the strategy goes to paper while the walk-forward runs;
    the check in the transaction that writes the series refuses, and neither series nor model is stored."""
    from mastertrade.artifacts import ArtifactStore
    from mastertrade.engine.collectors.store import FeatureStore
    from mastertrade.engine.generator.store import StrategyStore
    from mastertrade.engine.ml.models import ModelConfig
    from mastertrade.engine.ml.publish import SeriesInUse
    from mastertrade.engine.ml.trainer import TrainRequest, train

    strategies = StrategyStore(database)
    store = ArtifactStore(tmp_path / "models")
    request = TrainRequest(
        "lightgbm", "BTC/USDT", "1h", train_bars=60, retrain_every=100, config=ModelConfig(window=4)
    )
    first = await train(database, request, strategies=strategies, store=store)
    before = await FeatureStore(database).read("ml_sim", "forecast:lightgbm:h1:1h@sim", "BTC/USDT")
    assert len(before) == first["forecasts"] > 0
    strategy_id = passed
    assert (await strategies.get(strategy_id)).state == "passed"

    loop = asyncio.get_running_loop()
    reached = asyncio.Event()
    moved = threading.Event()

    def progress(done: int, total: int, message: str) -> None:
        if done == 0:  # hold the walk-forward at its first retraining until the strategy is on paper
            loop.call_soon_threadsafe(reached.set)
            assert moved.wait(30)

    other = TrainRequest(
        "lightgbm", "BTC/USDT", "1h", train_bars=120, retrain_every=100, config=ModelConfig(window=4)
    )
    task = asyncio.create_task(train(database, other, strategies=strategies, store=store, progress=progress))
    await asyncio.wait([task, asyncio.ensure_future(reached.wait())], return_when=asyncio.FIRST_COMPLETED)
    assert not task.done(), task.exception()
    await strategies.transition(strategy_id, "paper", "test: moved while the model trains")
    moved.set()
    with pytest.raises(SeriesInUse, match=rf"strategy {strategy_id} \(paper\).*were not stored$"):
        await task

    after = await FeatureStore(database).read("ml_sim", "forecast:lightgbm:h1:1h@sim", "BTC/USDT")
    assert after.ts.tobytes() == before.ts.tobytes() and after.values.tobytes() == before.values.tobytes()
    assert after.published_at.tobytes() == before.published_at.tobytes()
    assert [a.version for a in store.list()] == [first["artifact"]["version"]]
