"""One generation run: candles -> search -> validation -> stored strategies, recorded as a generation run.

``generate(db, settings, request)`` is what ``mt generate`` and the nightly job call:

1. read the newest ``lookback_bars`` candles of the series (on a replay, the newest closed by its market
   time: ``market.as_of``) and cut them (:mod:`.holdout`) into the
   **search window** (the older ``1 - holdout_fraction``) and the **hold-out** (the newest bars);
2. search (:mod:`.search`) through the configured executor on the search window only (its own inner
   walk-forward folds), avoiding every fingerprint already stored for the market; besides prices and
   indicators it may draw the forecasts stored for the series (:mod:`.terms`);
3. choose the ``count`` best distinct candidates by NSGA-II (whole Pareto fronts first);
4. judge them: the search-window metrics (stored under ``search``, ``in_sample``, ``metrics`` and
   ``folds``; the search optimised these), the run's PBO over the chosen (:mod:`.pbo`), then **once** a
   plain backtest of each on the hold-out (stored as ``out_of_sample``), its deflated Sharpe ratio
   counting every trial of the series in the registry (:mod:`.trials`), the filter on the hold-out
   (:mod:`.validation`), and for the finalists a re-run on the reference engine;
5. store them, each with its path ``generated -> backtested -> passed|failed`` and the reasons, and add
   the run's trials to the registry, each candidate with its key so that no run counts it twice.

The CPU-bound steps 2 to 4 run in a worker thread (``asyncio.to_thread``), so a daemon keeps serving
while its nightly run computes; the kernels release the GIL. The run is recorded in ``generation_runs``
with its parameters, counts, timings and outcome, also when it fails.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from mastertrade.engine.generator.states import State
from mastertrade.engine.generator.store import NewStrategy, StoredStrategy, StrategyStore
from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from mastertrade.config import GeneratorSettings, Settings
    from mastertrade.db.database import Database
    from mastertrade.engine.generator.evaluation import Problem, Score
    from mastertrade.engine.generator.executor_base import Executor
    from mastertrade.engine.generator.search import Candidate, SearchConfig
    from mastertrade.engine.generator.trials import Lookup, Tally
    from mastertrade.engine.generator.variation import Pool
    from mastertrade.engine.market.store import SeriesKey
    from mastertrade.engine.signals.genome import Genome
    from mastertrade.engine.signals.indicators import IndicatorCache

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class GenerationRequest:
    """What to generate; ``None`` takes the ``[generator]`` setting (the seed: a random one)."""

    symbol: str
    timeframe: str
    exchange: str | None = None
    count: int | None = None
    seed: int | None = None
    workers: int | None = None
    population: int | None = None
    generations: int | None = None
    lookback_bars: int | None = None
    trigger: str = "cli"
    executor: str | None = None
    scheduler: str | None = None
    seeds: tuple[Genome, ...] = ()
    """Genomes the first generation starts from (with mutations of them) instead of random ones."""
    until: int | None = None
    """A market time (epoch ms): only the bars closed by then are read, the lookback the newest of them
    (a replay's market time: its store holds bars it has yet to play, ``market.as_of``)."""


@dataclass
class GenerationSummary:
    """The outcome of one run (``strategies``: those stored, best first)."""

    run_id: int
    series: SeriesKey
    seed: int
    data: dict[str, Any]
    counts: dict[str, int]
    timings: dict[str, float]
    strategies: list[StoredStrategy] = field(default_factory=list)
    selection: dict[str, Any] = field(default_factory=dict)
    """The trials the deflated Sharpe ratio counted (this run's and the registry's) and the run's PBO."""

    @property
    def passed(self) -> list[StoredStrategy]:
        return [s for s in self.strategies if s.state is State.PASSED]

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "exchange": self.series.exchange,
            "symbol": self.series.symbol,
            "timeframe": self.series.timeframe,
            "simulated": self.series.simulated,
            "seed": self.seed,
            "data": self.data,
            "counts": self.counts,
            "timings": self.timings,
            "selection": self.selection,
            "strategies": [strategy_row(s) for s in self.strategies],
        }


