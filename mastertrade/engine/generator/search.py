"""The genetic search: NSGA-II over strategy genomes, scored on the search window only.

**Objectives.** Every candidate is scored by walk-forward (:mod:`.evaluation`) over the problem it is
given, which the pipeline builds from the **search window** alone (the hold-out, the newest bars of the
lookback, is never part of it; see :mod:`.holdout`). Selection looks only at the stitched curve of the
walk-forward's test folds (called OOS below: out of sample for each fold, but seen, and optimised, by
the search), with two objectives (deap's ``selNSGA2``):

1. maximise the OOS Sharpe ratio minus ``complexity_penalty`` per condition and group of its rules;
2. minimise the OOS maximum drawdown.

**Constraints.** A candidate with fewer than ``min_trades`` closed OOS trades, more than
``max_exposure_pct`` of the OOS bars in a position, no defined OOS Sharpe ratio, or that could not be
scored, is infeasible: its objectives are set so that every feasible candidate dominates it, and among
infeasible ones the smaller violation wins (constraint domination).

**Loop.** A random first generation (``population`` genomes on the search grids; or, given ``seeds``,
those genomes and mutations of them, so ``mt optimize --evolve`` grows a trader's strategy), then
``generations`` rounds of: binary tournaments on (Pareto rank, crowding distance), crossover of rule
subtrees, mutation, scoring of the new children, and NSGA-II survivor selection over parents and
children. More rounds run
while fewer than ``count`` distinct strategies were scored (until the search stops finding new ones).
A generation is scored on a worker thread; given a ``chunk`` size, each chunk of it is scored there
while the search breeds the next one (:class:`_Scoring`, off by default: see ``CHUNK``).

**Duplicates.** A child whose canonical fingerprint (its first ``KEY_DIGITS`` hex digits, which its name
carries) was seen before (in this run, or stored by an earlier
run for the same market) is mutated again, up to a few times, then dropped unscored. A scored child whose
results equal an earlier candidate's to the last bit in every window (a behavioural duplicate: different
rules, same trades) is dropped too. The archive holds every distinct scored candidate; the trial count of
the deflated Sharpe ratio is its size.

**Determinism.** All randomness comes from ``random.Random`` instances seeded from the run's seed and
the individual's place (generation, index), never from global state or from evaluation order, and
scores do not depend on how batches were cut: the same seed and data give the same strategies for any
worker count or chunk size (nothing reads a score before its whole generation is scored). deap's own
selection helpers that draw from the global ``random`` are not used.
"""

from __future__ import annotations

import _random
import hashlib
import math
import random
import threading
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deap import base, creator, tools

from mastertrade.engine.generator.collector import CollectorPause
from mastertrade.engine.generator.evaluation import Score
from mastertrade.engine.generator.variation import (
    KEY_DIGITS,
    Draft,
    Limits,
    crossover_drafts,
    finished,
    genome_key,
    mutate,
    named,
    rule_nodes,
    seed_genome,
)
from mastertrade.engine.signals.genome import AllOf, AnyOf

if TYPE_CHECKING:
    from concurrent.futures import Future
    from concurrent.futures import ThreadPoolExecutor as ThreadPool
    from pathlib import Path as PathType

    from mastertrade.engine.generator.executor_base import Executor
    from mastertrade.engine.generator.operator_bandit import OperatorBandit, Ticket
    from mastertrade.engine.signals.genome import Genome

Progress = Callable[[int, int, str], None]
"""``progress(done, total, message)``: candidates scored so far and the expected total."""

