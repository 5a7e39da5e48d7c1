"""Tuning a trader's own strategy under the generator's discipline: ``mt optimize``.

What is tuned: for a genome, its numeric parameters (every indicator term's numeric parameters within
their declared bounds, and the stop-loss, take-profit and trailing-stop fractions it uses); for a plugin
strategy, the ``int`` and ``float`` parameters it declares
(:class:`~mastertrade.engine.signals.plugins.Parameter`: name, type, range, default). ``params`` narrows
either to the named ones. Tuning uses Optuna's TPE sampler (seeded, so the same seed and data give the
same result). The discipline is the generation run's:

- every trial is scored on the **search window** only, by the same walk-forward as the genetic search
  (:class:`.evaluation.Scorer`; objective: the stitched test folds' Sharpe ratio; a trial with fewer
  than ``min_trades`` test trades or an undefined Sharpe ratio scores as infeasible);
- the best trial is scored **once** on the hold-out (the newest ``holdout_fraction`` of the lookback)
  and judged there by the default filter; its deflated Sharpe ratio counts every trial ever recorded
  for the series in the registry, this optimisation's included, which it then joins (each distinct
  configuration once: one an earlier tuning or generation run counted on overlapping bars of the
  series, as a run again with the same seed scores, is not counted again; see :mod:`.trials`);
- the probability of backtest overfitting (CSCV) is computed over the trials' daily returns on the
  search window.

The result is a report and the best genome (or a plugin's best parameter values); nothing is stored as
a strategy (``mt strategy add`` or a genome file does that). ``mt optimize --evolve`` is the other way
to tune a genome: a generation run whose first generation is the genome and mutations of it
(``GenerationRequest.seeds``), stored and reported like ``mt generate``.
"""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import pandas as pd

    from mastertrade.config import Settings
    from mastertrade.db.database import Database
    from mastertrade.engine.generator.evaluation import Score, Scorer
    from mastertrade.engine.generator.trials import Batch, Counted
    from mastertrade.engine.market.store import SeriesKey
    from mastertrade.engine.signals.genome import Genome
    from mastertrade.engine.signals.plugins import StrategyPlugin
    from mastertrade.engine.signals.strategy import Strategy

log = logging.getLogger(__name__)

INFEASIBLE = -1_000.0
MAX_SEED = 2**32 - 1
"""The largest seed Optuna's TPE sampler takes (numpy's legacy seeding)."""
STOP_RANGES = {"stop_loss": (0.01, 0.15), "take_profit": (0.02, 0.5), "trailing_stop": (0.01, 0.15)}


@dataclass(frozen=True)
class Slot:
    """One tunable number of a genome: where it is and its bounds."""

    name: str
    kind: str  # "int" or "float"
    low: float
    high: float
    where: tuple[Any, ...]


def slots(data: dict[str, Any]) -> list[Slot]:
    """Every tunable number of a genome's JSON form (see the module docstring)."""
    from mastertrade.engine.generator.variation import _term_at, _term_slots
    from mastertrade.engine.signals.indicators import INDICATORS

    found: list[Slot] = []
    for side, path, index in _term_slots(data):
        term = _term_at(data, side, path, index)
        if not isinstance(term, dict) or "ind" not in term or term["ind"] not in INDICATORS:
            continue
        for param in INDICATORS[term["ind"]].params:
            if param.kind not in ("int", "float") or param.low is None or param.high is None:
                continue
            low, high = param.sample if param.sample is not None else (param.low, param.high)
            label = f"{side}.{'.'.join(map(str, path))}.{index}.{term['ind']}.{param.name}"
            found.append(Slot(label, param.kind, float(low), float(high), (side, path, index, param.name)))
    for name, (low, high) in STOP_RANGES.items():
        if data.get(name) is not None:
            found.append(Slot(name, "float", low, high, (name,)))
    return found


