"""Validation: the filter a generated strategy must pass before anything trades it.

Three checks, in this order, all on numbers the search could not have fitted:

1. **Out-of-sample thresholds** (``[generator]``): enough closed OOS trades, not always in the market, an
   OOS Sharpe ratio and a drawdown within bounds. In-sample numbers are reported, never filtered on.
2. **Deflated Sharpe ratio** (:mod:`.deflated`): at least ``min_deflated_sharpe``, counting every distinct
   candidate the search scored as a trial and the variance of their OOS Sharpe ratios.
3. **Reference engine**: a strategy that passed 1 and 2 (a finalist) is backtested again on the full
   series by backtesting.py, and must reproduce the fast engine's trades (same entry and exit bars and
   reasons) and final equity (within ``reference_tolerance``, relative). A disagreement fails the
   filter and is logged as an error: it means one engine is wrong, and no number from it can be trusted.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mastertrade.engine.generator.deflated import deflated_sharpe, sample_variance

if TYPE_CHECKING:
    from mastertrade.config import GeneratorSettings
    from mastertrade.engine.generator.evaluation import Problem, Score
    from mastertrade.engine.generator.search import Candidate
    from mastertrade.engine.signals.genome import Genome
    from mastertrade.engine.signals.indicators import IndicatorCache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Thresholds:
    """The filter's bounds (``[generator]`` settings of the same names)."""

    min_trades: int = 10
    max_exposure_pct: float = 95.0
    min_oos_sharpe: float = 1.0
    min_deflated_sharpe: float = 0.95
    max_drawdown_pct: float = 25.0
    reference_tolerance: float = 1e-6

    @classmethod
    def from_settings(cls, settings: GeneratorSettings) -> Thresholds:
        return cls(
            min_trades=settings.min_trades,
            max_exposure_pct=settings.max_exposure_pct,
            min_oos_sharpe=settings.min_oos_sharpe,
            min_deflated_sharpe=settings.min_deflated_sharpe,
            max_drawdown_pct=settings.max_drawdown_pct,
            reference_tolerance=settings.reference_tolerance,
        )


def deflated_ratios(archive: Sequence[Candidate], chosen: Sequence[Candidate]) -> dict[str, float | None]:
    """The deflated Sharpe ratio of each chosen candidate, by key, with every archived candidate a trial."""
    daily = [c.score.daily_sharpe for c in archive if c.score is not None]
    variance = sample_variance(value for value in daily if value is not None)
    trials = max(1, len(archive))
    found: dict[str, float | None] = {}
    for candidate in chosen:
        found[candidate.key] = None if candidate.score is None else deflate(candidate.score, trials, variance)
    return found


def deflate(score: Score, trials: int, variance: float) -> float | None:
    sharpe = score.daily_sharpe
    observations, skew, kurtosis = int(score.moments[0]), float(score.moments[3]), float(score.moments[4])
    if sharpe is None or not (math.isfinite(skew) and math.isfinite(kurtosis)):
        return None
    return deflated_sharpe(sharpe, observations, skew, kurtosis, trials=trials, variance=variance)


def threshold_failures(oos: dict[str, Any], deflated: float | None, limits: Thresholds) -> list[str]:
    """Why the OOS metrics and deflated Sharpe ratio fail the filter (empty: they pass)."""
    reasons = []
    trades = oos.get("trades") or 0
    if trades < limits.min_trades:
        reasons.append(f"OOS trades {trades} < {limits.min_trades}")
    exposure = oos.get("exposure_pct") or 0.0
    if exposure > limits.max_exposure_pct:
        reasons.append(f"OOS exposure {exposure:.1f}% > {limits.max_exposure_pct:g}%")
    sharpe = oos.get("sharpe")
    if sharpe is None:
        reasons.append("OOS Sharpe undefined")
    elif sharpe < limits.min_oos_sharpe:
        reasons.append(f"OOS Sharpe {sharpe:.2f} < {limits.min_oos_sharpe:g}")
    drawdown = oos.get("max_drawdown_pct")
    if drawdown is not None and drawdown > limits.max_drawdown_pct:
        reasons.append(f"OOS drawdown {drawdown:.1f}% > {limits.max_drawdown_pct:g}%")
    if deflated is None:
        reasons.append("deflated Sharpe undefined")
    elif deflated < limits.min_deflated_sharpe:
        reasons.append(f"deflated Sharpe {deflated:.3f} < {limits.min_deflated_sharpe:g}")
    return reasons


