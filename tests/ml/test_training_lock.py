"""Two trainings of one forecast series at once: the second is refused at once (exit 2), naming the
running one, and stores nothing. Before, both ran and each replaced the stored forecasts and wrote the
artifact folder of the other: the series ended up holding whichever finished last."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import MT

pytest.importorskip("lightgbm")

MARKET = ("--symbol", "BTC/USDT", "--timeframe", "1h")
TRAIN = ("--train-bars", "150", "--retrain-every", "80", "--window", "8")
KEY = {"exchange": "sim", "symbol": "BTC/USDT", "timeframe": "1h", "horizon": 1}

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from mastertrade.artifacts import ArtifactStore
    from mastertrade.engine.ml.training_lock import training_lock

    key = {"exchange": "sim", "symbol": "BTC/USDT", "timeframe": "1h", "horizon": 1}
    store = ArtifactStore(Path(sys.argv[1]))
    with training_lock(store, "forecast", "lightgbm", key, series="s", by="mt ml train"):
        print("held", flush=True)
        sys.stdin.read()
    """
)


def test_a_second_training_of_the_series_is_refused_naming_the_first(mt: MT) -> None:
    from mastertrade.artifacts import ArtifactStore

    assert mt("data", "sim", "BTC/USDT", "--bars", "400", "--seed", "4").exit_code == 0
    root = ArtifactStore.default().root
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as holder:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "held"
        refused = mt("ml", "train", "lightgbm", *MARKET, *TRAIN, "--json")
        holder.stdin.close()
        holder.wait(30)
    assert refused.exit_code == 2
    assert refused.stdout == ""
    line = refused.stderr.strip()
    assert "\n" not in line
    assert line.startswith("mt: error: lightgbm on sim:BTC/USDT:1h (horizon 1) is already being trained")
    assert f"by mt ml train (pid {holder.pid}, started " in line
    # nothing stored: no artifact
    assert mt.json("ml", "list")["models"] == []
    # the holder exited: the lock went with it, and the next training runs
    trained = mt.json("ml", "train", "lightgbm", *MARKET, *TRAIN)
    assert trained["forecasts"] > 0


async def test_the_nightly_refit_takes_the_same_lock(database: object, tmp_path: Path) -> None:
    from mastertrade.artifacts import ArtifactStore
    from mastertrade.engine.generator.store import StrategyStore
    from mastertrade.engine.market.sim import simulate
    from mastertrade.engine.market.store import CandleStore, SeriesKey, rows_from_frame
    from mastertrade.engine.ml.models import ModelConfig
    from mastertrade.engine.ml.trainer import TrainRequest, refit
    from mastertrade.engine.ml.training_lock import TrainingRunning, lock_path, training_lock

    await CandleStore(database).upsert(  # type: ignore[arg-type]
        SeriesKey("sim", "BTC/USDT", "1h"), rows_from_frame(simulate("BTC/USDT", "1h", 300, seed=2))
    )
    store = ArtifactStore(tmp_path / "models")
    strategies = StrategyStore(database)  # type: ignore[arg-type]
    request = TrainRequest("lightgbm", "BTC/USDT", "1h", train_bars=150, config=ModelConfig(window=8))
    with training_lock(store, "forecast", "lightgbm", KEY, series="sim:BTC/USDT:1h", by="mt ml train"):
        with pytest.raises(TrainingRunning, match=r"already being trained by mt ml train \(pid \d+"):
            await refit(database, request, strategies=strategies, store=store)  # type: ignore[arg-type]
    assert store.list() == []
    summary = await refit(database, request, strategies=strategies, store=store)  # type: ignore[arg-type]
    assert summary["artifact"]["version"]
    assert (
        json.loads(lock_path(store, "forecast", "lightgbm", KEY).read_text())["by"]
        == "the nightly retraining"
    )
