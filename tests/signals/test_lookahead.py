"""The no-lookahead proof: signals computed on candles cut after bar t equal, on every bar up to t, the
signals computed on the whole series, for every built-in and many random genomes, at many t (every bar
through the warm-ups, then spread over the series)."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mastertrade.engine.signals.builtins import BUILTINS
from mastertrade.engine.signals.evaluate import signals
from mastertrade.engine.signals.genome import ConstTerm, Genome, PriceTerm, terms, warmup_bars
from mastertrade.engine.signals.indicators import INDICATORS, IndicatorCache
from mastertrade.engine.signals.lookahead import lookahead_violations
from mastertrade.engine.signals.plugins import StrategyPlugin
from mastertrade.engine.signals.random_genome import random_genome, random_params
from mastertrade.engine.signals.strategy import Strategy
from tests.signals.conftest import sim_frame

BARS = 300


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return sim_frame(BARS, seed=21, symbol="ETH/USDT", timeframe="15m")


def around(*bars: int) -> set[int]:
    return {b for bar in bars for b in (bar - 1, bar, bar + 1) if 0 <= b < BARS}


def cuts_for(genome: Genome, rng: random.Random) -> list[int]:
    """The bars where a leak would show: the first bars, both sides of every term's warm-up and of
    the genome's, and a spread of bars after them."""
    boundaries = [term_warmup(term) for term in terms(genome) if not isinstance(term, ConstTerm)]
    start = warmup_bars(genome)
    spread = {rng.randrange(min(start, BARS - 1), BARS) for _ in range(4)}
    return sorted({0, 1, 2, BARS - 1} | around(start, *boundaries) | spread)


def term_warmup(term: Any) -> int:
    if isinstance(term, PriceTerm):
        return term.lag
    return int(term.spec.warmup(dict(term.params))) + term.lag


def test_every_indicator_is_causal(frame: pd.DataFrame) -> None:
    """Each output, at its defaults and at random parameters, cut on both sides of its warm-up."""
    rng = random.Random(7)
    full = IndicatorCache(frame)
    for name, spec in INDICATORS.items():
        settings = [{}] + [random_params(rng, spec) for _ in range(3) if spec.params]
        for params in settings:
            warmup = spec.warmup({p.name: params.get(p.name, p.default) for p in spec.params})
            for cut in sorted({0, 1, BARS - 1, rng.randrange(BARS)} | around(warmup - 1, warmup, warmup + 1)):
                part = IndicatorCache(frame.iloc[: cut + 1])
                for output in spec.outputs:
                    chosen = output.name if spec.multi_output else None
                    # equal up to rounding: numpy's convolution sums in another order on a shorter array
                    np.testing.assert_allclose(
                        part.indicator(name, chosen, **params),
                        full.indicator(name, chosen, **params)[: cut + 1],
                        rtol=1e-12,
                        err_msg=f"{name} {params} {output.name} cut after bar {cut}",
                    )


def test_builtins_never_look_ahead(frame: pd.DataFrame) -> None:
    rng = random.Random(0)
    for genome in BUILTINS.values():
        cuts = set(cuts_for(genome, rng)) | set(range(0, BARS, 3))
        assert lookahead_violations([Strategy.from_genome(genome)], frame, cuts) == []


@pytest.mark.parametrize("chunk", range(4))
def test_random_genomes_never_look_ahead(chunk: int, frame: pd.DataFrame) -> None:
    rng = random.Random(chunk)
    genomes = [random_genome(1000 * chunk + k, stops=None) for k in range(15)]
    for genome in genomes:
        assert lookahead_violations([Strategy.from_genome(genome)], frame, cuts_for(genome, rng)) == [], (
            genome
        )
    # and the check was not vacuous: these genomes do signal on this data
    full = IndicatorCache(frame)
    assert sum(bool(signals(genome, full)[0].any()) for genome in genomes) >= 8


class PeeksAtTomorrow(StrategyPlugin):
    """Buys when the next close is higher: exactly the mistake the check exists for."""

    description = "cheats"

    def signals(self, cache: IndicatorCache) -> tuple[np.ndarray, np.ndarray]:
        close = cache.price("close")
        tomorrow = np.append(close[1:], np.nan)
        return tomorrow > close, tomorrow < close


class NormalisesOverTheWholeSeries(StrategyPlugin):
    """A subtler leak: a z-score against the mean of the whole series, future included."""

    description = "cheats quietly"

    def signals(self, cache: IndicatorCache) -> tuple[np.ndarray, np.ndarray]:
        close = cache.price("close")
        z = (close - close.mean()) / (close.std() or 1.0)
        return z < -1, z > 1


@pytest.mark.parametrize("plugin", [PeeksAtTomorrow(), NormalisesOverTheWholeSeries()])
def test_the_check_catches_strategies_that_do_look_ahead(plugin: StrategyPlugin, frame: pd.DataFrame) -> None:
    violations = lookahead_violations([Strategy.from_plugin("cheat", plugin)], frame, range(0, BARS, 10))
    assert violations
    assert violations[0].strategy == "cheat" and violations[0].bar <= violations[0].cut
