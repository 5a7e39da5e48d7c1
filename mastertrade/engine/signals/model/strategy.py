"""A trained policy as a strategy of kind ``model``.

:class:`ModelStrategy` is a :class:`~mastertrade.engine.signals.plugins.StrategyPlugin`: it turns the
bars of an indicator cache into entry/exit arrays through the same interface as any Python strategy,
so ``mt backtest``, validation, paper trading and the parity monitor run it like one. At the close of
bar t it computes the features of bars up to t, scales them as in training and takes the policy's most
probable action: ``enter`` is an entry signal, ``exit`` an exit signal, ``keep`` neither. No signal is
given during the features' warm-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mastertrade.engine.signals.model.actions import KEEP, signals_from_actions
from mastertrade.engine.signals.model.artifact import Policy, PolicyArtifact
from mastertrade.engine.signals.model.features import observations, raw_features
from mastertrade.engine.signals.plugins import StrategyPlugin

if TYPE_CHECKING:
    from mastertrade.engine.signals.indicators import IndicatorCache


class ModelStrategy(StrategyPlugin):
    """The signals of a policy: a stored one (:class:`PolicyArtifact`) or one just trained."""

    def __init__(self, policy: Policy | PolicyArtifact, description: str = "") -> None:
        self.stored = policy if isinstance(policy, PolicyArtifact) else None
        self.policy = policy.policy if isinstance(policy, PolicyArtifact) else policy
        if self.stored is not None and not description:
            trained = self.stored.training
            description = (
                f"PPO policy {self.stored.id} trained on {self.stored.symbol} {self.stored.timeframe}, "
                f"{trained.get('start')}..{trained.get('end')}"
            )
        self.description = description or "PPO policy"
        order = self.policy.order
        self.stop_loss = order.get("stop_loss")
        self.take_profit = order.get("take_profit")
        self.trailing_stop = order.get("trailing_stop")
        self.size = float(order.get("size", 1.0))

    def actions(self, cache: IndicatorCache) -> np.ndarray[Any, np.dtype[np.int64]]:
        raw = raw_features(cache)
        scaled = observations(raw, np.asarray(self.policy.mean), np.asarray(self.policy.std))
        chosen = self.policy.weights.actions(scaled)
        chosen[~np.all(np.isfinite(raw), axis=1)] = KEEP
        return chosen

    def signals(self, cache: IndicatorCache) -> tuple[Any, Any]:
        return signals_from_actions(self.actions(cache))
