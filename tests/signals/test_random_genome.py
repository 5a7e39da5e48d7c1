"""Random genomes: deterministic by seed, always valid, and covering the whole grammar."""

from __future__ import annotations

import collections

import pytest
from hypothesis import HealthCheck, given, settings

from mastertrade.engine.signals import features
from mastertrade.engine.signals.genome import (
    AllOf,
    AnyOf,
    FeatureTerm,
    Genome,
    IndicatorTerm,
    PriceTerm,
    conditions,
    depth,
    parse_genome,
    rules,
    terms,
)
from mastertrade.engine.signals.indicators import INDICATORS
from mastertrade.engine.signals.random_genome import random_genome
from mastertrade.engine.signals.specs import SINGLE, Output, SeriesSpec
from tests.strategies import genomes


def test_the_same_seed_gives_the_same_genome() -> None:
    assert random_genome(42) == random_genome(42)
    assert random_genome(42).to_dict() == random_genome(42).to_dict()
    assert random_genome(42) != random_genome(43)
    assert random_genome(7, name="mine", symbol="SOL/USDT", timeframe="15m").name == "mine"


def test_random_genomes_cover_the_whole_grammar() -> None:
    seen: collections.Counter[str] = collections.Counter()
    for seed in range(400):
        genome = random_genome(seed, max_depth=2)
        assert parse_genome(genome.to_dict()) == genome
        for rule in rules(genome):
            assert depth(rule) <= 2
            seen.update(type(node).__name__ for node in _groups(rule))
            seen.update(condition.OP for condition in conditions(rule))
        for term in terms(genome):
            seen[type(term).__name__] += 1
            if isinstance(term, IndicatorTerm):
                seen[f"ind:{term.ind}:{term.output}"] += 1
            if isinstance(term, PriceTerm):
                seen[f"price:{term.price}"] += 1
            if not isinstance(term, float) and getattr(term, "lag", 0):
                seen["lag"] += 1
        for field in ("stop_loss", "take_profit", "trailing_stop"):
            seen[field] += getattr(genome, field) is not None
        seen["no exit"] += genome.exit is None
        seen["partial size"] += genome.size < 1
    expected = {"AllOf", "AnyOf", ">", "<", "crosses_above", "crosses_below", "ConstTerm", "PriceTerm", "lag"}
    expected |= {"stop_loss", "take_profit", "trailing_stop", "no exit", "partial size"}
    expected |= {f"price:{column}" for column in ("open", "high", "low", "close", "volume")}
    expected |= {
        f"ind:{name}:{output.name if spec.multi_output else None}"
        for name, spec in INDICATORS.items()
        for output in spec.outputs
    }
    assert expected <= {key for key, count in seen.items() if count}, expected - set(seen)


def _groups(rule: object) -> list[object]:
    if isinstance(rule, AllOf | AnyOf):
        return [rule, *(group for child in rule.children for group in _groups(child))]
    return []


def test_stops_can_be_required_or_ruled_out() -> None:
    for seed in range(100):
        with_stops = random_genome(seed, stops=True)
        assert any(getattr(with_stops, f) is not None for f in ("stop_loss", "take_profit", "trailing_stop"))
        without = random_genome(seed, stops=False)
        assert (without.stop_loss, without.take_profit, without.trailing_stop) == (None, None, None)
        assert without.exit is not None


def test_conditions_compare_like_with_like() -> None:
    """A constant is only compared with a bounded output, inside its usual range."""
    for seed in range(300):
        for term_pair in (c.operands for r in rules(random_genome(seed)) for c in conditions(r)):
            left, right = term_pair
            if isinstance(right, IndicatorTerm) or isinstance(right, PriceTerm):
                continue
            assert isinstance(left, IndicatorTerm)
            thresholds = left.spec.output(left.output).thresholds
            assert thresholds is not None and thresholds[0] <= right.const <= thresholds[1]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(genome=genomes(stops=True, symbol="BTC/USDT", timeframe="1h"))
def test_the_hypothesis_strategy_draws_valid_genomes(genome: Genome) -> None:
    assert parse_genome(genome.to_dict()) == genome
    assert (genome.symbol, genome.timeframe) == ("BTC/USDT", "1h")
    assert any(getattr(genome, f) is not None for f in ("stop_loss", "take_profit", "trailing_stop"))


def test_features_are_drawn_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = SeriesSpec(
        "test_tide",
        "Tide",
        "a made-up alternative-data series",
        outputs=(Output(SINGLE, "tide", "tide", thresholds=(0, 10)),),
    )
    for name in list(features.FEATURES):  # only the test feature, whatever the collectors register
        monkeypatch.delitem(features.FEATURES, name)
    monkeypatch.setitem(features.FEATURES, spec.name, spec)
    with_features = [random_genome(seed, features=True) for seed in range(60)]
    used = [t for g in with_features for t in terms(g) if isinstance(t, FeatureTerm)]
    assert used and {t.feature for t in used} == {"test_tide"}
    assert not any(isinstance(t, FeatureTerm) for seed in range(60) for t in terms(random_genome(seed)))


def test_draws_follow_the_registry_as_it_is_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sources a draw picks from are kept between draws, and read again when a registry changes."""

    def only(name: str) -> None:
        spec = SeriesSpec(name, name, "a made-up series", outputs=(Output(SINGLE, name, "tide", (0, 10)),))
        for known in list(features.FEATURES):
            monkeypatch.delitem(features.FEATURES, known)
        monkeypatch.setitem(features.FEATURES, name, spec)

    for name in ("test_ebb", "test_flow"):
        only(name)
        drawn = [t for seed in range(60) for t in terms(random_genome(seed, features=True))]
        assert {t.feature for t in drawn if isinstance(t, FeatureTerm)} == {name}
