"""Strategies as data: genomes, indicators, signal evaluation, built-ins and plugin strategies.

The pieces other parts call::

    from mastertrade.engine.signals import IndicatorCache, load_strategy, parse_genome, signals

    strategy = load_strategy("sma_cross", "BTC/USDT", "1h")   # built-in, genome file, stored id, plugin
    cache = IndicatorCache(candles)                           # one per candle series; share it
    entries, exits = strategy.signals(cache)                  # signal at close of t, fill at open of t+1

- :mod:`.genome`: the genome model (the JSON contract), parsing with JSON-path errors, walking helpers.
- :mod:`.indicators`: the indicator catalogue (pandas-ta) and :class:`IndicatorCache`.
- :mod:`.features`: alternative-data terms (sentiment, fear & greed) and their providers.
- :mod:`.evaluate`: genome + cache -> boolean entry/exit arrays.
- :mod:`.canonical` / :mod:`.describe`: canonical form and fingerprint; genomes in words.
- :mod:`.builtins`, :mod:`.random_genome`: built-in strategies; seeded random genomes.
- :mod:`.strategy`, :mod:`.plugins`, :mod:`.loader`: the common strategy shape, plugin strategies,
  and resolving a STRATEGY argument.
- :mod:`.lookahead`: the no-lookahead check.
"""

from __future__ import annotations

# Only names that are not also submodules: a function ``describe`` here would hide the module
# ``mastertrade.engine.signals.describe`` from attribute access (and from monkeypatch paths).
from mastertrade.engine.signals.builtins import BUILTINS, builtin
from mastertrade.engine.signals.canonical import fingerprint
from mastertrade.engine.signals.evaluate import signals
from mastertrade.engine.signals.genome import Genome, load_genome_file, parse_genome, warmup_bars
from mastertrade.engine.signals.indicators import IndicatorCache
from mastertrade.engine.signals.loader import load_strategy
from mastertrade.engine.signals.strategy import Strategy

__all__ = [
    "BUILTINS",
    "Genome",
    "IndicatorCache",
    "Strategy",
    "builtin",
    "fingerprint",
    "load_genome_file",
    "load_strategy",
    "parse_genome",
    "signals",
    "warmup_bars",
]