def strategy_row(strategy: StoredStrategy) -> dict[str, Any]:
    """The one-line summary of a stored strategy (``mt generate`` and ``mt strategy list``)."""

    held, searched = strategy.holdout, strategy.search
    trials = strategy.selection.get("deflated_trials") or {}
    return {
        "id": strategy.id,
        "name": strategy.name,
        "state": strategy.state.value,
        "symbol": strategy.symbol,
        "timeframe": strategy.timeframe,
        "holdout_sharpe": held.get("sharpe"),
        "holdout_return_pct": held.get("return_pct"),
        "holdout_max_drawdown_pct": held.get("max_drawdown_pct"),
        "holdout_trades": held.get("trades"),
        "search_sharpe": searched.get("sharpe"),
        "deflated_sharpe": strategy.deflated_sharpe,
        "deflated_trials": trials.get("trials"),
        "reference_agrees": strategy.reference_agrees,
        "description": strategy.description(),
    }


def search_config(
    settings: Settings, request: GenerationRequest, seed: int, features: Pool = ()
) -> SearchConfig:
    """The search of ``request``; ``features``: the feature terms it may draw (:mod:`.terms`)."""
    from mastertrade.engine.generator.search import SearchConfig
    from mastertrade.engine.generator.variation import Limits

    config = settings.generator
    return SearchConfig(
        symbol=request.symbol,
        timeframe=request.timeframe,
        seed=seed,
        count=request.count or config.count,
        population=request.population or config.population,
        generations=config.generations if request.generations is None else request.generations,
        crossover_prob=config.crossover_prob,
        mutation_prob=config.mutation_prob,
        limits=Limits(max_conditions=config.max_conditions, features=features),
        complexity_penalty=config.complexity_penalty,
        min_trades=config.min_trades,
        max_exposure_pct=config.max_exposure_pct,
        operator_policy=config.operator_policy,
        operator_state=operator_state_path(request.symbol, request.timeframe),
    )


def operator_state_path(symbol: str, timeframe: str) -> Path:
    """Where the operator bandit of a series persists (under the data dir)."""
    from mastertrade.engine.generator.operator_bandit import state_path
    from mastertrade.locations import locations

    return state_path(locations().data_dir, symbol, timeframe)


def check_request(request: GenerationRequest) -> None:
    """Refuse (``UserInputError``, naming it) a value no run can take. The sizes have the ``[generator]``
    settings' upper bounds: past them ``--workers 10**30`` ended in an OverflowError traceback from the
    numba kernels, and ``--population 2**63`` searched until killed, after the run's row was written."""
    for name in ("count", "workers", "lookback_bars"):
        value = getattr(request, name)
        if value is not None and value < 1:
            raise UserInputError(f"invalid {name.replace('_', ' ')} {value}: must be >= 1")
    if request.population is not None and request.population < 4:
        raise UserInputError(f"invalid population {request.population}: must be >= 4")
    if request.generations is not None and request.generations < 0:
        raise UserInputError(f"invalid generations {request.generations}: must be >= 0")
    for name in ("count", "workers", "population", "generations"):
        value, most = getattr(request, name), _setting_upper_bound(name)
        if value is not None and value > most:
            raise UserInputError(f"invalid {name} {value}: at most {most:,} (the [generator] {name} bound)")
    if request.seed is not None and not 0 <= request.seed < 2**63:
        raise UserInputError(f"invalid seed {request.seed}: must be between 0 and 2**63 - 1")
    if request.executor is not None and request.executor not in ("threads", "processes", "dask"):
        raise UserInputError(f"unknown executor {request.executor!r}: choose threads, processes or dask")
    if request.executor == "dask":
        from mastertrade.engine.generator.cluster_address import require_dask

        require_dask()
    if request.scheduler is not None:
        from mastertrade.engine.generator.cluster_address import check_address

        check_address(request.scheduler)


def _setting_upper_bound(name: str) -> int:
    """The ``le`` bound of the ``[generator]`` setting ``name``: a request's override is held to it too."""
    from mastertrade.config import GeneratorSettings

    metadata = GeneratorSettings.model_fields[name].metadata
    return int(next(item.le for item in metadata if getattr(item, "le", None) is not None))


