"""Plugin strategies through the entry point group, and resolving a STRATEGY argument."""

from __future__ import annotations

import json
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mastertrade.engine.signals import plugins
from mastertrade.engine.signals.builtins import BUILTINS
from mastertrade.engine.signals.genome import Genome, parse_genome
from mastertrade.engine.signals.indicators import IndicatorCache
from mastertrade.engine.signals.loader import load_strategy
from mastertrade.engine.signals.lookahead import lookahead_violations
from mastertrade.engine.signals.plugins import (
    ENTRY_POINT_GROUP,
    StrategyPlugin,
    installed_plugins,
    load_plugin,
)
from mastertrade.engine.signals.strategy import Strategy
from mastertrade.errors import InvalidGenome, NotFound, OperationFailed, UserInputError


def test_the_example_plugin_is_installed_and_loads_through_its_entry_point(candles: pd.DataFrame) -> None:
    info = installed_plugins()["vol_momentum"]
    assert info.target == "mastertrade_example_strategy:VolatilityMomentum"
    assert info.distribution is not None and info.distribution.startswith("mastertrade-example-strategy ")

    strategy = load_strategy("vol_momentum", "BTC/USDT", "1h")
    assert (strategy.source, strategy.name, strategy.genome) == ("plugin", "vol_momentum", None)
    assert (strategy.symbol, strategy.timeframe) == ("BTC/USDT", "1h")
    assert (strategy.stop_loss, strategy.size) == (0.08, 0.5)
    assert "NATR(14)" in strategy.description

    cache = IndicatorCache(candles)
    entries, exits = strategy.signals(cache)
    assert entries.dtype == np.bool_ and entries.shape == exits.shape == (len(candles),)
    assert entries.any() and exits.any()
    assert not entries[:100].any()  # the 100-bar median filter is still warming up
    # it shares the cache's indicators with genomes
    assert cache.computations == 2
    assert lookahead_violations([strategy], candles, [0, 99, 100, 101, 150, 300, 599]) == []


def test_load_strategy_resolves_builtins_files_stored_ids_and_plugins(tmp_path: Path) -> None:
    builtin = load_strategy("rsi_reversion", "ETH/USDT", "4h")
    assert builtin.source == "builtin" and builtin.genome is not None
    assert (builtin.genome.symbol, builtin.genome.timeframe) == ("ETH/USDT", "4h")
    assert (builtin.stop_loss, builtin.size) == (0.10, 1.0)
    assert BUILTINS["rsi_reversion"].symbol is None  # the built-in itself is untouched

    path = tmp_path / "mine.json"
    path.write_text(json.dumps({**BUILTINS["sma_cross"].to_dict(), "name": "mine", "symbol": "SOL/USDT"}))
    from_file = load_strategy(str(path))
    assert (from_file.source, from_file.name, from_file.symbol, from_file.timeframe) == (
        "file",
        "mine",
        "SOL/USDT",
        None,
    )
    assert load_strategy(str(path), timeframe="1d").symbol == "SOL/USDT"  # None keeps the file's value
    assert load_strategy(str(path), "BTC/USDT").symbol == "BTC/USDT"  # a given value wins

    stored = {"s-0042": parse_genome({**BUILTINS["breakout"].to_dict(), "name": "s-0042"})}
    asked: list[str] = []

    def lookup(spec: str) -> Genome | None:
        asked.append(spec)
        return stored.get(spec)

    found = load_strategy("s-0042", "BTC/USDT", "1h", stored=lookup)
    assert (found.source, found.name, found.symbol) == ("stored", "s-0042", "BTC/USDT")
    # built-ins come first: the store is not asked about them
    assert load_strategy("sma_cross", stored=lookup).source == "builtin"
    # an id the store does not know falls through to the plugins
    assert load_strategy("vol_momentum", stored=lookup).source == "plugin"
    assert asked == ["s-0042", "vol_momentum"]


def test_an_unknown_strategy_is_bad_input_naming_it_and_the_builtins() -> None:
    with pytest.raises(NotFound) as caught:
        load_strategy("sma_crosss")
    message = str(caught.value)
    assert isinstance(caught.value, UserInputError)
    assert message.startswith(
        "unknown strategy 'sma_crosss': not a built-in (sma_cross, ema_cross, rsi_reversion, "
    )
    assert "vol_momentum" in message
    with pytest.raises(UserInputError, match=r"genome file 'nothing\.json' does not exist"):
        load_strategy("nothing.json")