def plugin_slots(plugin: StrategyPlugin) -> list[Slot]:
    """The numeric parameters a plugin declares, as slots."""
    return [
        Slot(param.name, param.kind, float(param.low), float(param.high), (param.name,))
        for param in plugin.parameters
        if param.numeric and param.low is not None and param.high is not None
    ]


def chosen(
    found: list[Slot], params: Sequence[str], strategy: str, plugin: StrategyPlugin | None
) -> list[Slot]:
    """The slots named in ``params`` (all when empty); ``UserInputError`` naming one that is undeclared
    or not numeric."""
    if not params:
        return found
    by_name = {slot.name: slot for slot in found}
    declared = {param.name: param for param in plugin.parameters} if plugin is not None else {}
    picked: list[Slot] = []
    tunable = ", ".join(by_name) or "none"
    for name in params:
        if not name.strip():
            raise UserInputError(f"invalid --param {name!r}: empty name (tunable: {tunable})")
        if "," in name and name not in by_name:
            raise UserInputError(
                f"invalid --param {name!r}: one name per --param, repeat it for several (tunable: {tunable})"
            )
        if name in by_name:
            if by_name[name] not in picked:
                picked.append(by_name[name])
            continue
        if name in declared:
            raise UserInputError(
                f"invalid --param {name!r}: parameter of {strategy!r} is {declared[name].kind};"
                " only int and float parameters are tuned"
            )
        raise UserInputError(
            f"invalid --param {name!r}: {strategy!r} declares no such parameter (tunable: {tunable})"
        )
    return picked


def with_values(data: dict[str, Any], values: dict[str, float]) -> dict[str, Any]:
    """The genome JSON with each slot set to ``values[slot.name]``."""
    from mastertrade.engine.generator.variation import _term_at, _with_term

    out = copy.deepcopy(data)
    for slot in slots(data):
        if slot.name not in values:
            continue
        value = values[slot.name]
        if len(slot.where) == 1:
            out[slot.where[0]] = value
            continue
        side, path, index, param = slot.where
        term = dict(_term_at(out, side, path, index))
        term[param] = value
        out = _with_term(out, side, path, index, term)
    return out


@dataclass
class Subject:
    """What :func:`tune` tunes: a genome or a plugin strategy, the slots chosen, and how a set of values
    becomes a candidate to score (``None`` when the values make an invalid strategy)."""

    name: str
    tunable: list[Slot]
    genome: Genome | None = None
    strategy: Strategy | None = None

    def build(self, values: dict[str, float]) -> Any:
        from mastertrade.engine.signals.genome import parse_genome
        from mastertrade.engine.signals.plugins import check_order_settings
        from mastertrade.engine.signals.strategy import Strategy
        from mastertrade.errors import InvalidGenome, OperationFailed

        if self.genome is not None:
            try:
                return parse_genome({**with_values(self.genome.to_dict(), values), "name": self.genome.name})
            except InvalidGenome:
                return None
        assert self.strategy is not None and self.strategy.plugin is not None
        plugin = self.strategy.plugin.tuned(values)
        try:
            check_order_settings(self.name, plugin)  # a stop-loss range may reach what a genome refuses
        except OperationFailed:
            return None
        return Strategy.from_plugin(self.name, plugin, self.strategy.symbol, self.strategy.timeframe)

    @property
    def original(self) -> Any:
        return self.genome if self.genome is not None else self.strategy

    def key(self, candidate: Any) -> str:
        import json

        if self.genome is not None:
            return str(candidate.to_json(indent=None))
        return json.dumps(candidate.plugin.parameter_values(), sort_keys=True)

    def trial_key(self, candidate: Any) -> str:
        """The trial registry's key of ``candidate`` (:func:`.trials.trial_key`): its logic and parameters,
        whatever its name (a genome's fingerprint) or a plugin's name and parameter values."""
        import json

        from mastertrade.engine.generator.trials import genome_trial_key, trial_key

        if self.genome is not None:
            return genome_trial_key(candidate)  # the key `mt generate` gives the same genome
        parameters = json.dumps(candidate.plugin.parameter_values(), sort_keys=True)
        return trial_key(f"plugin:{self.name}:{parameters}")

    def describe(self, candidate: Any) -> dict[str, Any]:
        if self.genome is not None:
            return {"genome": candidate.to_dict()}
        return {"plugin": self.name, "parameters": candidate.plugin.parameter_values()}

    def score(self, scorer: Scorer, candidate: Any) -> Score:
        if self.genome is not None:
            return scorer.score([candidate])[0]
        return score_strategy(scorer, candidate)


