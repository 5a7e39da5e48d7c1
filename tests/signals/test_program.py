"""Signals of many genomes in one compiled call (``signals.program``): the same booleans as the grammar's
bar-by-bar definition for any batch, thread count and operand shape, and a genome that cannot be
evaluated named without spoiling the others."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from mastertrade.engine.signals.evaluate import signals
from mastertrade.engine.signals.genome import Genome, parse_genome
from mastertrade.engine.signals.indicators import IndicatorCache
from mastertrade.engine.signals.program import signals_many
from mastertrade.engine.signals.random_genome import random_genome
from tests.signals.conftest import frame_of
from tests.signals.test_evaluate import reference, terms_of

CLOSE = {"price": "close"}
CLOSES = [1.0, 2.0, 3.0, 2.0, 3.0, 3.0, 2.0, 4.0, 2.5, 2.0]


def definition(genome: Genome, cache: IndicatorCache) -> tuple[list[bool], list[bool]]:
    values = terms_of(genome, cache)
    bars = range(len(cache))
    entries = [reference(genome.entry, values, t) for t in bars]
    exits = [False] * len(cache) if genome.exit is None else [reference(genome.exit, values, t) for t in bars]
    return entries, exits


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_a_batch_gives_every_genome_its_signals_by_the_definition(
    threads: int, candles: pd.DataFrame
) -> None:
    cache = IndicatorCache(candles.iloc[:300])
    genomes = [random_genome(seed, stops=None) for seed in range(40)]
    entries, exits, errors = signals_many(genomes, cache, threads=threads)
    assert errors == {}
    assert entries.shape == exits.shape == (40, 300)
    for index, genome in enumerate(genomes):
        expected_entries, expected_exits = definition(genome, cache)
        assert entries[index].tolist() == expected_entries, genome.name
        assert exits[index].tolist() == expected_exits, genome.name


def test_a_genomes_signals_do_not_depend_on_its_batch(candles: pd.DataFrame) -> None:
    cache = IndicatorCache(candles.iloc[:500])
    genomes = [random_genome(seed) for seed in range(100, 130)]
    entries, exits, _ = signals_many(genomes, cache, threads=2)
    alone = [signals(genome, cache) for genome in genomes]
    assert all(np.array_equal(entries[i], alone[i][0]) for i in range(len(genomes)))
    assert all(np.array_equal(exits[i], alone[i][1]) for i in range(len(genomes)))
    reversed_entries, _, _ = signals_many(genomes[::-1], cache)
    assert np.array_equal(reversed_entries[::-1], entries)


def rule_entries(rule: dict[str, Any], closes: list[float] = CLOSES) -> list[int]:
    genome = parse_genome({"name": "t", "entry": rule, "stop_loss": 0.5})
    entries, _, errors = signals_many([genome, genome], IndicatorCache(frame_of(closes)), threads=2)
    assert errors == {}
    assert np.array_equal(entries[0], entries[1])
    return np.flatnonzero(entries[0]).tolist()


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        # a constant on either side of each operator
        ({">": [CLOSE, 2.0]}, [2, 4, 5, 7, 8]),
        ({">": [2.0, CLOSE]}, [0]),
        ({"<": [2.0, CLOSE]}, [2, 4, 5, 7, 8]),
        ({"<": [CLOSE, 2.0]}, [0]),
        ({"crosses_above": [CLOSE, 2.5]}, [2, 4, 7]),
        ({"crosses_above": [2.5, CLOSE]}, [3, 6, 9]),
        ({"crosses_below": [CLOSE, 2.5]}, [3, 6, 9]),
        ({"crosses_below": [2.5, CLOSE]}, [2, 4, 7]),
        # lags on either side; the bars before a lag's first value never signal, nor cross after it
        ({">": [CLOSE, {"price": "close", "lag": 1}]}, [1, 2, 4, 7]),
        ({"<": [{"price": "close", "lag": 1}, CLOSE]}, [1, 2, 4, 7]),
        ({">": [{"price": "close", "lag": 3}, 2.5]}, [5, 7, 8]),
        ({"crosses_above": [{"price": "close", "lag": 2}, 2.5]}, [4, 6, 9]),
        ({"crosses_above": [CLOSE, {"price": "close", "lag": 2}]}, [5, 7]),
        # a lag as long as the series, or longer: nothing
        ({">": [{"price": "close", "lag": 10}, 0]}, []),
        ({"crosses_below": [{"price": "close", "lag": 12}, 5]}, []),
        # groups, nested
        ({"all": [{">": [CLOSE, 2.0]}, {">": [CLOSE, {"price": "close", "lag": 1}]}]}, [2, 4, 7]),
        (
            {"any": [{"<": [CLOSE, 1.5]}, {"all": [{">": [CLOSE, 2.0]}, {"<": [CLOSE, 3.5]}]}]},
            [0, 2, 4, 5, 8],
        ),
    ],
)
def test_each_operator_and_operand_shape(rule: dict[str, Any], expected: list[int]) -> None:
    assert rule_entries(rule) == expected


def test_nan_warm_up_never_signals() -> None:
    sma3 = {"ind": "sma", "length": 3}
    assert rule_entries({"crosses_above": [CLOSE, sma3]}) == [4, 7]
    assert rule_entries({"crosses_below": [sma3, CLOSE]}) == [4, 7]
    assert rule_entries({">": [CLOSE, sma3]}) == [2, 4, 5, 7]


def test_a_genome_that_cannot_be_evaluated_is_named_and_the_others_are_not_touched() -> None:
    cache = IndicatorCache(frame_of(CLOSES))
    good = parse_genome({"name": "good", "entry": {">": [CLOSE, 2.0]}, "exit": {"<": [CLOSE, 2.0]}})
    needs_data = parse_genome(
        {"name": "tide", "entry": {">": [CLOSE, 2.0]}, "exit": {">": [{"feature": "fear_greed"}, 50]}}
    )
    entries, exits, errors = signals_many([good, needs_data, good], cache)
    assert list(errors) == [1]
    assert "OperationFailed" in errors[1] and "fear_greed" in errors[1]
    assert not entries[1].any() and not exits[1].any()
    for index in (0, 2):
        assert np.flatnonzero(entries[index]).tolist() == [2, 4, 5, 7, 8]
        assert np.flatnonzero(exits[index]).tolist() == [0]


def test_an_empty_batch() -> None:
    entries, exits, errors = signals_many([], IndicatorCache(frame_of(CLOSES)), threads=2)
    assert entries.shape == exits.shape == (0, len(CLOSES)) and errors == {}
