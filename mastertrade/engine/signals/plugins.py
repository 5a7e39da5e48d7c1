"""Python strategies, which come only as installed plugins (entry point group ``mastertrade.strategies``).

A genome is data anyone can share safely; a plugin is code, so it must be installed on purpose
(``pip install mastertrade-example-strategy``), never loaded from a path or a database. To write one,
subclass :class:`StrategyPlugin` and register the class in the plugin package's ``pyproject.toml``::

    [project.entry-points."mastertrade.strategies"]
    vol_momentum = "mastertrade_example_strategy:VolatilityMomentum"

The entry point name (``vol_momentum``) is what users type: ``mt backtest vol_momentum ...``,
``mt strategy show vol_momentum``. The plugin computes its signals from the same
:class:`~mastertrade.engine.signals.indicators.IndicatorCache` genomes use (``cache.frame`` for the
candles, ``cache.indicator("rsi", length=14)`` for shared indicator arrays), and must keep the same
rule: the signal at bar t uses bars up to and including t only
(:func:`~mastertrade.engine.signals.lookahead.lookahead_violations` checks it).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any

from mastertrade.errors import OperationFailed

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from mastertrade.engine.signals.indicators import IndicatorCache

ENTRY_POINT_GROUP = "mastertrade.strategies"


class StrategyPlugin(ABC):
    """A Python strategy. Set ``description`` (one line, shown by ``mt strategy builtins``) and, if
    the strategy wants them, ``stop_loss``/``take_profit``/``trailing_stop`` (fractions, as in a genome)
    and ``size`` (fraction of equity); implement :meth:`signals`.

    The class is instantiated with no arguments.
    """

    description: str = ""
    stop_loss: float | None = None
    take_profit: float | None = None
    trailing_stop: float | None = None
    size: float = 1.0

    @abstractmethod
    def signals(self, cache: IndicatorCache) -> tuple[ArrayLike, ArrayLike]:
        """``(entries, exits)``: boolean arrays of ``len(cache)``, true where the entry (exit) rule holds
        at the close of that bar, computed from bars up to and including it."""


@dataclass(frozen=True)
class PluginInfo:
    """An installed strategy plugin, as listed by ``mt strategy builtins``."""

    name: str
    target: str
    distribution: str | None


def installed_plugins() -> dict[str, PluginInfo]:
    """Strategy plugins installed in this environment, by entry point name (nothing is imported)."""
    found: dict[str, PluginInfo] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry.name, PluginInfo(entry.name, entry.value, _distribution(entry)))
    return found


def load_plugin(name: str) -> StrategyPlugin:
    """Import and instantiate the plugin registered as ``name``. ``KeyError`` if none is;
    ``OperationFailed`` if it is broken (import error, not a StrategyPlugin, bad settings)."""
    matches = [entry for entry in entry_points(group=ENTRY_POINT_GROUP) if entry.name == name]
    if not matches:
        raise KeyError(name)
    entry = matches[0]
    try:
        target = entry.load()
    except Exception as exc:  # a plugin's import may fail in any way; report it, do not crash
        raise OperationFailed(f"strategy plugin {name!r} ({entry.value}) failed to load: {exc}") from None
    if isinstance(target, type) and issubclass(target, StrategyPlugin):
        try:
            plugin = target()
        except Exception as exc:
            raise OperationFailed(f"strategy plugin {name!r} could not be created: {exc}") from None
    elif isinstance(target, StrategyPlugin):
        plugin = target
    else:
        raise OperationFailed(
            f"strategy plugin {name!r} points at {entry.value}, which is not a StrategyPlugin subclass"
        )
    _check_settings(name, plugin)
    return plugin


def _check_settings(name: str, plugin: StrategyPlugin) -> None:
    from mastertrade.engine.signals.genome import parse_genome
    from mastertrade.errors import InvalidGenome

    # the same ranges as a genome's, checked by the genome model itself
    probe: dict[str, Any] = {
        "name": "plugin",
        "entry": {">": [{"price": "close"}, 0]},
        "exit": {"<": [{"price": "close"}, 0]},
        "stop_loss": plugin.stop_loss,
        "take_profit": plugin.take_profit,
        "trailing_stop": plugin.trailing_stop,
        "size": plugin.size,
    }
    try:
        parse_genome(probe)
    except InvalidGenome as exc:
        raise OperationFailed(f"strategy plugin {name!r} has a bad setting: {exc}") from None


def _distribution(entry: EntryPoint) -> str | None:
    dist = getattr(entry, "dist", None)
    return None if dist is None else f"{dist.name} {dist.version}"
