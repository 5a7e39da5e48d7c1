"""Validation: the filter a generated strategy must pass before anything trades it.

Three checks, in this order, all on the **hold-out** (:mod:`.holdout`), bars the search never saw:

1. **Hold-out thresholds** (``[generator]``): enough closed hold-out trades, not always in the market,
   a hold-out Sharpe ratio and a drawdown within bounds. Search-window numbers (what the search
   optimised) are reported, never filtered on.
2. **Deflated Sharpe ratio** (:mod:`.deflated`) of the hold-out Sharpe ratio: at least
   ``min_deflated_sharpe``, counting as trials every distinct candidate ever scored on overlapping bars
   of the series (the registry, :mod:`.trials`), with the observed variance of their per-day Sharpe
   ratios (:meth:`.trials.Tally.deflation`, which names its fallback).
3. **Reference engine**: a strategy that passed 1 and 2 (a finalist) is backtested again on the
   hold-out by backtesting.py, and must reproduce the fast engine's trades (same entry and exit bars and
   reasons) and final equity (within ``reference_tolerance``, relative). A disagreement fails the
   filter and is logged as an error: it means one engine is wrong, and no number from it can be trusted.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from mastertrade.config import GeneratorSettings
    from mastertrade.engine.signals.genome import Genome
    from mastertrade.engine.signals.indicators import IndicatorCache

log = logging.getLogger(__name__)


THRESHOLDS = (
    "min_trades",
    "max_exposure_pct",
    "min_oos_sharpe",
    "min_deflated_sharpe",
    "max_drawdown_pct",
    "reference_tolerance",
)
"""The ``[generator]`` settings that make the filter (recorded with each run)."""


def thresholds(settings: GeneratorSettings) -> dict[str, Any]:
    """The filter's bounds in ``settings``, as a run records them."""
    return {name: getattr(settings, name) for name in THRESHOLDS}


def threshold_failures(oos: dict[str, Any], deflated: float | None, limits: GeneratorSettings) -> list[str]:
    """Why the hold-out metrics ``oos`` and deflated Sharpe ratio fail the ``[generator]`` filter (empty:
    they pass)."""
    reasons = []
    trades = oos.get("trades") or 0
    if trades < limits.min_trades:
        reasons.append(f"hold-out trades {trades} < {limits.min_trades}")
    exposure = oos.get("exposure_pct") or 0.0
    if exposure > limits.max_exposure_pct:
        reasons.append(f"hold-out exposure {exposure:.1f}% > {limits.max_exposure_pct:g}%")
    sharpe = oos.get("sharpe")
    if sharpe is None:
        reasons.append("hold-out Sharpe undefined")
    elif sharpe < limits.min_oos_sharpe:
        reasons.append(f"hold-out Sharpe {sharpe:.2f} < {limits.min_oos_sharpe:g}")
    drawdown = oos.get("max_drawdown_pct")
    if drawdown is not None and drawdown > limits.max_drawdown_pct:
        reasons.append(f"hold-out drawdown {drawdown:.1f}% > {limits.max_drawdown_pct:g}%")
    if deflated is None:
        reasons.append(deflated_undefined(oos))
    elif deflated < limits.min_deflated_sharpe:
        reasons.append(f"deflated Sharpe {deflated:.3f} < {limits.min_deflated_sharpe:g}")
    return reasons


def deflated_undefined(oos: dict[str, Any]) -> str:
    """Why no deflated Sharpe ratio was computed on the hold-out metrics ``oos``."""
    from mastertrade.engine.generator.deflated import MIN_OBSERVATIONS

    days = oos.get("days")
    if isinstance(days, int) and days < MIN_OBSERVATIONS:
        return f"deflated Sharpe undefined: {days} daily returns, fewer than {MIN_OBSERVATIONS}"
    return "deflated Sharpe undefined"


def passed_reason(oos: dict[str, Any], deflated: float | None, reference: dict[str, Any] | None) -> str:
    parts = [
        f"hold-out Sharpe {oos['sharpe']:.2f}",
        f"drawdown {oos['max_drawdown_pct']:.1f}%",
        f"{oos['trades']} trades",
        f"deflated Sharpe {deflated:.3f}" if deflated is not None else "",
    ]
    if reference is not None:
        parts.append("reference engine agrees")
    return "passed: " + ", ".join(part for part in parts if part)


def reference_check(
    genome: Genome, frame: pd.DataFrame, cache: IndicatorCache, tolerance: float, *, cash: float, fee: float
) -> dict[str, Any]:
    """Backtest the genome on ``frame`` with both engines and compare trades and equity."""
    from mastertrade.engine.backtest.fast import run_fast
    from mastertrade.engine.backtest.params import order_params
    from mastertrade.engine.backtest.reference import run_reference
    from mastertrade.engine.signals.evaluate import signals

    started = time.perf_counter()
    entries, exits = signals(genome, cache)
    params = order_params(genome)
    fast = run_fast(frame, entries, exits, params, cash=cash, fee=fee)
    reference = run_reference(frame, entries, exits, params, cash=cash, fee=fee)
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
