"""The parity report, paper trades against the backtest over the same bars: one function,
``parity_report``, for both questions ``mt strategy parity`` asks.

- ``book_parity``: a paper-stage strategy's own paper book in the daemon (``GET
  /v1/strategies/{id}/parity``). The book opened on the first bar the strategy was evaluated on (its
  starting-cash entry's time) and trades from the next, as a backtest's first bar only opens the account;
  so the backtest runs on the stored candles from that bar to the last one, with signals computed over
  the whole stored history (so indicators are as warm as they were live), the same cash and the same fee.
- ``replay_parity``: a strategy replayed through a fresh paper book on a scratch database over stored
  candles from a start bar (``mt strategy parity SPEC --symbol --timeframe --start``).

Both load the series through ``research.series`` and backtest through ``research.backtest``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from mastertrade import errors
from mastertrade.engine.execution.parity import ParityTrade, backtest_trades, compare
from mastertrade.engine.research.backtest import StrategyBacktest, backtest_series

if TYPE_CHECKING:
    from mastertrade.config import Settings
    from mastertrade.engine.execution.trader import Trader
    from mastertrade.engine.research.series import Series, SeriesLoader

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
    (``ParityReport`` fields, with the book and the period compared)."""
    from mastertrade.engine.market.timeframes import to_iso

    backtest = backtest_series(strategy, series, cash=cash, fee=fee, begin=begin)
    report = compare(backtest_trades(backtest.result), await paper(backtest))
    stamps = series.stamps()
    return {
        "strategy_id": strategy_id,
        "book": book,
        "start": to_iso(int(stamps[begin])) if len(backtest.window) else None,
        "end": to_iso(int(stamps[-1])) if len(backtest.window) else None,
        **report.as_dict(),
    }


async def book_parity(trader: Trader, strategy_id: str) -> dict[str, Any]:
    """A paper-stage strategy's paper book in the daemon against its backtest (module docstring)."""
    import numpy as np

    from mastertrade.engine.execution.parity import paper_trades
    from mastertrade.engine.market.store import SeriesKey

    found = {item.id: item for item in await trader.strategies.traded()}
    book = f"strategy:{strategy_id}"
    if strategy_id not in found:
        raise errors.NotFound(f"no paper or active strategy {strategy_id!r} trades in this daemon")
    item = found[strategy_id]
    journal = trader.account.journal
    entries = await journal.ledger_entries(book) if book in {b.id for b in await journal.books()} else []
    if not entries:
        raise errors.NotFound(
            f"strategy {strategy_id!r} has no paper book yet (it trades from its first closed bar)"
        )
    symbol, timeframe = item.strategy.symbol, item.strategy.timeframe
    assert symbol is not None and timeframe is not None
    series = await trader.series.load(SeriesKey(trader.venue_id, symbol, timeframe), [item.strategy])
    begin = int(np.searchsorted(series.stamps(), entries[0].ts))

    async def paper(_: StrategyBacktest) -> list[ParityTrade]:
        ledger = await journal.ledger(book)
        return paper_trades(ledger.round_trips, ledger, symbol)

    paper_settings = trader.settings.paper
    return await parity_report(
        item.strategy,
        series,
        begin,
        paper,
        cash=paper_settings.strategy_cash,
        fee=paper_settings.fee,
        strategy_id=strategy_id,
        book=book,
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
