"""Backtesting: a fast numba engine and the backtesting.py reference engine, which agree trade for trade.

Both engines take the same input: a candle series (open, high, low, close), boolean ``entries`` and
``exits`` arrays computed on each bar's close, and the order parameters (stop-loss, take-profit and
trailing-stop fractions, a position-size fraction), starting cash and a fee. Both return a
``BacktestResult`` (equity at each close, trades) whose metrics come from one module (``metrics``).

The semantics (DESIGN.md "Backtest semantics", made precise here; the reference is backtesting.py's
``FractionalBacktest`` with ``trade_on_close=False``, ``exclusive_orders=True``, ``finalize_trades=False``):

1. **Timing.** Signals are read at the close of bar t; the resulting market order fills at the open of
   bar t+1. Bar 0 only opens the account (its signals are not acted on, as backtesting.py starts its
   strategy at the second bar); signals on the last bar have no next open and are not acted on.
2. **Signals.** Long-only spot, one position at a time. While flat, ``entries[t] and not exits[t]``
   places a buy. While long, ``exits[t]`` places a sell of the whole position; entry signals are ignored
   while long (no pyramiding, no re-entry on the same bar). An exit signal thus wins over an entry signal
   on the same bar.
3. **Sizing.** A buy spends the fraction ``size`` (0 < size <= 1) of the equity at the fill, fee
   included: ``units = floor(equity * size / (open * (1 + fee)))`` counted in whole units of 1e-8 of
   the asset (FractionalBacktest's satoshi), so a trade never spends more than ``size`` of the equity.
   ``size = 1`` means backtesting.py's "all equity" (``1 - 2**-52``). If not even one unit is
   affordable, the order is dropped.
4. **Fees.** ``fee * price * units`` is paid on each side (entry and exit), a fraction of traded notional.
5. **Stops.** When a buy fills at price p, its stop-loss is ``p * (1 - stop_loss)`` and its take-profit
   ``p * (1 + take_profit)`` (a bracket around the fill price). They are live from the entry bar on:
   within each bar, after any fill at its open, the stop triggers when ``low <= stop`` and fills at
   ``min(open, stop)`` (a bar that gaps below the stop fills at its open), else the take-profit triggers
   when ``high >= take`` and fills at ``max(open, take)`` (a gap above it fills at the open). When both
   are reached in one bar, the stop-loss counts. A sell from an exit signal fills at the open, before
   any stop of that bar is looked at.
6. **Trailing stop.** The trailing level is ``peak * (1 - trailing_stop)`` where ``peak`` starts at the
   fill price and becomes the highest high since entry, updated at each close (including the entry
   bar's); a raised level is effective from the next bar. The stop in force is the higher of the fixed
   stop-loss and the trailing level, so it never moves down. An exit through it is reported as
   ``trailing_stop`` when the trailing level was above the fixed stop, else ``stop_loss``.
7. **Equity** is marked at each close: cash plus the position at that close. Bar 0's equity is the
   starting cash.
8. **End.** A position still open after the last bar stays open: marked to market at the last close with
   no exit fee, listed with reason ``open``, and not counted in ``trades``, ``win_rate_pct`` or
   ``profit_factor``.

Importing this package points numba's on-disk cache at MasterTrade's cache folder (see ``_numba``), so
every submodule that compiles is covered; it imports nothing heavy itself.
"""

from __future__ import annotations

from mastertrade.engine.backtest import _numba  # noqa: F401  (must run before numba is imported)
