"""The reference engine: backtesting.py's ``FractionalBacktest`` driven by the same precomputed signals.

``SignalStrategy.next()`` reads the entry and exit arrays at the current bar and places orders the way
the package docstring describes: a bracket buy with stop-loss / take-profit prices from the signal bar's
close, ``position.close()`` on an exit signal, and a trailing stop implemented by raising ``trade.sl``
at each close. backtesting.py does the rest (fills at the next open, stops inside bars, fees, sizing in
satoshis), with ``trade_on_close=False``, ``exclusive_orders=True`` and ``finalize_trades=False``.

It is slow (about 70 ms for a year of hourly bars) and exists to check the fast engine and to draw
backtesting.py's interactive chart (``plot``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from unittest import mock

import backtesting.backtesting
import numpy as np
import pandas as pd
from backtesting import Strategy
from backtesting.lib import FractionalBacktest

from mastertrade.engine.backtest.fast import check_signals, price_arrays
from mastertrade.engine.backtest.params import OrderParams
from mastertrade.engine.backtest.result import (
    DEFAULT_CASH,
    DEFAULT_FEE,
    FRACTIONAL_UNIT,
    BacktestResult,
    ExitReason,
    TradeLog,
    check_chart_path,
    check_costs,
)


class SignalStrategy(Strategy):  # type: ignore[misc]
    """Trades precomputed signals; the class attributes are the run's parameters (``Backtest.run(**)``).

    ``opens`` are the opens as backtesting.py sees them (scaled by FractionalBacktest's unit). A market
    buy placed at bar t fills at ``opens[t + 1]``, so the bracket (stop-loss, take-profit, initial
    trailing level) is computed from that fill price and attached to the order before it fills: the
    same as setting it right after the fill, which backtesting.py offers no hook for. ``buy(sl=, tp=)``
    cannot be used because it checks the bracket against the signal bar's close, not the fill price.
    """

    entries: Any = None
    exits: Any = None
    opens: Any = None
    stop_loss: float | None = None
    take_profit: float | None = None
    trailing_stop: float | None = None
    size: float = 1.0

    def init(self) -> None:
        self.peak = 0.0
        self.exit_signal_bars: set[int] = set()
        self.fixed_stops: dict[int, float | None] = {}  # entry bar -> fixed stop-loss price

    def next(self) -> None:
        i = len(self.data) - 1
        if i + 1 >= len(self.opens):
            return  # no next open: an order placed now could never fill
        if self.position:
            if self.exits[i]:
                self.position.close()
                self.exit_signal_bars.add(i)
            elif self.trailing_stop:
                high = self.data.High[-1]
                if high > self.peak:
                    self.peak = high
                level = self.peak * (1 - self.trailing_stop)
                trade = self.trades[0]
                if trade.sl is None or level > trade.sl:
                    trade.sl = level
        elif self.entries[i] and not self.exits[i]:
            fill = self.opens[i + 1]
            stop = fill * (1 - self.stop_loss) if self.stop_loss else None
            take = fill * (1 + self.take_profit) if self.take_profit else None
            self.fixed_stops[i + 1] = stop
            self.peak = fill
            if self.trailing_stop:
                level = fill * (1 - self.trailing_stop)
                if stop is None or level > stop:
                    stop = level
            # backtesting.py's default size is all equity; an explicit size below 1 is a fraction of it.
            order = self.buy(size=self.size) if self.size < 1 else self.buy()
            order._replace(sl_price=stop, tp_price=take)


def _naive_utc(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The index as naive UTC times, which backtesting.py's chart axis expects."""
    return index.tz_convert(None) if index.tz is not None else index


def _ohlc(frame: pd.DataFrame) -> pd.DataFrame:
    data = pd.DataFrame(
        {
            "Open": frame["open"].to_numpy(dtype=np.float64),
            "High": frame["high"].to_numpy(dtype=np.float64),
            "Low": frame["low"].to_numpy(dtype=np.float64),
            "Close": frame["close"].to_numpy(dtype=np.float64),
            "Volume": frame["volume"].to_numpy(dtype=np.float64) if "volume" in frame else np.nan,
        },
        index=_naive_utc(pd.DatetimeIndex(frame.index)),
    )
    return data


def _no_progress_bar[T](items: Iterable[T], **_: Any) -> Iterable[T]:
    return items


def _reason(trade: Any, strategy: SignalStrategy, low: np.ndarray[Any, Any]) -> ExitReason:
    if trade.exit_bar - 1 in strategy.exit_signal_bars:
        return ExitReason.SIGNAL
    if trade.sl is not None and low[trade.exit_bar] <= trade.sl:
        fixed = strategy.fixed_stops.get(trade.entry_bar)
        return ExitReason.TRAILING_STOP if fixed is None or trade.sl > fixed else ExitReason.STOP_LOSS
    return ExitReason.TAKE_PROFIT


def run_reference(
    frame: pd.DataFrame,
    entries: Any,
    exits: Any,
    params: OrderParams | None = None,
    *,
    cash: float = DEFAULT_CASH,
    fee: float = DEFAULT_FEE,
    plot: Path | None = None,
    plot_title: str = "backtest",
    simulated: bool = False,
) -> BacktestResult:
    """Backtest one signal pair with backtesting.py; ``plot`` writes its interactive HTML chart there
    (self-contained, headed ``plot_title`` and labelled SIMULATED when ``simulated``: ``chart.py``)."""
    params = params or OrderParams()
    check_costs(cash, fee)
    if plot is not None:
        check_chart_path(plot)
    price_arrays(frame)  # the same checks as the fast engine, with the same messages
    entries, exits = check_signals(entries, exits, len(frame))
    data = _ohlc(frame)
    # backtesting.py draws a tqdm progress bar on stderr for every run; it would garble --json pipelines.
    with warnings.catch_warnings(), mock.patch.object(backtesting.backtesting, "_tqdm", _no_progress_bar):
        # Expected and handled: a trade still open at the end (reported as "open"), and prices above
        # the cash value (FractionalBacktest trades fractions).
        warnings.filterwarnings("ignore", message="Some trades remain open")
        warnings.filterwarnings("ignore", message="Some prices are larger")
        bt = FractionalBacktest(
            data,
            SignalStrategy,
            cash=float(cash),
            commission=float(fee),
            trade_on_close=False,
            exclusive_orders=True,
            finalize_trades=False,
            fractional_unit=FRACTIONAL_UNIT,
        )
        stats = bt.run(
            entries=entries,
            exits=exits,
            opens=data["Open"].to_numpy() * FRACTIONAL_UNIT,
            stop_loss=params.stop_loss,
            take_profit=params.take_profit,
            trailing_stop=params.trailing_stop,
            size=params.size,
        )
        if plot is not None:
            from mastertrade.engine.backtest.chart import write_chart

            write_chart(bt, stats, plot, title=plot_title, simulated=simulated)

    strategy: SignalStrategy = stats["_strategy"]
    unit = FRACTIONAL_UNIT
    low = data["Low"].to_numpy() * unit  # the prices backtesting.py saw, scaled the same way
    closed = list(strategy.closed_trades)
    still_open = list(strategy.trades)
    rows: list[tuple[int, int, float, float, float, float, int]] = []
    for trade in closed:
        rows.append(
            (
                trade.entry_bar,
                trade.exit_bar,
                trade.entry_price / unit,
                trade.exit_price / unit,
                trade.size * unit,
                trade.pl,
                int(_reason(trade, strategy, low)),
            )
        )
    for trade in still_open:
        entry_fee = trade.size * trade.entry_price * fee
        rows.append(
            (
                trade.entry_bar,
                -1,
                trade.entry_price / unit,
                float("nan"),
                trade.size * unit,
                trade.pl - entry_fee,
                int(ExitReason.OPEN),
            )
        )
    columns = list(zip(*rows, strict=True)) if rows else [()] * 7
    log = TradeLog(
        entry_bar=np.array(columns[0], dtype=np.int64),
        exit_bar=np.array(columns[1], dtype=np.int64),
        entry_price=np.array(columns[2], dtype=np.float64),
        exit_price=np.array(columns[3], dtype=np.float64),
        size=np.array(columns[4], dtype=np.float64),
        pnl=np.array(columns[5], dtype=np.float64),
        reason=np.array(columns[6], dtype=np.int64),
    )
    return BacktestResult(
        engine="reference",
        ts=pd.DatetimeIndex(frame.index).as_unit("ms").asi8,
        equity=stats["_equity_curve"]["Equity"].to_numpy(dtype=np.float64),
        trades=log,
        cash=float(cash),
        fee=float(fee),
        params=params,
    )
