"""One generation run: candles -> search -> validation -> stored strategies, recorded as a generation run.

``generate(db, settings, request)`` is what ``mt generate`` and the nightly job call:

1. read the newest ``lookback_bars`` candles of the series;
2. search (:mod:`.search`) through the configured executor, avoiding every fingerprint already stored
   for the market;
3. choose the ``count`` best distinct candidates by NSGA-II (whole Pareto fronts first);
4. validate them (:mod:`.validation`): full, in-sample, out-of-sample and per-fold metrics, the deflated
   Sharpe ratio, the filter, and for the finalists a re-run on the reference engine;
5. store them, each with its path ``generated -> backtested -> passed|failed`` and the reasons.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mastertrade.engine.generator import kernel as k
from mastertrade.engine.generator.states import State
from mastertrade.engine.generator.store import NewStrategy, StoredStrategy, StrategyStore
from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    import pandas as pd

    from mastertrade.config import Settings
    from mastertrade.db.database import Database
    from mastertrade.engine.generator.evaluation import Problem
    from mastertrade.engine.generator.executor import Executor
    from mastertrade.engine.generator.search import Candidate, SearchConfig, SearchResult
    from mastertrade.engine.generator.validation import Thresholds
    from mastertrade.engine.market.store import SeriesKey
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
            "strategies": [strategy_row(s) for s in self.strategies],
        }


def strategy_row(strategy: StoredStrategy) -> dict[str, Any]:
    """The one-line summary of a stored strategy (``mt generate`` and ``mt strategy list``)."""

    oos, ins = strategy.out_of_sample, strategy.in_sample
    return {
        "id": strategy.id,
        "name": strategy.name,
        "state": strategy.state.value,
        "symbol": strategy.symbol,
        "timeframe": strategy.timeframe,
        "oos_sharpe": oos.get("sharpe"),
        "oos_return_pct": oos.get("return_pct"),
        "oos_max_drawdown_pct": oos.get("max_drawdown_pct"),
        "oos_trades": oos.get("trades"),
        "is_sharpe": ins.get("sharpe"),
        "deflated_sharpe": strategy.deflated_sharpe,
        "reference_agrees": strategy.reference_agrees,
        "description": strategy.description(),
    }


def search_config(settings: Settings, request: GenerationRequest, seed: int) -> SearchConfig:
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
        limits=Limits(max_conditions=config.max_conditions),
        complexity_penalty=config.complexity_penalty,
        min_trades=config.min_trades,
        max_exposure_pct=config.max_exposure_pct,
    )


def check_request(request: GenerationRequest) -> None:
    for name in ("count", "workers", "population", "lookback_bars"):
        value = getattr(request, name)
        if value is not None and value < 1:
            raise UserInputError(f"invalid {name.replace('_', ' ')} {value}: must be >= 1")
    if request.population is not None and request.population < 4:
        raise UserInputError(f"invalid population {request.population}: must be >= 4")
    if request.generations is not None and request.generations < 0:
        raise UserInputError(f"invalid generations {request.generations}: must be >= 0")
    if request.seed is not None and not 0 <= request.seed < 2**63:
        raise UserInputError(f"invalid seed {request.seed}: must be between 0 and 2**63 - 1")


async def read_series(
    db: Database, symbol: str, timeframe: str, exchange: str | None, bars: int
) -> tuple[SeriesKey, pd.DataFrame]:
    """The newest ``bars`` candles of a stored series."""
    from mastertrade.engine.research.series import SeriesLoader

    series = await SeriesLoader(db).find(symbol, timeframe, exchange, newest=bars)
    return series.key, series.frame


async def generate(
    db: Database, settings: Settings, request: GenerationRequest, *, progress: Progress | None = None
) -> GenerationSummary:
    """Run one generation (see the module docstring) and return what was stored."""
    from mastertrade.engine.generator.evaluation import Problem
    from mastertrade.engine.generator.validation import Thresholds

    check_request(request)
    config = settings.generator
    started = time.perf_counter()
    key, frame = await read_series(
        db, request.symbol, request.timeframe, request.exchange, request.lookback_bars or config.lookback_bars
    )
    problem = Problem(
        frame,
        folds=config.walk_forward_windows,
        ratio=config.in_sample_ratio,
        anchored=config.anchored,
        cash=settings.backtest.cash,
        fee=settings.backtest.fee,
    )
    problem.check()
    seed = request.seed if request.seed is not None else secrets.randbits(32)
    search = search_config(settings, request, seed)
    workers = request.workers or config.workers
    store = StrategyStore(db)
    parameters = {
        "count": search.count,
        "population": search.population_size,
        "generations": search.generations,
        "workers": workers,
        "executor": config.executor,
        "lookback_bars": request.lookback_bars or config.lookback_bars,
        "bars": len(frame),
        "walk_forward_windows": config.walk_forward_windows,
        "thresholds": Thresholds.from_settings(config).__dict__,
    }
    run_id = await store.start_run(
        trigger=request.trigger,
        exchange=key.exchange,
        symbol=key.symbol,
        timeframe=key.timeframe,
        seed=seed,
        parameters=parameters,
    )
    stop = threading.Event()
    try:
        seen = await store.ids(key.symbol, key.timeframe)
        work = asyncio.to_thread(
            compute,
            problem,
            search,
            Thresholds.from_settings(config),
            executor_kind=config.executor,
            workers=workers,
            seen=seen,
            progress=progress,
            run_id=run_id,
            exchange=key.exchange,
            stop=stop,
        )
        try:
            items, counts, timings = await work
        except asyncio.CancelledError:
            stop.set()  # the worker thread cannot be cancelled; it stops at its next generation
            raise
        storing = time.perf_counter()
        stored = await store.add_many(items)
        timings["storage_s"] = time.perf_counter() - storing
        timings["total_s"] = time.perf_counter() - started
        counts["stored"] = len(stored)
        counts["passed"] = sum(1 for s in stored if s.state is State.PASSED)
        counts["failed"] = counts["stored"] - counts["passed"]
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
    return GenerationSummary(run_id, key, seed, problem.describe(), counts, timings, stored)


def compute(
    problem: Problem,
    config: SearchConfig,
    thresholds: Thresholds,
    *,
    executor_kind: str,
    workers: int | None,
    seen: set[str],
    progress: Progress | None,
    run_id: int | None,
    exchange: str | None,
    stop: threading.Event | None = None,
) -> tuple[list[NewStrategy], dict[str, int], dict[str, float]]:
    """The CPU-bound part of a run: search, then validate the chosen; returns what to store, best first."""
    from mastertrade.engine.generator.executor import ThreadExecutor, make_executor
    from mastertrade.engine.generator.search import Search, select

    started = time.perf_counter()
    with make_executor(executor_kind, problem, workers) as executor:
        result = Search(config, executor, seen=seen, progress=progress, stop=stop).run()
        searched = time.perf_counter()
        chosen = select(result.archive, config.count)
        cache = executor.scorer.cache if isinstance(executor, ThreadExecutor) else None
        items, validation = validate(problem, result, chosen, thresholds, executor, cache, run_id, exchange)
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
        "reference_s": validation["reference_s"],
        "evaluations_per_s": result.scored / (searched - started) if searched > started else 0.0,
    }
    counts = {
        "scored": result.scored,
        "distinct": result.trials,
        "genome_duplicates": result.genome_duplicates,
        "behaviour_duplicates": result.behaviour_duplicates,
        "feasible": sum(1 for c in result.archive if c.feasible),
        "generations": result.generations,
        "chosen": len(chosen),
        "reference_checked": int(validation["reference_checked"]),
        "reference_disagreements": int(validation["reference_disagreements"]),
    }
    return items, counts, timings


def validate(
    problem: Problem,
    result: SearchResult,
    chosen: list[Candidate],
    thresholds: Thresholds,
    executor: Executor,
    cache: IndicatorCache | None,
    run_id: int | None,
    exchange: str | None,
) -> tuple[list[NewStrategy], dict[str, float]]:
    """Detailed scores, deflated Sharpe ratios, the filter and the reference re-runs of the chosen."""
    from mastertrade.engine.generator.evaluation import metrics_of
    from mastertrade.engine.generator.validation import (
        deflated_ratios,
        oos_trade_stats,
        passed_reason,
        reference_check,
        threshold_failures,
    )

    detailed = executor.map([c.genome for c in chosen], detail=True)
    deflated = deflated_ratios(result.archive, chosen)
    stats = {"reference_s": 0.0, "reference_checked": 0.0, "reference_disagreements": 0.0}
    items: list[NewStrategy] = []
    folds = problem.folds
    for candidate, score in zip(chosen, detailed, strict=True):
        oos = metrics_of(problem, score, k.ROW_OOS) or {}
        oos.update(
            days=int(score.moments[0]) + 1 if score.moments[0] == score.moments[0] else 0,
            daily_mean=_number(score.moments[1]),
            daily_std=_number(score.moments[2]),
            daily_skew=_number(score.moments[3]),
            daily_kurtosis=_number(score.moments[4]),
        )
        dsr = deflated[candidate.key]
        reasons = (
            [f"could not be scored: {score.error}"]
            if score.error
            else threshold_failures(oos, dsr, thresholds)
        )
        reference = None
        if not reasons:
            if cache is None:  # a process pool's caches live in its workers
                from mastertrade.engine.signals.indicators import IndicatorCache

                cache = IndicatorCache(problem.frame)
            reference = reference_check(candidate.genome, problem, cache, thresholds.reference_tolerance)
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
            else:
                oos["trade_stats"] = oos_trade_stats(candidate.genome, problem, cache)
        fold_rows = [
            {
                **window.as_dict(),
                "in_sample": metrics_of(problem, score, k.FOLD_ROWS + folds + window.fold),
                "out_of_sample": metrics_of(problem, score, k.FOLD_ROWS + window.fold),
            }
            for window in problem.windows
        ]
        verdict = (State.FAILED, "failed: " + "; ".join(reasons)) if reasons else (
            State.PASSED, passed_reason(oos, dsr, reference)
        )  # fmt: skip
        origin = f"generation run {run_id}: " if run_id is not None else ""
        items.append(
            NewStrategy(
                genome=candidate.genome,
                exchange=exchange,
                metrics=metrics_of(problem, score, k.ROW_FULL) or {},
                in_sample=metrics_of(problem, score, k.ROW_IS) or {},
                out_of_sample=oos,
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
                        f"walk-forward: {folds} OOS windows, {oos.get('start')} to {oos.get('end')}",
                    ),
                    verdict,
                ),
            )
        )
    return items, stats


def _number(value: float) -> float | None:
    return None if value != value or value in (float("inf"), float("-inf")) else float(value)