def preload() -> None:
    """Import now every module a run imports when it gets there (numba with the compiled kernels'
    modules, the search, the validation) and let numba start up: a one-shot command (``mt generate``)
    calls this during its start-up, while its garbage collector is off, then freezes what it built (see
    ``cli.generate``)."""
    import numpy as np

    import mastertrade.db.migrate
    import mastertrade.engine.backtest.runner
    import mastertrade.engine.collectors.provider
    import mastertrade.engine.collectors.store
    import mastertrade.engine.generator.deflated
    import mastertrade.engine.generator.evaluation
    import mastertrade.engine.generator.executor
    import mastertrade.engine.generator.holdout
    import mastertrade.engine.generator.operator_bandit
    import mastertrade.engine.generator.pbo
    import mastertrade.engine.generator.pbo_kernel
    import mastertrade.engine.generator.plain_batch
    import mastertrade.engine.generator.search
    import mastertrade.engine.generator.terms
    import mastertrade.engine.generator.trials
    import mastertrade.engine.generator.validation
    import mastertrade.engine.market.store
    import mastertrade.engine.research.series
    import mastertrade.engine.signals.indicators
    import mastertrade.engine.signals.kernels  # noqa: F401
    from mastertrade.engine.generator.pbo import probability_of_overfitting

    # numba's own start-up (its typing and lowering registries, scipy's BLAS check among them: about
    # 0.3 s) comes with the first compiled kernel a process loads, in the search otherwise. The PBO's
    # kernel, reached through the function the run calls (so with the same argument types) on a 2 x 2
    # matrix, is loaded from the cache now instead.
    probability_of_overfitting(np.zeros((2, 2)), 2)
    # The scoring kernels (indicators, signal programs, the walk-forward kernel) then load on a thread
    # while the command opens the database and reads the candles; the search found itself waiting about
    # 0.1 s for them otherwise. numba serialises loading, so a search that starts first waits for them
    # as before, and a failure here is the search's to report. Not a daemon thread: the interpreter then
    # waits for it at exit instead of finalising around it. A daemon thread still inside numba (LLVM
    # through ctypes, a nogil kernel) when finalisation begins takes the GIL back from compiled code
    # after the interpreter freed its thread states (CPython 3.12: gh-110052, gh-87135): a command ended
    # early (SIGTERM, Ctrl-C, an error) could crash at exit, -11 after its last line.
    threading.Thread(target=_preload_scoring_kernels, name="mt-kernel-preload").start()


def _preload_scoring_kernels() -> None:
    try:
        load_scoring_kernels()
    except Exception:  # the search loads the same kernels and reports the error to the user
        log.debug("preloading the scoring kernels failed", exc_info=True)


def load_scoring_kernels() -> None:
    """Load (or compile, on a first run) the compiled kernels a search calls, with the argument types it
    passes them, on a small made-up series (nothing of it is kept): the scorer's, the PBO's and the
    hold-out's. ``mt init`` compiles them with the others (``setup.initialise``)."""
    import numpy as np
    import pandas as pd

    from mastertrade.engine.generator.evaluation import Problem, Scorer
    from mastertrade.engine.generator.holdout import score_holdout_many
    from mastertrade.engine.generator.pbo import probability_of_overfitting
    from mastertrade.engine.signals.builtins import BUILTINS

    bars = 24 * 16  # four walk-forward folds of at least two days each
    index = pd.date_range("2024-01-01", periods=bars, freq="h", tz="UTC")
    close = np.linspace(100.0, 110.0, bars)
    frame = pd.DataFrame(
        {"open": close, "high": close + 1.0, "low": close - 1.0, "close": close, "volume": np.ones(bars)},
        index=index,
    )
    Scorer(Problem(frame)).load_kernels()
    probability_of_overfitting(np.zeros((2, 2)), 2)
    score_holdout_many([BUILTINS["sma_cross"]], frame, cash=10_000.0, fee=0.001)


async def read_series(
    db: Database, symbol: str, timeframe: str, exchange: str | None, bars: int, *, until: int | None = None
) -> tuple[SeriesKey, pd.DataFrame]:
    """The newest ``bars`` candles of a stored series (of those closed by market time ``until``)."""
    from mastertrade.engine.research.series import SeriesLoader

    series = await SeriesLoader(db).find(symbol, timeframe, exchange, newest=bars, until=until)
    return series.key, series.frame


