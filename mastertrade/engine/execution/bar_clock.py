"""The bar clock: every closed bar evaluated exactly once, in order, for every traded strategy.

Why it exists: the market feed's events are a notification, not the data. A subscriber that falls behind
sees price ticks coalesced, and a restarted trading service misses whatever was published while it was
down; a strategy driven straight by those events skipped bars, acted on bars late, filled its stops
against half-formed bars and read its signals from a sliding window, so its paper book drifted from
its backtest. Here the **candle store is the truth** and each strategy has a **cursor**, the open time of
the last bar it was evaluated on:

- on a ``CandleClosed`` of its series (``catch_up(symbol, timeframe, upto)``), every stored bar after the
  cursor up to and including ``upto`` is evaluated in order: first the strategy's paper book sees the
  whole closed bar (orders placed at the previous close fill at its open; stops and take-profits are
  checked against its high and low, the stop winning a tie, as in the backtest), then the book's equity is
  marked at its close, then the strategy's signals at that bar decide an order placed for the next bar's
  open. However late the evaluation runs, it never skips a bar and never uses a later bar's data;
- a strategy's signals are computed over a fixed window: from its **anchor** (the bar its book opened on,
  less ``window_bars`` bars of warm-up) to the bar evaluated. Signals have no lookahead (the truncation
  tests hold every built-in and random genomes to it), so one computation over the anchor..newest bar
  gives every pending bar's signal exactly as a computation per bar would, and the parity report
  (``parity_report.book_parity``), computing over the same anchor, sees the very same signals;
- the cursor is the book's last equity mark (one per evaluated bar), so a restart resumes from the store
  where the journal says the book stopped.

Every traded strategy (paper or active) keeps its own paper book (``strategy:<id>``), which trades
exactly its backtest; an active one also trades the account (``AccountAction``, sized by Kelly and the
goals, checked by the risk manager) on the newest bar: a bar evaluated while catching up goes into the
book only, since an account order sent late would fill at a later price than its backtest's.
A new strategy's book opens on the bar it is first evaluated on and trades from the next, as a backtest's
first bar only opens the account.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from mastertrade import errors
from mastertrade.engine.backtest.params import order_params
from mastertrade.engine.candle import Bar, Candle
from mastertrade.engine.execution.strategies import TradedStrategy, window_bars
from mastertrade.engine.execution.strategy_orders import Action, decide, entry_request, exit_request
from mastertrade.engine.market.timeframes import timeframe_ms

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from numpy.typing import NDArray

    from mastertrade.engine.execution.journal import Journal
    from mastertrade.engine.execution.paper import PaperBroker
    from mastertrade.engine.market.store import SeriesKey
    from mastertrade.engine.research.series import Series
    from mastertrade.engine.signals.strategy import Strategy

log = logging.getLogger(__name__)


class SeriesSource(Protocol):
    """The stored series with their strategies' features (``research.series.SeriesLoader``): the one
    door through which the bar clock, the ``Trader`` and the parity report read a window of bars
    (``start``..``end``, open times, ``end`` exclusive)."""

    async def load(
        self,
        key: SeriesKey,
        strategies: Sequence[Any] = (),
        *,
        start: int | None = None,
        end: int | None = None,
        simulated: bool | None = None,
    ) -> Series: ...


AccountAction = Callable[[TradedStrategy, bool, bool, Bar, int, bool], Awaitable[None]]
"""An active strategy's decision in the account: ``(item, entry, exit, bar, placed_ts, newest)``;
``newest`` is False for a bar evaluated while catching up."""
SignalSeen = Callable[[TradedStrategy, Action, Bar], None]
BookStep = Callable[[TradedStrategy, int, bool], Awaitable[None]]
"""Called after a book has been evaluated on a bar: ``(item, bar_ts, filled)`` (the parity monitor)."""


def book_id(strategy_id: str) -> str:
    return f"strategy:{strategy_id}"


def signal_anchor(strategy: Strategy, start: int, timeframe: str) -> int:
    """The first bar (open time) of the window a book's signals are computed over."""
    return start - window_bars(strategy) * timeframe_ms(timeframe)