INFEASIBLE = 1_000.0
"""Objective offset of infeasible candidates: below any real Sharpe ratio, above any real drawdown."""
RETRIES = 5
"""Extra mutations of a child that duplicates a seen genome before it is dropped."""
STALL_GENERATIONS = 5
"""Extra rounds (beyond ``generations``) stop after this many rounds without a new distinct candidate."""
MAX_EXTRA_GENERATIONS = 200
"""Extra rounds stop after this many past ``generations`` even while new candidates still come."""
CHUNK: int | None = None
"""Candidates per batch handed to the executor (``None``: a whole generation, one batch). Chunks overlap
breeding with scoring, which pays only where scoring releases the GIL. Measured again on 2026-12-03 on
this 2-core machine (one year of 1h bars, ``--count 500``, every indicator on nogil kernels, OBV and VWAP
included): after the first generation, scoring one is 13-18 ms (indicators 4-6, signals 5-7 holding the
GIL, the kernel 4-7) beside 30-35 ms of breeding, so overlap could save 15 ms a generation at most, and
the first generation's wait is numba's one-time set-up (Python, GIL-bound), which chunks cannot hide.
Chunks of 64 and of 32 cost 5-25% more CPU in the search (four interleaved runs each: 1.25-1.42 CPU
seconds whole, 1.32-1.76 at 64, 1.44-1.77 at 32; load average 5-10 from other work) and saved no wall
time that could be told from the noise. Off; the strategies are the same for any chunk size. Nor was the
hand-over of the GIL what held chunks back: with ``sys.setswitchinterval`` at 0.5 ms (and chunks of 32, or
16 at 0.2 ms) the search kept 1.07-1.31 cores busy against 0.97-1.28 with the defaults (2026-12-04, three
interleaved rounds, load 2-3 from other work), and took no less time. Measured once more after the signals
became one compiled call per batch (``signals.program``, no GIL), the same day: at 5y chunks of 64 kept
1.57-1.58 cores busy against 1.50-1.55 whole, but the search took 0.89-0.90 s against 0.83-0.90 s (the
indicators, whose Python parts wait for the breeding thread's GIL, went from 0.19 s to 0.24 s); at 1y
0.64-0.70 s against 0.55-0.63 s; chunks of 32 no better (two interleaved rounds, load about 1).

Overlapping whole generations instead (breeding g+1 from the population before g's children are scored,
so selection lags one generation) was built and measured the same day, and not kept: on two cores the
breeding thread takes CPU from scoring's compiled threads (indicators 0.11-0.13 s became 0.37-0.42 s), so
cores busy did not rise and the search was 4% faster at 1y and no faster at 5y (four interleaved pairs
each, load 2-7), while the lagging parents cost quality: over seeds 1-6 at 1y the median search-window
Sharpe ratio of the stored strategies fell in all six (mean 1.47 -> 0.99) and the best in five.

Breeding became cheaper after these measurements (2026-12-05: 1.41 times in thread CPU time a child at
1y, 1.44 at 5y, see :mod:`.variation`), which leaves chunks even less breeding to hide."""


def derive(seed: int, *parts: object) -> int:
    """A 63-bit seed from the run's seed and a place (independent of Python's hash randomisation)."""
    text = ":".join(str(part) for part in (seed, *parts)).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") >> 1


class _Places:
    """:func:`derive` for the places of one generation, ``derive(seed, generation, *parts)``, with the
    text the seeds of a generation share encoded once (the search derives one or two seeds a child)."""

    __slots__ = ("prefix",)

    def __init__(self, seed: int, generation: int) -> None:
        self.prefix = f"{seed}:{generation}:".encode()

    def __call__(self, *parts: object) -> int:
        text = self.prefix + ":".join(map(str, parts)).encode()
        return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") >> 1

    def crossover(self, pair: int) -> int:
        """``self(pair, "crossover")``: the seed of a pair's crossover."""
        digest = hashlib.blake2b(self.prefix + b"%d:crossover" % pair, digest_size=8).digest()
        return int.from_bytes(digest, "big") >> 1

    def child(self, index: int) -> int:
        """``self(index)``: the seed of the generation's ``index``-th child."""
        digest = hashlib.blake2b(self.prefix + b"%d" % index, digest_size=8).digest()
        return int.from_bytes(digest, "big") >> 1


def seeded(seed: int) -> random.Random:
    """``random.Random(seed)`` for an int ``seed`` (the same state, so the same draws), without the
    Python layers of its ``__init__`` and ``seed`` over the generator's own seeding (what they do for
    an int: seed it, and clear the cached normal variate). The search seeds one or two a child."""
    rng = _NEW_RANDOM(random.Random)
    _SEED_RANDOM(rng, seed)
    rng.gauss_next = None  # type: ignore[attr-defined]  # (Random.__init__ sets it; typeshed omits it)
    return rng