def passed_reason(oos: dict[str, Any], deflated: float | None, reference: dict[str, Any] | None) -> str:
    parts = [
        f"OOS Sharpe {oos['sharpe']:.2f}",
        f"drawdown {oos['max_drawdown_pct']:.1f}%",
        f"{oos['trades']} trades",
        f"deflated Sharpe {deflated:.3f}" if deflated is not None else "",
    ]
    if reference is not None:
        parts.append("reference engine agrees")
    return "passed: " + ", ".join(part for part in parts if part)


def reference_check(
    genome: Genome, problem: Problem, cache: IndicatorCache, tolerance: float
) -> dict[str, Any]:
    """Backtest the genome on the full series with both engines and compare trades and equity."""
    from mastertrade.engine.backtest.fast import run_fast
    from mastertrade.engine.backtest.params import order_params
    from mastertrade.engine.backtest.reference import run_reference
    from mastertrade.engine.signals.evaluate import signals

    started = time.perf_counter()
    entries, exits = signals(genome, cache)
    params = order_params(genome)
    fast = run_fast(problem.frame, entries, exits, params, cash=problem.cash, fee=problem.fee)
    reference = run_reference(problem.frame, entries, exits, params, cash=problem.cash, fee=problem.fee)
    mismatch = None
    if len(fast.trades) != len(reference.trades):
        mismatch = f"{len(fast.trades)} trades on the fast engine, {len(reference.trades)} on the reference"
    elif not (
        np.array_equal(fast.trades.entry_bar, reference.trades.entry_bar)
        and np.array_equal(fast.trades.exit_bar, reference.trades.exit_bar)
        and np.array_equal(fast.trades.reason, reference.trades.reason)
    ):
        first = int(
            np.flatnonzero(
                (fast.trades.entry_bar != reference.trades.entry_bar)
                | (fast.trades.exit_bar != reference.trades.exit_bar)
                | (fast.trades.reason != reference.trades.reason)
            )[0]
        )
        bars = (int(fast.trades.entry_bar[first]), int(reference.trades.entry_bar[first]))
        mismatch = (
            f"trade {first} differs (entry bar {bars[0]} on the fast engine, {bars[1]} on the reference)"
        )
    scale = np.maximum(np.abs(reference.equity), 1e-12)
    equity_gap = float(np.max(np.abs(fast.equity - reference.equity) / scale)) if len(fast.equity) else 0.0
    if mismatch is None and not equity_gap <= tolerance:
        mismatch = f"equity differs by {equity_gap:.3g} (relative) > {tolerance:g}"
    return {
        "agrees": mismatch is None,
        "engine": "backtesting.py",
        "mismatch": mismatch,
        "trades_fast": len(fast.trades),
        "trades_reference": len(reference.trades),
        "final_equity_fast": fast.final_equity,
        "final_equity_reference": reference.final_equity,
        "max_equity_gap": equity_gap,
        "seconds": time.perf_counter() - started,
    }


def oos_trade_stats(genome: Genome, problem: Problem, cache: IndicatorCache) -> dict[str, float]:
    """The closed trades of every OOS window as a trade record (wins, losses and their summed returns,
    a return being the P&L over the entry value with its fee): the Kelly prior of the trading core."""
    from mastertrade.engine.backtest.fast import run_fast
    from mastertrade.engine.backtest.params import order_params
    from mastertrade.engine.signals.evaluate import signals

    entries, exits = signals(genome, cache)
    params = order_params(genome)
    returns: list[float] = []
    for window in problem.windows:
        part = window.out_of_sample
        result = run_fast(
            problem.frame.iloc[part], entries[part], exits[part], params, cash=problem.cash, fee=problem.fee
        )
        trades = result.trades
        for t in np.flatnonzero(trades.closed):
            cost = float(trades.entry_price[t] * trades.size[t] * (1.0 + problem.fee))
            if cost > 0:
                returns.append(float(trades.pnl[t]) / cost)
    wins = [r for r in returns if r > 0]
    losses = [r for r in returns if r <= 0]
    return {
        "wins": float(len(wins)),
        "losses": float(len(losses)),
        "win_sum": math.fsum(wins),
        "loss_sum": math.fsum(losses),
    }
