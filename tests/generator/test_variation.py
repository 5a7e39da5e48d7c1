"""Mutation and crossover always yield valid genomes on the search grids, within the search's limits."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mastertrade.engine.generator.grid import SIZE_GRID, STOP_GRIDS, nearest, param_grid, threshold_grid
from mastertrade.engine.generator.variation import (
    MUTATIONS,
    Limits,
    build,
    conditions,
    crossover,
    depth,
    document,
    draw_term,
    genome_key,
    mutate,
    named,
    seed_genome,
    snap_genome,
)
from mastertrade.engine.signals.canonical import canonical, fingerprint
from mastertrade.engine.signals.genome import Genome, parse_genome
from mastertrade.engine.signals.indicators import INDICATORS
from mastertrade.engine.signals.random_genome import random_genome
from mastertrade.engine.signals.specs import SINGLE, Output, SeriesSpec
from mastertrade.errors import InvalidGenome
from tests.signals.test_genome_assembly import assert_same
from tests.strategies import genomes

LIMITS = Limits(max_conditions=6, max_depth=2)
WIDE = Limits(max_conditions=24, max_depth=4)
MARKET = {"symbol": "BTC/USDT", "timeframe": "1h"}
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(genome: Genome, limits: Limits = LIMITS) -> None:
    """Valid, round-trips through JSON, on the grids, within the limits, named after its fingerprint."""
    data = genome.to_dict()
    assert parse_genome(data) == genome
    assert snap_genome(data) == data
    for side in ("entry", "exit"):
        if data.get(side) is not None:
            assert len(conditions(data[side])) <= limits.max_conditions
            assert depth(data[side]) <= limits.max_depth
    assert genome.name == f"gen-{fingerprint(genome)[:10]}" == f"gen-{genome_key(genome)}"
    assert genome.symbol == "BTC/USDT" and genome.timeframe == "1h"


def start(genome: Genome) -> Genome:
    built = build(genome.to_dict(), WIDE)
    assume(built is not None)  # the grids may turn a random condition into a self-comparison
    assert built is not None
    return built


@FAST
@given(genome=genomes(**MARKET), rng=st.randoms(use_true_random=False))
def test_mutations_yield_valid_genomes(genome: Genome, rng: random.Random) -> None:
    current = start(genome)
    for _ in range(8):
        child = mutate(rng, current, WIDE)
        check(child, WIDE)
        current = child


@FAST
@given(first=genomes(**MARKET), second=genomes(**MARKET), rng=st.randoms(use_true_random=False))
def test_crossover_yields_valid_genomes(first: Genome, second: Genome, rng: random.Random) -> None:
    a, b = start(first), start(second)
    children = crossover(rng, a, b, WIDE)
    for child in children:
        check(child, WIDE)


@FAST
@given(seed=st.integers(0, 2**63 - 1))
def test_seeds_and_their_offspring_stay_within_the_search_limits(seed: int) -> None:
    rng = random.Random(seed)
    first = seed_genome(rng, limits=LIMITS, **MARKET)
    second = seed_genome(rng, limits=LIMITS, **MARKET)
    check(first)
    check(second)
    for child in crossover(rng, first, second, LIMITS):
        check(child)
        check(mutate(rng, child, LIMITS))


def test_every_mutation_operator_produces_changes() -> None:
    rng = random.Random(3)
    population = [seed_genome(random.Random(seed), limits=LIMITS, **MARKET) for seed in range(40)]
    for name, operator, _ in MUTATIONS:
        changed = 0
        for genome in population:
            edited = operator(rng, genome.to_dict())
            child = None if edited is None else build(edited, LIMITS)
            if child is not None and child != genome:
                check(child)
                changed += 1
        assert changed >= 5, f"mutation {name} changed only {changed} of 40 genomes"


def test_a_mutation_changes_the_genome_and_is_reproducible() -> None:
    genome = seed_genome(random.Random(1), limits=LIMITS, **MARKET)
    first = mutate(random.Random(9), genome, LIMITS)
    assert first != genome
    assert mutate(random.Random(9), genome, LIMITS) == first


def test_grids_hold_defaults_and_stay_in_range() -> None:
    for spec in INDICATORS.values():
        for param in spec.params:
            grid = param_grid(param)
            assert list(grid) == sorted(set(grid))
            if param.sample is not None:
                assert param.sample[0] <= grid[0] and grid[-1] <= param.sample[1]
                assert param.default in grid
    assert param_grid(INDICATORS["rsi"].param("length"))[3] == 14
    assert threshold_grid((20, 80))[:3] == (20.0, 23.0, 26.0)
    assert all(0 < value < 1 for value in STOP_GRIDS["stop_loss"]) and SIZE_GRID[-1] == 1.0


def test_near_duplicates_collapse_to_one_fingerprint() -> None:
    base = {"name": "x", **MARKET, "exit": {"<": [{"ind": "rsi", "length": 14}, 70]}}
    one = build({**base, "entry": {">": [{"ind": "rsi", "length": 14}, 30.4]}}, LIMITS)
    two = build({**base, "entry": {"<": [29.9, {"ind": "rsi", "length": 15}]}}, LIMITS)
    assert one is not None and two is not None
    assert fingerprint(one) == fingerprint(two)
    assert canonical(one).entry == canonical(two).entry


def _reference_build(data: dict[str, Any], limits: Limits) -> Genome | None:
    """What ``build`` computes, the plain way: the whole document snapped, checked and validated."""
    if data.get("entry") is None:
        return None  # the model requires an entry rule
    data = snap_genome(data)
    for side in ("entry", "exit"):
        rule = data.get(side)
        if rule is not None and (
            len(conditions(rule)) > limits.max_conditions or depth(rule) > limits.max_depth
        ):
            return None
    try:
        return named(parse_genome(data))
    except InvalidGenome:
        return None


def _edits(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Documents as the operators leave them (valid or not), and some the model refuses."""
    pool = [seed_genome(rng, limits=WIDE, **MARKET) for _ in range(12)]
    found = []
    for _ in range(count):
        data = rng.choice(pool).to_dict()
        edited = rng.choice(MUTATIONS)[1](rng, data, ())
        if edited is not None:
            found.append(edited)
    close = {"price": "close"}
    base = pool[0].to_dict()
    found += [
        {**base, "entry": {">": [close, close]}},  # a term compared with itself
        {**base, "entry": {"all": [base["entry"], {"<": [30, 40]}]}},  # two constants
        {**base, "exit": None},  # no exit and no stop
        {**base, "entry": {"any": [{"<": [{"ind": "rsi", "length": 14}, float(i)]} for i in range(8)]}},
        # what the validators refuse, or what snapping alone fails on, in a term, a condition or the genome
        {**base, "entry": {">": [{"ind": "rsi", "length": 1}, 30]}},  # below the parameter's range
        {**base, "entry": {">": [{"ind": "rsi", "length": 14, "colour": 1}, 30]}},  # unknown parameter
        {**base, "entry": {">": [{"ind": "macd", "fast": 12, "slow": 26, "signal": 9}, 0.0]}},  # no output
        {**base, "entry": {">": [{"price": "close", "lag": 900}, close]}},  # lag beyond the grid and model
        {**base, "entry": {">": [close, 3e12]}},  # a constant the model refuses
        {**base, "entry": {">": [close, True]}},  # a boolean is not a number
        {**base, "entry": {">": [True, False]}},
        {**base, "entry": {">": [close, -0.0]}},
        {**base, "entry": {">": [{"price": "close"}, {"price": "open"}], "note": 1}},  # an extra key
        {**base, "entry": {"all": [base["entry"]], "any": [base["entry"]]}},
        {**base, "entry": None},
        {**base, "name": "not a name!"},
        {**base, "symbol": "BTC USDT"},
        {**base, "timeframe": "7x"},
        {**base, "timeframe": None, "symbol": None},
        {**base, "colour": "red"},  # an extra field
        {**base, "stop_loss": 0.0, "size": -0.0},
        {**base, "stop_loss": 1, "take_profit": True, "size": 2},
        {key: value for key, value in base.items() if key not in ("exit", "size")},
        {key: value for key, value in base.items() if key != "stop_loss"},
        dict(reversed(list(base.items()))),  # the fields in another order
    ]
    return found