async def lookback_cut(
    db: Database, key: SeriesKey, used: int, lookback: int, *, until: int | None = None
) -> dict[str, Any]:
    """How many stored bars the run leaves out: older than its ``lookback_bars``, and with ``until`` those
    not closed by that market time (``after_market_time_bars``). Nothing is cut silently: the summary and
    ``mt generate`` say so."""
    from mastertrade.engine.market.as_of import opened_before
    from mastertrade.engine.market.store import CandleStore
    from mastertrade.utc import iso_ms

    candles = CandleStore(db)
    everything = (await candles.info(key)).rows
    if until is None:
        return {
            "stored_bars": everything,
            "lookback_bars": lookback,
            "trimmed_bars": max(0, everything - used),
        }
    stored = (await candles.info(key, before=opened_before(until, key.timeframe))).rows
    return {
        "stored_bars": stored,
        "lookback_bars": lookback,
        "trimmed_bars": max(0, stored - used),
        "market_time": iso_ms(until),
        "after_market_time_bars": everything - stored,
    }


async def generate(
    db: Database, settings: Settings, request: GenerationRequest, *, progress: Progress | None = None
) -> GenerationSummary:
    """Run one generation (see the module docstring) and return what was stored."""
    from mastertrade.engine.backtest.unit_cost import coarse_units
    from mastertrade.engine.generator.evaluation import Problem
    from mastertrade.engine.generator.holdout import check_split, holdout_start
    from mastertrade.engine.generator.terms import feature_pool
    from mastertrade.engine.generator.trials import TrialRegistry
    from mastertrade.engine.generator.validation import thresholds
    from mastertrade.engine.market.missing import missing_bars, missing_note

    check_request(request)
    config = settings.generator
    started = time.perf_counter()
    key, frame = await read_series(
        db,
        request.symbol,
        request.timeframe,
        request.exchange,
        request.lookback_bars or config.lookback_bars,
        until=request.until,
    )
    # the strategies name the market as it is stored (`--symbol eth/usdt` finds and means ETH/USDT)
    request = replace(request, symbol=key.symbol)
    cut = holdout_start(len(frame), config.holdout_fraction)
    holdout = frame.iloc[cut:]
    # Forecasts whose candles changed since their training are left out of the search, said in the summary
    # (`forecasts_left_out`, a warning of `mt generate`): the search draws them by itself, so a trader who
    # never asked for one is not stopped by it, and no term reads values made from other prices.
    pool = await feature_pool(db, key, stale="skip", until=request.until)
    for reason in pool.stale:  # the daemon's log; `mt generate` warns from the summary
        log.log(logging.WARNING if request.trigger == "nightly" else logging.INFO, "%s; left out", reason)
    problem = Problem(
        frame.iloc[:cut],
        folds=config.walk_forward_windows,
        ratio=config.in_sample_ratio,
        anchored=config.anchored,
        cash=settings.backtest.cash,
        fee=settings.backtest.fee,
        features=pool.provider,
    )
    check_split(key, problem, holdout)
    trim = await lookback_cut(
        db, key, len(frame), request.lookback_bars or config.lookback_bars, until=request.until
    )
    seed = request.seed if request.seed is not None else secrets.randbits(32)
    search = search_config(settings, request, seed, pool.terms)
    workers = request.workers or config.workers
    store = StrategyStore(db)
    registry = TrialRegistry(db)
    span = (_ms(frame.index[0]), _ms(frame.index[-1]))
    parameters = {
        "count": search.count,
        "population": search.population_size,
        "generations": search.generations,
        "workers": workers,
        "executor": request.executor or config.executor,
        "lookback_bars": request.lookback_bars or config.lookback_bars,
        "bars": len(frame),
        "stored_bars": trim["stored_bars"],
        **({"market_time": trim["market_time"]} if "market_time" in trim else {}),
        "holdout_fraction": config.holdout_fraction,
        "walk_forward_windows": config.walk_forward_windows,
        "thresholds": thresholds(config),
        "feature_terms": pool.labels,
    }
    if request.seeds:
        parameters["seeds"] = [genome.name for genome in request.seeds]
    starting = asyncio.ensure_future(
        store.start_run(
            trigger=request.trigger,
            exchange=key.exchange,
            symbol=key.symbol,
            timeframe=key.timeframe,
            seed=seed,
            parameters=parameters,
        )
    )
    try:
        run_id = await asyncio.shield(starting)
    except asyncio.CancelledError:
        # Interrupted (Ctrl-C, SIGTERM) as its row was written: once committed it would stay "running"
        # for ever, so the start is finished and the run recorded as cancelled
        run_id = await starting
        await store.finish_run(
            run_id,
            outcome="cancelled",
            counts={},
            timings={"total_s": time.perf_counter() - started},
            error="interrupted before it finished",
        )
        raise
    stop = threading.Event()
    try:
        seen = await store.ids(key.symbol, key.timeframe)
        work = asyncio.to_thread(
            compute,
            problem,
            search,
            config,
            executor_kind=request.executor or config.executor,
            workers=workers,
            scheduler=request.scheduler or config.scheduler,
            seen=seen,
            progress=progress,
            run_id=run_id,
            exchange=key.exchange,
            stop=stop,
            holdout=holdout,
            counted=registry.lookup(key, *span),
            pbo_blocks=config.pbo_blocks,
            seeds=request.seeds,
        )
        try:
            items, counts, timings, selection = await work
        except asyncio.CancelledError:
            stop.set()  # the worker thread cannot be cancelled; it stops at its next generation
            raise
        batch = selection.pop("batch")
        await registry.record(
            key, *span, batch.recorded, source="generate", generation_run_id=run_id, keys=batch.keys
        )
        storing = time.perf_counter()
        stored = await store.add_many(items)
        timings["storage_s"] = time.perf_counter() - storing
        timings["total_s"] = time.perf_counter() - started
        counts["stored"] = len(stored)
        counts["passed"] = sum(1 for s in stored if s.state is State.PASSED)
        counts["failed"] = counts["stored"] - counts["passed"]
        counts["selection"] = selection
    except BaseException as exc:
        failed = isinstance(exc, Exception)
        await store.finish_run(
            run_id,
            outcome="error" if failed else "cancelled",
            counts={},
            timings={"total_s": time.perf_counter() - started},
            error=f"{type(exc).__name__}: {exc}" if failed else "interrupted before it finished",
        )
        raise
    await store.finish_run(run_id, outcome="ok", counts=counts, timings=timings)
    order = {item.id: index for index, item in enumerate(items)}
    stored.sort(key=lambda s: order[s.id])
    described = problem.describe()
    data = {
        **window_of(frame),
        "holdout_fraction": config.holdout_fraction,
        "search_window": {
            **window_of(problem.frame),
            "in_sample": described["in_sample"],
            "test": described["out_of_sample"],
            "windows": described["windows"],
            "anchored": described["anchored"],
        },
        "holdout": window_of(holdout),
        "holdout_buy_and_hold": counts["selection"]["holdout_buy_and_hold"],
        **trim,
        # what `mt backtest`, `mt validate` and `mt optimize` say of these bars too
        "missing_bars": missing_bars(frame, key.timeframe)[0],
        "missing_note": missing_note(frame, key.timeframe, key.symbol),
        "coarse_units": coarse_units(frame, problem.cash),
        "feature_terms": list(pool.labels),  # the stored forecasts the search drew from, beside prices
        # stored forecasts left out: their candles changed since their training
        **({"forecasts_left_out": list(pool.stale)} if pool.stale else {}),
    }
    summary = GenerationSummary(run_id, key, seed, data, counts, timings, stored)
    summary.selection = counts.pop("selection")
    return summary


