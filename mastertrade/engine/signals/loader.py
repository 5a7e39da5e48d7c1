"""``STRATEGY`` on the command line -> a :class:`~mastertrade.engine.signals.strategy.Strategy`.

A spec is tried, in this order, as:

1. a built-in name (``sma_cross`` ...);
2. a trained model: ``model:<id>`` (a stored policy) or a policy artifact file
   (:mod:`mastertrade.engine.signals.model.source`);
3. a genome JSON file: a path that exists, or any spec ending in ``.json``;
4. a stored strategy id, when the caller passes ``stored`` (the strategy store's lookup: it returns
   the stored genome, or ``None`` when the id is unknown);
5. an installed plugin's entry point name (group ``mastertrade.strategies``).

Anything else is a ``NotFound`` (exit code 2) that names the spec and lists what exists.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mastertrade.engine.signals.builtins import BUILTINS
from mastertrade.engine.signals.genome import Genome, load_genome_file
from mastertrade.engine.signals.plugins import installed_plugins, load_plugin
from mastertrade.engine.signals.strategy import Strategy
from mastertrade.errors import NotFound

StoredLookup = Callable[[str], Genome | Strategy | None]
"""Looks a stored strategy up by id: its genome (the runnable strategy of a stored model or plugin, which
has none), or ``None``. Synchronous: an async caller fetches the stored strategy first and passes
``lambda spec: prefetched.get(spec)``."""


def load_strategy(
    spec: str,
    symbol: str | None = None,
    timeframe: str | None = None,
    *,
    stored: StoredLookup | None = None,
) -> Strategy:
    """Resolve ``spec`` and bind it to ``symbol``/``timeframe`` (given values override a genome
    file's own; ``None`` keeps them)."""
    strategy = _resolve(spec, stored)
    if symbol is None and timeframe is None:
        return strategy
    return strategy.bind(symbol, timeframe)


def _is_file(spec: str) -> bool:
    """Whether ``spec`` names a file; a name no file system holds (ENAMETOOLONG) names none."""
    try:
        return Path(spec).is_file()
    except OSError:
        return False


def _resolve(spec: str, stored: StoredLookup | None) -> Strategy:
    if spec in BUILTINS:
        return Strategy.from_genome(BUILTINS[spec], "builtin")
    from mastertrade.engine.signals.model.source import model_strategy

    model = model_strategy(spec)
    if model is not None:
        return model
    if spec.endswith(".json") or _is_file(spec):
        return Strategy.from_genome(load_genome_file(spec), "file")
    if stored is not None:
        found = stored(spec)
        if isinstance(found, Strategy):
            return found
        if found is not None:
            return Strategy.from_genome(found, "stored")
    try:
        return Strategy.from_plugin(spec, load_plugin(spec))
    except KeyError:
        pass
    plugins = ", ".join(sorted(installed_plugins())) or "none installed"
    stored_part = "a stored strategy id, " if stored is not None else ""
    raise NotFound(
        f"unknown strategy {spec!r}: not a built-in ({', '.join(BUILTINS)}), a genome file (.json), "
        f"{stored_part}or an installed plugin ({plugins})"
    )
