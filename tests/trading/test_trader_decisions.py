"""The ``Trader`` alone, built from fakes of its collaborators (no database, no daemon): what it decides
on a closed candle, and what it hands the account.

The fakes record what the Trader asks of the ``Account``; the candles are an in-memory frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from mastertrade.config import Settings
from mastertrade.engine.candle import Bar, Candle
from mastertrade.engine.execution.broker import BarOutcome
from mastertrade.engine.execution.strategies import StaticStrategies, TradedStrategy
from mastertrade.engine.execution.trader import PriceUpdate, Trader
from mastertrade.engine.orders import OrderRequest
from mastertrade.engine.research.series import Series
from mastertrade.engine.risk.check import PortfolioSnapshot
from mastertrade.engine.signals.genome import parse_genome
from mastertrade.engine.signals.strategy import Strategy
from mastertrade.engine.sizing.factor import RiskFactor
from mastertrade.engine.sizing.kelly import TradeStats

BTC = "BTC/USDT"
HOUR = 3_600_000
T0 = 1_767_225_600_000


@dataclass
class FakeRiskStore:
    audits: list[tuple[str, str]] = field(default_factory=list)

    async def audit(self, kind: str, reason: str, **fields: Any) -> None:
        self.audits.append((kind, reason))


@dataclass
class FakeRisk:
    store: FakeRiskStore = field(default_factory=FakeRiskStore)
    prices: list[tuple[str, float]] = field(default_factory=list)
    bars: list[str] = field(default_factory=list)

    async def on_price(self, symbol: str, ts: int, price: float) -> None:
        self.prices.append((symbol, price))

    async def on_bar(self, symbol: str, o: float, h: float, low: float) -> None:
        self.bars.append(symbol)

    async def expire(self) -> None:
        """Cool-downs end on market time, at each price (none here)."""


@dataclass
class FakeBroker:
    cancelled: list[str] = field(default_factory=list)

    async def cancel_exits(self, symbol: str, reason: str, *, strategy_id: str | None) -> None:
        self.cancelled.append(symbol)

    async def poll(self) -> BarOutcome:
        return BarOutcome()


class FakeBook:
    """A strategy's paper book as the bar clock uses it: bars seen, orders submitted."""

    def __init__(self) -> None:
        from mastertrade.engine.execution.ledger import Ledger

        self.bars: list[int] = []
        self.submitted: list[OrderRequest] = []
        self._ledger = Ledger()

    async def on_bar(self, symbol: str, bar: Bar) -> BarOutcome:
        self.bars.append(bar.ts)
        return BarOutcome()

    async def ledger(self) -> Any:
        return self._ledger

    async def cancel_exits(self, symbol: str, reason: str, *, strategy_id: str | None) -> None:
        pass

    async def submit(self, request: OrderRequest, *, placed_ts: int) -> None:
        self.submitted.append(request)


class FakeAccount:
    """What the Trader uses of an ``Account``: holdings, the portfolio, ``send`` (recorded)."""

    mode = "paper"
    book = "paper"

    def __init__(self, cash: float) -> None:
        self.cash = cash
        self.held: dict[str, float] = {}
        self.sent: list[tuple[OrderRequest, float, int, str | None]] = []
        self.marked: list[int] = []
        self.events: list[Any] = []
        self.risk = FakeRisk()
        self.broker = FakeBroker()
        self.books: dict[str, Any] = {}

    async def on_price(self, symbol: str, bar: Bar) -> None:
        pass

    async def strategy_book(self, strategy_id: str, ts: int = 0) -> FakeBook:
        return self.books.setdefault(strategy_id, FakeBook())

    async def book_cursor(self, strategy_id: str) -> Any:
        return None

    async def mark_book(self, broker: Any, ts: int) -> None:
        pass

    async def mark_equity(self, ts: int) -> None:
        self.marked.append(ts)

    async def strategy_holding(self, strategy_id: str, symbol: str) -> float:
        return self.held.get(strategy_id, 0.0)

    async def strategy_to_sell(self, strategy_id: str, symbol: str) -> float:
        return self.held.get(strategy_id, 0.0)  # no sell by hand on its way

    async def strategy_order_on_its_way(self, strategy_id: str, symbol: str, side: Any) -> None:
        return None  # its sends are done when they return

    async def portfolio(self) -> PortfolioSnapshot:
        return PortfolioSnapshot(cash=self.cash)

    async def real_record(self, strategy_id: str) -> TradeStats:
        return TradeStats()

    async def send(
        self,
        request: OrderRequest,
        reference: float,
        placed_ts: int,
        *,
        strategy_id: str | None = None,
        sizing: str | None = None,
    ) -> tuple[None, None]:
        self.sent.append((request, reference, placed_ts, strategy_id))
        return None, None

    def emit(self, event: Any) -> None:
        self.events.append(event)


