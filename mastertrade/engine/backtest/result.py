"""What a backtest takes besides prices and signals (``OrderParams``) and what both engines return
(``BacktestResult``: the equity curve, the trades, and the metrics computed from them)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from mastertrade.engine.backtest.metrics import Calendar, metrics_dict, metrics_kernel
from mastertrade.engine.backtest.params import OrderParams
from mastertrade.errors import UserInputError

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]

DEFAULT_CASH = 10_000.0
DEFAULT_FEE = 0.001
# backtesting.py's FractionalBacktest trades whole multiples of this fraction of a unit (a satoshi).
FRACTIONAL_UNIT = 1 / 100e6


class ExitReason(IntEnum):
    """Why a trade ended (the codes the compiled kernel writes)."""

    SIGNAL = 0
    STOP_LOSS = 1
    TAKE_PROFIT = 2
    TRAILING_STOP = 3
    OPEN = 4  # still open after the last bar

    @property
    def label(self) -> str:
        return self.name.lower()


MAX_CASH = 1e12
"""The most starting cash a backtest takes (the most a manual order or a goal takes too): a position of
1e308 cash overflowed to an infinite notional, and the backtest then bought nothing, saying the size
"affords no unit of the asset"."""


def check_costs(cash: float, fee: float) -> None:
    """Reject starting cash and fees the engines cannot honour (backtesting.py caps fees below 10%)."""
    if not (cash > 0 and math.isfinite(cash)):
        raise UserInputError(f"invalid cash {cash}: must be a positive amount")
    if cash > MAX_CASH:
        raise UserInputError(f"invalid cash {cash:g}: larger than {MAX_CASH:g}")
    if not (0.0 <= fee < 0.1):
        raise UserInputError(f"invalid fee {fee}: must be a fraction in [0, 0.1), e.g. 0.001 for 0.1%")


def check_chart_path(path: Path) -> None:
    """backtesting.py's chart is HTML and it appends ".html" to any other name, writing somewhere else
    than asked: refuse such a name up front."""
    if path.suffix.lower() != ".html":
        raise UserInputError(f"invalid chart file {str(path)!r}: it is HTML, name it *.html")
    if path.is_dir():
        raise UserInputError(f"invalid chart file {str(path)!r}: it is a folder")


@dataclass(frozen=True)
class Trade:
    """One trade, prices in quote currency and size in units of the asset."""

    entry_bar: int
    exit_bar: int | None
    entry_time: str
    exit_time: str | None
    entry_price: float
    exit_price: float | None
    size: float
    pnl: float
    """Net of both fees; for an open trade, marked at the last close minus the entry fee."""
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class TradeLog:
    """All trades of one run as columns (the open one, if any, last with exit_bar -1)."""

    entry_bar: IntArray
    exit_bar: IntArray
    entry_price: FloatArray
    exit_price: FloatArray
    size: FloatArray
    pnl: FloatArray
    reason: IntArray

    def __len__(self) -> int:
        return int(self.entry_bar.shape[0])

    @property
    def closed(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        return np.asarray(self.exit_bar >= 0)

    def exposed_bars(self, bars: int) -> int:
        """Bars from each entry through its exit, inclusive (to the last bar for an open trade)."""
        last = np.where(self.exit_bar >= 0, self.exit_bar, bars - 1)
        return int(np.sum(last - self.entry_bar + 1))


@dataclass(frozen=True)
class BacktestResult:
    """One backtest: the equity at each bar's close and the trades, from either engine."""

    engine: str
    ts: IntArray
    """Bar open times, epoch ms."""
    equity: FloatArray
    trades: TradeLog
    cash: float
    fee: float
    params: OrderParams = field(default_factory=OrderParams)

    @cached_property
    def calendar(self) -> Calendar:
        return Calendar.from_ts(self.ts)

    @cached_property
    def metric_values(self) -> FloatArray:
        closed = self.trades.closed
        return metrics_kernel(
            self.equity,
            self.calendar.day_last,
            self.calendar.years,
            float(self.cash),
            np.ascontiguousarray(self.trades.pnl[closed]),
            self.trades.exposed_bars(len(self.ts)),
        )

    def metrics(self) -> dict[str, Any]:
        """The metrics (``metrics.METRIC_KEYS``), JSON-safe."""
        return metrics_dict(self.metric_values, self.calendar)

    @property
    def final_equity(self) -> float:
        return float(self.equity[-1])

    @property
    def open_trade(self) -> bool:
        return bool(len(self.trades) and self.trades.exit_bar[-1] < 0)

    def trade_list(self) -> list[Trade]:
        from mastertrade.engine.market.timeframes import to_iso

        log = self.trades
        out = []
        for k in range(len(log)):
            closed = log.exit_bar[k] >= 0
            out.append(
                Trade(
                    entry_bar=int(log.entry_bar[k]),
                    exit_bar=int(log.exit_bar[k]) if closed else None,
                    entry_time=to_iso(int(self.ts[log.entry_bar[k]])),
                    exit_time=to_iso(int(self.ts[log.exit_bar[k]])) if closed else None,
                    entry_price=float(log.entry_price[k]),
                    exit_price=float(log.exit_price[k]) if closed else None,
                    size=float(log.size[k]),
                    pnl=float(log.pnl[k]),
                    reason=ExitReason(int(log.reason[k])).label,
                )
            )
        return out
