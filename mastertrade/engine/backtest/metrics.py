"""Performance metrics of a backtest: one definition for both engines, the batch runner and walk-forward.

The engines produce an equity curve (account value at each bar's close, starting cash at bar 0) and a
list of trades; everything below is computed from those, by the same compiled function whichever engine
ran (``metrics_kernel``, also called inside the batched kernel). A value that is undefined is ``None``
in JSON (NaN inside the kernel), never ``inf`` or ``NaN`` in output.

- ``return_pct``: total return, ``(final_equity / cash - 1) * 100``.
- ``cagr_pct``: compound annual growth rate, ``((final_equity / cash) ** (1 / years) - 1) * 100`` where
  ``years`` is the time from the first bar to the last bar divided by 365 days (the equity curve is marked
  at both bars' closes, so that is the span it covers). ``None`` for a single bar.
- ``sharpe``: annualised Sharpe ratio of daily returns with a zero risk-free rate,
  ``mean(r) / std(r) * sqrt(365)`` (sample standard deviation, ddof 1). Daily returns ``r`` are the
  relative changes between consecutive daily closes, a daily close being the equity at the last bar of
  each UTC calendar day that has bars (crypto trades every day, hence 365). ``None`` with fewer than two
  daily returns or when they do not vary (a strategy that never trades). When the returns span more
  than ``LONG_RETURN_DAYS`` days on average (bars longer than a day: one return a week on weekly bars),
  365 would overstate the ratio by the square root of their span (2.6 times on weekly bars): the factor
  is then the number of returns a year holds, ``returns / years`` (:func:`returns_per_year`).
- ``sortino``: ``mean(r) / downside_deviation * sqrt(365)`` (the same factor as ``sharpe``) with
  ``downside_deviation = sqrt(mean(min(r, 0) ** 2))`` over all daily returns. ``None`` when no daily
  return is negative.
- ``calmar``: ``cagr_pct / max_drawdown_pct``. ``None`` when there is no drawdown or no CAGR.
- ``max_drawdown_pct``: the largest fall of the equity curve below its running peak, measured at bar
  closes, as a positive percentage: ``max(1 - equity / cummax(equity)) * 100`` (0 when it never falls).
- ``win_rate_pct``: closed trades with a positive net P&L (after both fees) as a percentage of closed
  trades. ``None`` without closed trades.
- ``profit_factor``: gross profit of winning closed trades divided by the absolute gross loss of losing
  ones (net P&L after fees). ``None`` when no closed trade lost money (including no trades at all):
  infinity has no JSON form.
- ``trades``: the number of closed trades. A position still open at the end is not counted (it is
  marked to market in the equity and reported separately as ``open_trade``).
- ``exposure_pct``: bars from each trade's entry bar through its exit bar, inclusive (the last bar for a
  position still open), as a percentage of all bars.
- ``final_equity``: the equity at the last bar's close (an open position marked at that close, no exit fee).
- ``start``, ``end``: the first and last bar's open time (ISO-8601 UTC); ``bars``: the number of bars.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from mastertrade.engine.backtest._numba import kernel

DAYS_PER_YEAR = 365
_DAY_MS = 86_400_000
_YEAR_MS = DAYS_PER_YEAR * _DAY_MS

# The order of the numbers metrics_kernel returns.
KERNEL_KEYS = (
    "return_pct",
    "cagr_pct",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown_pct",
    "win_rate_pct",
    "profit_factor",
    "trades",
    "exposure_pct",
    "final_equity",
)
# The keys of ``mt backtest --json`` (contract), in order.
METRIC_KEYS = (*KERNEL_KEYS, "start", "end", "bars")

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]

LONG_RETURN_DAYS = 1.5
"""Returns spanning more days than this on average are not daily: bars longer than a day."""


@kernel()
def returns_per_year(returns: int, years: float) -> float:
    """The factor whose square root annualises a Sharpe ratio of ``returns`` consecutive returns over
    ``years``: 365 for daily returns (a few missing days aside), the returns a year holds for longer ones
    (52 on weekly bars)."""
    if returns > 0 and years > 0.0 and years * DAYS_PER_YEAR / returns > LONG_RETURN_DAYS:
        return returns / years
    return float(DAYS_PER_YEAR)


@kernel()
def metrics_kernel(
    equity: FloatArray,
    day_last: IntArray,
    years: float,
    cash: float,
    pnl: FloatArray,
    exposed_bars: int,
) -> FloatArray:
    """The numbers of ``KERNEL_KEYS`` (NaN where undefined) from an equity curve, the indices of each
    day's last bar, the span in years, the starting cash, the net P&L of closed trades and the count of
    bars spent in a position."""
    out = np.full(len(KERNEL_KEYS), np.nan)
    n = equity.shape[0]
    final = equity[n - 1]
    growth = final / cash
    out[0] = (growth - 1.0) * 100.0
    cagr = np.nan
    if years > 0.0:
        cagr = (growth ** (1.0 / years) - 1.0) * 100.0 if growth > 0.0 else -100.0
    out[1] = cagr

    days = day_last.shape[0]
    if days >= 2:
        m = days - 1
        total = 0.0
        for d in range(m):
            total += equity[day_last[d + 1]] / equity[day_last[d]] - 1.0
        mean = total / m
        squares = 0.0
        downside = 0.0
        for d in range(m):
            r = equity[day_last[d + 1]] / equity[day_last[d]] - 1.0
            squares += (r - mean) * (r - mean)
            if r < 0.0:
                downside += r * r
        annual = math.sqrt(returns_per_year(m, years))
        if m >= 2:
            std = math.sqrt(squares / (m - 1))
            if std > 0.0:
                out[2] = mean / std * annual
        if downside > 0.0:
            out[3] = mean / math.sqrt(downside / m) * annual

    peak = equity[0]
    worst = 0.0
    for i in range(n):
        if equity[i] > peak:
            peak = equity[i]
        drawdown = 1.0 - equity[i] / peak
        if drawdown > worst:
            worst = drawdown
    out[5] = worst * 100.0
    if worst > 0.0 and not math.isnan(cagr):
        out[4] = cagr / out[5]

    closed = pnl.shape[0]
    wins = 0
    gross_profit = 0.0
    gross_loss = 0.0
    for t in range(closed):
        if pnl[t] > 0.0:
            wins += 1
            gross_profit += pnl[t]
        elif pnl[t] < 0.0:
            gross_loss -= pnl[t]
    if closed > 0:
        out[6] = wins / closed * 100.0
    if gross_loss > 0.0:
        out[7] = gross_profit / gross_loss
    out[8] = closed
    out[9] = exposed_bars / n * 100.0
    out[10] = final
    return out


def day_last_bars(ts_ms: IntArray) -> IntArray:
    """Indices of the last bar of each UTC calendar day present in ``ts_ms`` (epoch ms, ascending)."""
    if ts_ms.shape[0] == 0:
        return np.empty(0, dtype=np.int64)
    day = ts_ms // _DAY_MS
    ends = np.flatnonzero(day[1:] != day[:-1])
    return np.append(ends, ts_ms.shape[0] - 1).astype(np.int64)


def span_years(ts_ms: IntArray) -> float:
    """Years (of 365 days) between the first and the last bar."""
    if ts_ms.shape[0] < 2:
        return 0.0
    return float(ts_ms[-1] - ts_ms[0]) / _YEAR_MS


@dataclass(frozen=True)
class Calendar:
    """What the metrics need to know about a series' timestamps, computed once per series and window."""

    day_last: IntArray
    years: float
    start: str
    end: str
    bars: int

    @classmethod
    def from_ts(cls, ts_ms: IntArray) -> Calendar:
        from mastertrade.engine.market.timeframes import to_iso

        ts_ms = np.asarray(ts_ms, dtype=np.int64)
        return cls(
            day_last=day_last_bars(ts_ms),
            years=span_years(ts_ms),
            start=to_iso(int(ts_ms[0])),
            end=to_iso(int(ts_ms[-1])),
            bars=int(ts_ms.shape[0]),
        )


def metrics_dict(values: FloatArray, calendar: Calendar) -> dict[str, Any]:
    """The metrics as a JSON-safe dict with exactly ``METRIC_KEYS`` (undefined values as None)."""
    # tolist(): Python floats of the same values in one call (a batch makes thousands of these dicts)
    numbers = cast(list[float], values.tolist())  # a 1-D row (numpy types tolist() loosely)
    data: dict[str, Any] = {
        key: v if math.isfinite(v) else None for key, v in zip(KERNEL_KEYS, numbers, strict=True)
    }
    data["trades"] = int(values[8])
    data["start"] = calendar.start
    data["end"] = calendar.end
    data["bars"] = calendar.bars
    return data
