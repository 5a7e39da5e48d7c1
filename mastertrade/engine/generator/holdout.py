"""The hold-out: the newest bars of the lookback, which the search never sees, scored once after selection.

A run's lookback is cut in two at :func:`holdout_start`: the **search window** (the older
``1 - holdout_fraction``; the genetic search and its inner walk-forward folds see only these bars) and
the **hold-out** (the newest ``holdout_fraction``). A stored candidate's hold-out score is a plain
backtest of its genome on the hold-out bars alone (a fresh account, indicators computed from the
hold-out's own bars, exactly what ``mt backtest STRATEGY --start <hold-out start>`` prints), so nothing
of the search window leaks into it, and it reproduces by hand.

:func:`score_holdout` returns the ``mt backtest --json`` metrics of that backtest plus what the filter,
the deflated Sharpe ratio, the promotion rules and the Kelly prior need: the moments of its daily
returns and its closed trades as a trade record. :func:`score_holdout_many` gives the same metrics, to the
bit, for all of a run's stored candidates at once: their signals go through one compiled call
(:mod:`.plain_batch`) instead of one ``BacktestResult`` each.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mastertrade.engine.generator.pbo import daily_returns, returns_of_close_rows
from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    import pandas as pd

    from mastertrade.engine.backtest.result import BacktestResult
    from mastertrade.engine.generator.evaluation import Problem
    from mastertrade.engine.market.store import SeriesKey

_DAY_MS = 86_400_000


def holdout_start(bars: int, fraction: float) -> int:
    """The index of the first hold-out bar in a lookback of ``bars`` bars."""
    if not 0 < fraction < 1:
        raise UserInputError(f"invalid hold-out fraction {fraction}: must be between 0 and 1")
    held = int(round(bars * fraction))
    return bars - max(1, held)


def check_holdout(frame: pd.DataFrame) -> None:
    """A hold-out needs at least two days of bars for a daily Sharpe ratio."""
    if len(frame) < 2:
        raise UserInputError(f"a hold-out of {len(frame)} bars is too short")
    index = frame.index
    span = (index[-1] - index[0]).total_seconds() * 1000
    if span < 2 * _DAY_MS:
        raise UserInputError(
            f"the hold-out ({len(frame)} bars) spans less than two days: lengthen the lookback"
            " or raise [generator] holdout_fraction"
        )


def check_split(series: SeriesKey, problem: Problem, holdout: pd.DataFrame) -> None:
    """The search window (``problem``) and the hold-out are both long enough; refused otherwise, naming the
    series and how its bars were cut: the walk-forward's own message counts the search window's bars,
    which are not the number of bars the trader stored."""
    try:
        problem.check()
        check_holdout(holdout)
    except UserInputError as exc:
        searched, held = len(problem.frame), len(holdout)
        cut = f"{searched + held:,} bars ({searched:,} to search, the newest {held:,} held out)"
        raise UserInputError(f"{series}: {cut}: {exc}") from None


@dataclass(frozen=True)
class HoldoutScore:
    """A plain backtest on the hold-out bars and the figures derived from it."""

    result: BacktestResult
    metrics: dict[str, Any]

    @property
    def daily_sharpe(self) -> float | None:
        return daily_sharpe(self.metrics)


def daily_sharpe(metrics: dict[str, Any]) -> float | None:
    """The per-day Sharpe ratio of hold-out metrics (``None`` without a spread of daily returns)."""
    mean, std = metrics.get("daily_mean"), metrics.get("daily_std")
    if mean is None or std is None or std <= 0:
        return None
    return float(mean) / float(std)


def moments(returns: np.ndarray[Any, np.dtype[np.float64]]) -> dict[str, float | None]:
    """Count, mean, standard deviation (ddof 1), skewness and kurtosis (not excess) of daily returns."""
    n = len(returns)
    if n < 2:
        return {"daily_mean": None, "daily_std": None, "daily_skew": None, "daily_kurtosis": None}
    mean = float(np.mean(returns))
    centred = returns - mean
    m2 = float(np.mean(centred**2))
    std = float(np.std(returns, ddof=1))
    skew = float(np.mean(centred**3)) / m2**1.5 if m2 > 0 else None
    kurt = float(np.mean(centred**4)) / m2**2 if m2 > 0 else None
    return {"daily_mean": mean, "daily_std": std, "daily_skew": skew, "daily_kurtosis": kurt}


def moments_of_rows(returns: np.ndarray[Any, np.dtype[np.float64]]) -> list[dict[str, float | None]]:
    """:func:`moments` of each row of ``returns`` (one strategy's daily returns a row), to the bit: each
    reduction runs along a contiguous row, so it adds the same numbers in the same (pairwise) order as
    on the row alone; a few whole-matrix calls instead of a dozen small ones per strategy."""
    rows, n = returns.shape
    if n < 2:
        return [moments(returns[row]) for row in range(rows)]
    mean = np.mean(returns, axis=1)
    centred = returns - mean[:, None]
    m2 = np.mean(centred**2, axis=1).tolist()
    m3 = np.mean(centred**3, axis=1).tolist()
    m4 = np.mean(centred**4, axis=1).tolist()
    std = np.std(returns, axis=1, ddof=1).tolist()
    return [
        {
            "daily_mean": row_mean,
            "daily_std": row_std,
            "daily_skew": row_m3 / row_m2**1.5 if row_m2 > 0 else None,
            "daily_kurtosis": row_m4 / row_m2**2 if row_m2 > 0 else None,
        }
        for row_mean, row_std, row_m2, row_m3, row_m4 in zip(mean.tolist(), std, m2, m3, m4, strict=True)
    ]


def trade_stats(result: BacktestResult) -> dict[str, float]:
    """The closed trades as a trade record (wins, losses and their summed returns, a return being the
    P&L over the entry value with its fee): the Kelly prior of the trading core."""
    trades = result.trades
    returns: list[float] = []
    for t in np.flatnonzero(trades.closed):
        cost = float(trades.entry_price[t] * trades.size[t] * (1.0 + result.fee))
        if cost > 0:
            returns.append(float(trades.pnl[t]) / cost)
    return record_of(returns)


def record_of(returns: list[float]) -> dict[str, float]:
    """Wins, losses and their exactly summed returns (``math.fsum``) of closed trades' returns."""
    wins = [r for r in returns if r > 0]
    losses = [r for r in returns if r <= 0]
    return {
        "wins": float(len(wins)),
        "losses": float(len(losses)),
        "win_sum": math.fsum(wins),
        "loss_sum": math.fsum(losses),
    }


def describe_result(result: BacktestResult) -> dict[str, Any]:
    """A backtest's metrics with the daily-return moments and the trade record added."""
    metrics = result.metrics()
    returns = daily_returns(result.equity, result.calendar.day_last, result.cash)
    metrics.update(days=len(returns), **moments(returns))
    metrics["trade_stats"] = trade_stats(result)
    return metrics


def buy_and_hold(frame: pd.DataFrame, *, cash: float, fee: float) -> dict[str, Any]:
    """The naive baseline on the hold-out bars ``frame``: bought at the first bar the engine trades on and
    held to the end, with the same cash and fee, so its metrics compare with a stored candidate's
    hold-out metrics figure for figure (what ``mt validate`` calls buy-and-hold, on these bars)."""
    from mastertrade.engine.backtest.fast import run_fast

    hold = np.ones(len(frame), dtype=np.bool_)
    metrics: dict[str, Any] = run_fast(frame, hold, ~hold, cash=cash, fee=fee).metrics()
    return metrics


def score_holdout(
    strategy: Any, frame: pd.DataFrame, *, cash: float, fee: float, cache: Any = None
) -> HoldoutScore:
    """Backtest ``strategy`` (a genome or a plugin strategy) on the hold-out bars ``frame`` alone."""
    from mastertrade.engine.backtest.runner import backtest

    result = backtest(strategy, frame, cash=cash, fee=fee, cache=cache)
    metrics = describe_result(result)
    metrics["window"] = "holdout"
    return HoldoutScore(result, metrics)


def score_holdout_many(
    strategies: Sequence[Any], frame: pd.DataFrame, *, cash: float, fee: float, cache: Any = None
) -> list[dict[str, Any]]:
    """The hold-out metrics of each of ``strategies`` (genomes or plugin strategies), in order: for each,
    exactly ``score_holdout(strategy, frame, ...).metrics`` (a test holds them equal), computed in one
    compiled call (see the module docstring). ``score_holdout`` stays the path for one strategy, with
    its ``BacktestResult``."""
    from mastertrade.engine.backtest.metrics import metrics_dict
    from mastertrade.engine.generator.plain_batch import run_plain
    from mastertrade.engine.signals.indicators import IndicatorCache

    if not strategies:
        return []
    if cache is None:
        cache = IndicatorCache(frame)
    values, closes, offsets, returns, calendar = run_plain(strategies, frame, cash=cash, fee=fee, cache=cache)
    out = []
    cash = float(cash)
    daily = returns_of_close_rows(closes, cash)
    for index, stats in enumerate(moments_of_rows(daily)):
        metrics = metrics_dict(values[index], calendar)
        metrics.update(days=daily.shape[1], **stats)
        metrics["trade_stats"] = record_of(returns[offsets[index] : offsets[index + 1]].tolist())
        metrics["window"] = "holdout"
        out.append(metrics)
    return out
