"""The search: NSGA-II selection, constraints, deduplication, determinism, and the executor interface."""

from __future__ import annotations

import pickle
import random
import threading
from collections.abc import Sequence

import numpy as np
import pytest
from deap import tools
from hypothesis import given, settings
from hypothesis import strategies as st

from mastertrade.engine.generator import kernel as k
from mastertrade.engine.generator import search
from mastertrade.engine.generator.evaluation import Problem, Score, Scorer, Timings
from mastertrade.engine.generator.executor import ThreadExecutor
from mastertrade.engine.generator.executor_base import Executor
from mastertrade.engine.generator.search import (
    CHUNK,
    INFEASIBLE,
    Candidate,
    Search,
    SearchConfig,
    assess,
    new_candidate,
    ranked,
    select,
)
from mastertrade.engine.generator.variation import Limits, seed_genome
from mastertrade.engine.signals.genome import Genome

MARKET = {"symbol": "BTC/USDT", "timeframe": "1h"}


def config(seed: int = 5, **changes: object) -> SearchConfig:
    base = {"seed": seed, "count": 40, "population": 16, "generations": 3, "min_trades": 3, **MARKET}
    return SearchConfig(**{**base, **changes})  # type: ignore[arg-type]


class RecordingExecutor(Executor):
    """A fake in-process executor: scores through a Scorer, one genome at a time, and records the batches
    it was handed (the search must go through ``map`` only)."""

    def __init__(self, problem: Problem) -> None:
        self.workers = 1
        self.scorer = Scorer(problem)
        self.batches: list[int] = []
        self.threads: set[str] = set()
        self.closed = False

    def map(self, genomes: Sequence[Genome], *, detail: bool = False) -> list[Score]:
        self.batches.append(len(genomes))
        self.threads.add(threading.current_thread().name)
        return [self.scorer.score([genome], detail=detail)[0] for genome in genomes]

    def timings(self) -> Timings:
        return self.scorer.timings

    def close(self) -> None:
        self.closed = True


def candidates_at(points: Sequence[tuple[float, float]]) -> list[Candidate]:
    found = []
    for index, values in enumerate(points):
        genome = seed_genome(random.Random(index), limits=Limits(), **MARKET)
        candidate = new_candidate(genome, index, 0, "test")
        candidate.fitness.values = values
        found.append(candidate)
    return found


def dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Sharpe up, drawdown down."""
    return a[0] >= b[0] and a[1] <= b[1] and a != b


@settings(max_examples=40, deadline=None)
@given(
    points=st.lists(
        st.tuples(st.integers(-20, 20).map(float), st.integers(0, 20).map(float)), min_size=2, max_size=40
    ),
    data=st.data(),
)
def test_nsga2_selects_whole_fronts_first(points: list[tuple[float, float]], data: st.DataObject) -> None:
    population = candidates_at(points)
    k_ = data.draw(st.integers(1, len(points)))
    chosen = select(population, k_)
    assert len(chosen) == k_
    picked = {id(c) for c in chosen}
    # nothing left out dominates something chosen from a later front: whole fronts go first
    left_out = [c for c in population if id(c) not in picked]
    for candidate in chosen:
        assert not any(dominates(other.fitness.values, candidate.fitness.values) for other in left_out)
    # the non-dominated ones are chosen first, as deap's reference NSGA-II does
    front = [
        c for c in population if not any(dominates(o.fitness.values, c.fitness.values) for o in population)
    ]
    if k_ >= len(front):
        assert {id(c) for c in front} <= picked
    # the same fronts as deap's reference NSGA-II (which member of the last front is cut depends on ties)
    reference = tools.selNSGA2(list(population), k_)
    ranked(population)
    assert sorted(c.rank for c in reference) == sorted(c.rank for c in chosen)


def test_ranks_and_crowding_are_set() -> None:
    population = candidates_at([(3.0, 5.0), (1.0, 1.0), (2.0, 2.0), (0.5, 4.0), (1.0, 6.0)])
    ranked(population)
    assert [c.rank for c in population] == [0, 0, 0, 1, 1]
    assert population[0].fitness.crowding_dist == float("inf")


def test_constraints_make_a_candidate_infeasible(problem: Problem) -> None:
    scorer = Scorer(problem)
    genomes = [seed_genome(random.Random(seed), limits=Limits(), **MARKET) for seed in range(30)]
    settings_ = config(min_trades=5, max_exposure_pct=60.0)
    population = []
    for genome, score in zip(genomes, scorer.score(genomes), strict=True):
        candidate = new_candidate(genome, 0, 0, "test")
        assess(candidate, score, settings_)
        population.append(candidate)
        trades = score.value("trades") or 0
        exposure = score.value("exposure_pct") or 0.0
        expected = trades >= 5 and exposure <= 60.0 and score.oos_sharpe is not None
        assert candidate.feasible is expected
        if expected:
            sharpe = score.oos_sharpe
            assert sharpe is not None
            assert candidate.fitness.values == (
                sharpe - 0.05 * candidate.complexity,
                score.value("max_drawdown_pct"),
            )
        else:
            assert candidate.fitness.values[0] <= -INFEASIBLE
    feasible = [c for c in population if c.feasible]
    assert feasible and len(feasible) < len(population)
    chosen = select(population, len(feasible))
    assert all(c.feasible for c in chosen)  # every feasible candidate dominates every infeasible one


def test_the_search_never_repeats_a_genome_or_a_behaviour(problem: Problem) -> None:
    with ThreadExecutor(problem, workers=2) as executor:
        first = Search(config(), executor).run()
        keys = [c.key for c in first.archive]
        assert len(keys) == len(set(keys))
        assert len({c.score.signature for c in first.archive if c.score}) == len(first.archive)
        assert first.trials >= 40 and first.scored == first.trials + first.behaviour_duplicates
        # what is already stored (full fingerprints) is never produced again
        stored = {c.genome.name[4:] + "000000" for c in first.archive}
        again = Search(config(), executor, seen=stored).run()
    assert not {c.key for c in again.archive} & {c.key for c in first.archive}


def test_more_generations_run_until_count_distinct_strategies_were_scored(problem: Problem) -> None:
    with ThreadExecutor(problem, workers=1) as executor:
        result = Search(config(count=60, generations=1), executor).run()
    assert result.trials >= 60 and result.generations > 1


def test_same_seed_same_strategies_whatever_the_executor_and_workers(problem: Problem) -> None:
    runs = []
    for make in (
        lambda: ThreadExecutor(problem, workers=1),
        lambda: ThreadExecutor(problem, workers=2),
        lambda: RecordingExecutor(problem),
    ):
        with make() as executor:
            result = Search(config(seed=77), executor).run()
        runs.append([(c.key, c.seed, c.fitness.values) for c in select(result.archive, 20)])
    assert runs[0] == runs[1] == runs[2]
    with ThreadExecutor(problem, workers=2) as executor:
        other = Search(config(seed=78), executor).run()
    assert [c.key for c in select(other.archive, 20)] != [key for key, _, _ in runs[0]]


def test_the_search_goes_through_the_executor_interface_only(problem: Problem) -> None:
    executor = RecordingExecutor(problem)
    with executor:
        result = Search(config(), executor).run()
    assert executor.closed
    assert CHUNK is None and executor.batches[0] == 16  # the first generation, as one batch
    assert sum(executor.batches) == result.scored
    assert executor.timings().scored == result.scored


@pytest.mark.parametrize("policy", ["uniform", "bandit"])
def test_the_archive_is_the_same_for_any_chunk_size(problem: Problem, policy: str) -> None:
    """Chunks are scored on a worker thread while the next is bred; nothing else changes."""
    runs = []
    for chunk in (1, 5, 1_000):
        executor = RecordingExecutor(problem)
        result = Search(config(seed=31, operator_policy=policy), executor, chunk=chunk).run()
        runs.append([(c.key, c.seed, c.origin, c.fitness.values) for c in result.archive])
        assert max(executor.batches) <= chunk and sum(executor.batches) == result.scored
        assert threading.main_thread().name not in executor.threads  # scored off the breeding thread
    assert runs[0] == runs[1] == runs[2]


def test_progress_is_reported(problem: Problem) -> None:
    seen: list[tuple[int, int, str]] = []
    with ThreadExecutor(problem, workers=1) as executor:
        Search(config(), executor, progress=lambda done, total, note: seen.append((done, total, note))).run()
    assert [done for done, _, _ in seen] == sorted(done for done, _, _ in seen)
    assert seen[-1][0] == seen[-1][1] or seen[-1][0] <= seen[-1][1]
    assert "distinct" in seen[-1][2]


def test_a_stop_request_ends_the_search(problem: Problem) -> None:
    import threading

    from mastertrade.engine.generator.search import SearchStopped

    stop = threading.Event()
    stop.set()
    with ThreadExecutor(problem, workers=1) as executor, pytest.raises(SearchStopped):
        Search(config(), executor, stop=stop).run()


def test_process_pool_scores_equal_thread_scores(problem: Problem) -> None:
    from mastertrade.engine.generator.executor import ProcessExecutor

    genomes = [seed_genome(random.Random(seed), limits=Limits(), **MARKET) for seed in range(6)]
    with ThreadExecutor(problem, workers=1) as threads:
        expected = threads.map(genomes, detail=True)
    with ProcessExecutor(problem, workers=2) as pool:
        scores = pool.map(genomes, detail=True)
        assert pool.timings().scored == len(genomes)
    for a, b in zip(scores, expected, strict=True):
        assert np.array_equal(a.values, b.values, equal_nan=True)
        assert a.value("sharpe", k.ROW_FULL) == b.value("sharpe", k.ROW_FULL)


def test_a_new_candidate_is_what_deaps_creator_makes() -> None:
    genome = seed_genome(random.Random(3), limits=Limits(), **MARKET)
    ours = new_candidate(genome, 7, 2, "mutation")
    theirs = search._candidate_class()(genome, 7, 2, "mutation")
    assert type(ours) is type(theirs) and type(ours.fitness) is type(theirs.fitness)
    assert list(ours.__dict__) == list(theirs.__dict__)  # the same attributes, set in the same order
    assert {k: v for k, v in vars(ours).items() if k != "fitness"} == {
        k: v for k, v in vars(theirs).items() if k != "fitness"
    }
    assert vars(ours.fitness) == vars(theirs.fitness) and not ours.fitness.valid
    assert pickle.dumps(ours) == pickle.dumps(theirs)
    ours.fitness.values = (1.0, 0.5)
    assert not theirs.fitness.valid  # each has its own fitness


def test_a_behaviour_signature_tells_apart_exactly_what_compares_unequal() -> None:
    rows = np.arange(3 * k.METRICS, dtype=np.float64).reshape(3, k.METRICS)
    rows[0, 1], rows[1, 2] = np.nan, 0.0
    same = rows.copy()
    same[0, 1], same[1, 2] = -np.nan, -0.0  # another NaN, the other zero: equal as numbers
    same[2, 0] = 99.0  # a row the signature does not read
    moments = np.zeros(k.MOMENTS)
    assert Score(rows, moments).signature == Score(same, moments).signature
    for row, column in ((0, 0), (1, k.METRICS - 1)):
        other = rows.copy()
        other[row, column] = np.nextafter(other[row, column], np.inf)  # one bit
        assert Score(other, moments).signature != Score(rows, moments).signature


def _deap_select(candidates: list[Candidate], k: int) -> list[Candidate]:
    """What ``select`` did before it ranked in one pass: deap's NSGA-II, then the chosen ranked anew."""
    picked: list[Candidate] = list(tools.selNSGA2(list(candidates), k, nd="log"))
    for rank, front in enumerate(tools.sortLogNondominated(list(picked), len(picked))):
        tools.emo.assignCrowdingDist(front)
        for candidate in front:
            candidate.rank = rank
    return picked


