"""Volatility-filtered momentum: an example MasterTrade strategy plugin.

Rules (long only, half the equity, stop-loss 8%):

- enter when the 24-bar rate of change turns positive (crosses above 0) while volatility is calm:
  NATR(14) below its median over the last 100 bars;
- exit when the 24-bar rate of change turns negative, or volatility spikes to 1.5 times that median.

The median filter is what a genome cannot express (the grammar compares indicator outputs, it does not
compute statistics of them), so this strategy is a plugin.

Its settings are declared in ``parameters`` (name, type, range, default), so
``mt optimize vol_momentum --symbol S --timeframe TF`` can tune them on the search window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mastertrade.engine.signals.plugins import Parameter, StrategyPlugin

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from mastertrade.engine.signals.indicators import IndicatorCache

__all__ = ["VolatilityMomentum"]


class VolatilityMomentum(StrategyPlugin):
    """Buys momentum turns in calm markets; sells when momentum fades or volatility spikes."""

    description = (
        "enter when ROC(24) crosses above 0 while NATR(14) is below its 100-bar median; "
        "exit when ROC(24) < 0 or NATR(14) > 1.5x that median; stop-loss 8%; size 50% of equity"
    )
    stop_loss = 0.08
    size = 0.5

    momentum_length = 24
    volatility_length = 14
    median_window = 100
    spike = 1.5

    parameters = (
        Parameter("momentum_length", "int", 24, 5, 60, help="bars of the rate of change"),
        Parameter("volatility_length", "int", 14, 5, 40, help="bars of the NATR"),
        Parameter("median_window", "int", 100, 30, 250, help="bars of the NATR's trailing median"),
        Parameter("spike", "float", 1.5, 1.1, 3.0, help="exit when NATR exceeds this times the median"),
        Parameter("stop_loss", "float", 0.08, 0.02, 0.2, help="stop-loss fraction"),
    )

    def signals(self, cache: IndicatorCache) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        roc = cache.indicator("roc", length=self.momentum_length)
        natr = cache.indicator("natr", length=self.volatility_length)
        # a trailing median: the value at bar t looks at bars t-99..t only
        median = pd.Series(natr).rolling(self.median_window, min_periods=self.median_window).median()
        typical = median.to_numpy(dtype=np.float64)

        turned_up = np.zeros(len(cache), dtype=np.bool_)
        turned_up[1:] = (roc[1:] > 0) & (roc[:-1] <= 0)
        calm = natr < typical  # NaN (warm-up) compares false: no signal
        entries = turned_up & calm
        exits = (roc < 0) | (natr > self.spike * typical)
        return entries, exits