def subject_of(strategy: Strategy, params: Sequence[str] = ()) -> Subject:
    """The :class:`Subject` of a loaded strategy; ``UserInputError`` for one with nothing to tune."""
    if strategy.genome is not None:
        genome = strategy.genome
        tunable = chosen(slots(genome.to_dict()), params, genome.name, None)
        if not tunable:
            raise UserInputError(f"strategy {genome.name!r} has no numeric parameter to tune")
        return Subject(genome.name, tunable, genome=genome)
    if strategy.source != "plugin" or strategy.plugin is None:
        raise UserInputError(
            f"strategy {strategy.name!r} is a trained {strategy.source}: it declares no parameters to tune"
        )
    plugin = strategy.plugin
    tunable = chosen(plugin_slots(plugin), params, strategy.name, plugin)
    if not tunable:
        raise UserInputError(
            f"strategy {strategy.name!r} is a plugin that declares no int or float parameter to tune"
            " (see StrategyPlugin.parameters)"
        )
    return Subject(strategy.name, tunable, strategy=strategy)


def score_strategy(scorer: Scorer, strategy: Strategy) -> Score:
    """A plugin strategy's score on the scorer's problem: the same kernel, windows and rows as a genome's
    (:meth:`.evaluation.Scorer.score`), for signals a genome cannot express."""
    import numpy as np

    from mastertrade.engine.backtest.params import order_params
    from mastertrade.engine.backtest.result import FRACTIONAL_UNIT
    from mastertrade.engine.generator import kernel as k
    from mastertrade.engine.generator.evaluation import Score, failed_score
    from mastertrade.errors import OperationFailed

    problem = scorer.problem
    try:
        entries, exits = strategy.signals(scorer.cache)
    except OperationFailed as exc:
        return failed_score(problem, str(exc))
    stop, take, trail, size = (np.array([value]) for value in order_params(strategy).kernel_args())
    open_, high, low, close = scorer.prices
    values, moments = k.score_many(
        open_, high, low, close, np.ascontiguousarray(entries[None, :]), np.ascontiguousarray(exits[None, :]),
        stop, take, trail, size, float(problem.cash), float(problem.fee), FRACTIONAL_UNIT, scorer.day,
        problem.ts, scorer.is_bounds, scorer.oos_bounds, scorer.fold_is_bounds, False, 1,
    )  # fmt: skip
    return Score(values[0], moments[0])


