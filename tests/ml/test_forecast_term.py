"""The forecast as a genome term: validation, canonical JSON, and the random generator drawing it."""

from __future__ import annotations

import random

import pytest

from mastertrade.engine.signals.genome import FeatureTerm, parse_genome, required_features, terms
from mastertrade.engine.signals.random_genome import random_genome
from mastertrade.errors import InvalidGenome


def _genome(term: dict[str, object]) -> dict[str, object]:
    return {"name": "f", "entry": {">": [term, 0.001]}, "exit": {"<": [term, 0]}}


def test_defaults_and_round_trip() -> None:
    genome = parse_genome(_genome({"feature": "forecast"}))
    assert required_features(genome) == [
        ("forecast", (("model", "lstm_transformer"), ("horizon", 1), ("symbol", "")))
    ]
    dumped = genome.model_dump(mode="json")
    assert parse_genome(dumped) == genome
    again = parse_genome(_genome({"feature": "forecast", "model": "lightgbm", "horizon": 3}))
    assert required_features(again)[0][1] == (("model", "lightgbm"), ("horizon", 3), ("symbol", ""))


@pytest.mark.parametrize(
    ("term", "message"),
    [
        ({"feature": "forecast", "model": "prophet"}, "model: must be one of lstm_transformer, lightgbm"),
        ({"feature": "forecast", "horizon": 0}, "horizon: must be >= 1"),
        ({"feature": "forecast", "horizon": 49}, "horizon: must be <= 48"),
        ({"feature": "forecast", "window": 3}, "unknown parameter of forecast"),
    ],
)
def test_bad_terms_name_the_field(term: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidGenome, match=message):
        parse_genome(_genome(term))


def test_the_random_generator_can_draw_it() -> None:
    rng = random.Random(3)
    for _ in range(400):
        genome = random_genome(rng, features=True)
        found = [t for t in terms(genome) if isinstance(t, FeatureTerm) and t.feature == "forecast"]
        if found:
            assert dict(found[0].params)["horizon"] == 1
            return
    pytest.fail("400 random genomes with features never used the forecast")
