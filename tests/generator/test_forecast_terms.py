"""The search draws the forecasts a trained model stored for its series, and scores them as a plain
backtest reads them; without stored forecasts its pool is empty."""

from __future__ import annotations

import random
from typing import Any

import pandas as pd
import pytest

from mastertrade.engine.generator.variation import Limits, mutate_add, mutate_swap, seed_genome
from mastertrade.engine.signals.random_genome import FixedTerm

LIGHTGBM = FixedTerm.of("forecast", {"model": "lightgbm", "horizon": 1})
LSTM = FixedTerm.of("forecast", {"model": "lstm_transformer", "horizon": 1})
MARKET = {"symbol": "BTC/USDT", "timeframe": "1h"}


def _reads_forecast(rule: Any) -> bool:
    if isinstance(rule, dict):
        if rule.get("feature") == "forecast":
            return True
        return any(_reads_forecast(value) for value in rule.values())
    if isinstance(rule, list):
        return any(_reads_forecast(item) for item in rule)
    return False


def test_seeds_and_mutations_draw_the_pool_terms_as_they_are() -> None:
    limits = Limits(features=(LIGHTGBM,))
    genomes = [seed_genome(random.Random(seed), limits=limits, **MARKET) for seed in range(40)]
    with_forecast = [g for g in genomes if _reads_forecast(g.to_dict())]
    assert len(with_forecast) >= 5
    terms = [term for g in with_forecast for term in _forecasts(g.to_dict())]
    assert all(term["model"] == "lightgbm" and term["horizon"] == 1 for term in terms)
    # without a pool no genome reads a feature
    plain = [seed_genome(random.Random(seed), limits=Limits(), **MARKET) for seed in range(40)]
    assert not any(_reads_forecast(g.to_dict()) for g in plain)
    # `add` brings the pool in; `swap` exchanges one model's forecast for another's, never for a series
    # the pool lacks
    data = {**MARKET, "name": "x", "entry": {">": [LIGHTGBM.as_json(), 0.001]}, "exit": None}
    added = [mutate_add(random.Random(seed), data, (LIGHTGBM,)) for seed in range(60)]
    assert any(len(_forecasts(d)) == 2 for d in added if d is not None)
    swapped = [mutate_swap(random.Random(seed), data, (LIGHTGBM, LSTM)) for seed in range(10)]
    assert {d["entry"][">"][0]["model"] for d in swapped if d is not None} == {"lstm_transformer"}
    assert mutate_swap(random.Random(1), data, ()) is None


def _forecasts(data: Any) -> list[dict[str, Any]]:
    return [t for t in _terms(data) if isinstance(t, dict) and t.get("feature") == "forecast"]


def _terms(rule: Any) -> list[Any]:
    if isinstance(rule, dict):
        found = []
        for key, value in rule.items():
            if key in (">", "<", "crosses_above", "crosses_below"):
                found.extend(value)
            else:
                found.extend(_terms(value))
        return found
    if isinstance(rule, list):
        return [term for item in rule for term in _terms(item)]
    return []


async def test_the_search_uses_stored_forecasts_as_a_backtest_does(
    sqlite_db: Any, frame: pd.DataFrame
) -> None:
    from mastertrade.engine.backtest.runner import backtest
    from mastertrade.engine.collectors.provider import features_for
    from mastertrade.engine.generator.holdout import holdout_start
    from mastertrade.engine.generator.pipeline import GenerationRequest, generate
    from mastertrade.engine.generator.store import StrategyStore
    from mastertrade.engine.generator.terms import feature_pool
    from mastertrade.engine.market.store import SeriesKey
    from mastertrade.engine.ml.models import ModelConfig
    from mastertrade.engine.ml.trainer import TrainRequest, train
    from mastertrade.engine.signals.indicators import IndicatorCache
    from tests.generator.helpers import settings_with, store_candles

    await store_candles(sqlite_db, frame)
    key = SeriesKey("sim", "BTC/USDT", "1h")
    assert (await feature_pool(sqlite_db, key)).terms == ()
    tiny = ModelConfig(window=8, trees=20, leaves=7, threads=1)
    await train(
        sqlite_db,
        TrainRequest("lightgbm", "BTC/USDT", "1h", train_bars=300, retrain_every=600, config=tiny),
        strategies=StrategyStore(sqlite_db),
    )
    pool = await feature_pool(sqlite_db, key)
    assert pool.terms == (LIGHTGBM,)

    request = GenerationRequest(count=30, seed=5, population=24, generations=2, **MARKET)
    summary = await generate(sqlite_db, settings_with(), request)
    run = await StrategyStore(sqlite_db).run(summary.run_id)
    assert run.parameters["feature_terms"] == pool.labels
    # the trader sees them where the docs say: `mt generate --json`, beside the bars the run read
    assert summary.as_dict()["data"]["feature_terms"] == list(pool.labels)
    chosen = [s for s in summary.strategies if _reads_forecast(s.genome.to_dict())]
    assert chosen, "no stored strategy reads the forecast"
    cut = holdout_start(len(frame), 0.25)
    holdout, searched = frame.iloc[cut:], frame.iloc[:cut]
    traded = 0
    for strategy in chosen:
        provider = await features_for(
            sqlite_db, [strategy.genome], timeframe="1h", simulated=True, exchange="sim"
        )
        for window, stored in ((holdout, strategy.out_of_sample), (searched, strategy.metrics)):
            cache = IndicatorCache(window, features=provider)
            plain = backtest(strategy.genome, window, cash=10_000.0, fee=0.001, cache=cache).metrics()
            for name in ("start", "end", "bars", "trades", "return_pct", "max_drawdown_pct"):
                assert stored[name] == pytest.approx(plain[name], rel=1e-12, abs=1e-12), name
        traded += int(strategy.out_of_sample["trades"] > 0)
    assert traded, "no forecast strategy traded on the hold-out: the comparison proves little"
