"""Plain backtests of many strategies on the same bars in one compiled call: the hold-out score of every
stored candidate (:func:`.holdout.score_holdout_many`) and their daily returns for the PBO.

For strategy g (row g of ``entries``/``exits``, order parameters at index g) it runs the fast engine's own
single-pass backtest (``backtest.fast.simulate_into``, so exactly what ``run_fast`` and ``mt backtest``
compute) on all the bars given, from a fresh account, and returns what :func:`.holdout.describe_result`
reads from a ``BacktestResult``, without building one per candidate:

- the metrics (``backtest.metrics.metrics_kernel`` over the equity, the day-last bars, the span in years,
  the closed trades' P&L in trade order and the bars exposed: the same arguments, so the same bits, as
  ``BacktestResult.metric_values``);
- the equity at each UTC day's last bar (the daily closes the daily returns come from);
- each closed trade's return (P&L over its entry value with the entry fee, trades whose entry value is
  not positive left out), in trade order, flat with per-strategy offsets: summing them exactly
  (``math.fsum``) is left to Python.

Serial on purpose: hundreds of candidates on a hold-out take milliseconds, less than loading a
parallel kernel from the cache.

numba caches a compiled function by its own file, not by the kernels it calls: a change to
``metrics.metrics_kernel`` reaches the cached kernels here only with a change to this file too (last:
the annualisation of returns longer than a day).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from mastertrade.engine.backtest._numba import kernel
from mastertrade.engine.backtest.fast import closed_and_exposed, simulate_into, trade_buffers
from mastertrade.engine.backtest.metrics import KERNEL_KEYS, metrics_kernel

if TYPE_CHECKING:
    import pandas as pd

    from mastertrade.engine.backtest.metrics import Calendar

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]

METRICS = len(KERNEL_KEYS)


@kernel()
def _trade_returns(
    entry_price: FloatArray, units: FloatArray, pnl: FloatArray, exit_bar: IntArray, trades: int, fee: float,
    out: FloatArray,
) -> int:  # fmt: skip
    """Write the closed trades' returns into ``out`` (see the module docstring); return their count."""
    written = 0
    for t in range(trades):
        if exit_bar[t] < 0:
            continue
        cost = entry_price[t] * units[t] * (1.0 + fee)
        if cost > 0:
            out[written] = pnl[t] / cost
            written += 1
    return written


@kernel()
def backtest_many(
    open_: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    entries: Any,
    exits: Any,
    stop_loss: FloatArray,
    take_profit: FloatArray,
    trailing_stop: FloatArray,
    size: FloatArray,
    cash: float,
    fee: float,
    unit: float,
    day_last: IntArray,
    years: float,
) -> tuple[FloatArray, FloatArray, IntArray, FloatArray]:
    """Backtest every strategy on all the bars. Returns ``values`` (strategies x ``METRICS``), ``closes``
    (strategies x days: the equity at each day's last bar), ``offsets`` (strategies + 1) and the flat
    trade ``returns``, strategy g's being ``returns[offsets[g]:offsets[g + 1]]``."""
    count = entries.shape[0]
    n = open_.shape[0]
    days = day_last.shape[0]
    values = np.empty((count, METRICS))
    closes = np.empty((count, days))
    offsets = np.zeros(count + 1, np.int64)
    returns = np.empty(n)
    equity, entry_bar, exit_bar, entry_price, exit_price, units, pnl, reason, closed_pnl = trade_buffers(n)
    for g in range(count):
        k = simulate_into(
            open_, high, low, close, entries[g], exits[g], stop_loss[g], take_profit[g],
            trailing_stop[g], size[g], cash, fee, unit, equity, entry_bar, exit_bar, entry_price,
            exit_price, units, pnl, reason,
        )  # fmt: skip
        closed, exposed = closed_and_exposed(entry_bar, exit_bar, pnl, k, n, closed_pnl)
        values[g] = metrics_kernel(equity, day_last, years, cash, closed_pnl[:closed], exposed)
        for d in range(days):
            closes[g, d] = equity[day_last[d]]
        start = offsets[g]
        if start + k > returns.shape[0]:  # grow: the trades are few, the buffer rarely moves
            grown = np.empty(max(2 * returns.shape[0], start + k))
            grown[:start] = returns[:start]
            returns = grown
        offsets[g + 1] = start + _trade_returns(entry_price, units, pnl, exit_bar, k, fee, returns[start:])
    return values, closes, offsets, returns[: offsets[count]].copy()


class Batch(NamedTuple):
    """What :func:`backtest_many` returns, with the calendar of the bars (see its docstring)."""

    values: FloatArray
    closes: FloatArray
    offsets: IntArray
    returns: FloatArray
    calendar: Calendar


def run_plain(
    strategies: Sequence[Any], frame: pd.DataFrame, *, cash: float, fee: float, cache: Any
) -> Batch:
    """Plain backtests of ``strategies`` (genomes or plugin strategies) on ``frame``, their signals read
    from ``cache`` (an ``IndicatorCache`` of ``frame``): each exactly what ``runner.backtest`` computes."""
    from mastertrade.engine.backtest.fast import price_arrays
    from mastertrade.engine.backtest.metrics import Calendar
    from mastertrade.engine.backtest.params import order_params
    from mastertrade.engine.backtest.result import FRACTIONAL_UNIT, check_costs
    from mastertrade.engine.backtest.runner import signal_rows

    check_costs(cash, fee)
    prices = price_arrays(frame)
    entries, exits = signal_rows(strategies, cache)
    params = np.empty((4, len(strategies)))
    for index, strategy in enumerate(strategies):
        params[:, index] = order_params(strategy).kernel_args()
    stamps: Any = frame.index  # a DatetimeIndex (store format)
    calendar = Calendar.from_ts(stamps.as_unit("ms").asi8)
    values, closes, offsets, returns = backtest_many(
        *prices, entries, exits, params[0], params[1], params[2], params[3], float(cash), float(fee),
        FRACTIONAL_UNIT, calendar.day_last, calendar.years,
    )  # fmt: skip
    return Batch(values, closes, offsets, returns, calendar)
