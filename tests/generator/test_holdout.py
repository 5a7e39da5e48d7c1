"""The batched hold-out scorer gives, to the bit, what a plain backtest of each genome on the hold-out bars
alone gives (the numbers `mt backtest --start <hold-out start>` prints), with the moments of its daily
returns and its trade record."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from mastertrade.engine.backtest.metrics import METRIC_KEYS
from mastertrade.engine.backtest.runner import backtest
from mastertrade.engine.generator.holdout import (
    describe_result,
    holdout_start,
    score_holdout,
    score_holdout_many,
)
from mastertrade.engine.generator.variation import Limits, seed_genome
from mastertrade.engine.signals.builtins import builtin
from mastertrade.engine.signals.genome import Genome
from mastertrade.engine.signals.indicators import IndicatorCache
from mastertrade.errors import UserInputError

CASH, FEE = 10_000.0, 0.001


@pytest.fixture(scope="module")
def holdout(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[holdout_start(len(frame), 0.25) :]


@pytest.fixture(scope="module")
def genomes() -> list[Genome]:
    found = [builtin(name, "BTC/USDT", "1h") for name in ("sma_cross", "rsi_reversion", "breakout")]
    found += [
        seed_genome(random.Random(seed), symbol="BTC/USDT", timeframe="1h", limits=Limits())
        for seed in range(40)
    ]
    return found


def test_the_batch_equals_a_plain_backtest_of_each_genome_on_the_holdout(
    holdout: pd.DataFrame, genomes: list[Genome]
) -> None:
    batch = score_holdout_many(genomes, holdout, cash=CASH, fee=FEE, cache=IndicatorCache(holdout))
    assert len(batch) == len(genomes)
    for genome, held in zip(genomes, batch, strict=True):
        plain = backtest(genome, holdout, cash=CASH, fee=FEE)  # its own indicators: what `mt backtest` runs
        assert {key: held[key] for key in METRIC_KEYS} == plain.metrics(), genome.name
        assert held == describe_result(plain) | {"window": "holdout"}, genome.name
        assert held == score_holdout(genome, holdout, cash=CASH, fee=FEE).metrics
    # not vacuous: the sample trades, wins and loses, and has stops
    assert sum(1 for held in batch if held["trades"]) > len(genomes) // 2
    assert any(held["trade_stats"]["wins"] and held["trade_stats"]["losses"] for held in batch)
    assert any(genome.stop_loss or genome.trailing_stop or genome.take_profit for genome in genomes)
    assert any(held["daily_skew"] is not None for held in batch)


def test_the_batch_grows_its_trade_buffer_and_keeps_each_genomes_trades_apart(holdout: pd.DataFrame) -> None:
    """Genomes that trade every few bars, many of them: their trades overflow the first buffer (one slot a
    bar)."""
    data = builtin("rsi_reversion", "BTC/USDT", "1h").model_dump()
    data["entry"] = {">": [{"ind": "rsi", "length": 2}, 50.0]}
    data["exit"] = {"<": [{"ind": "rsi", "length": 2}, 50.0]}
    churn = Genome.model_validate(data | {"name": "churn", "stop_loss": None})
    quiet = builtin("sma_cross", "BTC/USDT", "1h")
    strategies = [churn, quiet] * 6
    batch = score_holdout_many(strategies, holdout, cash=CASH, fee=FEE)
    assert sum(held["trades"] for held in batch) > len(holdout)
    for strategy, held in zip(strategies, batch, strict=True):
        assert held == score_holdout(strategy, holdout, cash=CASH, fee=FEE).metrics


def test_the_batch_of_nothing_is_empty_and_bad_costs_are_refused(holdout: pd.DataFrame) -> None:
    assert score_holdout_many([], holdout, cash=CASH, fee=FEE) == []
    with pytest.raises(UserInputError, match="invalid fee"):
        score_holdout_many([builtin("sma_cross", "BTC/USDT", "1h")], holdout, cash=CASH, fee=0.5)
