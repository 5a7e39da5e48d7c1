"""Tuning a trader's own genome under the generator's discipline: ``mt optimize``.

The numeric parameters of the genome (every indicator term's numeric parameters within their declared
bounds, and the stop-loss, take-profit and trailing-stop fractions it uses) are tuned with Optuna's TPE
sampler (seeded, so the same seed and data give the same result). The discipline is the generation
run's:

- every trial is scored on the **search window** only, by the same walk-forward as the genetic search
  (:class:`.evaluation.Scorer`; objective: the stitched test folds' Sharpe ratio; a trial with fewer
  than ``min_trades`` test trades or an undefined Sharpe ratio scores as infeasible);
- the best trial is scored **once** on the hold-out (the newest ``holdout_fraction`` of the lookback)
  and judged there by the default filter; its deflated Sharpe ratio counts every trial ever recorded
  for the series in the registry, this optimisation's included, which it then joins;
- the probability of backtest overfitting (CSCV) is computed over the trials' daily returns on the
  search window.

The result is a report and a genome; nothing is stored as a strategy (``mt strategy add`` or a genome
file does that).
"""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    from mastertrade.config import Settings
    from mastertrade.db.database import Database
    from mastertrade.engine.signals.genome import Genome

log = logging.getLogger(__name__)

INFEASIBLE = -1_000.0
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


def with_values(data: dict[str, Any], values: dict[str, float]) -> dict[str, Any]:
    """The genome JSON with each slot set to ``values[slot.name]``."""
    from mastertrade.engine.generator.variation import _term_at, _with_term

    out = copy.deepcopy(data)
    for slot in slots(data):
        value = values[slot.name]
        if len(slot.where) == 1:
            out[slot.where[0]] = value
            continue
        side, path, index, param = slot.where
        term = dict(_term_at(out, side, path, index))
        term[param] = value
        out = _with_term(out, side, path, index, term)
    return out


