"""Signal evaluation: comparison and crossing semantics, NaN, lags, groups, and agreement with a
bar-by-bar reference evaluator written from the grammar's definitions."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mastertrade.engine.signals import features
from mastertrade.engine.signals.evaluate import signals, term_values
from mastertrade.engine.signals.features import SeriesFeatures
from mastertrade.engine.signals.genome import (
    AllOf,
    AnyOf,
    ConstTerm,
    CrossesAbove,
    CrossesBelow,
    Genome,
    Greater,
    Less,
    Rule,
    parse_genome,
    required_features,
)
from mastertrade.engine.signals.indicators import IndicatorCache
from mastertrade.engine.signals.random_genome import random_genome
from mastertrade.engine.signals.specs import SINGLE, Output, Param, SeriesSpec
from mastertrade.errors import OperationFailed
from tests.signals.conftest import frame_of

CLOSES = [1.0, 2.0, 3.0, 2.0, 3.0, 3.0, 2.0, 4.0, 2.5, 2.0]


def entries_of(rule: dict[str, Any], frame: pd.DataFrame) -> list[int]:
    genome = parse_genome({"name": "t", "entry": rule, "exit": {"<": [{"price": "close"}, 0]}})
    entries, _ = signals(genome, IndicatorCache(frame))
    return np.flatnonzero(entries).tolist()


CLOSE = {"price": "close"}


def test_crosses_above_needs_above_now_and_at_or_below_before() -> None:
    frame = frame_of(CLOSES)
    assert entries_of({"crosses_above": [CLOSE, 2.5]}, frame) == [2, 4, 7]
    # touching the level on the previous bar counts as "at or below"; touching it now is not above
    assert entries_of({"crosses_above": [CLOSE, 2.0]}, frame) == [2, 4, 7]
    assert entries_of({"crosses_above": [CLOSE, 3.0]}, frame) == [7]
    # the constant on the left: 2.5 crosses above close = close crosses below 2.5
    assert entries_of({"crosses_above": [2.5, CLOSE]}, frame) == entries_of(
        {"crosses_below": [CLOSE, 2.5]}, frame
    )


def test_crosses_below_mirrors_it() -> None:
    frame = frame_of(CLOSES)
    assert entries_of({"crosses_below": [CLOSE, 2.5]}, frame) == [3, 6, 9]
    assert entries_of({"crosses_below": [CLOSE, 3.0]}, frame) == [3, 6, 8]


def test_comparisons_are_strict() -> None:
    frame = frame_of(CLOSES)
    assert entries_of({">": [CLOSE, 2.0]}, frame) == [2, 4, 5, 7, 8]
    assert entries_of({"<": [CLOSE, 2.0]}, frame) == [0]


def test_lag_compares_with_the_past() -> None:
    frame = frame_of(CLOSES)
    rising = entries_of({">": [CLOSE, {"price": "close", "lag": 1}]}, frame)
    assert rising == [1, 2, 4, 7]
    assert entries_of({">": [CLOSE, {"price": "close", "lag": 3}]}, frame) == [3, 4, 7]


def test_nan_never_signals_and_crossings_need_the_previous_bar_defined() -> None:
    frame = frame_of(CLOSES)
    sma3 = {"ind": "sma", "length": 3}
    # SMA(3) is 2, 2.33, 2.67, 2.67, 2.67, 3, 2.83, 2.83 from bar 2 and NaN on bars 0 and 1: nothing
    # signals there, and bar 2 cannot cross (its previous bar is NaN) although close > SMA there
    assert entries_of({">": [CLOSE, sma3]}, frame) == [2, 4, 5, 7]
    assert entries_of({"<": [CLOSE, sma3]}, frame) == [3, 6, 8, 9]
    assert entries_of({"crosses_above": [CLOSE, sma3]}, frame) == [4, 7]
    assert entries_of({"crosses_below": [CLOSE, sma3]}, frame) == [3, 6, 8]


def test_groups_combine_their_children() -> None:
    frame = frame_of(CLOSES)
    above2 = {">": [CLOSE, 2.0]}
    rising = {">": [CLOSE, {"price": "close", "lag": 1}]}
    low = {"<": [CLOSE, 1.5]}
    assert entries_of({"all": [above2, rising]}, frame) == [2, 4, 7]
    assert entries_of({"any": [low, rising]}, frame) == [0, 1, 2, 4, 7]
    assert entries_of({"any": [low, {"all": [above2, {"<": [CLOSE, 3.5]}]}]}, frame) == [0, 2, 4, 5, 8]


def test_results_are_fresh_writable_arrays_of_the_frames_length() -> None:
    frame = frame_of(CLOSES)
    cache = IndicatorCache(frame)
    genome = parse_genome({"name": "t", "entry": {">": [CLOSE, 2.0]}, "exit": {"<": [CLOSE, 2.0]}})
    entries, exits = signals(genome, cache)
    assert entries.dtype == np.bool_ and entries.shape == (len(frame),) and exits.shape == (len(frame),)
    expected = entries.copy()
    entries[:] = False
    exits[:] = True
    again, exits_again = signals(genome, cache)
    assert np.array_equal(again, expected) and exits_again.sum() == 1


def test_a_genome_without_exit_rule_has_no_exit_signals() -> None:
    genome = parse_genome({"name": "t", "entry": {">": [CLOSE, 2.0]}, "stop_loss": 0.05})
    _, exits = signals(genome, IndicatorCache(frame_of(CLOSES)))
    assert not exits.any()


# --- a bar-by-bar reference evaluator ---------------------------------------------------------------


def reference(rule: Rule, values: dict[Any, Any], t: int) -> bool:
    """The grammar's definition at one bar, in plain Python floats."""

    def at(term: Any, bar: int) -> float:
        if bar < 0:
            return math.nan
        if isinstance(term, ConstTerm):
            return term.const
        return float(values[term.key][bar])

    if isinstance(rule, AllOf):
        return all(reference(child, values, t) for child in rule.children)
    if isinstance(rule, AnyOf):
        return any(reference(child, values, t) for child in rule.children)
    a, b = rule.operands
    if isinstance(rule, Greater):
        return at(a, t) > at(b, t)
    if isinstance(rule, Less):
        return at(a, t) < at(b, t)
    if isinstance(rule, CrossesAbove):
        return at(a, t) > at(b, t) and at(a, t - 1) <= at(b, t - 1)
    assert isinstance(rule, CrossesBelow)
    return at(a, t) < at(b, t) and at(a, t - 1) >= at(b, t - 1)


