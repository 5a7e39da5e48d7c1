"""Canonical form and fingerprint: one spelling per strategy logic, without changing a signal."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from mastertrade.engine.signals import canonical as canonical_module
from mastertrade.engine.signals.builtins import BUILTINS
from mastertrade.engine.signals.canonical import canonical, canonical_json, fingerprint
from mastertrade.engine.signals.evaluate import signals
from mastertrade.engine.signals.genome import parse_genome, terms
from mastertrade.engine.signals.indicators import IndicatorCache
from mastertrade.engine.signals.random_genome import random_genome

CLOSE = {"price": "close"}
RSI = {"ind": "rsi", "length": 14}
SMA10 = {"ind": "sma", "length": 10}
SMA30 = {"ind": "sma", "length": 30}
A = {"crosses_above": [SMA10, SMA30]}
B = {"<": [RSI, 30]}
C = {">": [CLOSE, {"ind": "ema", "length": 50}]}


def genome(entry: Any, exit: Any = None, **extra: Any) -> Any:
    return parse_genome(
        {"name": "g", "entry": entry, "exit": exit or {"crosses_below": [SMA10, SMA30]}, **extra}
    )


def fp(entry: Any, exit: Any = None, **extra: Any) -> str:
    return fingerprint(genome(entry, exit, **extra))


def test_reordered_children_give_the_same_fingerprint() -> None:
    assert fp({"all": [A, B, C]}) == fp({"all": [C, A, B]}) == fp({"all": [B, C, A]})
    assert fp({"any": [A, {"all": [B, C]}]}) == fp({"any": [{"all": [C, B]}, A]})


def test_equivalent_spellings_give_the_same_fingerprint() -> None:
    # nested groups of one kind flatten; repeats and single-child groups disappear
    assert fp({"all": [A, {"all": [B, C]}]}) == fp({"all": [A, B, C]})
    assert fp({"all": [A, A, B]}) == fp({"all": [A, B]})
    assert fp({"any": [A]}) == fp(A)
    # operands are ordered and the operator flipped to match
    assert fp({">": [30, RSI]}) == fp({"<": [RSI, 30]})
    assert fp({"crosses_below": [SMA30, SMA10]}) == fp({"crosses_above": [SMA10, SMA30]})
    assert fp({"<": [{"ind": "ema", "length": 50}, CLOSE]}) == fp(C)
    # defaults written out or not, integral floats, the const spelling: all the same numbers
    assert fp({"<": [{"ind": "rsi"}, {"const": 30.0}]}) == fp(B)
    assert fp({"<": [{"ind": "rsi", "length": 14.0}, 30]}) == fp(B)
    # the name is not part of the logic
    assert fingerprint(genome(A).model_copy(update={"name": "other"})) == fp(A)


@pytest.mark.parametrize(
    "change",
    [
        {"entry": {"crosses_above": [{"ind": "sma", "length": 11}, SMA30]}},
        {"entry": {"crosses_above": [{**SMA10, "lag": 1}, SMA30]}},
        {"entry": {"crosses_below": [SMA10, SMA30]}},
        {"entry": {">": [SMA10, SMA30]}},
        {"entry": {"any": [A, B]}},
        {"entry": {"all": [A, B]}},
        {"exit": {"crosses_below": [SMA10, {"ind": "sma", "length": 31}]}},
        {"stop_loss": 0.05},
        {"take_profit": 0.2},
        {"trailing_stop": 0.05},
        {"size": 0.5},
        {"symbol": "BTC/USDT"},
        {"timeframe": "1h"},
    ],
)
def test_anything_that_changes_the_logic_changes_the_fingerprint(change: dict[str, Any]) -> None:
    plain = {"name": "g", "entry": A, "exit": {"crosses_below": [SMA10, SMA30]}}
    assert fingerprint(parse_genome({**plain, **change})) != fingerprint(parse_genome(plain))


def test_fingerprints_of_builtins_and_random_genomes_are_distinct_and_stable() -> None:
    genomes = list(BUILTINS.values()) + [random_genome(seed) for seed in range(300)]
    prints = [fingerprint(g) for g in genomes]
    assert len(set(prints)) == len(prints)
    assert all(len(p) == 16 and int(p, 16) >= 0 for p in prints)
    assert fingerprint(BUILTINS["sma_cross"]) == "c6751b47a5a6097b"  # stable across runs and machines


@pytest.mark.parametrize("seed", range(40))
def test_canonical_form_is_idempotent_and_keeps_every_signal(seed: int, candles: pd.DataFrame) -> None:
    original = random_genome(seed, stops=None, max_depth=3)
    form = canonical(original)
    assert canonical(form) == form
    assert canonical_json(form) == canonical_json(original)
    assert fingerprint(form) == fingerprint(original)
    assert parse_genome(form.to_dict()) == form  # still a valid genome
    cache = IndicatorCache(candles)
    for ours, theirs in zip(signals(original, cache), signals(form, cache), strict=True):
        assert np.array_equal(ours, theirs)


def _fingerprint_through_the_model(genome: Any) -> str:
    """The fingerprint as the canonical model spells it (``fingerprint`` rewrites the JSON document
    instead, without validating models again): both must agree on every genome."""
    import hashlib
    import json

    data = canonical(genome).model_dump(mode="json")
    del data["name"]
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def test_fingerprint_of_the_document_equals_the_canonical_model_s() -> None:
    import random

    from mastertrade.engine.generator.variation import Limits, crossover, mutate, seed_genome

    rng = random.Random(11)
    limits = Limits(max_conditions=8, max_depth=3)
    pool = [random_genome(seed) for seed in range(60)]
    pool += [seed_genome(rng, symbol="BTC/USDT", timeframe="1h", limits=limits) for _ in range(60)]
    for _ in range(150):
        first, second = crossover(rng, rng.choice(pool), rng.choice(pool), limits)
        pool += [mutate(rng, first, limits), second]
    spelled = [
        genome({"all": [B, {"all": [A, B]}, {"any": [C, {"<": [30, RSI]}]}]}),
        genome({">": [{"ind": "ema", "length": 50}, CLOSE]}, {"crosses_below": [SMA30, SMA10]}),
    ]
    for each in pool + spelled:
        assert fingerprint(each) == _fingerprint_through_the_model(each), each.to_json()
        assert fingerprint(each) == fingerprint(each.model_copy())  # remembered or not, the same


def test_a_term_noted_with_its_document_fingerprints_as_one_dumped_afresh() -> None:
    """The generator hands over the JSON documents of the terms it validates (``note_term``); a genome
    of such terms has the fingerprint (and canonical JSON) computed from the terms dumped afresh."""
    for seed in range(60):
        genome = random_genome(seed)
        canonical_module.forget()
        expected = canonical_module.fingerprint_of(genome.__dict__)
        canonical_module.forget()
        for term in terms(genome):
            canonical_module.note_term(term, term.model_dump(mode="json"))
        assert canonical_module.fingerprint_of(genome.__dict__) == expected
        assert canonical_module.fingerprint_of(genome.__dict__) == fingerprint(genome.model_copy())
    canonical_module.forget()


def test_the_fingerprint_filled_into_a_template_is_fingerprint_of() -> None:
    """The generator keeps the text around the rules per set of stops and sizes (a template) and fills
    the rules in: the same fingerprint, with and without an exit rule, stops or a symbol."""
    genomes = [random_genome(seed) for seed in range(40)]
    genomes += [
        genome(A, stop_loss=0.05, take_profit=0.1, trailing_stop=0.02, size=0.5, symbol="ETH/USDT"),
        parse_genome({"name": "g", "entry": A, "stop_loss": 0.05, "timeframe": "4h"}),
    ]
    for each in genomes:
        template = canonical_module.fingerprint_template(canonical_module.own_texts(each.__dict__))
        expected = canonical_module.fingerprint_of(each.__dict__)
        assert canonical_module.fingerprint_filled(template, each.entry, each.exit) == expected