class FakeGoals:
    async def risk_factor(self, portfolio: PortfolioSnapshot | None = None) -> RiskFactor:
        return RiskFactor(1.0)


class FakeSeries:
    """Stored candles in memory, as ``research.series.SeriesLoader`` loads them (no features)."""

    def __init__(self, closes: list[tuple[float, float]]) -> None:
        import pandas as pd

        index = pd.DatetimeIndex(
            pd.to_datetime([T0 + i * HOUR for i in range(len(closes))], unit="ms", utc=True)
        )
        self.frame = pd.DataFrame(
            {
                "open": [o for o, _ in closes],
                "high": [max(o, c) for o, c in closes],
                "low": [min(o, c) for o, c in closes],
                "close": [c for _, c in closes],
                "volume": [1.0] * len(closes),
            },
            index=index,
        )
        self.reads: list[Any] = []

    async def load(
        self,
        key: Any,
        strategies: Any = (),
        *,
        start: int | None = None,
        end: int | None = None,
        simulated: bool | None = None,
    ) -> Series:
        import pandas as pd

        self.reads.append(key)
        stamps = pd.DatetimeIndex(self.frame.index).as_unit("ms").asi8
        mask = (stamps >= (start if start is not None else stamps[0])) & (stamps < (end or stamps[-1] + 1))
        return Series(key, self.frame[mask])


def up_down(stage: str = "active") -> TradedStrategy:
    genome = {
        "name": "updown",
        "symbol": BTC,
        "timeframe": "1h",
        "entry": {">": [{"price": "close"}, {"price": "open"}]},
        "exit": {"<": [{"price": "close"}, {"price": "open"}]},
    }
    return TradedStrategy("s1", stage, Strategy.from_genome(parse_genome(genome)))  # type: ignore[arg-type]


def build(settings: Settings, closes: list[tuple[float, float]]) -> tuple[Trader, FakeAccount, FakeSeries]:
    account = FakeAccount(cash=10_000.0)
    candles = FakeSeries(closes)
    trader = Trader(
        settings,
        account,  # type: ignore[arg-type]
        FakeGoals(),  # type: ignore[arg-type]
        candles,
        venue_id="fake",
        strategies=StaticStrategies([up_down()]),
    )
    return trader, account, candles


@pytest.fixture
def settings(mt_home: Any) -> Settings:
    from tests.daemon.conftest import configure

    return configure()


def closed(i: int, o: float, c: float) -> PriceUpdate:
    return PriceUpdate(BTC, "1h", Bar(Candle(T0 + i * HOUR, o, max(o, c), min(o, c), c)), simulated=True)


async def test_an_up_bar_enters_sized_by_the_default_fraction_and_sent_through_the_account(
    settings: Settings,
) -> None:
    trader, account, candles = build(settings, [(100.0, 99.0), (99.0, 101.0)])
    await trader.on_candle_closed(closed(1, 99.0, 101.0))
    assert account.marked == [T0 + HOUR] and account.risk.bars == [BTC]
    [(request, reference, placed_ts, strategy_id)] = account.sent
    assert request.side.value == "buy" and strategy_id == "s1" and reference == 101.0
    assert placed_ts == T0 + 2 * HOUR  # the next bar's open
    expected = settings.sizing.default_fraction * 10_000.0 / 101.0
    assert request.amount == pytest.approx(min(expected, settings.risk.max_position * 10_000.0 / 101.0))
    assert [type(e).__name__ for e in account.events] == ["SignalRaised"]


async def test_a_down_bar_sells_what_the_strategy_holds_after_cancelling_its_exits(
    settings: Settings,
) -> None:
    trader, account, _ = build(settings, [(100.0, 101.0), (101.0, 99.0)])
    account.held["s1"] = 0.25
    await trader.on_candle_closed(closed(1, 101.0, 99.0))
    [(request, _, _, _)] = account.sent
    assert request.side.value == "sell" and request.amount == 0.25
    assert account.broker.cancelled == [BTC]


async def test_no_signal_when_the_closed_bar_is_not_stored(settings: Settings) -> None:
    trader, account, candles = build(settings, [(100.0, 99.0)])
    await trader.on_candle_closed(closed(1, 99.0, 101.0))  # bar 1 was never stored
    assert candles.reads and account.sent == [] and account.events == []


async def test_a_bar_of_another_timeframe_marks_equity_but_decides_nothing(settings: Settings) -> None:
    trader, account, candles = build(settings, [(100.0, 99.0), (99.0, 101.0)])
    update = PriceUpdate(BTC, "4h", Bar(Candle(T0 + HOUR, 99.0, 101.0, 99.0, 101.0)), simulated=True)
    await trader.on_candle_closed(update)
    assert account.marked == [T0 + HOUR] and candles.reads == [] and account.sent == []
