"""PPO (skrl, JAX) learns a planted edge and reports a random walk honestly.

Each test trains for a few thousand steps of a small network (about 10-40 s on a busy 2-core machine,
most of it JAX compiling)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("skrl")
pytest.importorskip("flax")

from mastertrade.engine.rl.ppo import PPOSettings  # noqa: E402
from mastertrade.engine.rl.train import train_model  # noqa: E402
from tests.conftest import MT  # noqa: E402

END = 1_735_689_600_000


def autocorrelated(bars: int, phi: float, seed: int) -> pd.DataFrame:
    """Candles whose bar returns follow an AR(1) with coefficient ``phi`` (an edge a momentum policy can
    take after fees when ``phi`` is large); each bar opens at the previous close."""
    rng = np.random.default_rng(seed)
    returns = np.zeros(bars)
    noise = rng.normal(0.0, 0.01, bars)
    for t in range(1, bars):
        returns[t] = phi * returns[t - 1] + noise[t]
    close = 100.0 * np.exp(np.cumsum(returns))
    open_ = np.r_[close[0], close[:-1]]
    index = pd.to_datetime(END - 3_600_000 * np.arange(bars, 0, -1), unit="ms", utc=True)
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * 1.0005,
            "low": np.minimum(open_, close) * 0.9995,
            "close": close,
            "volume": np.ones(bars),
        },
        index=index,
    )


def test_ppo_learns_a_planted_edge_that_holds_on_the_hold_out() -> None:
    frame = autocorrelated(2000, 0.6, seed=1)
    trained = train_model(
        frame, symbol="SIM/EDGE", timeframe="1h", exchange="test", ppo=PPOSettings(steps=4096, seed=0)
    )
    report = trained.report
    hold = report["holdout"]
    assert report["training"]["bars"] == 1500 and hold["bars"] == 500
    assert hold["beats_flat"] and hold["return_pct"] > 20.0, hold
    assert hold["trades"] >= 10
    # the policy is the strategy: the stored weights reproduce the hold-out backtest
    from mastertrade.engine.backtest.fast import run_fast
    from mastertrade.engine.signals.indicators import IndicatorCache
    from mastertrade.engine.signals.model.store import find, load
    from mastertrade.engine.signals.model.strategy import ModelStrategy

    assert trained.stored is not None
    stored = load(find(trained.stored.id))
    entries, exits = ModelStrategy(stored).signals(IndicatorCache(frame))
    again = run_fast(frame.iloc[1500:], entries[1500:], exits[1500:])
    assert again.metrics()["return_pct"] == pytest.approx(hold["return_pct"], rel=1e-12)


def test_training_is_deterministic_given_its_seed() -> None:
    frame = autocorrelated(700, 0.5, seed=3)

    def model(seed: int) -> str:
        ppo = PPOSettings(steps=512, seed=seed)
        stored = train_model(frame, symbol="X", timeframe="1h", exchange="test", ppo=ppo).stored
        assert stored is not None
        return stored.id  # the content hash of the weights

    state = np.random.get_state()[1].copy()
    assert model(7) == model(7)
    assert np.array_equal(np.random.get_state()[1], state)  # the global generator is left alone
    assert model(8) != model(7)


@pytest.fixture
async def random_walk() -> None:
    """A stored random walk (AR coefficient 0: nothing to learn)."""
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database
    from mastertrade.engine.market.store import CandleStore, SeriesKey, rows_from_frame

    db = await Database.open(load_settings())
    try:
        rows = rows_from_frame(autocorrelated(1200, 0.0, seed=2))
        await CandleStore(db).upsert(SeriesKey("test", "RW/USDT", "1h"), rows)
    finally:
        await db.close()


@pytest.mark.usefixtures("random_walk")
def test_on_a_random_walk_the_hold_out_is_reported_and_fails_the_filter(mt: MT) -> None:
    doc = mt.json("rl", "train", "--symbol", "RW/USDT", "--timeframe", "1h", "--steps", "1024")
    hold = doc["holdout"]
    assert hold["passed"] is False and hold["reasons"]
    assert hold["bars"] == 300 and "deflated_sharpe" in hold and hold["trials"] == 1
    listed = mt.json("rl", "list")
    assert [row["model"] for row in listed] == [doc["model"]]
    again = mt.json("backtest", doc["model"], "--start", hold["start"])
    assert again["bars"] == 300 and again["strategy"] == doc["model"]


def test_without_the_ml_extra_mt_rl_says_how_to_install_it(mt: MT, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "skrl" else real(name, *a)
    )
    result = mt("rl", "train", "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert result.exit_code == 2
    assert "pip install 'mastertrade[ml]'" in result.stderr and "skrl" in result.stderr


def test_steps_beyond_the_configs_bound_are_named_not_trained(mt: MT) -> None:
    """Was: `mt rl train --steps 99999999999999999999` (a slip of extra zeros) started training for good,
    while `[rl] steps` refuses more than 10,000,000; the option now has the setting's bounds."""
    from mastertrade.config import RLSettings

    bound = next(m.le for m in RLSettings.model_fields["steps"].metadata if hasattr(m, "le"))
    result = mt("rl", "train", "--symbol", "BTC/USDT", "--timeframe", "1h", "--steps", str(bound + 1))
    assert result.exit_code == 2 and result.stdout == ""
    assert "'--steps'" in result.stderr and f"(got {bound + 1})" in result.stderr
    assert result.stderr.startswith("mt: error: ") and result.stderr.count("\n") == 1
