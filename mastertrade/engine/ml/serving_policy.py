"""A stored policy as the daemon trades it: no signal on a bar closed before its training ended.

A strategy names its policy by hand (``model:<id>``): a fixed choice, which no "newest version" rule
picks. On a replay (or a daemon catching up on bars older than a training) that policy may have learnt
from bars after the one closing: trading them with it would have its paper book, and the parity backtest
beside it, trade with knowledge of the future. So the strategies the daemon trades run their policy
through :class:`ServingPolicy`, which asks :mod:`.serving` (the rule forecast models follow) whether the
policy may serve each bar's close and, where it may not, gives no signal (the action ``keep``: no entry,
no exit). Refused bars all come before the first served one, so the book is flat through them. The
first time the newest bar is refused, one warning says which strategy and policy, what it learnt through
and from when it serves.

Research is not trading: ``mt backtest`` and ``mt validate`` run a policy on any bars, and say which of
them its training saw (``cli/research_notes.py``).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mastertrade.engine.market.timeframes import timeframe_ms
from mastertrade.engine.ml.serving import policy_not_yet, served_bars
from mastertrade.engine.signals.model.actions import KEEP
from mastertrade.engine.signals.model.strategy import ModelStrategy

if TYPE_CHECKING:
    from mastertrade.engine.signals.indicators import IndicatorCache
    from mastertrade.engine.signals.model.artifact import PolicyArtifact
    from mastertrade.engine.signals.strategy import Strategy

log = logging.getLogger(__name__)


class ServingPolicy(ModelStrategy):
    """The signals of stored policy ``stored`` traded as strategy ``strategy_id``, left out on the bars
    it may not serve (module docstring)."""

    def __init__(self, stored: PolicyArtifact, strategy_id: str) -> None:
        super().__init__(stored)
        self.artifact = stored.artifact
        self.strategy_id = strategy_id
        self.said = False
        """Whether the warning was given (once: the bar clock asks for the signals on every bar)."""

    def actions(self, cache: IndicatorCache) -> np.ndarray[Any, np.dtype[np.int64]]:
        chosen = super().actions(cache)
        if not len(chosen):
            return chosen
        # a signal is given at the close of its bar: the market time the policy would serve
        opens = np.asarray(pd.DatetimeIndex(cache.index).as_unit("ms").asi8, dtype=np.int64)
        closes = opens + timeframe_ms(str(self.artifact.key.get("timeframe")))
        refused = ~served_bars(self.artifact, closes)
        chosen[refused] = KEEP
        if refused[-1] and not self.said:
            self.said = True
            log.warning("strategy %s: %s", self.strategy_id, policy_not_yet(self.artifact, int(closes[-1])))
        return chosen


def serving_strategy(strategy: Strategy, strategy_id: str) -> Strategy:
    """``strategy`` as the daemon trades it as ``strategy_id``: a stored policy's through
    :class:`ServingPolicy`; any other (a genome, a plugin) as it is."""
    plugin = strategy.plugin
    if not isinstance(plugin, ModelStrategy) or plugin.stored is None or isinstance(plugin, ServingPolicy):
        return strategy
    return replace(strategy, plugin=ServingPolicy(plugin.stored, strategy_id))
