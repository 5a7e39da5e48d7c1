"""The fast engine: one numba-compiled pass over the bars, and a batched kernel for many strategies on
the same data.

It reproduces backtesting.py's ``FractionalBacktest`` arithmetic operation for operation (the package
docstring states the semantics): prices are scaled to units of 1e-8 of the asset exactly as
FractionalBacktest scales them, the account keeps a cash balance that pays fees and books realised P&L,
equity is that balance plus the open position's unrealised P&L at the close, and order sizes are whole
units computed with the same floating-point expression. So trades, prices and equity agree with the
reference engine to the last bit in practice, not just within a tolerance.

Compiled functions are cached on disk (the folder is set by ``_numba``) and compile lazily on first
call: the first use on an installation compiles (about a second), later processes load the machine code
from the cache, and ``mt backtest`` never touches the parallel kernel.

numba caches a compiled function by its own file, not by the kernels it calls: a change to
``metrics.metrics_kernel`` reaches the cached kernels here only with a change to this file too (last:
the annualisation of returns longer than a day).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import prange

from mastertrade.engine.backtest._numba import kernel
from mastertrade.engine.backtest.metrics import KERNEL_KEYS, metrics_kernel
from mastertrade.engine.backtest.params import OrderParams
from mastertrade.engine.backtest.result import (
    DEFAULT_CASH,
    DEFAULT_FEE,
    FRACTIONAL_UNIT,
    BacktestResult,
    ExitReason,
    TradeLog,
    check_costs,
)
from mastertrade.errors import DataValidationError, UserInputError

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]

# backtesting.py's "all available equity" order size, 1 - sys.float_info.epsilon
_FULL_EQUITY = 1.0 - 2.220446049250313e-16

# Exit reason codes as plain ints: numba freezes module globals into the compiled code as constants.
_SIGNAL = int(ExitReason.SIGNAL)
_STOP_LOSS = int(ExitReason.STOP_LOSS)
_TAKE_PROFIT = int(ExitReason.TAKE_PROFIT)
_TRAILING_STOP = int(ExitReason.TRAILING_STOP)
_OPEN = int(ExitReason.OPEN)

OPEN_COLUMN = len(KERNEL_KEYS)
"""The batch kernels' rows are ``KERNEL_KEYS`` and then this column: 1.0 when a position is still open
after the last bar (``BacktestResult.open_trade``), else 0.0."""
ROW_WIDTH = OPEN_COLUMN + 1


@kernel()
def simulate_into(
    open_: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    entries: BoolArray,
    exits: BoolArray,
    stop_loss: float,
    take_profit: float,
    trailing_stop: float,
    size: float,
    cash: float,
    fee: float,
    unit: float,
    equity: FloatArray,
    t_entry_bar: Any,
    t_exit_bar: Any,
    t_entry_price: FloatArray,
    t_exit_price: FloatArray,
    t_size: FloatArray,
    t_pnl: FloatArray,
    t_reason: Any,
) -> int:
    """Run one backtest, writing the equity at each close into ``equity`` and the trades into the
    ``t_*`` buffers (length >= bars); returns the number of trades written (the last one may be open,
    with exit bar -1). Stop fractions of 0 mean "no such stop"."""
    n = open_.shape[0]
    order_size = size if size < 1.0 else _FULL_EQUITY
    trail_keep = 1.0 - trailing_stop
    balance = cash
    held = 0.0  # position in whole units of `unit`
    entry_s = 0.0  # entry price per unit (scaled)
    stop = 0.0  # stop in force (scaled price), 0 = none
    take = 0.0
    stop_is_trailing = False
    peak = 0.0
    want_entry = False
    want_exit = False
    k = 0
    if n > 0:
        equity[0] = cash
    for i in range(1, n):
        o = open_[i] * unit
        # Market orders placed at the previous close fill at this open.
        if want_exit:
            exit_fee = held * o * fee
            balance = balance + (held * (o - entry_s) - exit_fee)
            t_exit_bar[k] = i
            t_exit_price[k] = o / unit
            t_pnl[k] = held * (o - entry_s) - (exit_fee + held * entry_s * fee)
            t_reason[k] = _SIGNAL
            k += 1
            held = 0.0
        elif want_entry:
            unit_cost = o + (order_size * o * fee) / order_size
            units = (balance * order_size) // unit_cost
            if units >= 1.0 and not units * unit_cost > balance:
                held = units
                entry_s = o
                balance = balance - held * o * fee
                # The bracket is set from the fill price, and is live in this bar already.
                stop = o * (1.0 - stop_loss) if stop_loss > 0.0 else 0.0
                take = o * (1.0 + take_profit) if take_profit > 0.0 else 0.0
                stop_is_trailing = False
                peak = o
                if trailing_stop > 0.0:
                    level = o * trail_keep
                    if level > stop:
                        stop = level
                        stop_is_trailing = True
                t_entry_bar[k] = i
                t_entry_price[k] = o / unit
                t_size[k] = held * unit
        want_entry = False
        want_exit = False

        # Stops inside the bar; the stop-loss is looked at first.
        if held > 0.0:
            exit_price = 0.0
            reason = _SIGNAL
            if stop > 0.0 and low[i] * unit <= stop:
                exit_price = min(o, stop)
                reason = _TRAILING_STOP if stop_is_trailing else _STOP_LOSS
            elif take > 0.0 and high[i] * unit >= take:
                exit_price = max(o, take)
                reason = _TAKE_PROFIT
            if exit_price > 0.0:
                exit_fee = held * exit_price * fee
                balance = balance + (held * (exit_price - entry_s) - exit_fee)
                t_exit_bar[k] = i
                t_exit_price[k] = exit_price / unit
                t_pnl[k] = held * (exit_price - entry_s) - (exit_fee + held * entry_s * fee)
                t_reason[k] = reason
                k += 1
                held = 0.0

        c = close[i] * unit
        equity[i] = balance + (c * held - held * entry_s)

        # Decisions at this close, for the next open.
        if i == n - 1:
            break
        if held > 0.0:
            if exits[i]:
                want_exit = True
            elif trailing_stop > 0.0:
                h = high[i] * unit
                if h > peak:
                    peak = h
                level = peak * trail_keep
                if level > stop:
                    stop = level
                    stop_is_trailing = True
        elif entries[i] and not exits[i]:
            want_entry = True

    if held > 0.0:
        last = close[n - 1] * unit
        t_exit_bar[k] = -1
        t_exit_price[k] = np.nan
        t_pnl[k] = held * (last - entry_s) - held * entry_s * fee
        t_reason[k] = _OPEN
        k += 1
    return k


@kernel()
def simulate(
    open_: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    entries: BoolArray,
    exits: BoolArray,
    stop_loss: float,
    take_profit: float,
    trailing_stop: float,
    size: float,
    cash: float,
    fee: float,
    unit: float,
) -> tuple[Any, ...]:
    """One backtest: (equity, entry_bar, exit_bar, entry_price, exit_price, size, pnl, reason)."""
    n = open_.shape[0]
    equity = np.empty(n)
    entry_bar = np.empty(n, np.int64)
    exit_bar = np.empty(n, np.int64)
    entry_price = np.empty(n)
    exit_price = np.empty(n)
    units = np.empty(n)
    pnl = np.empty(n)
    reason = np.empty(n, np.int64)
    k = simulate_into(
        open_, high, low, close, entries, exits, stop_loss, take_profit, trailing_stop, size, cash, fee,
        unit, equity, entry_bar, exit_bar, entry_price, exit_price, units, pnl, reason,
    )  # fmt: skip
    return (
        equity,
        entry_bar[:k].copy(),
        exit_bar[:k].copy(),
        entry_price[:k].copy(),
        exit_price[:k].copy(),
        units[:k].copy(),
        pnl[:k].copy(),
        reason[:k].copy(),
    )


@kernel()
def closed_and_exposed(
    entry_bar: IntArray, exit_bar: IntArray, pnl: FloatArray, trades: int, bars: int, closed_pnl: FloatArray
) -> tuple[int, int]:
    """Write the closed trades' P&L, in trade order, into ``closed_pnl``; return how many were closed and
    the bars spent in a position (a trade still open counts to the last of ``bars``): what
    ``metrics_kernel`` reads besides the equity."""
    closed = 0
    exposed = 0
    for t in range(trades):
        last = exit_bar[t]
        if last >= 0:
            closed_pnl[closed] = pnl[t]
            closed += 1
        else:
            last = bars - 1
        exposed += last - entry_bar[t] + 1
    return closed, exposed


@kernel()
def trade_buffers(n: int) -> tuple[Any, ...]:
    """The scratch arrays ``simulate_into`` and ``closed_and_exposed`` write for ``n`` bars: equity,
    entry bar, exit bar, entry price, exit price, units, P&L, exit reason, closed P&L. One set per thread,
    reused strategy after strategy by every batch kernel."""
    return (
        np.empty(n), np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n), np.empty(n), np.empty(n),
        np.empty(n), np.empty(n, np.int64), np.empty(n),
    )  # fmt: skip


@kernel()
def simulate_rows(
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
    day_last: Any,
    years: float,
) -> FloatArray:
    """Many backtests on the same bars, one after the other in the calling thread: row g of
    ``entries``/``exits`` with the g-th order parameters. Returns the metrics of each (rows of
    ``metrics.KERNEL_KEYS`` and ``OPEN_COLUMN``), the same numbers ``simulate_many`` gives.

    The batch runner calls it on several threads at once (it releases the GIL), one chunk of strategies a
    call, while the main thread evaluates the next chunks' signals: unlike a ``prange`` kernel, whose
    threads would compete with the main thread for the cores, the chunks simply queue up for whichever
    core is free."""
    count = entries.shape[0]
    n = open_.shape[0]
    out = np.empty((count, ROW_WIDTH))
    equity, entry_bar, exit_bar, entry_price, exit_price, units, pnl, reason, closed_pnl = trade_buffers(n)
    for g in range(count):
        k = simulate_into(
            open_, high, low, close, entries[g], exits[g], stop_loss[g], take_profit[g],
            trailing_stop[g], size[g], cash, fee, unit, equity, entry_bar, exit_bar, entry_price,
            exit_price, units, pnl, reason,
        )  # fmt: skip
        closed, exposed = closed_and_exposed(entry_bar, exit_bar, pnl, k, n, closed_pnl)
        out[g, :OPEN_COLUMN] = metrics_kernel(equity, day_last, years, cash, closed_pnl[:closed], exposed)
        out[g, OPEN_COLUMN] = 1.0 if closed < k else 0.0
    return out


@kernel(parallel=True)
def simulate_many(
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
    day_last: Any,
    years: float,
    workers: int,
) -> FloatArray:
    """Many backtests on the same bars: row g of ``entries``/``exits`` (2-D, one row per strategy) with
    the g-th order parameters. Returns the metrics of each (rows of ``metrics.KERNEL_KEYS`` and
    ``OPEN_COLUMN``).

    The strategies are dealt to ``workers`` threads in contiguous blocks, each run by ``simulate_rows``
    (which allocates its buffers once). All cores in one call, for a caller with nothing else to do
    meanwhile (the benchmarks' kernel figures); the batch runner, which evaluates signals meanwhile, runs
    ``simulate_rows`` on threads of its own instead."""
    count = entries.shape[0]
    out = np.empty((count, ROW_WIDTH))
    for w in prange(workers):
        lo = w * count // workers
        hi = (w + 1) * count // workers
        if hi > lo:
            out[lo:hi] = simulate_rows(
                open_, high, low, close, entries[lo:hi], exits[lo:hi], stop_loss[lo:hi],
                take_profit[lo:hi], trailing_stop[lo:hi], size[lo:hi], cash, fee, unit, day_last, years,
            )  # fmt: skip
    return out


def price_arrays(frame: Any) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Contiguous, writable float64 open, high, low and close of a candle frame, as the kernels take them.

    A missing, NaN or non-positive price is rejected (naming the first bad bar): the kernels would
    silently compute nonsense from it, and backtesting.py refuses it too."""
    if len(frame) == 0:
        raise UserInputError("no candles to backtest")
    columns = []
    for name in ("open", "high", "low", "close"):
        if name not in frame:
            raise DataValidationError(f"candles lack a {name!r} column")
        # writable too (a copy where pandas hands out a read-only view): numba compiles a kernel once per
        # argument type, read-only arrays being another type, so any frame must give the same types
        values = np.require(frame[name].to_numpy(dtype=np.float64), np.float64, ["C", "W"])
        bad = np.flatnonzero(~(values > 0) | ~np.isfinite(values))
        if bad.size:
            raise DataValidationError(
                f"candle {frame.index[bad[0]]} has {name} {values[bad[0]]}: prices must be positive numbers"
            )
        columns.append(values)
    return columns[0], columns[1], columns[2], columns[3]


def check_signals(entries: Any, exits: Any, bars: int) -> tuple[BoolArray, BoolArray]:
    """Signals as contiguous boolean arrays of the series' length."""
    out = []
    for name, values in (("entries", entries), ("exits", exits)):
        array = np.ascontiguousarray(np.asarray(values, dtype=np.bool_))
        if array.shape[-1] != bars:
            raise UserInputError(f"{name} has {array.shape[-1]} values for {bars} bars")
        out.append(array)
    return out[0], out[1]


def run_fast(
    frame: Any,
    entries: Any,
    exits: Any,
    params: OrderParams | None = None,
    *,
    cash: float = DEFAULT_CASH,
    fee: float = DEFAULT_FEE,
) -> BacktestResult:
    """Backtest one signal pair on a candle frame (store format: UTC index, open/high/low/close)."""
    params = params or OrderParams()
    check_costs(cash, fee)
    open_, high, low, close = price_arrays(frame)
    entries, exits = check_signals(entries, exits, len(frame))
    equity, entry_bar, exit_bar, entry_price, exit_price, size, pnl, reason = simulate(
        open_,
        high,
        low,
        close,
        entries,
        exits,
        *params.kernel_args(),
        float(cash),
        float(fee),
        FRACTIONAL_UNIT,
    )
    return BacktestResult(
        engine="fast",
        ts=frame.index.as_unit("ms").asi8,
        equity=equity,
        trades=TradeLog(entry_bar, exit_bar, entry_price, exit_price, size, pnl, reason),
        cash=float(cash),
        fee=float(fee),
        params=params,
    )
