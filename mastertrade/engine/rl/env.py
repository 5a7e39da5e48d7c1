"""A gymnasium environment that steps through bars exactly as the fast engine does.

One step is one decision at the close of bar t and the bar t+1 that follows it:

1. the action is the signal at the close of bar t: ``KEEP`` (no signal), ``ENTER`` (entry signal) or
   ``EXIT`` (exit signal); as in the engine, an exit wins over an entry, an entry counts only while flat,
   and a held position's trailing stop ratchets at this close unless it exits;
2. bar t+1: a market order placed at the close fills at its open (fees per side, the order size as in
   the engine); the stop-loss, take-profit and trailing stop are checked against its low and high (the
   stop first; a gap past a stop fills at the open); equity is marked at its close.

The reward is the log change of that marked equity. The arithmetic is the fast engine's
(:func:`mastertrade.engine.backtest.fast.simulate_into`) operation for operation, on prices scaled to
FractionalBacktest's units, so a genome's own signals fed as actions reproduce its trades and equity;
``tests/engine/rl/test_env.py`` holds it to that. It is a second copy of the kernel's loop because the
kernel runs a whole series in one compiled call and cannot stop at each bar for an agent's decision.

An episode covers bars ``[start, end)``; as in the engine, the first bar of an episode takes no
decision (backtesting.py starts its strategy on the second bar), so :meth:`reset` returns the
observation of bar ``start + 1``. With ``episode_bars`` set, each reset picks a random window of that
many bars inside ``[start, end)`` from the environment's seeded generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import gymnasium
import numpy as np

from mastertrade.engine.backtest.params import OrderParams
from mastertrade.engine.backtest.result import (
    DEFAULT_CASH,
    DEFAULT_FEE,
    FRACTIONAL_UNIT,
    ExitReason,
    TradeLog,
)
from mastertrade.engine.signals.model.actions import ENTER, EXIT
from mastertrade.errors import UserInputError

FloatArray = np.ndarray[Any, np.dtype[Any]]

# backtesting.py's "all available equity" order size, as in the fast engine
_FULL_EQUITY = 1.0 - 2.220446049250313e-16


@dataclass
class _Book:
    """The account between bars, in the kernel's scaled units."""

    balance: float
    held: float = 0.0
    entry_s: float = 0.0
    stop: float = 0.0
    take: float = 0.0
    stop_is_trailing: bool = False
    peak: float = 0.0
    want_entry: bool = False
    want_exit: bool = False
    # one row per trade: entry_bar, exit_bar, entry price, exit price, size, pnl, reason
    trades: list[list[float]] = field(default_factory=list)


