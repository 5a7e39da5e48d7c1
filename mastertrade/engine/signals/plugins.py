"""Python strategies, which come only as installed plugins (entry point group ``mastertrade.strategies``).

A genome is data anyone can share safely; a plugin is code, so it must be installed on purpose
(``pip install mastertrade-example-strategy``), never loaded from a path or a database. To write one,
subclass :class:`StrategyPlugin` and register the class in the plugin package's ``pyproject.toml``::

    [project.entry-points."mastertrade.strategies"]
    vol_momentum = "mastertrade_example_strategy:VolatilityMomentum"

The entry point name (``vol_momentum``) is what users type: ``mt backtest vol_momentum ...``,
``mt strategy show vol_momentum``, ``mt optimize vol_momentum ...``.
The plugin computes its signals from the same
:class:`~mastertrade.engine.signals.indicators.IndicatorCache` genomes use (``cache.frame`` for the
candles, ``cache.indicator("rsi", length=14)`` for shared indicator arrays), and must keep the same
rule: the signal at bar t uses bars up to and including t only
(:func:`~mastertrade.engine.signals.lookahead.lookahead_violations` checks it).

**Declared parameters.** A plugin that reads settings from its own attributes can declare them in
``parameters`` (a tuple of :class:`Parameter`: name, type, range, default); ``mt optimize`` tunes the
``int`` and ``float`` ones within their ranges (:meth:`StrategyPlugin.tuned` makes the copy with the new
values). A declaration is checked when the plugin loads: the attribute must exist and hold the default,
the default must lie in the range, and ``bool``/``choice`` parameters may be declared (they document the
plugin) but are not tuned.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from mastertrade.errors import OperationFailed

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from mastertrade.engine.signals.indicators import IndicatorCache

ENTRY_POINT_GROUP = "mastertrade.strategies"


ParameterKind = Literal["int", "float", "bool", "choice"]
NUMERIC: tuple[ParameterKind, ...] = ("int", "float")


@dataclass(frozen=True)
class Parameter:
    """One setting a plugin declares: its attribute ``name``, ``kind``, bounds (``int``/``float``: the
    closed range ``[low, high]``), ``choices`` (``choice``) and ``default`` (the attribute's value)."""

    name: str
    kind: ParameterKind
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    help: str = ""

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC

    def problem(self) -> str | None:
        """What is wrong with the declaration itself (``None``: nothing)."""
        if self.kind not in ("int", "float", "bool", "choice"):
            return f"parameter {self.name!r} has unknown type {self.kind!r} (int, float, bool or choice)"
        if self.numeric:
            if self.low is None or self.high is None or not self.low <= self.high:
                return f"parameter {self.name!r} needs a range low <= high (got {self.low!r}, {self.high!r})"
            if self.kind == "int" and not all(float(v).is_integer() for v in (self.low, self.high)):
                return f"int parameter {self.name!r} has a non-integer bound"
            if isinstance(self.default, bool) or not isinstance(self.default, int | float):
                return f"parameter {self.name!r} has a non-numeric default {self.default!r}"
            if not self.low <= self.default <= self.high:
                return (
                    f"parameter {self.name!r} default {self.default!r} is outside [{self.low}, {self.high}]"
                )
        if self.kind == "choice" and self.default not in self.choices:
            return f"parameter {self.name!r} default {self.default!r} is not one of its choices"
        return None

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"name": self.name, "type": self.kind, "default": self.default}
        if self.numeric:
            found.update(low=self.low, high=self.high)
        if self.kind == "choice":
            found["choices"] = list(self.choices)
        if self.help:
            found["help"] = self.help
        return found


class StrategyPlugin(ABC):
    """A Python strategy. Set ``description`` (one line, shown by ``mt strategy builtins``) and, if
    the strategy wants them, ``stop_loss``/``take_profit``/``trailing_stop`` (fractions, as in a genome)
    and ``size`` (fraction of equity); implement :meth:`signals`.

    The class is instantiated with no arguments. ``parameters`` declares the settings ``mt optimize``
    may tune (see the module docstring).
    """

    description: str = ""
    stop_loss: float | None = None
    take_profit: float | None = None
    trailing_stop: float | None = None
    size: float = 1.0
    parameters: ClassVar[tuple[Parameter, ...]] = ()

    def parameter_values(self) -> dict[str, Any]:
        """The current value of every declared parameter."""
        return {param.name: getattr(self, param.name) for param in self.parameters}

    def tuned(self, values: dict[str, Any]) -> StrategyPlugin:
        """A copy with the declared numeric parameters in ``values`` set (``ValueError`` naming a value
        that is undeclared, not numeric or out of its range)."""
        declared = {param.name: param for param in self.parameters}
        out = copy.copy(self)
        for name, value in values.items():
            param = declared.get(name)
            if param is None:
                raise ValueError(f"parameter {name!r} is not declared")
            if not param.numeric:
                raise ValueError(f"parameter {name!r} is {param.kind}, not a number")
            assert param.low is not None and param.high is not None
            if not param.low <= value <= param.high:
                raise ValueError(f"parameter {name!r} value {value!r} is outside [{param.low}, {param.high}]")
            setattr(out, name, int(value) if param.kind == "int" else float(value))
        return out

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
    check_settings(name, plugin)
    return plugin


def check_settings(name: str, plugin: StrategyPlugin) -> None:
    """``OperationFailed`` naming a bad parameter declaration or order setting of a loaded plugin."""
    check_declarations(name, plugin)
    check_order_settings(name, plugin)


def check_declarations(name: str, plugin: StrategyPlugin) -> None:
    """Each declared parameter is well formed, declared once, and its default is the attribute's value."""
    seen: set[str] = set()
    for param in plugin.parameters:
        if not isinstance(param, Parameter):
            raise OperationFailed(f"strategy plugin {name!r} declares {param!r}, which is not a Parameter")
        problem = param.problem()
        if problem is None and param.name in seen:
            problem = f"parameter {param.name!r} is declared twice"
        if problem is None and getattr(plugin, param.name, None) != param.default:
            problem = f"parameter {param.name!r} default {param.default!r} is not the attribute's value"
        if problem is not None:
            raise OperationFailed(f"strategy plugin {name!r} has a bad declaration: {problem}")
        seen.add(param.name)


def check_order_settings(name: str, plugin: StrategyPlugin) -> None:
    """The stop-loss, take-profit, trailing-stop and size are within a genome's ranges (a tuned copy is
    checked again: a declared range may reach beyond them)."""
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