@settings(max_examples=150, deadline=None)
@given(
    points=st.lists(
        st.tuples(st.integers(-6, 6).map(float), st.integers(0, 6).map(float)), min_size=1, max_size=60
    ),
    data=st.data(),
)
def test_fronts_and_selection_are_deaps_to_the_order_and_crowding(
    points: list[tuple[float, float]], data: st.DataObject
) -> None:
    """Few distinct values: many ties, which the order of a front's members (and so the crowding
    distances, and which member of the last front is cut) depends on."""
    population = candidates_at(points)
    k_ = data.draw(st.integers(0, len(points)))
    ours = search.fronts(population, k_)
    theirs = tools.sortLogNondominated(list(population), k_)
    assert [[id(c) for c in front] for front in ours] == [[id(c) for c in front] for front in theirs]
    if k_ == 0 or k_ >= len(points):
        return
    expected = _deap_select(population, k_)
    state = [(c.rank, getattr(c.fitness, "crowding_dist", None)) for c in population]
    for candidate in population:  # what a stale rank or distance would leave behind shows
        candidate.rank, candidate.fitness.crowding_dist = -1, -1.0
    chosen = select(population, k_)
    assert [id(c) for c in chosen] == [id(c) for c in expected]
    assert [(c.rank, c.fitness.crowding_dist) for c in chosen] == [state[population.index(c)] for c in chosen]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), generation=st.integers(0, 300), index=st.integers(0, 10_000))
