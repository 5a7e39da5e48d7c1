"""Paper trading against the backtest: the same trades are expected, and differences are listed.

``paper_replay`` drives a real ``PaperBroker`` (journal, matching, ledger: the code paper trading runs)
through a candle series bar by bar, with the decisions of ``strategy_orders`` at each close, exactly as
the trading service does on live closed candles. ``compare`` pairs its round trips with a backtest's
trades by entry time and reports the ones that agree and how the others differ. ``mt strategy parity``
compares a paper-stage strategy's actual paper book with a backtest over the same period, or (given a
genome file and a period) a replay with a backtest.

Prices and sizes agree to floating-point rounding, not bit for bit (the backtest keeps its cash as
backtesting.py does, the broker as a ledger of fills), so they are compared with a relative tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mastertrade.engine.candle import Bar, Candle
from mastertrade.engine.execution.journal import Journal
from mastertrade.engine.execution.ledger import Ledger, RoundTrip
from mastertrade.engine.execution.paper import PaperBroker
from mastertrade.engine.execution.strategy_orders import Action, decide, entry_request, exit_request
from mastertrade.engine.market.timeframes import to_iso

if TYPE_CHECKING:
    import pandas as pd

    from mastertrade.engine.backtest.params import OrderParams
    from mastertrade.engine.backtest.result import BacktestResult

EXIT_LABELS = {"exit": "signal", "entry": "signal", "order": "signal"}
REL_TOL = 1e-9


@dataclass(frozen=True)
class ParityTrade:
    entry_time: str
    exit_time: str | None
    entry_price: float
    exit_price: float | None
    size: float
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ParityReport:
    same: list[ParityTrade] = field(default_factory=list)
    different: list[dict[str, Any]] = field(default_factory=list)
    only_backtest: list[ParityTrade] = field(default_factory=list)
    only_paper: list[ParityTrade] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not (self.different or self.only_backtest or self.only_paper)

    def as_dict(self) -> dict[str, Any]:
        return {
            "identical": self.identical,
            "same": len(self.same),
            "different": self.different,
            "only_backtest": [trade.as_dict() for trade in self.only_backtest],
            "only_paper": [trade.as_dict() for trade in self.only_paper],
            "trades": [trade.as_dict() for trade in self.same],
        }


def backtest_trades(result: BacktestResult) -> list[ParityTrade]:
    return [
        ParityTrade(t.entry_time, t.exit_time, t.entry_price, t.exit_price, t.size, t.reason)
        for t in result.trade_list()
    ]


def paper_trades(trips: Sequence[RoundTrip], ledger: Ledger, symbol: str) -> list[ParityTrade]:
    """A paper book's closed round trips, then its position in ``symbol`` still open (reason "open")."""
    trades = [
        ParityTrade(
            to_iso(trip.entry_ts),
            to_iso(trip.exit_ts),
            trip.entry_price,
            trip.exit_price,
            trip.amount,
            EXIT_LABELS.get(trip.exit_role, trip.exit_role),
        )
        for trip in trips
    ]
    position = ledger.positions.get(symbol)
    if position is not None and position.opened_ts is not None and position.amount > 0:
        trades.append(
            ParityTrade(
                to_iso(position.opened_ts),
                None,
                position.trip_value / position.trip_bought,
                None,
                position.amount,
                "open",
            )
        )
    return trades


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)


def compare(backtest: Sequence[ParityTrade], paper: Sequence[ParityTrade]) -> ParityReport:
    """Pair trades by entry time; list what differs (exit time, prices, size, exit reason)."""
    report = ParityReport()
    by_entry = {trade.entry_time: trade for trade in paper}
    for expected in backtest:
        got = by_entry.pop(expected.entry_time, None)
        if got is None:
            report.only_backtest.append(expected)
            continue
        differences = {}
        if expected.exit_time != got.exit_time:
            differences["exit_time"] = [expected.exit_time, got.exit_time]
        for name in ("entry_price", "exit_price", "size"):
            if not _close(getattr(expected, name), getattr(got, name)):
                differences[name] = [getattr(expected, name), getattr(got, name)]
        if expected.reason != got.reason:
            differences["reason"] = [expected.reason, got.reason]
        if differences:
            report.different.append({"entry_time": expected.entry_time, "differences": differences})
        else:
            report.same.append(expected)
    report.only_paper = list(by_entry.values())
    return report


async def paper_replay(
    journal: Journal,
    book: str,
    symbol: str,
    frame: pd.DataFrame,
    entries: Any,
    exits: Any,
    bracket: OrderParams,
    *,
    cash: float,
    fee: float,
    strategy_id: str | None = None,
) -> tuple[PaperBroker, list[ParityTrade]]:
    """Trade ``entries``/``exits`` on ``frame`` through a fresh paper book, bar by bar; returns the
    broker and its trades (an open position last, reason "open")."""
    broker = PaperBroker(
        journal, book, fee=fee, starting_cash=cash, strategy_id=strategy_id, quote=symbol.split("/")[1]
    )
    import pandas as pd

    stamps = pd.DatetimeIndex(frame.index).as_unit("ms").asi8
    o, h, low, c = (frame[name].to_numpy(dtype=float) for name in ("open", "high", "low", "close"))
    await broker.start(ts=int(stamps[0]) if len(stamps) else 0)
    ledger = await broker.ledger()
    trips: list[RoundTrip] = []
    n = len(frame)
    for i in range(n):
        bar = Bar(Candle(int(stamps[i]), float(o[i]), float(h[i]), float(low[i]), float(c[i])))
        outcome = await broker.on_bar(symbol, bar)
        trips += outcome.round_trips
        if i == 0 or i == n - 1:
            continue  # bar 0 only opens the account; the last bar has no next open
        position = ledger.positions.get(symbol)
        long = position is not None and position.opened_ts is not None and position.amount > 0
        action = decide(long=long, entry=bool(entries[i]), exit_=bool(exits[i]))
        placed_ts = int(stamps[i + 1])
        if action is Action.EXIT:
            assert position is not None
            await broker.cancel_exits(symbol, "exit signal", strategy_id=strategy_id)
            await broker.submit(
                exit_request(symbol, position.amount, bar.close, strategy_id=strategy_id), placed_ts=placed_ts
            )
        elif action is Action.ENTER:
            await broker.submit(
                entry_request(symbol, bracket, bar.close, strategy_id=strategy_id), placed_ts=placed_ts
            )
    return broker, paper_trades(trips, ledger, symbol)
