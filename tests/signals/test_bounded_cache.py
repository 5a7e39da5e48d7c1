"""A byte-bounded indicator cache: memory stays under its bound, and signals are the same bits as with an
unbounded cache (an evicted indicator is computed again)."""

from __future__ import annotations

import random

import numpy as np

from mastertrade.engine.generator.variation import Limits, seed_genome
from mastertrade.engine.market.sim import simulate
from mastertrade.engine.signals.bounded import BoundedLRU
from mastertrade.engine.signals.evaluate import signals
from mastertrade.engine.signals.indicators import IndicatorCache


def test_signals_are_identical_with_a_tiny_bound_and_memory_stays_under_it() -> None:
    frame = simulate("BTC/USDT", "1h", 1500, 3, end=1_735_689_600_000)
    genomes = [
        seed_genome(random.Random(i), symbol="BTC/USDT", timeframe="1h", limits=Limits()) for i in range(60)
    ]
    free = IndicatorCache(frame)
    bound = 20 * 1500 * 8  # about twenty arrays
    bounded = IndicatorCache(frame, max_bytes=bound)
    for genome in genomes + genomes[::-1]:
        for left, right in zip(signals(genome, free), signals(genome, bounded), strict=True):
            assert np.array_equal(left, right)
        assert bounded._store.used <= max(bound, 4 * 1500 * 8)  # the newest entry always stays
    assert bounded._store.evictions > 0 and bounded.computations > free.computations
    assert free._store.evictions == 0


def test_the_lru_evicts_the_least_recently_used_first() -> None:
    store = BoundedLRU(limit=3 * 8)
    for key in "abc":
        store.put(key, np.zeros(1))
    assert store.get("a") is not None  # a is now the most recent
    store.put("d", np.zeros(1))
    assert store.get("b") is None and store.get("a") is not None and store.used == 24
    store.put("big", np.zeros(10))  # bigger than the bound: it stays alone
    assert len(store) == 1 and store.get("big") is not None