def test_a_bad_genome_file_names_the_file_and_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**BUILTINS["sma_cross"].to_dict(), "stop_loss": 2}))
    with pytest.raises(InvalidGenome, match=r"bad\.json: stop_loss: must be < 1 \(got 2\)$"):
        load_strategy(str(path))


class Good(StrategyPlugin):
    description = "buys every green bar"
    take_profit = 0.02

    def signals(self, cache: IndicatorCache) -> tuple[Any, Any]:
        close, open_ = cache.price("close"), cache.price("open")
        return pd.Series(close > open_), close < open_


class WrongShape(StrategyPlugin):
    description = "returns too little"

    def signals(self, cache: IndicatorCache) -> tuple[Any, Any]:
        return np.zeros(3, dtype=bool), np.zeros(len(cache), dtype=bool)


class Floats(StrategyPlugin):
    description = "returns numbers, where NaN would read as true"

    def signals(self, cache: IndicatorCache) -> tuple[Any, Any]:
        return cache.indicator("rsi") > 50, cache.indicator("rsi")


class Raises(StrategyPlugin):
    description = "breaks"

    def signals(self, cache: IndicatorCache) -> tuple[Any, Any]:
        raise ZeroDivisionError("oops")


class BadSettings(Good):
    stop_loss = 1.5


NotAPlugin = object()


@pytest.fixture
def fake_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Entry points for the classes above, beside the really installed ones."""
    real = plugins.entry_points
    fakes = [
        EntryPoint(name, f"tests.signals.test_plugins:{target}", ENTRY_POINT_GROUP)
        for name, target in [
            ("good", "Good"),
            ("wrong_shape", "WrongShape"),
            ("floats", "Floats"),
            ("raises", "Raises"),
            ("bad_settings", "BadSettings"),
            ("not_a_plugin", "NotAPlugin"),
            ("missing", "DoesNotExist"),
        ]
    ]

    def entry_points(*, group: str) -> list[EntryPoint]:
        return [*real(group=group), *fakes] if group == ENTRY_POINT_GROUP else list(real(group=group))

    monkeypatch.setattr(plugins, "entry_points", entry_points)


@pytest.mark.usefixtures("fake_plugins")
def test_plugin_signals_are_checked_and_copied(candles: pd.DataFrame) -> None:
    cache = IndicatorCache(candles)
    good = load_strategy("good")
    assert good.take_profit == 0.02 and good.stop_loss is None and good.size == 1.0
    entries, exits = good.signals(cache)
    assert entries.dtype == np.bool_ and entries.flags.writeable
    assert np.array_equal(entries, cache.price("close") > cache.price("open"))
    with pytest.raises(
        OperationFailed, match=r"'wrong_shape' returned entries of dtype bool and shape \(3,\)"
    ):
        load_strategy("wrong_shape").signals(cache)
    with pytest.raises(OperationFailed, match=r"'floats' returned exits of dtype float64"):
        load_strategy("floats").signals(cache)
    with pytest.raises(OperationFailed, match=r"^strategy plugin 'raises' failed: ZeroDivisionError: oops$"):
        load_strategy("raises").signals(cache)


@pytest.mark.usefixtures("fake_plugins")
def test_broken_plugins_fail_with_their_name() -> None:
    with pytest.raises(
        OperationFailed, match=r"^strategy plugin 'bad_settings' has a bad setting: stop_loss: must be < 1"
    ):
        load_plugin("bad_settings")
    with pytest.raises(
        OperationFailed, match=r"'not_a_plugin' points at .*NotAPlugin, which is not a StrategyPlugin"
    ):
        load_plugin("not_a_plugin")
    with pytest.raises(
        OperationFailed, match=r"^strategy plugin 'missing' \(.*DoesNotExist\) failed to load"
    ):
        load_plugin("missing")
    with pytest.raises(KeyError):
        load_plugin("nobody")


def test_strategy_from_genome_carries_the_genomes_settings() -> None:
    genome = parse_genome({**BUILTINS["bollinger_reversion"].to_dict(), "take_profit": 0.3, "size": 0.25})
    strategy = Strategy.from_genome(genome)
    assert (strategy.stop_loss, strategy.take_profit, strategy.trailing_stop, strategy.size) == (
        0.05,
        0.3,
        None,
        0.25,
    )
    assert strategy.warmup == 20
    assert strategy.bind("BTC/USDT", "1h").genome == genome.bind("BTC/USDT", "1h")