def baseline_of(metrics: dict[str, Any]) -> dict[str, Any]:
    """The figures of buy-and-hold over the hold-out that a summary compares its strategies with."""
    keys = ("sharpe", "return_pct", "max_drawdown_pct")
    return {key: metrics.get(key) for key in keys}


def behind_baseline(rows: list[dict[str, Any]], baseline: dict[str, Any]) -> list[dict[str, Any]]:
    """The strategy rows whose hold-out Sharpe ratio is below buy-and-hold's over the same bars (a row
    without a hold-out Sharpe ratio is behind any defined one)."""
    bench = baseline.get("sharpe")
    if bench is None:
        return []
    return [row for row in rows if row["holdout_sharpe"] is None or row["holdout_sharpe"] < bench]


def _ms(stamp: Any) -> int:
    return int(stamp.value // 1_000_000)


def window_of(frame: pd.DataFrame) -> dict[str, Any]:
    """Where a window of bars lies: first and last bar (ISO-8601 UTC) and its length."""
    from mastertrade.engine.market.timeframes import to_iso

    return {
        "start": to_iso(_ms(frame.index[0])),
        "end": to_iso(_ms(frame.index[-1])),
        "bars": len(frame),
    }


def compute(
    problem: Problem,
    config: SearchConfig,
    thresholds: GeneratorSettings,
    *,
    executor_kind: str,
    workers: int | None,
    seen: set[str],
    progress: Progress | None,
    run_id: int | None,
    exchange: str | None,
    holdout: pd.DataFrame,
    counted: Lookup | None = None,
    pbo_blocks: int = 16,
    stop: threading.Event | None = None,
    scheduler: str | None = None,
    seeds: tuple[Genome, ...] = (),
) -> tuple[list[NewStrategy], dict[str, Any], dict[str, float], dict[str, Any]]:
    """The CPU-bound part of a run: search on ``problem`` (the search window), then score the chosen
    once on ``holdout`` and judge them there; returns what to store (best by search fitness first),
    counts, timings and the run's selection record (hold-out, trials counted, PBO, the batch of trials
    to add to the registry under ``"batch"``). ``counted`` tells which of the search's candidates the
    registry counted before on these bars, with its tally of them (:mod:`.trials`; ``None``: none)."""
    from mastertrade.engine.generator.executor import ThreadExecutor, make_executor
    from mastertrade.engine.generator.search import MAX_EXTRA_GENERATIONS, Search, select
    from mastertrade.engine.generator.trials import Counted, genome_trial_key, new_batch

    started = time.perf_counter()
    with make_executor(executor_kind, problem, workers, scheduler=scheduler) as executor:
        cpu_started = time.process_time()  # every thread of this process (the local executors' work)
        result = Search(config, executor, seen=seen, progress=progress, stop=stop, seeds=seeds).run()
        searched = time.perf_counter()
        search_cpu = time.process_time() - cpu_started
        chosen = select(result.archive, config.count)
        cache = executor.scorer.cache if isinstance(executor, ThreadExecutor) else None
        scored = {
            genome_trial_key(c.genome): None if c.score is None else c.score.daily_sharpe
            for c in result.archive
        }
        # the registry's keys and its tally of these bars, read together after the search (``Counted``)
        found = Counted() if counted is None else counted(scored)
        batch = new_batch(scored, found)
        tally = batch.pooled(found.prior)
        items, validation = validate(
            problem, chosen, thresholds, executor, cache, run_id, exchange, holdout, tally, pbo_blocks
        )
        validated = time.perf_counter()
        spent = executor.timings()
    timings = {
        "search_s": searched - started,
        "breeding_s": result.breeding_s,
        "indicators_s": spent.indicators_s,
        "evaluation_s": spent.signals_s + spent.kernel_s,
        "signals_s": spent.signals_s,
        "kernel_s": spent.kernel_s,
        "validation_s": validated - searched,
        "holdout_s": validation["holdout_s"],
        "pbo_s": validation["pbo_s"],
        "reference_s": validation["reference_s"],
        "evaluations_per_s": result.scored / (searched - started) if searched > started else 0.0,
    }
    if executor_kind == "threads" and searched > started:  # other executors work in other processes
        timings["search_cores"] = search_cpu / (searched - started)
    counts: dict[str, Any] = {
        "scored": result.scored,
        "distinct": result.trials,
        "genome_duplicates": result.genome_duplicates,
        "behaviour_duplicates": result.behaviour_duplicates,
        "feasible": sum(1 for c in result.archive if c.feasible),
        "generations": result.generations,
        "asked": config.count,
        "generation_limit": config.generations + MAX_EXTRA_GENERATIONS,
        "chosen": len(chosen),
        "reference_checked": int(validation["reference_checked"]),
        "reference_disagreements": int(validation["reference_disagreements"]),
    }
    selection = {
        "deflated_trials": tally.as_dict()
        | validation["deflation"]
        | {"this_run": batch.added, "counted_before": batch.before},
        "pbo": validation["pbo"],
        "holdout_buy_and_hold": validation["holdout_buy_and_hold"],
        "batch": batch,
    }
    return items, counts, timings, selection


def validate(
    problem: Problem,
    chosen: list[Candidate],
    thresholds: GeneratorSettings,
    executor: Executor,
    cache: IndicatorCache | None,
    run_id: int | None,
    exchange: str | None,
    holdout: pd.DataFrame,
    tally: Tally,
    pbo_blocks: int,
) -> tuple[list[NewStrategy], dict[str, Any]]:
    """Search-window detail (what the search optimised), the one hold-out score of each chosen
    candidate, its deflated Sharpe ratio over every trial counted, the filter on the hold-out, the
    reference engine re-run of the finalists on the hold-out, and the run's PBO."""
    from concurrent.futures import ThreadPoolExecutor

    from mastertrade.engine.generator import kernel as k
    from mastertrade.engine.generator.deflated import deflated_sharpe
    from mastertrade.engine.generator.holdout import buy_and_hold, daily_sharpe, score_holdout_many
    from mastertrade.engine.generator.validation import passed_reason, reference_check, threshold_failures
    from mastertrade.engine.signals.indicators import IndicatorCache

    baseline = baseline_of(buy_and_hold(holdout, cash=problem.cash, fee=problem.fee))
    detailed = executor.map([c.genome for c in chosen], detail=True)
    stats: dict[str, Any] = {
        "reference_s": 0.0,
        "reference_checked": 0.0,
        "reference_disagreements": 0.0,
        "holdout_s": 0.0,
        "deflation": {},
        "holdout_buy_and_hold": baseline,
    }
    if cache is None:  # a process pool's caches live in its workers
        cache = IndicatorCache(problem.frame, features=problem.features)

    def pbo() -> tuple[dict[str, Any] | None, float]:
        started = time.perf_counter()
        found = search_pbo(problem, [c.genome for c in chosen], detailed, cache, pbo_blocks)
        return found, time.perf_counter() - started

    # The PBO (search window) and the hold-out scores are independent and both spend most of their time
    # in compiled kernels that release the GIL: the PBO runs on a second thread meanwhile.
    with ThreadPoolExecutor(1, thread_name_prefix="pbo") as pool:
        pbo_work = pool.submit(pbo)
        holdout_cache = IndicatorCache(holdout, features=problem.features)
        holdout_window = window_of(holdout)
        search_window = window_of(problem.frame)
        scoring = time.perf_counter()
        scored = [
            candidate.genome for candidate, score in zip(chosen, detailed, strict=True) if not score.error
        ]
        held_out = iter(
            score_holdout_many(scored, holdout, cash=problem.cash, fee=problem.fee, cache=holdout_cache)
        )
        stats["holdout_s"] = time.perf_counter() - scoring
        stats["pbo"], stats["pbo_s"] = pbo_work.result()
    trials_record = tally.as_dict()
    items: list[NewStrategy] = []
    folds = problem.folds
    for candidate, score in zip(chosen, detailed, strict=True):
        rows = row_metrics(problem, score)
        searched = rows[k.ROW_OOS] or {}
        searched.update(
            days=int(score.moments[0]) + 1 if score.moments[0] == score.moments[0] else 0,
            daily_mean=_number(score.moments[1]),
            daily_std=_number(score.moments[2]),
            daily_skew=_number(score.moments[3]),
            daily_kurtosis=_number(score.moments[4]),
            window="search walk-forward (stitched inner test folds)",
        )
        dsr: float | None = None
        deflation = None
        reference = None
        if score.error:
            held: dict[str, Any] = {"window": "holdout"}
            reasons = [f"could not be scored: {score.error}"]
        else:
            held = next(held_out)
            sharpe = daily_sharpe(held)
            skew, kurt = held.get("daily_skew"), held.get("daily_kurtosis")
            if sharpe is not None and skew is not None and kurt is not None:
                deflation = tally.deflation(int(held["days"]))
                stats["deflation"] = deflation.as_dict()
                dsr = deflated_sharpe(
                    sharpe,
                    int(held["days"]),
                    skew,
                    kurt,
                    trials=deflation.trials,
                    variance=deflation.variance,
                )
            reasons = threshold_failures(held, dsr, thresholds)
        if not reasons:
            reference = reference_check(
                candidate.genome,
                holdout,
                holdout_cache,
                thresholds.reference_tolerance,
                cash=problem.cash,
                fee=problem.fee,
            )
            stats["reference_s"] += reference["seconds"]
            stats["reference_checked"] += 1
            if not reference["agrees"]:
                stats["reference_disagreements"] += 1
                log.error(
                    "REFERENCE ENGINE DISAGREES with the fast engine on strategy %s: %s; it fails the "
                    "filter. One engine is wrong: please report this with the strategy's genome: %s",
                    candidate.genome.name,
                    reference["mismatch"],
                    candidate.genome.to_json(indent=None),
                )
                reasons.append(f"reference engine disagrees: {reference['mismatch']}")
        fold_rows = [
            {
                **window.as_dict(),
                "search_train": rows[k.FOLD_ROWS + folds + window.fold],
                "search_test": rows[k.FOLD_ROWS + window.fold],
            }
            for window in problem.windows
        ]
        verdict = (State.FAILED, "failed: " + "; ".join(reasons)) if reasons else (
            State.PASSED, passed_reason(held, dsr, reference)
        )  # fmt: skip
        origin = f"generation run {run_id}: " if run_id is not None else ""
        items.append(
            NewStrategy(
                genome=candidate.genome,
                exchange=exchange,
                metrics=rows[k.ROW_FULL] or {},
                in_sample=rows[k.ROW_IS] or {},
                out_of_sample=held,
                search=searched,
                selection={
                    "legacy": False,
                    "holdout": holdout_window,
                    "holdout_buy_and_hold": baseline,
                    "search_window": search_window,
                    "deflated_trials": trials_record | ({} if deflation is None else deflation.as_dict()),
                    "pbo": stats["pbo"],
                },
                folds=fold_rows,
                deflated_sharpe=dsr,
                reference_agrees=None if reference is None else bool(reference["agrees"]),
                reference=reference,
                complexity=candidate.complexity,
                generation_run_id=run_id,
                seed=candidate.seed,
                path=(
                    (State.GENERATED, f"{origin}{candidate.origin}, generation {candidate.generation}"),
                    (
                        State.BACKTESTED,
                        f"searched on {searched.get('start')} to {searched.get('end')} ({folds} inner"
                        f" folds); hold-out {holdout_window['start']} to {holdout_window['end']} scored once",
                    ),
                    verdict,
                ),
            )
        )
    return items, stats


def row_metrics(problem: Problem, score: Score) -> list[dict[str, Any] | None]:
    """``evaluation.metrics_of`` of every row of a score, in row order, the same dicts to the bit: the
    row's numbers leave numpy once (``tolist``) instead of one scalar at a time, eleven rows a candidate."""
    from math import isfinite

    from mastertrade.engine.backtest.metrics import KERNEL_KEYS
    from mastertrade.engine.generator import kernel as k

    folds = problem.folds
    calendars = problem.calendars
    names = ["out_of_sample", "in_sample", "full"]
    names += [f"oos{fold}" for fold in range(folds)] + [f"is{fold}" for fold in range(folds)]
    assert len(names) == k.rows(folds)  # noqa: S101  (the kernel's row order, see kernel.py)
    found: list[dict[str, Any] | None] = []
    trades = KERNEL_KEYS.index("trades")
    table: Any = score.values.tolist()  # rows of Python floats
    for name, values in zip(names, table, strict=True):
        if all(value != value for value in values):  # every number NaN: the row was not computed
            found.append(None)
            continue
        data: dict[str, Any] = {
            key: value if isfinite(value) else None  # NaN and infinities are no number in JSON
            for key, value in zip(KERNEL_KEYS, values, strict=True)
        }
        data["trades"] = int(values[trades])
        calendar = calendars[name]
        data["start"], data["end"], data["bars"] = calendar.start, calendar.end, calendar.bars
        found.append(data)
    return found


def search_pbo(
    problem: Problem,
    genomes: Sequence[Any],
    scores: list[Score],
    cache: IndicatorCache,
    blocks: int,
) -> dict[str, Any] | None:
    """The PBO (CSCV) over the candidates' (genomes, or plugin strategies) daily returns on the whole
    search window (those that could be scored); ``None`` with fewer than two of them, too few days for
    two blocks, or when they all earned the same returns."""
    from mastertrade.engine.generator.pbo import (
        choose_blocks,
        probability_of_overfitting,
        returns_of_close_rows,
    )
    from mastertrade.engine.generator.plain_batch import run_plain

    scored = [genome for genome, score in zip(genomes, scores, strict=True) if not score.error]
    if len(scored) < 2:
        return None
    closes = run_plain(scored, problem.frame, cash=problem.cash, fee=problem.fee, cache=cache).closes
    import numpy as np

    matrix = np.ascontiguousarray(returns_of_close_rows(closes, problem.cash).T)  # days x candidates
    used = choose_blocks(len(matrix), blocks)
    if used == 0 or (matrix == matrix[:, :1]).all():
        # every candidate earned the very same returns (none traded, say): no in-sample best to pick,
        # and ties ranked at the median would read as a PBO of 1.00
        return None
    return probability_of_overfitting(matrix, used).as_dict()


def _number(value: float) -> float | None:
    return None if value != value or value in (float("inf"), float("-inf")) else float(value)