class TradingEnv(gymnasium.Env[FloatArray, np.int64]):
    """Bars ``[start, end)`` of ``open_, high, low, close`` with one observation row per bar."""

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 (gymnasium's class attribute)

    def __init__(
        self,
        open_: Any,
        high: Any,
        low: Any,
        close: Any,
        observations: Any,
        params: OrderParams | None = None,
        *,
        cash: float = DEFAULT_CASH,
        fee: float = DEFAULT_FEE,
        start: int = 0,
        end: int | None = None,
        episode_bars: int | None = None,
    ) -> None:
        self.opens = np.asarray(open_, dtype=np.float64)
        self.highs = np.asarray(high, dtype=np.float64)
        self.lows = np.asarray(low, dtype=np.float64)
        self.closes = np.asarray(close, dtype=np.float64)
        self.observations = np.asarray(observations, dtype=np.float32)
        n = len(self.closes)
        if not (len(self.opens) == len(self.highs) == len(self.lows) == n == len(self.observations)):
            raise UserInputError("prices and observations must have one row per bar")
        self.end = n if end is None else end
        self.start = start
        if not (0 <= start and start + 2 <= self.end <= n):
            raise UserInputError(f"invalid bar range [{start}, {self.end}) of {n} bars: need two or more")
        if episode_bars is not None and not (2 <= episode_bars <= self.end - start):
            raise UserInputError(f"invalid episode_bars {episode_bars}: must be in [2, {self.end - start}]")
        self.episode_bars = episode_bars
        self.params = params or OrderParams()
        self.cash = float(cash)
        self.fee = float(fee)
        self.unit = FRACTIONAL_UNIT
        stop_loss, take_profit, trailing_stop, size = self.params.kernel_args()
        self._stop_loss, self._take_profit, self._trailing = stop_loss, take_profit, trailing_stop
        self._order_size = size if size < 1.0 else _FULL_EQUITY
        self.action_space = gymnasium.spaces.Discrete(3)
        width = self.observations.shape[1] if self.observations.ndim == 2 else 0
        self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, shape=(width,), dtype=np.float32)
        self._book = _Book(balance=self.cash)
        self._t = start
        self._last = self.end - 1
        self.equity = np.full(n, np.nan)

    def copy(self) -> TradingEnv:
        """A fresh environment over the same bars and settings (its own account and generator)."""
        return TradingEnv(
            self.opens, self.highs, self.lows, self.closes, self.observations, self.params,
            cash=self.cash, fee=self.fee, start=self.start, end=self.end, episode_bars=self.episode_bars,
        )  # fmt: skip

    # -- gymnasium API ---------------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[FloatArray, dict[str, Any]]:
        super().reset(seed=seed)
        first, last = self.start, self.end - 1
        if self.episode_bars is not None:
            first = int(self.np_random.integers(self.start, self.end - self.episode_bars + 1))
            last = first + self.episode_bars - 1
        self._book = _Book(balance=self.cash)
        self._last = last
        self.equity[:] = np.nan
        self.equity[first] = self.cash
        self._t = first
        self._advance(first + 1)  # the first bar takes no decision, as in the engine
        return self.observations[self._t], {"bar": self._t}

    def step(self, action: Any) -> tuple[FloatArray, float, bool, bool, dict[str, Any]]:
        if self._t >= self._last:
            raise RuntimeError("step() after the episode ended: call reset()")
        self._decide(int(action))
        before = self.equity[self._t]
        self._advance(self._t + 1)
        after = self.equity[self._t]
        reward = math.log(after / before) if after > 0 and before > 0 else -1.0
        done = self._t >= self._last
        return self.observations[self._t], reward, done, False, {"bar": self._t}

    # -- the engine's bar logic ----------------------------------------------------------------------
    def _decide(self, action: int) -> None:
        """Decisions at the close of bar ``self._t`` for the next open."""
        book = self._book
        if book.held > 0.0:
            if action == EXIT:
                book.want_exit = True
            elif self._trailing > 0.0:
                h = self.highs[self._t] * self.unit
                if h > book.peak:
                    book.peak = h
                level = book.peak * (1.0 - self._trailing)
                if level > book.stop:
                    book.stop = level
                    book.stop_is_trailing = True
        elif action == ENTER:
            book.want_entry = True

    def _advance(self, i: int) -> None:
        """Bar ``i``: fills at its open, stops inside it, equity at its close."""
        book, unit, fee = self._book, self.unit, self.fee
        o = self.opens[i] * unit
        if book.want_exit:
            exit_fee = book.held * o * fee
            book.balance = book.balance + (book.held * (o - book.entry_s) - exit_fee)
            self._close_trade(i, o, exit_fee, int(ExitReason.SIGNAL))
        elif book.want_entry:
            size = self._order_size
            unit_cost = o + (size * o * fee) / size
            units = (book.balance * size) // unit_cost
            if units >= 1.0 and not units * unit_cost > book.balance:
                book.held = units
                book.entry_s = o
                book.balance = book.balance - book.held * o * fee
                book.stop = o * (1.0 - self._stop_loss) if self._stop_loss > 0.0 else 0.0
                book.take = o * (1.0 + self._take_profit) if self._take_profit > 0.0 else 0.0
                book.stop_is_trailing = False
                book.peak = o
                if self._trailing > 0.0:
                    level = o * (1.0 - self._trailing)
                    if level > book.stop:
                        book.stop = level
                        book.stop_is_trailing = True
                opened = [i, -1, o / unit, math.nan, book.held * unit, math.nan, int(ExitReason.OPEN)]
                book.trades.append(opened)
        book.want_entry = False
        book.want_exit = False

        if book.held > 0.0:
            exit_price = 0.0
            reason = int(ExitReason.SIGNAL)
            if book.stop > 0.0 and self.lows[i] * unit <= book.stop:
                exit_price = min(o, book.stop)
                reason = int(ExitReason.TRAILING_STOP if book.stop_is_trailing else ExitReason.STOP_LOSS)
            elif book.take > 0.0 and self.highs[i] * unit >= book.take:
                exit_price = max(o, book.take)
                reason = int(ExitReason.TAKE_PROFIT)
            if exit_price > 0.0:
                exit_fee = book.held * exit_price * fee
                book.balance = book.balance + (book.held * (exit_price - book.entry_s) - exit_fee)
                self._close_trade(i, exit_price, exit_fee, reason)

        c = self.closes[i] * unit
        self.equity[i] = book.balance + (c * book.held - book.held * book.entry_s)
        self._t = i

    def _close_trade(self, i: int, price: float, exit_fee: float, reason: int) -> None:
        book = self._book
        trade = book.trades[-1]
        trade[1] = i
        trade[3] = price / self.unit
        trade[5] = book.held * (price - book.entry_s) - (exit_fee + book.held * book.entry_s * self.fee)
        trade[6] = reason
        book.held = 0.0

    # -- results ---------------------------------------------------------------------------------------
    @property
    def bar(self) -> int:
        """The bar whose close the next action is decided at."""
        return self._t

    @property
    def position(self) -> float:
        """Units held (in whole units of the asset)."""
        return self._book.held * self.unit

    def trade_log(self) -> TradeLog:
        """The trades so far, as the engines report them (an open one with exit bar -1 and its P&L at the
        last marked close)."""
        rows = [list(trade) for trade in self._book.trades]
        if rows and rows[-1][1] == -1:
            book = self._book
            last = self.closes[self._t] * self.unit
            rows[-1][5] = book.held * (last - book.entry_s) - book.held * book.entry_s * self.fee
        table = np.array(rows, dtype=np.float64).reshape(-1, 7)
        return TradeLog(
            table[:, 0].astype(np.int64),
            table[:, 1].astype(np.int64),
            table[:, 2],
            table[:, 3],
            table[:, 4],
            table[:, 5],
            table[:, 6].astype(np.int64),
        )
