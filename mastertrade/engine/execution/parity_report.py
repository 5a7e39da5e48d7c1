"""The parity report, paper trades against the backtest over the same bars: one function,
``parity_report``, for both questions ``mt strategy parity`` asks.

- ``book_parity``: a traded strategy's own paper book in the daemon (``GET
  /v1/strategies/{id}/parity``, and the parity monitor). The book opened on the first bar the strategy was
  evaluated on (its starting-cash entry's time) and trades from the next, as a backtest's first bar only
  opens the account; so the backtest runs on the stored candles from that bar to the last bar the bar
  clock evaluated it on (``bar_clock``), with signals computed over the same window the bar clock used
  (from the book's anchor), the same cash and the same fee.
- ``replay_parity``: a strategy replayed through a fresh paper book on a scratch database over stored
  candles from a start bar (``mt strategy parity SPEC --symbol --timeframe --start``).

Both load the series through ``research.series`` and backtest through ``research.backtest``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from mastertrade import errors
from mastertrade.engine.execution.parity import ParityTrade, backtest_trades, compare
from mastertrade.engine.research.backtest import StrategyBacktest, backtest_series

if TYPE_CHECKING:
    from mastertrade.config import Settings
    from mastertrade.engine.execution.bar_clock import SeriesSource
    from mastertrade.engine.execution.journal import Journal
    from mastertrade.engine.execution.strategies import TradedStrategy
    from mastertrade.engine.research.series import Series, SeriesLoader


class _Strategies(Protocol):
    async def traded(self) -> Sequence[TradedStrategy]: ...


class _Account(Protocol):
    @property
    def journal(self) -> Journal: ...


class _BarClock(Protocol):
    @property
    def lock(self) -> asyncio.Lock: ...


class ParityHost(Protocol):
    """What ``book_parity`` reads of the daemon's trader (a port, so this module need not import it)."""

    @property
    def strategies(self) -> _Strategies: ...
    @property
    def series(self) -> SeriesSource: ...
    @property
    def account(self) -> _Account: ...
    @property
    def venue_id(self) -> str: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def bar_clock(self) -> _BarClock: ...


PaperTrades = Callable[[StrategyBacktest], Awaitable[list[ParityTrade]]]
"""The paper side of a comparison, given the backtest (and its signals) it is compared with."""


async def parity_report(
    strategy: Any,
    series: Series,
    begin: int,
    paper: PaperTrades,
    *,
    cash: float,
    fee: float,
    strategy_id: str,
    book: str,
) -> dict[str, Any]:
    """Backtest ``strategy`` on ``series`` from bar ``begin`` and compare its trades with ``paper``'s
    (``ParityReport`` fields, with the book, the period compared and whether the market is simulated)."""
    from mastertrade.engine.market.timeframes import to_iso

    backtest = backtest_series(strategy, series, cash=cash, fee=fee, begin=begin)
    report = compare(backtest_trades(backtest.result), await paper(backtest))
    stamps = series.stamps()
    return {
        "strategy_id": strategy_id,
        "book": book,
        "start": to_iso(int(stamps[begin])) if len(backtest.window) else None,
        "end": to_iso(int(stamps[-1])) if len(backtest.window) else None,
        "simulated": series.key.simulated,
        **report.as_dict(),
    }


def _traded_id(traded: Iterable[str], spec: str) -> str:
    """The id of the traded strategy ``spec`` names: its id, or a unique prefix of at least 4 characters
    (as every command that takes a stored strategy accepts). ``NotFound`` when none trades here,
    ``UserInputError`` when the prefix fits several."""
    ids = set(traded)
    if spec in ids:
        return spec
    key = spec.strip().lower()
    matches = sorted(i for i in ids if len(key) >= 4 and i.startswith(key))
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise errors.UserInputError(f"strategy id prefix {spec!r} is ambiguous: {', '.join(matches[:5])}")
    raise errors.NotFound(f"no paper or active strategy {spec!r} trades in this daemon")