_NEW_RANDOM = random.Random.__new__
_SEED_RANDOM = _random.Random.seed


class SearchStopped(Exception):
    """The search was asked to stop (the daemon is stopping) before it finished."""


@dataclass(frozen=True)
class SearchConfig:
    """What one search does (built from ``[generator]`` by the pipeline)."""

    symbol: str
    timeframe: str
    seed: int
    count: int = 500
    population: int = 128
    generations: int = 12
    crossover_prob: float = 0.5
    mutation_prob: float = 0.9
    limits: Limits = field(default_factory=Limits)
    complexity_penalty: float = 0.05
    min_trades: int = 10
    max_exposure_pct: float = 95.0
    operator_policy: str = "uniform"
    """How variation operators are chosen: "uniform" (fixed) or "bandit" (:mod:`.operator_bandit`)."""
    operator_state: PathType | None = None
    """Where the bandit's state persists between runs (None: not persisted)."""

    @property
    def population_size(self) -> int:
        return max(4, self.population + (-self.population) % 2)


class Candidate:
    """One scored (or to-be-scored) genome and where it came from."""

    fitness: Any  # deap's Fitness, set by the class deap's creator builds

    def __init__(self, genome: Genome, seed: int, generation: int, origin: str) -> None:
        self.genome = genome
        self.key = genome_key(genome)
        self.seed = seed
        self.generation = generation
        self.origin = origin
        self.score: Score | None = None
        self.complexity = complexity(genome)
        self.violation = 0.0
        self.rank = 0

    @property
    def feasible(self) -> bool:
        return self.score is not None and self.violation == 0.0


def _candidate_class() -> type[Candidate]:
    # deap's creator registers classes globally, once per process
    if not hasattr(creator, "MTGenFitness"):
        creator.create("MTGenFitness", base.Fitness, weights=(1.0, -1.0))
    if not hasattr(creator, "MTGenCandidate"):
        creator.create("MTGenCandidate", Candidate, fitness=creator.MTGenFitness)
    cls: type[Candidate] = creator.MTGenCandidate
    _FITNESS[0] = creator.MTGenFitness
    return cls


_FITNESS: list[Any] = [None]
"""deap's fitness class for candidates (set with the candidate class)."""


def new_candidate(genome: Genome, seed: int, generation: int, origin: str) -> Candidate:
    """``creator.MTGenCandidate(genome, seed, generation, origin)``, as deap's creator makes it (a fresh
    ``MTGenFitness()`` set as ``fitness``, then ``Candidate.__init__``) without its generic ``__init__``,
    which looks up and calls what it sets on every candidate; deap's ``Fitness()`` with no values
    sets nothing on the instance (its class holds the empty values)."""
    cls = _candidate_class()
    candidate = cls.__new__(cls)
    fitness = _FITNESS[0]
    candidate.fitness = fitness.__new__(fitness)
    Candidate.__init__(candidate, genome, seed, generation, origin)
    return candidate


def complexity(genome: Genome) -> int:
    """Conditions plus all/any groups of both rules: what the complexity penalty counts (counted when
    the genome was built, for one the search bred)."""
    known = rule_nodes(genome)
    if known is not None:
        return known
    total = _count(genome.entry)
    return total if genome.exit is None else total + _count(genome.exit)


def _count(rule: Any) -> int:
    return 1 + sum(map(_count, rule.children)) if isinstance(rule, _GROUPS) else 1


_GROUPS = (AllOf, AnyOf)