def _outcome(make: Any) -> Any:
    try:
        return make()
    except Exception as exc:  # noqa: BLE001 (what snapping raises on a document no operator makes)
        return type(exc)


def test_build_equals_validating_the_whole_snapped_document() -> None:
    rng = random.Random(3)
    edits = _edits(rng, 400)
    for limits in (LIMITS, WIDE, Limits(max_conditions=2, max_depth=1)):
        for _ in range(2):  # the second time every condition is remembered
            for data in edits:
                ours = _outcome(lambda: build(data, limits))  # noqa: B023
                expected = _outcome(lambda: _reference_build(data, limits))  # noqa: B023
                if not isinstance(expected, Genome):
                    assert ours == expected, json.dumps(data)
                    continue
                assert_same(ours, expected)  # field for field, types, fields set and JSON
                assert json.dumps(document(ours)) == json.dumps(ours.to_dict())  # keys in order too
    assert any(build(data, WIDE) is None for data in edits)  # refusals were tried
    assert build({**edits[0], "entry": {"all": []}}, WIDE) is None  # an empty group


def test_seeds_are_the_random_genomes_built() -> None:
    """A seed is its random document put on the grids and validated once: the same genome as the random
    genome (validated as it was drawn) built, for the same draws."""
    for seed in range(150):
        ours = seed_genome(random.Random(seed), limits=LIMITS, **MARKET)
        rng = random.Random(seed)
        expected = None
        while expected is None:
            drawn = random_genome(rng, name="gen", max_depth=2, **MARKET)
            expected = build(drawn.to_dict(), LIMITS)
        assert_same(ours, expected)