async def optimize(
    db: Database,
    settings: Settings,
    genome: Genome,
    *,
    symbol: str,
    timeframe: str,
    exchange: str | None = None,
    trials: int = 100,
    seed: int = 0,
) -> dict[str, Any]:
    """Tune ``genome`` on the stored series (see the module docstring); the report as a JSON document."""
    import asyncio

    from mastertrade.engine.generator.evaluation import Problem
    from mastertrade.engine.generator.holdout import check_holdout, holdout_start
    from mastertrade.engine.generator.pipeline import lookback_cut, read_series, window_of
    from mastertrade.engine.generator.trials import TrialRegistry

    if trials < 1:
        raise UserInputError(f"invalid trials {trials}: must be >= 1")
    genome = genome.model_copy(update={"symbol": symbol, "timeframe": timeframe})
    if not slots(genome.to_dict()):
        raise UserInputError(f"strategy {genome.name!r} has no numeric parameter to tune")
    config = settings.generator
    key, frame = await read_series(db, symbol, timeframe, exchange, config.lookback_bars)
    trim = await lookback_cut(db, key, len(frame), config.lookback_bars)
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
    problem.check()
    check_holdout(holdout)
    registry = TrialRegistry(db)
    span = (int(frame.index[0].value // 1_000_000), int(frame.index[-1].value // 1_000_000))
    prior = await registry.tally(key, *span)
    report, batch = await asyncio.to_thread(tune, problem, holdout, genome, settings, trials, seed, prior)
    await registry.record(key, *span, batch, source="optimize")
    return {
        "exchange": key.exchange,
        "symbol": key.symbol,
        "timeframe": key.timeframe,
        "simulated": key.simulated,
        "data": {"bars": len(frame), **trim},
        "search_window": window_of(problem.frame),
        "holdout": window_of(holdout),
        **report,
    }


def tune(
    problem: Any, holdout: Any, genome: Genome, settings: Settings, trials: int, seed: int, prior: Any
) -> tuple[dict[str, Any], Any]:
    """The CPU-bound part: Optuna over the search window, then the one hold-out score of the best."""
    import optuna

    from mastertrade.engine.generator.deflated import deflated_sharpe
    from mastertrade.engine.generator.evaluation import Scorer
    from mastertrade.engine.generator.holdout import score_holdout
    from mastertrade.engine.generator.pipeline import null_variance, search_pbo
    from mastertrade.engine.generator.trials import Tally
    from mastertrade.engine.generator.validation import Thresholds, threshold_failures
    from mastertrade.engine.signals.genome import parse_genome
    from mastertrade.errors import InvalidGenome

    config = settings.generator
    base = genome.to_dict()
    tunable = slots(base)
    scorer = Scorer(problem)
    tried: dict[str, tuple[Genome, Any]] = {}

    def objective(trial: optuna.Trial) -> float:
        values: dict[str, float] = {}
        for slot in tunable:
            if slot.kind == "int":
                values[slot.name] = trial.suggest_int(slot.name, int(slot.low), int(slot.high))
            else:
                values[slot.name] = trial.suggest_float(slot.name, slot.low, slot.high)
        try:
            candidate = parse_genome({**with_values(base, values), "name": genome.name})
        except InvalidGenome:
            return INFEASIBLE
        score = scorer.score([candidate])[0]
        tried.setdefault(candidate.to_json(indent=None), (candidate, score))
        sharpe = score.oos_sharpe
        trades = score.value("trades") or 0.0
        if score.error or sharpe is None or trades < config.min_trades:
            return INFEASIBLE
        return sharpe

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=trials)
    original_score = scorer.score([genome])[0]
    distinct = list(tried.values())
    batch = Tally.of(len(distinct), (score.daily_sharpe for _, score in distinct))
    tally = (prior or Tally()) + batch

    def rank(item: tuple[Genome, Any]) -> tuple[bool, float]:
        score = item[1]
        sharpe = score.oos_sharpe
        feasible = (
            not score.error and sharpe is not None and (score.value("trades") or 0) >= config.min_trades
        )
        return feasible, -math.inf if sharpe is None else sharpe

    best_genome, best_score = max(distinct, key=rank)  # feasible first, then the search Sharpe ratio
    feasible = sum(1 for item in distinct if rank(item)[0])
    from mastertrade.engine.signals.indicators import IndicatorCache

    cache = IndicatorCache(problem.frame)
    pbo = search_pbo(problem, [g for g, _ in distinct], [s for _, s in distinct], cache, config.pbo_blocks)
    held = score_holdout(best_genome, holdout, cash=problem.cash, fee=problem.fee)
    sharpe = held.daily_sharpe
    skew, kurt = held.metrics.get("daily_skew"), held.metrics.get("daily_kurtosis")
    dsr = None
    if sharpe is not None and skew is not None and kurt is not None:
        days = int(held.metrics["days"])
        dsr = deflated_sharpe(
            sharpe, days, skew, kurt, trials=max(1, tally.trials), variance=null_variance(days)
        )
    failures = threshold_failures(held.metrics, dsr, Thresholds.from_settings(config))
    report = {
        "strategy": genome.name,
        "tuned": [slot.name for slot in tunable],
        "trials": trials,
        "distinct_trials": len(distinct),
        "feasible_trials": feasible,
        "original": {"genome": base, "search": _search_metrics(problem, original_score)},
        "best": {
            "genome": best_genome.to_dict(),
            "search": _search_metrics(problem, best_score),
            "holdout": {k: v for k, v in held.metrics.items() if k != "trade_stats"},
        },
        "deflated_sharpe": dsr,
        "deflated_trials": tally.as_dict() | {"this_run": batch.trials},
        "pbo": pbo,
        "verdict": (
            "passes the filter on the hold-out"
            if not failures
            else "fails the filter on the hold-out: " + "; ".join(failures)
        )
        + ("" if feasible else f"; no trial had {config.min_trades} trades in the search's test folds"),
    }
    return report, batch


def _search_metrics(problem: Any, score: Any) -> dict[str, Any]:
    from mastertrade.engine.generator import kernel as k
    from mastertrade.engine.generator.evaluation import metrics_of

    found = metrics_of(problem, score, k.ROW_OOS) or {}
    found["window"] = "search walk-forward (stitched inner test folds)"
    return found