async def optimize(
    db: Database,
    settings: Settings,
    strategy: Strategy,
    *,
    symbol: str,
    timeframe: str,
    exchange: str | None = None,
    trials: int = 100,
    seed: int = 0,
    params: Sequence[str] = (),
    start_ms: int | None = None,
    end_ms: int | None = None,
    until: int | None = None,
) -> dict[str, Any]:
    """Tune ``strategy`` (a genome or a plugin) on the stored series (see the module docstring); the
    report as a JSON document. ``start_ms``/``end_ms`` narrow the series to the bars opening in
    ``[start_ms, end_ms)`` (``mt backtest``'s and ``mt validate``'s range), of which the newest
    ``lookback_bars`` are used. ``until``: a replay's market time (``market.as_of``): only the bars
    closed by then are read, and ``data`` says it (``market_time``, ``after_market_time_bars``)."""

    from mastertrade.engine.backtest.unit_cost import coarse_units
    from mastertrade.engine.generator.evaluation import Problem
    from mastertrade.engine.generator.holdout import check_split, holdout_start
    from mastertrade.engine.generator.pipeline import lookback_cut, read_series, window_of
    from mastertrade.engine.generator.trials import TrialRegistry
    from mastertrade.engine.market.missing import missing_bars, missing_note

    if trials < 1:
        raise UserInputError(f"invalid trials {trials}: must be >= 1")
    if not 0 <= seed <= MAX_SEED:
        raise UserInputError(f"invalid seed {seed}: the tuning's sampler takes 0 to {MAX_SEED}")
    subject_of(strategy.bind(symbol, timeframe), params)  # nothing to tune: refused before any bar is read
    config = settings.generator
    if start_ms is None and end_ms is None:
        key, frame = await read_series(db, symbol, timeframe, exchange, config.lookback_bars, until=until)
        trim = await lookback_cut(db, key, len(frame), config.lookback_bars, until=until)
    else:
        key, frame, trim = await _read_range(
            db, symbol, timeframe, exchange, start_ms, end_ms, config.lookback_bars, until
        )
    # the market as it is stored (`--symbol btc/usdt` means BTC/USDT): a genome's trial key includes its
    # symbol, and `mt generate` keys the same genome under the stored spelling
    subject = subject_of(strategy.bind(key.symbol, key.timeframe), params)
    cut = holdout_start(len(frame), config.holdout_fraction)
    holdout = frame.iloc[cut:]
    problem = Problem(
        frame.iloc[:cut],
        folds=config.walk_forward_windows,
        ratio=config.in_sample_ratio,
        anchored=config.anchored,
        cash=settings.backtest.cash,
        fee=settings.backtest.fee,
    )
    check_split(key, problem, holdout)
    registry = TrialRegistry(db)
    span = (int(frame.index[0].value // 1_000_000), int(frame.index[-1].value // 1_000_000))
    from mastertrade.engine.ml.stoppable import run_stoppable

    # Ctrl-C (a cancelled caller) stops the tuning after the trial it is scoring, not after the last one
    tuned = await run_stoppable(lambda check: tune(problem, subject, settings, trials, seed, check=check))
    counted = await registry.counted(key, *span, tuned.scored)  # with the tally of the same batches
    report, batch = await run_stoppable(
        lambda _: judge(problem, holdout, subject, settings, trials, tuned, counted)
    )
    await registry.record(key, *span, batch.recorded, source="optimize", keys=batch.keys)
    return {
        "exchange": key.exchange,
        "symbol": key.symbol,
        "timeframe": key.timeframe,
        "simulated": key.simulated,
        "data": {"bars": len(frame), **trim},
        "search_window": window_of(problem.frame),
        "holdout": window_of(holdout),
        **report,
        "coarse_units": coarse_units(frame, problem.cash),
        "missing_bars": missing_bars(frame, key.timeframe)[0],
        "missing_note": missing_note(frame, key.timeframe, key.symbol),
    }


async def _read_range(
    db: Database,
    symbol: str,
    timeframe: str,
    exchange: str | None,
    start_ms: int | None,
    end_ms: int | None,
    lookback: int,
    until: int | None = None,
) -> tuple[SeriesKey, pd.DataFrame, dict[str, Any]]:
    """The newest ``lookback`` bars of the stored series opening in ``[start_ms, end_ms)`` (of those
    closed by market time ``until``), and what the report says of the cut (as ``lookback_cut``, counted
    within the range, which it names)."""
    from mastertrade.engine.market.as_of import left_out
    from mastertrade.engine.market.timeframes import to_iso
    from mastertrade.engine.research.series import SeriesLoader

    series = await SeriesLoader(db).find(symbol, timeframe, exchange, start=start_ms, end=end_ms, until=until)
    frame = series.frame.iloc[-lookback:]
    trim = {
        "stored_bars": len(series.frame),
        "lookback_bars": lookback,
        "trimmed_bars": len(series.frame) - len(frame),
        "range": {
            "start": None if start_ms is None else to_iso(start_ms),
            "end": None if end_ms is None else to_iso(end_ms),
        },
        **({} if until is None else await left_out(db, series.key, until)),
    }
    return series.key, frame, trim


@dataclass
class Tuned:
    """What a tuning scored on the search window: each distinct candidate with its score (``distinct``,
    the original alone when every parameter set was invalid), keyed for the registry (``scored``: each
    :meth:`Subject.trial_key` with its per-day Sharpe ratio), and the original's score."""

    distinct: list[tuple[Any, Any]]
    scored: dict[str, float | None]
    original_score: Any


def tune(
    problem: Any,
    subject: Subject,
    settings: Settings,
    trials: int,
    seed: int,
    check: Callable[[], None] | None = None,
) -> Tuned:
    """The CPU-bound search: Optuna over the search window. ``check`` is called after each trial and
    raises to stop the tuning (its caller was cancelled)."""
    import optuna

    from mastertrade.engine.generator.evaluation import Scorer

    config = settings.generator
    scorer = Scorer(problem)
    tried: dict[str, tuple[Any, Any]] = {}

    def objective(trial: optuna.Trial) -> float:
        values: dict[str, float] = {}
        for slot in subject.tunable:
            if slot.kind == "int":
                values[slot.name] = trial.suggest_int(slot.name, int(slot.low), int(slot.high))
            else:
                values[slot.name] = trial.suggest_float(slot.name, slot.low, slot.high)
        candidate = subject.build(values)
        if candidate is None:
            return INFEASIBLE
        score = subject.score(scorer, candidate)
        tried.setdefault(subject.key(candidate), (candidate, score))
        sharpe = score.oos_sharpe
        trades = score.value("trades") or 0.0
        if score.error or sharpe is None or trades < config.min_trades:
            return INFEASIBLE
        return sharpe

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    # a callback's exception ends optimize() as it is; one raised in the objective would be logged
    # by Optuna as a failed trial, with its traceback
    study.optimize(objective, n_trials=trials, callbacks=[] if check is None else [lambda *_: check()])
    original_score = subject.score(scorer, subject.original)
    distinct = list(tried.values())
    if not distinct:  # every parameter set was invalid: the original is the only candidate
        distinct = [(subject.original, original_score)]
    scored: dict[str, float | None] = {}
    for candidate, score in distinct:
        scored.setdefault(subject.trial_key(candidate), score.daily_sharpe)
    return Tuned(distinct, scored, original_score)


def judge(
    problem: Any,
    holdout: Any,
    subject: Subject,
    settings: Settings,
    trials: int,
    tuned: Tuned,
    counted: Counted,
) -> tuple[dict[str, Any], Batch]:
    """The CPU-bound judgement of a tuning: the PBO over its trials, the one hold-out score of the best
    and its deflated Sharpe ratio. ``counted``: which of the tuning's configurations the registry counted
    before (:class:`.trials.Counted`), not counted again, and its tally of these bars. Returns
    the report and the run's :class:`.trials.Batch` for the registry."""
    from mastertrade.engine.generator.deflated import deflated_sharpe
    from mastertrade.engine.generator.holdout import score_holdout
    from mastertrade.engine.generator.pipeline import search_pbo
    from mastertrade.engine.generator.trials import new_batch
    from mastertrade.engine.generator.validation import threshold_failures

    config = settings.generator
    distinct, original_score = tuned.distinct, tuned.original_score
    batch = new_batch(tuned.scored, counted)
    tally = batch.pooled(counted.prior)

    def rank(item: tuple[Any, Any]) -> tuple[bool, float]:
        score = item[1]
        sharpe = score.oos_sharpe
        feasible = (
            not score.error and sharpe is not None and (score.value("trades") or 0) >= config.min_trades
        )
        return feasible, -math.inf if sharpe is None else sharpe

    best, best_score = max(distinct, key=rank)  # feasible first, then the search Sharpe ratio
    feasible = sum(1 for item in distinct if rank(item)[0])
    from mastertrade.engine.signals.indicators import IndicatorCache

    pbo = search_pbo(
        problem,
        [c for c, _ in distinct],
        [s for _, s in distinct],
        IndicatorCache(problem.frame),
        config.pbo_blocks,
    )
    held = score_holdout(best, holdout, cash=problem.cash, fee=problem.fee)
    sharpe = held.daily_sharpe
    skew, kurt = held.metrics.get("daily_skew"), held.metrics.get("daily_kurtosis")
    dsr = None
    deflation: dict[str, Any] = {}
    if sharpe is not None and skew is not None and kurt is not None:
        days = int(held.metrics["days"])
        used = tally.deflation(days)
        deflation = used.as_dict()
        dsr = deflated_sharpe(sharpe, days, skew, kurt, trials=used.trials, variance=used.variance)
    failures = threshold_failures(held.metrics, dsr, config)
    from mastertrade.engine.generator.holdout import buy_and_hold
    from mastertrade.engine.generator.report import versus_buy_and_hold, versus_cash

    baseline = buy_and_hold(holdout, cash=problem.cash, fee=problem.fee)
    warmup = _warmup(best)
    report: dict[str, Any] = {
        "strategy": subject.name,
        "kind": "genome" if subject.genome is not None else "plugin",
        "tuned": [slot.name for slot in subject.tunable],
        "trials": trials,
        "distinct_trials": len(distinct),
        "feasible_trials": feasible,
        "original": {
            **subject.describe(subject.original),
            "search": _search_metrics(problem, original_score),
        },
        "best": {
            **subject.describe(best),
            "search": _search_metrics(problem, best_score),
            "holdout": {k: v for k, v in held.metrics.items() if k != "trade_stats"}
            | {"warmup_bars": warmup},
        },
        "holdout_buy_and_hold": baseline,
        "deflated_sharpe": dsr,
        "deflated_trials": tally.as_dict()
        | deflation
        | {"this_run": batch.added, "counted_before": batch.before},
        "pbo": pbo,
        "verdict": (
            "passes the filter on the hold-out"
            if not failures
            else "fails the filter on the hold-out: " + "; ".join(failures)
        )
        + ("" if feasible else f"; no trial had {config.min_trades} trades in the search's test folds")
        + versus_cash(held.metrics, " over the hold-out")
        + versus_buy_and_hold(held.metrics, baseline, " over the hold-out")
        + _warmup_note(warmup, len(holdout)),
    }
    if subject.strategy is not None and subject.strategy.plugin is not None:
        report["declared"] = [param.as_dict() for param in subject.strategy.plugin.parameters]
    return report, batch


def _warmup(candidate: Any) -> int:
    """Leading bars on which the tuned strategy cannot signal yet (its longest indicator's warm-up)."""
    from mastertrade.engine.signals.genome import Genome, warmup_bars

    if isinstance(candidate, Genome):
        return warmup_bars(candidate)
    return int(getattr(candidate, "warmup", 0) or 0)


WARMUP_SHARE = 0.1
"""Share of the hold-out's bars that a warm-up may take before the verdict says so."""


def _warmup_note(warmup: int, bars: int) -> str:
    """The hold-out is backtested on its own bars (a fresh account, indicators from those bars alone), so
    a tuning that lengthened the indicators leaves fewer of them to trade on: said when it is a tenth or
    more, since "0 trades" or a short record is otherwise read as the rules' doing."""
    if bars <= 0 or warmup < WARMUP_SHARE * bars:
        return ""
    left = max(0, bars - warmup)
    return (
        f"; its indicators warm up over the first {min(warmup, bars):,} of the hold-out's {bars:,} bars"
        f" (scored on its own bars), leaving {left:,} on which it can signal"
    )


def _search_metrics(problem: Any, score: Any) -> dict[str, Any]:
    from mastertrade.engine.generator import kernel as k
    from mastertrade.engine.generator.evaluation import metrics_of

    found = metrics_of(problem, score, k.ROW_OOS) or {}
    found["window"] = "search walk-forward (stitched inner test folds)"
    return found