def test_a_remembered_condition_is_told_apart_by_types_and_the_sign_of_zero() -> None:
    base = seed_genome(random.Random(1), limits=LIMITS, **MARKET).to_dict()
    roc = {"ind": "roc", "length": 26}
    thresholds = [0.0, 1.0, -0.0, 1, 2.0]
    built = [build({**base, "entry": {"crosses_below": [roc, value]}}, WIDE) for value in thresholds]
    for value, genome in zip(thresholds, built, strict=True):
        assert genome == _reference_build({**base, "entry": {"crosses_below": [roc, value]}}, WIDE)
    assert built[0] != built[1]  # 0.0 and 1.0 once shared a key (the sign of zero was encoded as 1.0)


def test_the_operators_never_edit_a_document_in_place() -> None:
    rng = random.Random(9)
    pool = [seed_genome(rng, limits=LIMITS, **MARKET) for _ in range(20)]
    before = {id(genome): json.dumps(document(genome)) for genome in pool}
    for _ in range(300):
        first, second = crossover(rng, rng.choice(pool), rng.choice(pool), LIMITS)
        pool += [mutate(rng, first, LIMITS), mutate(rng, second, LIMITS)]
        for genome in pool[:20]:
            assert json.dumps(document(genome)) == before[id(genome)]
    for genome in pool:
        assert json.dumps(document(genome)) == json.dumps(genome.to_dict())


def test_terms_drawn_for_a_scale_follow_the_indicator_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sources of a scale are kept between draws, and read again when an indicator is registered."""
    rng = random.Random(4)
    assert draw_term(rng, "test_scale") is None
    spec = SeriesSpec(
        "test_wave", "Wave", "a made-up indicator", outputs=(Output(SINGLE, "w", "test_scale"),)
    )
    monkeypatch.setitem(INDICATORS, spec.name, spec)
    assert draw_term(rng, "test_scale") == {"ind": "test_wave"}


def test_nearest_grid_points_are_the_same_remembered_or_not() -> None:
    grid = (0.5, 1.0, 2.0)
    for value in (1, 1.0, True, 0.75, -0.0, 7, 1.5):
        assert (
            nearest(value, grid)
            == nearest(value, list(grid))
            == min(
                grid,
                key=lambda point: (abs(point - value), point),  # noqa: B023
            )
        )
    with pytest.raises(TypeError):
        nearest("1", grid)


def test_operators_draw_the_same_from_a_built_document_as_from_a_copy() -> None:
    """The term slots of a rule ``build`` made are walked once and remembered with it; an operator given
    that document draws exactly what it draws from a copy (walked afresh), for the same random numbers."""
    rng = random.Random(12)
    pool = [seed_genome(rng, limits=LIMITS, **MARKET) for _ in range(15)]
    for _ in range(40):
        first, second = crossover(rng, rng.choice(pool), rng.choice(pool), LIMITS)
        pool += [mutate(rng, first, LIMITS), mutate(rng, second, LIMITS)]
    for index, genome in enumerate(pool):
        built, copy = document(genome), json.loads(json.dumps(document(genome)))
        for name, operator, _ in MUTATIONS:
            for seed in range(3):
                ours = operator(random.Random(seed * 1000 + index), built, ())
                expected = operator(random.Random(seed * 1000 + index), copy, ())
                assert json.dumps(ours) == json.dumps(expected), name
        assert json.dumps(document(genome)) == json.dumps(genome.to_dict())  # and left as it was


def test_stops_snap_to_the_grid_given_even_when_a_freed_grid_had_its_id() -> None:
    from mastertrade.engine.generator import grid as grids
    from mastertrade.engine.generator import variation

    for step in range(1, 200):  # fresh grids, each freed before the next: CPython reuses their ids
        grid = tuple([round(step * 0.001 * k, 6) for k in range(1, 6)])
        assert variation._on_grid(0.0123, grid) == grids.nearest(0.0123, grid), step
        grids._nearest_in_tuple.cache_clear()  # nothing else keeps the grid
        del grid


def test_a_crossover_draft_varies_and_finishes_as_the_genome_it_stands_for() -> None:
    """The search mutates crossover children as drafts: the same draws give the same children, named
    and built as from the genome, and a draft kept as it is becomes that genome."""
    from mastertrade.engine.generator.variation import Draft, crossover_drafts, finished

    limits = Limits()
    rng = random.Random(8)
    pool = [seed_genome(rng, limits=limits, **MARKET) for _ in range(30)]
    drafts = 0
    for seed in range(150):
        first, second = random.Random(seed).sample(pool, 2)
        ours = crossover_drafts(random.Random(seed), first, second, limits)
        theirs = crossover(random.Random(seed), first, second, limits)
        for draft, genome in zip(ours, theirs, strict=True):
            drafts += isinstance(draft, Draft)
            assert draft.name == genome.name and genome_key(draft) == genome_key(genome)
            mutated = mutate(random.Random(seed + 1), draft, limits)
            expected = mutate(random.Random(seed + 1), genome, limits)
            assert_same(finished(mutated), expected)
            assert_same(finished(draft), genome)
        pool += [finished(child) for child in ours]
    assert drafts > 100