def test_a_generations_seeds_and_generators_are_derive_and_random(
    seed: int, generation: int, index: int
) -> None:
    place = search._Places(seed, generation)
    assert place(index) == search.derive(seed, generation, index)
    assert place.child(index) == search.derive(seed, generation, index)
    assert place(index, "crossover") == search.derive(seed, generation, index, "crossover")
    assert place.crossover(index) == search.derive(seed, generation, index, "crossover")
    assert place("parents") == search.derive(seed, generation, "parents")
    ours, theirs = search.seeded(seed), random.Random(seed)
    assert type(ours) is random.Random and ours.getstate() == theirs.getstate()
    draws = [
        ours.random(),
        ours.getrandbits(70),
        ours.choice(range(1000)),
        ours.gauss(0.0, 1.0),
        ours.gauss(0.0, 1.0),
    ]
    assert draws == [theirs.random(), theirs.getrandbits(70), theirs.choice(range(1000))] + [
        theirs.gauss(0.0, 1.0),
        theirs.gauss(0.0, 1.0),
    ]


def test_the_complexity_counted_when_built_is_the_rules_counted() -> None:
    from mastertrade.engine.generator.variation import crossover, mutate, rule_nodes

    rng = random.Random(5)
    limits = Limits(max_conditions=8, max_depth=3)
    pool = [seed_genome(rng, limits=limits, **MARKET) for _ in range(40)]
    for _ in range(200):
        first, second = crossover(rng, rng.choice(pool), rng.choice(pool), limits)
        pool += [mutate(rng, first, limits), second]
    for genome in pool:
        counted = search._count(genome.entry) + (0 if genome.exit is None else search._count(genome.exit))
        assert rule_nodes(genome) in (None, counted) and search.complexity(genome) == counted
        assert search.complexity(genome.model_copy()) == counted  # not built: counted
    assert sum(rule_nodes(genome) is not None for genome in pool) > 300


def test_values_read_together_are_the_values_read_one_by_one() -> None:
    rows = np.arange(5 * k.METRICS, dtype=np.float64).reshape(5, k.METRICS) / 7.0
    rows[0, 0], rows[0, 1], rows[1, 2] = np.nan, np.inf, -np.inf
    score = Score(rows, np.zeros(k.MOMENTS))
    keys = tuple(k.KERNEL_KEYS)
    for row in (k.ROW_OOS, k.ROW_IS):
        assert score.values_of(keys, row) == [score.value(key, row) for key in keys]
    assert score.values_of(keys)[:2] == [None, None]


def test_a_behaviour_signature_is_the_bytes_it_always_was() -> None:
    """The rows with NaN read as -1 and -0.0 as 0.0, as ``np.where`` wrote them before."""
    rng = np.random.default_rng(3)
    for _ in range(50):
        rows = rng.choice([np.nan, -0.0, 0.0, 1.5, -2.25, np.inf, -np.inf], size=(k.rows(3), k.METRICS))
        old = rows[k.ROW_OOS : k.ROW_IS + 1]
        expected = (np.where(old != old, -1.0, old) + 0.0).tobytes()
        score = Score(rows, np.zeros(k.MOMENTS))
        assert score.signature == expected
        assert np.array_equal(score.values, rows, equal_nan=True)  # the score's own rows untouched