def assess(candidate: Candidate, score: Score, config: SearchConfig) -> None:
    """Set the candidate's score, constraint violation and deap fitness (see the module docstring)."""
    candidate.score = score
    violation = 0.0
    sharpe, trades_value, exposure_value, drawdown = score.values_of(_ASSESSED)
    if score.error is not None:
        violation += 10.0
    if sharpe is None:
        violation += 1.0
    trades = trades_value or 0.0
    if trades < config.min_trades:
        violation += (config.min_trades - trades) / max(config.min_trades, 1)
    exposure = exposure_value or 0.0
    if exposure > config.max_exposure_pct:
        violation += (exposure - config.max_exposure_pct) / 100.0
    candidate.violation = violation
    if violation > 0 or sharpe is None or drawdown is None:
        candidate.fitness.values = (-INFEASIBLE - violation, INFEASIBLE + violation)
    else:
        candidate.fitness.values = (sharpe - config.complexity_penalty * candidate.complexity, drawdown)


_ASSESSED = ("sharpe", "trades", "exposure_pct", "max_drawdown_pct")
"""The out-of-sample values :func:`assess` reads."""


def ranked(candidates: Sequence[Candidate]) -> None:
    """Set each candidate's Pareto rank (0 = non-dominated) and crowding distance."""
    for rank, front in enumerate(fronts(candidates, len(candidates))):
        tools.emo.assignCrowdingDist(front)
        for candidate in front:
            candidate.rank = rank


def select(candidates: Sequence[Candidate], k: int) -> list[Candidate]:
    """NSGA-II selection of ``k`` candidates: whole Pareto fronts first, the last one cut by crowding.

    deap's ``selNSGA2(candidates, k, nd="log")`` followed by :func:`ranked` of what it chose, in one
    pass: the fronts of the chosen are the fronts they were chosen from (a member of a later front is
    dominated by one of the whole front before it), and those taken whole keep their members in the same
    order, so their crowding distances stand; only the last front, cut by crowding, has its distances
    computed again over what was taken of it. (Taken in crowding order, not in the order :func:`ranked`
    would list them; but in a front two different fitnesses differ in both objectives, so the sorts
    that compute the distances tie only candidates of one fitness, whose order is kept.)"""
    if k >= len(candidates):
        chosen = list(candidates)
        ranked(chosen)
        return sorted(chosen, key=lambda c: (c.rank, -c.fitness.crowding_dist))
    found = fronts(candidates, k)
    for front in found:
        tools.emo.assignCrowdingDist(front)
    picked = [candidate for front in found[:-1] for candidate in front]
    rest = k - len(picked)
    if rest > 0:  # (what selNSGA2 does: the last front by crowding, widest first, ties as they come)
        picked.extend(sorted(found[-1], key=_crowding, reverse=True)[:rest])
    for rank, front in enumerate(found[:-1]):
        for candidate in front:
            candidate.rank = rank
    last = picked[len(picked) - rest :]  # one front, in the order it was taken (as ranked would take it)
    tools.emo.assignCrowdingDist(last)
    for candidate in last:
        candidate.rank = len(found) - 1
    return picked


def _crowding(candidate: Candidate) -> float:
    return candidate.fitness.crowding_dist  # type: ignore[no-any-return]


def fronts(candidates: Sequence[Candidate], k: int) -> list[list[Candidate]]:
    """deap's ``sortLogNondominated(candidates, k)`` for the search's two objectives: the Pareto fronts,
    best first, until they hold ``k`` candidates; in each, the distinct fitnesses in descending order and
    the candidates of one fitness in the order given (which the crowding distances depend on).

    With the distinct fitnesses sorted descending, a fitness is dominated exactly by the earlier ones
    whose second weighted value is at least its own, so its front is the first whose greatest second
    value so far is below its own (the greatest values fall from front to front: a bisection). The same
    fronts as deap's divide-and-conquer sort (tested), a fraction of its cost; a fitness that is not
    finite (which the search never gives) goes to deap's."""
    if k == 0 or not candidates:
        return []
    groups: dict[tuple[float, ...], list[Candidate]] = {}
    for candidate in candidates:
        weighted = candidate.fitness.wvalues
        group = groups.get(weighted)
        if group is None:
            groups[weighted] = [candidate]
        else:
            group.append(candidate)
    fitnesses = sorted(groups, reverse=True)
    if len(fitnesses[0]) != 2 or not all(math.isfinite(a) and math.isfinite(b) for a, b in fitnesses):
        return tools.sortLogNondominated(list(candidates), k)  # type: ignore[no-any-return]
    lowest: list[float] = []  # per front, minus the greatest second value so far (ascending)
    found: list[list[Candidate]] = []
    for fitness in fitnesses:
        second = -fitness[1]
        front = bisect_right(lowest, second)
        if front == len(lowest):
            lowest.append(second)
            found.append(list(groups[fitness]))
        else:
            lowest[front] = second
            found[front].extend(groups[fitness])
    count = 0
    for index, front_members in enumerate(found):
        count += len(front_members)
        if count >= k:
            return found[: index + 1]
    return found