def terms_of(genome: Genome, cache: IndicatorCache) -> dict[Any, Any]:
    from mastertrade.engine.signals.genome import terms

    return {term.key: term_values(term, cache) for term in terms(genome) if not isinstance(term, ConstTerm)}


@pytest.mark.parametrize("seed", range(12))
def test_vectorised_signals_equal_the_bar_by_bar_definition(seed: int, candles: pd.DataFrame) -> None:
    cache = IndicatorCache(candles.iloc[:250])
    for genome in (random_genome(seed * 10 + k, stops=None) for k in range(10)):
        entries, exits = signals(genome, cache)
        values = terms_of(genome, cache)
        assert entries.tolist() == [reference(genome.entry, values, t) for t in range(len(cache))]
        if genome.exit is not None:
            assert exits.tolist() == [reference(genome.exit, values, t) for t in range(len(cache))]


# --- feature terms ----------------------------------------------------------------------------------


@pytest.fixture
def tide(monkeypatch: pytest.MonkeyPatch) -> SeriesSpec:
    """A test feature, registered for one test."""
    spec = SeriesSpec(
        "test_tide",
        "Tide",
        "a made-up alternative-data series",
        params=(Param("port", "str", "brest", choices=("brest", "dover")),),
        outputs=(Output(SINGLE, "tide", "tide", thresholds=(0, 10)),),
    )
    monkeypatch.setitem(features.FEATURES, spec.name, spec)
    return spec


def test_feature_terms_read_the_provider_aligned_without_lookahead(tide: SeriesSpec) -> None:
    frame = frame_of(CLOSES[:6])  # bars open at 00:00 ... 05:00 and close an hour later
    times = pd.to_datetime(
        ["2025-01-01T00:30Z", "2025-01-01T02:00Z", "2025-01-01T02:59Z", "2025-01-01T05:00Z"], utc=True
    )
    observations = pd.Series([1.0, 5.0, 7.0, 9.0], index=times)
    provider = SeriesFeatures({("test_tide", (("port", "dover"),)): observations}, bar_ms=3_600_000)
    genome = parse_genome(
        {
            "name": "t",
            "entry": {">": [{"feature": "test_tide", "port": "dover"}, 4]},
            "exit": {"<": [{"feature": "test_tide", "port": "dover", "lag": 1}, 4]},
        }
    )
    assert required_features(genome) == [("test_tide", (("port", "dover"),))]
    cache = IndicatorCache(frame, features=provider)
    tide_values = term_values(genome.entry.operands[0], cache)
    # bar 0 closes 01:00 (sees 00:30); bar 1 closes 02:00 (the 02:00 value is not before it); bar 2
    # closes 03:00 (sees 02:59); bar 4 closes 05:00, still before the 05:00 value
    assert np.array_equal(tide_values, [1.0, 1.0, 7.0, 7.0, 7.0, 9.0])
    entries, exits = signals(genome, cache)
    assert np.flatnonzero(entries).tolist() == [2, 3, 4, 5]
    assert np.flatnonzero(exits).tolist() == [1, 2]
    # another port has no observations: NaN, so no signals at all
    other = parse_genome(
        {"name": "t", "entry": {">": [{"feature": "test_tide"}, 0]}, "exit": {"<": [CLOSE, 0]}}
    )
    assert not signals(other, cache)[0].any()


def test_a_feature_without_a_provider_is_an_operation_failure(tide: SeriesSpec) -> None:
    genome = parse_genome(
        {"name": "t", "entry": {">": [{"feature": "test_tide"}, 4]}, "exit": {"<": [CLOSE, 0]}}
    )
    with pytest.raises(OperationFailed, match="feature 'test_tide' needs alternative data"):
        signals(genome, IndicatorCache(frame_of(CLOSES)))
