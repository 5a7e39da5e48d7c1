"""Many strategies' signals as rows: genomes in one compiled call, a plugin strategy by its own
``signals``, each row what the strategy gives alone, and a plugin's wrong-length signals refused."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mastertrade.engine.backtest.runner import signal_rows, strategy_signals
from mastertrade.engine.market.sim import simulate
from mastertrade.engine.signals.builtins import builtin
from mastertrade.engine.signals.indicators import IndicatorCache
from mastertrade.engine.signals.random_genome import random_genome
from mastertrade.errors import UserInputError


class EveryTenthBar:
    """A plugin-style strategy: enters every tenth bar, exits five bars later (lists, not arrays)."""

    name = "every_tenth"

    def __init__(self, bars: int | None = None) -> None:
        self.bars = bars

    def signals(self, cache: IndicatorCache) -> tuple[list[bool], list[bool]]:
        n = self.bars if self.bars is not None else len(cache)
        return [i % 10 == 0 for i in range(n)], [i % 10 == 5 for i in range(n)]


def test_rows_mix_genomes_and_plugins_each_as_alone() -> None:
    cache = IndicatorCache(simulate("BTC/USDT", "1h", 500, 3))
    strategies: list[Any] = [
        builtin("sma_cross", "BTC/USDT", "1h"),
        EveryTenthBar(),
        *(random_genome(seed) for seed in range(5)),
        EveryTenthBar(),
    ]
    entries, exits = signal_rows(strategies, cache)
    assert entries.shape == exits.shape == (len(strategies), 500)
    assert entries.dtype == exits.dtype == np.bool_
    for index, strategy in enumerate(strategies):
        alone_entries, alone_exits = strategy_signals(strategy, cache)
        assert np.array_equal(entries[index], np.asarray(alone_entries, dtype=np.bool_))
        assert np.array_equal(exits[index], np.asarray(alone_exits, dtype=np.bool_))


def test_a_plugin_with_signals_of_the_wrong_length_is_refused() -> None:
    cache = IndicatorCache(simulate("BTC/USDT", "1h", 300, 3))
    with pytest.raises(UserInputError, match="entries has 299 values for 300 bars"):
        signal_rows([builtin("sma_cross", "BTC/USDT", "1h"), EveryTenthBar(299)], cache)