def tournament(rng: random.Random, population: Sequence[Candidate], count: int) -> list[Candidate]:
    """``count`` parents, each the better of two drawn at random (lower rank, then wider crowding)."""
    parents = []
    for _ in range(count):
        first, second = rng.choice(population), rng.choice(population)
        key_first = (first.rank, -first.fitness.crowding_dist)
        key_second = (second.rank, -second.fitness.crowding_dist)
        if key_first == key_second:
            parents.append(first if rng.random() < 0.5 else second)
        else:
            parents.append(first if key_first < key_second else second)
    return parents


@dataclass
class SearchResult:
    """What a search found: every distinct scored candidate (``archive``) and its bookkeeping."""

    archive: list[Candidate]
    scored: int
    """Candidates sent to scoring (behavioural duplicates included)."""
    genome_duplicates: int
    """Children dropped unscored because their fingerprint was seen before."""
    behaviour_duplicates: int
    """Scored children dropped because they traded exactly like an earlier candidate."""
    generations: int
    breeding_s: float

    @property
    def trials(self) -> int:
        return len(self.archive)


class Search:
    """One NSGA-II search (see the module docstring). ``seen`` holds fingerprints to avoid (strategies
    already stored for the market); setting ``stop`` ends it between generations (``SearchStopped``)."""

    def __init__(
        self,
        config: SearchConfig,
        executor: Executor,
        *,
        seen: Iterable[str] = (),
        progress: Progress | None = None,
        stop: threading.Event | None = None,
        seeds: Sequence[Genome] = (),
        chunk: int | None = CHUNK,
    ) -> None:
        self.config = config
        self.chunk = None if chunk is None else max(1, chunk)
        self.seeds = [named(genome.bind(config.symbol, config.timeframe)) for genome in seeds]
        self.stop = stop
        self.executor = executor
        self.seen: set[str] = {key[:KEY_DIGITS] for key in seen}
        self.signatures: set[bytes] = set()
        self.archive: list[Candidate] = []
        self.progress = progress
        self.scored = 0
        self.genome_duplicates = 0
        self.behaviour_duplicates = 0
        self.breeding_s = 0.0
        self.operators: OperatorBandit | None = None
        if config.operator_policy == "bandit":
            from mastertrade.engine.generator.operator_bandit import OperatorBandit

            self.operators = OperatorBandit.load(config.operator_state)

    @property
    def expected(self) -> int:
        size = self.config.population_size
        return size * (1 + self.config.generations)

    def run(self) -> SearchResult:
        from concurrent.futures import ThreadPoolExecutor

        with (
            CollectorPause() as collector,
            ThreadPoolExecutor(1, thread_name_prefix="mt-search-scoring") as pool,
        ):
            try:
                generation = self._evolve(pool, collector)
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)  # no chunk left to score for nothing
                raise
        if self.operators is not None:
            self.operators.save()
        return SearchResult(
            archive=self.archive,
            scored=self.scored,
            genome_duplicates=self.genome_duplicates,
            behaviour_duplicates=self.behaviour_duplicates,
            generations=generation,
            breeding_s=self.breeding_s,
        )

    def _evolve(self, pool: ThreadPool, collector: CollectorPause) -> int:
        """The generations (see the module docstring), chunks scored on ``pool``; how many ran. The
        garbage collector's young generations are collected after each (:mod:`.collector`)."""
        config = self.config
        size = config.population_size
        population = self._kept(self._first_generation(size, _Scoring(self.executor, pool, self.chunk)))
        population = select(population, size)
        collector.generation_done()
        generation = 0
        stalled = 0
        while generation < config.generations or (
            len(self.archive) < config.count
            and stalled < STALL_GENERATIONS
            and generation < config.generations + MAX_EXTRA_GENERATIONS
        ):
            if self.stop is not None and self.stop.is_set():
                raise SearchStopped(f"stopped after {generation} generations")
            generation += 1
            before = len(self.archive)
            bred = self._offspring(population, generation, _Scoring(self.executor, pool, self.chunk))
            population = select(population + self._kept(bred), size)
            collector.generation_done()
            stalled = stalled + 1 if len(self.archive) == before else 0
        return generation

    # --- making candidates ------------------------------------------------------------------------

    def _first_generation(self, size: int, found: _Scoring) -> _Scoring:
        if self.seeds:
            return self._seeded_generation(size, found)
        started = time.perf_counter()
        config = self.config
        index = 0
        place = _Places(config.seed, 0)
        while len(found) < size and index < size * 20:
            seed = place.child(index)
            genome = seed_genome(
                seeded(seed), symbol=config.symbol, timeframe=config.timeframe, limits=config.limits
            )
            index += 1
            if self._unseen(genome):
                found.add(new_candidate(genome, seed, 0, "random"))
        self.breeding_s += time.perf_counter() - started
        return found

    def _seeded_generation(self, size: int, found: _Scoring) -> _Scoring:
        """The seeds (unless seen before) and, up to ``size``, mutations of them: the i-th draw mutates
        seed ``i mod len(seeds)`` one to three times (more steps, more distance from the seed)."""
        started = time.perf_counter()
        config = self.config
        for index, genome in enumerate(self.seeds):
            if self._unseen(genome):
                found.add(new_candidate(genome, derive(config.seed, 0, "seed", index), 0, "seed"))
        index = 0
        while len(found) < size and index < size * 20:
            seed = derive(config.seed, 0, "seed mutation", index)
            rng = random.Random(seed)
            genome = self.seeds[index % len(self.seeds)]
            for _ in range(rng.randint(1, 3)):
                genome = mutate(rng, genome, config.limits)
            index += 1
            if self._unseen(genome):
                found.add(new_candidate(genome, seed, 0, "seed mutation"))
        self.breeding_s += time.perf_counter() - started
        return found

    def _unseen(self, genome: Genome) -> bool:
        """Whether a genome was never scored on this series (it is then remembered as seen); a genome
        seen before counts as a duplicate."""
        key = genome_key(genome)
        if key in self.seen:
            self.genome_duplicates += 1
            return False
        self.seen.add(key)
        return True

    def _offspring(self, population: Sequence[Candidate], generation: int, children: _Scoring) -> _Scoring:
        started = time.perf_counter()
        config = self.config
        size = config.population_size
        place = _Places(config.seed, generation)
        parents = tournament(seeded(place("parents")), population, size)
        for pair in range(0, size, 2):
            first: Genome | Draft = parents[pair].genome
            second: Genome | Draft = parents[pair + 1].genome
            pair_rng = seeded(place.crossover(pair))
            origin = "mutation"
            rate, arm = config.crossover_prob, None
            if self.operators is not None:
                rate, arm = self.operators.crossover_rate(pair_rng)
            crossed = pair_rng.random() < rate
            if crossed:
                first, second = crossover_drafts(
                    pair_rng, parents[pair].genome, parents[pair + 1].genome, config.limits
                )
                origin = "crossover"
            for offset, genome in enumerate((first, second)):
                seed = place.child(pair + offset)
                ticket = None
                if self.operators is not None:
                    own = parents[pair + offset].fitness.values[0]
                    best = max(own, parents[pair + 1 - offset].fitness.values[0]) if crossed else own
                    ticket = self.operators.ticket(best, arm)
                child = self._vary(seeded(seed), genome, origin, ticket)
                if ticket is not None and self.operators is not None:
                    self.operators.track(seed, ticket)
                if child is not None:
                    children.add(new_candidate(child[0], seed, generation, child[1]))
                elif self.operators is not None:
                    self.operators.observe(seed, -math.inf)  # only duplicates: a failure
        self.breeding_s += time.perf_counter() - started
        return children

    def _vary(
        self, rng: random.Random, genome: Genome | Draft, origin: str, ticket: Ticket | None = None
    ) -> tuple[Genome, str] | None:
        """The child (mutated with ``mutation_prob``, again while its fingerprint was seen) and its
        origin; ``None`` when it stayed a duplicate. A crossover child comes as a draft: mostly mutated
        at once, it is made a genome only if it is kept as it is."""
        limits = self.config.limits
        choose = None if ticket is None or self.operators is None else self.operators.chooser(ticket)
        if rng.random() < self.config.mutation_prob:
            genome = mutate(rng, genome, limits, choose)
            origin = "mutation" if origin != "crossover" else "crossover+mutation"
        for _ in range(RETRIES + 1):
            key = genome_key(genome)
            if key not in self.seen:
                self.seen.add(key)
                return finished(genome), origin
            genome = mutate(rng, genome, limits, choose)
            origin = "mutation"
        self.genome_duplicates += 1
        return None

    # --- scoring ----------------------------------------------------------------------------------

    def _kept(self, scoring: _Scoring) -> list[Candidate]:
        """The candidates' scores (waiting for the chunks still being scored), assessed in the order they
        were bred; the behaviourally new ones are archived and returned."""
        scored = scoring.results()
        if not scored:
            return []
        self.scored += len(scored)
        kept = []
        for candidate, score in scored:
            assess(candidate, score, self.config)
            if self.operators is not None:
                self.operators.observe(candidate.seed, candidate.fitness.values[0])
            signature = score.signature
            if score.error is None and signature in self.signatures:
                self.behaviour_duplicates += 1
                continue
            self.signatures.add(signature)
            self.archive.append(candidate)
            kept.append(candidate)
        if self.progress is not None:
            best = max((c.fitness.values[0] for c in self.archive if c.feasible), default=math.nan)
            note = f"{len(self.archive)} distinct" + (
                f", best search score {best:.2f}" if math.isfinite(best) else ""
            )
            self.progress(self.scored, max(self.expected, self.scored), note)
        return kept