async def book_parity(trader: ParityHost, strategy_id: str) -> dict[str, Any]:
    """A traded strategy's paper book in the daemon against its backtest (module docstring)."""
    found = {item.id: item for item in await trader.strategies.traded()}
    return await strategy_book_parity(
        trader.series,
        trader.account.journal,
        trader.venue_id,
        found[_traded_id(found, strategy_id)],
        cash=trader.settings.paper.strategy_cash,
        fee=trader.settings.paper.fee,
        lock=trader.bar_clock.lock,
    )


async def strategy_book_parity(
    series_source: SeriesSource,
    journal: Journal,
    exchange: str,
    item: TradedStrategy,
    *,
    cash: float,
    fee: float,
    lock: asyncio.Lock | None = None,
) -> dict[str, Any]:
    """A strategy's paper book against a backtest of the bars it was evaluated on, from the bar the book
    opened on to its cursor, with the signals computed over the bar clock's window (``lock``: the bar
    clock's, so the book and its cursor are read between two bars)."""
    import numpy as np

    from mastertrade.engine.execution.bar_clock import book_cursor, book_id, signal_anchor
    from mastertrade.engine.execution.parity import paper_trades
    from mastertrade.engine.market.store import SeriesKey

    strategy = item.strategy
    symbol, timeframe = strategy.symbol, strategy.timeframe
    assert symbol is not None and timeframe is not None
    book = book_id(item.id)
    async with lock or asyncio.Lock():
        state = await book_cursor(journal, item.id)
        if state is None:
            raise errors.NotFound(
                f"strategy {item.id!r} has no paper book yet (it trades from its first closed bar)"
            )
        ledger = await journal.ledger(book)
    series = await series_source.load(
        SeriesKey(exchange, symbol, timeframe),
        [strategy],
        start=signal_anchor(strategy, state.start, timeframe),
        end=state.cursor + 1,
    )
    begin = int(np.searchsorted(series.stamps(), state.start))

    async def paper(_: StrategyBacktest) -> list[ParityTrade]:
        return paper_trades(ledger.round_trips, ledger, symbol)

    return await parity_report(
        strategy, series, begin, paper, cash=cash, fee=fee, strategy_id=item.id, book=book
    )


async def replay_parity(
    loader: SeriesLoader,
    settings: Settings,
    strategy: Any,
    *,
    symbol: str,
    timeframe: str,
    exchange: str | None,
    start: int,
    end: int | None,
    start_text: str,
) -> dict[str, Any]:
    """``strategy`` replayed through a fresh paper book (on a scratch database) from bar ``start``
    against its backtest (module docstring); ``start_text`` is how the user gave ``start``."""
    import tempfile
    from pathlib import Path

    import numpy as np

    from mastertrade.db.database import Database, create_engine
    from mastertrade.db.migrate import upgrade
    from mastertrade.engine.backtest.params import order_params
    from mastertrade.engine.execution.journal import Journal
    from mastertrade.engine.execution.parity import paper_replay

    key = await loader.candles.resolve(symbol, timeframe, exchange)
    series = await loader.load(key, [strategy], end=end)
    begin = int(np.searchsorted(series.stamps(), start))
    if len(series) - begin < 2:
        raise errors.UserInputError(
            f"fewer than 2 stored bars of {key} from {start_text}: nothing to compare"
        )
    cash, fee = settings.paper.strategy_cash, settings.paper.fee

    async def paper(backtest: StrategyBacktest) -> list[ParityTrade]:
        with tempfile.TemporaryDirectory(prefix="mt-parity-") as folder:
            scratch = Database(create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'parity.db'}"))
            try:
                await upgrade(scratch.engine)
                bracket = order_params(strategy)
                _, trades = await paper_replay(
                    Journal(scratch),
                    "replay",
                    symbol,
                    backtest.window,
                    backtest.entries[begin:],
                    backtest.exits[begin:],
                    bracket,
                    cash=cash,
                    fee=fee,
                )
            finally:
                await scratch.close()
        return trades

    return await parity_report(
        strategy,
        series,
        begin,
        paper,
        cash=cash,
        fee=fee,
        strategy_id=strategy.name,
        book=f"replay of {key}",
    )