class Books(Protocol):
    """Where the strategies' paper books live (``account.Account``)."""

    async def strategy_book(self, strategy_id: str, ts: int = 0) -> PaperBroker:
        """The paper book of a strategy (a new one starts at market time ``ts``)."""
        ...

    async def book_cursor(self, strategy_id: str) -> BookCursor | None:
        """Where the book stands, from the journal (``book_cursor``); None when it does not exist."""
        ...

    async def mark_book(self, broker: PaperBroker, ts: int) -> None:
        """Record the book's equity at the close of the bar opened at ``ts``."""
        ...


@dataclass
class BookCursor:
    """Where a strategy's book stands: the bar it opened on and the last bar it was evaluated on."""

    start: int
    cursor: int


async def book_cursor(journal: Journal, strategy_id: str) -> BookCursor | None:
    """A strategy book's cursor as the journal records it (None when the book does not exist)."""
    book = book_id(strategy_id)
    if book not in {found.id for found in await journal.books()}:
        return None
    entries = await journal.ledger_entries(book)
    if not entries:
        return None
    start = entries[0].ts
    last = await journal.last_equity_ts(book)
    return BookCursor(start, max(start, last) if last is not None else start)


class BarClock:
    """See the module docstring. One per trading daemon (the ``Trader`` owns it)."""

    def __init__(
        self,
        series: SeriesSource,
        books: Books,
        exchange: str,
        *,
        account: AccountAction | None = None,
        on_signal: SignalSeen | None = None,
    ) -> None:
        self.series = series
        self.books = books
        self.exchange = exchange
        self.account = account
        self.on_signal = on_signal
        self.after_step: list[BookStep] = []
        self.cursors: dict[str, BookCursor] = {}
        self.lock = asyncio.Lock()
        """Held while books are evaluated: a parity check reads a book and its cursor between two bars."""
        self.evaluated = 0
        """Bar evaluations done (one per strategy per bar), for the status and the tests."""
        self.most_behind = 0
        """The most bars one catch-up has evaluated (1: evaluation never fell behind the feed)."""

    async def cursor(self, strategy_id: str) -> BookCursor | None:
        found = self.cursors.get(strategy_id)
        if found is None:
            found = await self.books.book_cursor(strategy_id)
            if found is not None:
                self.cursors[strategy_id] = found
        return found

    def forget(self, strategy_id: str) -> None:
        """Drop the in-memory cursor (a strategy that stopped trading; the journal keeps the truth)."""
        self.cursors.pop(strategy_id, None)

    async def catch_up(self, chosen: Sequence[TradedStrategy], symbol: str, timeframe: str, upto: int) -> int:
        """Evaluate every stored bar of ``symbol`` after each strategy's cursor up to ``upto``, in order;
        returns how many (strategy, bar) evaluations it made."""
        if not chosen:
            return 0
        async with self.lock:
            return await self._catch_up(chosen, symbol, timeframe, upto)

    async def _catch_up(
        self, chosen: Sequence[TradedStrategy], symbol: str, timeframe: str, upto: int
    ) -> int:
        from mastertrade.engine.market.store import SeriesKey

        step = timeframe_ms(timeframe)
        pending: list[tuple[TradedStrategy, BookCursor]] = []
        opened: list[TradedStrategy] = []
        for item in chosen:
            state = await self.cursor(item.id)
            if state is None:
                opened.append(item)
            elif state.cursor < upto:
                pending.append((item, state))
        if not pending and not opened:
            return 0
        anchors = [signal_anchor(item.strategy, state.start, timeframe) for item, state in pending]
        anchors += [signal_anchor(item.strategy, upto, timeframe) for item in opened]
        series = await self.series.load(
            SeriesKey(self.exchange, symbol, timeframe),
            [item.strategy for item, _ in pending] + [item.strategy for item in opened],
            start=min(anchors),
            end=upto + 1,
        )
        import numpy as np

        frame, features, stamps = series.frame, series.features, series.stamps()
        if not len(stamps) or int(stamps[-1]) != upto:
            log.warning("%s %s: the closed bar %d is not stored; nothing evaluated", symbol, timeframe, upto)
            return 0
        o, h, low, c = (frame[name].to_numpy(dtype=float) for name in ("open", "high", "low", "close"))
        done = 0
        signals: dict[str, tuple[NDArray[np.bool_], NDArray[np.bool_]]] = {}
        for item, state in list(pending):
            try:
                signals[item.id] = _signals(item.strategy, frame, stamps, state.start, timeframe, features)
            except errors.MasterTradeError as exc:
                log.error("strategy %s: %s", item.id, exc)
                pending.remove((item, state))
        first = min((state.cursor for _, state in pending), default=upto)
        index = int(np.searchsorted(stamps, first, side="right"))
        self.most_behind = max(self.most_behind, len(stamps) - index)
        for i in range(index, len(stamps)):
            ts = int(stamps[i])
            bar = Bar(Candle(ts, float(o[i]), float(h[i]), float(low[i]), float(c[i])))
            for item, state in pending:
                if state.cursor >= ts:
                    continue
                entries, exits = signals[item.id]
                await self._step(item, symbol, bar, bool(entries[i]), bool(exits[i]), ts + step, ts == upto)
                state.cursor = ts
                done += 1
        if opened:
            bar = Bar(Candle(upto, float(o[-1]), float(h[-1]), float(low[-1]), float(c[-1])))
            for item in opened:
                await self._open(item, symbol, timeframe, bar, frame, stamps, features, upto + step)
                done += 1
        self.evaluated += done
        return done

    async def _open(
        self,
        item: TradedStrategy,
        symbol: str,
        timeframe: str,
        bar: Bar,
        frame: pd.DataFrame,
        stamps: Any,
        features: Any,
        placed_ts: int,
    ) -> None:
        """A strategy's first bar: its book opens (at this bar's close) and trades from the next bar; an
        active strategy already acts in the account on it."""
        broker = await self.books.strategy_book(item.id, bar.ts)
        await broker.on_bar(symbol, bar)
        await self.books.mark_book(broker, bar.ts)
        self.cursors[item.id] = BookCursor(bar.ts, bar.ts)
        if item.stage == "active" and self.account is not None:
            try:
                entries, exits = _signals(item.strategy, frame, stamps, bar.ts, timeframe, features)
            except errors.MasterTradeError as exc:
                log.error("strategy %s: %s", item.id, exc)
                return
            await self.account(item, bool(entries[-1]), bool(exits[-1]), bar, placed_ts, True)

    async def _step(
        self,
        item: TradedStrategy,
        symbol: str,
        bar: Bar,
        entry: bool,
        exit_: bool,
        placed_ts: int,
        newest: bool,
    ) -> None:
        broker = await self.books.strategy_book(item.id, bar.ts)
        outcome = await broker.on_bar(symbol, bar)
        await self.books.mark_book(broker, bar.ts)
        ledger = await broker.ledger()
        position = ledger.positions.get(symbol)
        long = position is not None and position.opened_ts is not None and position.amount > 0
        action = decide(long=long, entry=entry, exit_=exit_)
        strategy = item.strategy
        if action is Action.EXIT:
            assert position is not None
            await broker.cancel_exits(symbol, "exit signal", strategy_id=item.id)
            await broker.submit(
                exit_request(symbol, position.amount, bar.close, strategy_id=item.id), placed_ts=placed_ts
            )
        elif action is Action.ENTER:
            bracket = order_params(strategy)
            await broker.submit(
                entry_request(symbol, bracket, bar.close, strategy_id=item.id), placed_ts=placed_ts
            )
        if action is not None and self.on_signal is not None and item.stage == "paper":
            self.on_signal(item, action, bar)
        if item.stage == "active" and self.account is not None:
            await self.account(item, entry, exit_, bar, placed_ts, newest)
        for hook in self.after_step:
            await hook(item, bar.ts, bool(outcome.fills))


def _signals(
    strategy: Strategy, frame: pd.DataFrame, stamps: Any, start: int, timeframe: str, features: Any
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """The strategy's signals at every bar of ``frame``, computed over its anchored window only (bars
    before the anchor are False)."""
    import numpy as np

    from mastertrade.engine.signals.indicators import IndicatorCache

    first = int(np.searchsorted(stamps, signal_anchor(strategy, start, timeframe)))
    entries = np.zeros(len(frame), dtype=bool)
    exits = np.zeros(len(frame), dtype=bool)
    if first < len(frame):
        window_entries, window_exits = strategy.signals(IndicatorCache(frame.iloc[first:], features=features))
        entries[first:] = window_entries
        exits[first:] = window_exits
    return entries, exits