class _Scoring:
    """The candidates of one generation, scored chunk by chunk while the next chunk is bred (one chunk,
    the whole generation, when ``chunk`` is None).

    Breeding a child is Python (it holds the GIL); where scoring a chunk is compiled code that releases it
    (the walk-forward kernel, compiled indicators), a worker thread scores chunk ``i`` while the search
    breeds chunk ``i + 1`` on the calling thread and both cores work. One worker: the executor sees one
    batch at a time, as before. Nothing the search decides depends on a score before the generation is
    complete (selection, the operator bandit's observations and the archive wait for ``results``, which
    are in breeding order), so the archive is the same for any chunk size."""

    def __init__(self, executor: Executor, pool: ThreadPool, chunk: int | None) -> None:
        self.executor = executor
        self.pool = pool
        self.chunk = chunk
        self.pending: list[Candidate] = []
        self.submitted: list[tuple[list[Candidate], Future[list[Score]]]] = []
        self.count = 0

    def __len__(self) -> int:
        return self.count

    def add(self, candidate: Candidate) -> None:
        self.pending.append(candidate)
        self.count += 1
        if self.chunk is not None and len(self.pending) >= self.chunk:
            self._submit()

    def _submit(self) -> None:
        if self.pending:
            genomes = [candidate.genome for candidate in self.pending]
            self.submitted.append((self.pending, self.pool.submit(self.executor.map, genomes)))
            self.pending = []

    def results(self) -> list[tuple[Candidate, Score]]:
        """Every candidate with its score, in the order they were added."""
        self._submit()
        found: list[tuple[Candidate, Score]] = []
        for candidates, future in self.submitted:
            found.extend(zip(candidates, future.result(), strict=True))
        return found
