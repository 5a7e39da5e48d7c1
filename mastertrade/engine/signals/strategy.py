"""The one shape the engines, paper trading and live trading run: :class:`Strategy`.

Whether it came from a genome (built-in, file, store, generator) or from a plugin, a strategy is
signals plus risk settings::

    entries, exits = strategy.signals(cache)   # boolean arrays of len(cache), signal at close of t
    strategy.stop_loss, strategy.take_profit, strategy.trailing_stop   # fractions or None
    strategy.size                                                      # fraction of equity, 0 < size <= 1

``strategy.genome`` is the genome when there is one (the reference engine and the store want it) and
``None`` for a plugin.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

import numpy as np

from mastertrade.engine.signals.describe import describe
from mastertrade.engine.signals.evaluate import signals as genome_signals
from mastertrade.engine.signals.genome import Genome, warmup_bars
from mastertrade.errors import OperationFailed

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from mastertrade.engine.signals.indicators import IndicatorCache
    from mastertrade.engine.signals.plugins import StrategyPlugin

Source = Literal["builtin", "file", "stored", "plugin", "genome", "model"]


@dataclass(frozen=True)
class Strategy:
    """A runnable strategy: where it came from, its risk settings, and its signals."""

    name: str
    source: Source
    description: str
    symbol: str | None
    timeframe: str | None
    stop_loss: float | None
    take_profit: float | None
    trailing_stop: float | None
    size: float
    genome: Genome | None = None
    plugin: StrategyPlugin | None = None

    @classmethod
    def from_genome(cls, genome: Genome, source: Source = "genome") -> Strategy:
        return cls(
            name=genome.name,
            source=source,
            description=describe(genome),
            symbol=genome.symbol,
            timeframe=genome.timeframe,
            stop_loss=genome.stop_loss,
            take_profit=genome.take_profit,
            trailing_stop=genome.trailing_stop,
            size=genome.size,
            genome=genome,
        )

    @classmethod
    def from_plugin(
        cls, name: str, plugin: StrategyPlugin, symbol: str | None = None, timeframe: str | None = None
    ) -> Strategy:
        return cls(
            name=name,
            source="plugin",
            description=plugin.description,
            symbol=symbol,
            timeframe=timeframe,
            stop_loss=plugin.stop_loss,
            take_profit=plugin.take_profit,
            trailing_stop=plugin.trailing_stop,
            size=plugin.size,
            plugin=plugin,
        )

    @classmethod
    def from_model(
        cls, name: str, plugin: StrategyPlugin, symbol: str | None = None, timeframe: str | None = None
    ) -> Strategy:
        """A trained model (``mastertrade.engine.signals.model``): signals through the plugin interface."""
        return replace(cls.from_plugin(name, plugin, symbol, timeframe), source="model")

    def bind(self, symbol: str | None = None, timeframe: str | None = None) -> Strategy:
        """The same strategy on ``symbol``/``timeframe`` (``None`` keeps the current value)."""
        if self.genome is not None:
            return Strategy.from_genome(self.genome.bind(symbol, timeframe), self.source)
        assert self.plugin is not None
        bound = Strategy.from_plugin(
            self.name, self.plugin, symbol or self.symbol, timeframe or self.timeframe
        )
        return replace(bound, source=self.source)

    @property
    def warmup(self) -> int:
        """Bars before a genome can first signal (0 for a plugin: it does not say)."""
        return 0 if self.genome is None else warmup_bars(self.genome)

    def signals(self, cache: IndicatorCache) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """``(entries, exits)``: fresh, writable boolean arrays of ``len(cache)``."""
        if self.genome is not None:
            return genome_signals(self.genome, cache)
        assert self.plugin is not None
        try:
            entries, exits = self.plugin.signals(cache)
        except Exception as exc:  # a plugin is someone else's code; name it in the failure
            raise OperationFailed(
                f"strategy plugin {self.name!r} failed: {type(exc).__name__}: {exc}"
            ) from exc
        return self._checked("entries", entries, len(cache)), self._checked("exits", exits, len(cache))

    def _checked(self, what: str, values: object, length: int) -> NDArray[np.bool_]:
        array = np.asarray(values)
        if array.dtype != np.bool_ or array.shape != (length,):
            raise OperationFailed(
                f"strategy plugin {self.name!r} returned {what} of dtype {array.dtype} and shape "
                f"{array.shape}; expected booleans of shape ({length},)"
            )
        return np.array(array, dtype=np.bool_)  # a private, writable copy
