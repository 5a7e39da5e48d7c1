"""``FakeBackend``: the dashboard's ``Backend`` with fixed, deterministic data and a controllable event
stream, for the Pilot tests, the snapshots and the benchmark.

Everything is dated around ``NOW`` (2026-11-24 12:00 UTC) and computed from fixed formulas, so two
runs draw the same screens. ``push(event)`` sends an event; ``go_down()``/``come_back()`` make the
daemon vanish (every call raises ``DaemonNotRunning``, the stream reports the loss) and return.
Calls that change something are recorded in ``calls``.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from mastertrade import errors
from mastertrade.client import NOT_RUNNING, DaemonTimeout
from mastertrade.engine import events as ev
from mastertrade.engine.api.schemas import (
    AlertInfo,
    Candle,
    CandlesResponse,
    EventsInfo,
    IndicatorLine,
    IndicatorsResponse,
    JobInfo,
    JobRunInfo,
    LagInfo,
    ServiceInfo,
    StatusReport,
    StopResponse,
    SymbolInfo,
    VenueInfo,
)
from mastertrade.engine.api.schemas_logs import LogRecord
from mastertrade.engine.api.schemas_strategies import (
    BacktestInfo,
    PaperRecord,
    StrategyDetail,
    StrategySummary,
    TransitionInfo,
)
from mastertrade.engine.api.schemas_trading import (
    BalanceInfo,
    BreakerInfo,
    EquityPointInfo,
    GoalInfo,
    GoalsReport,
    OrderCheck,
    OrderCreate,
    OrderInfo,
    PlaceResult,
    PositionInfo,
    RiskDecision,
    RiskFactorInfo,
    RiskStatus,
)
from mastertrade.engine.candle import Candle as Ohlcv

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
NOW_S = NOW.timestamp()
HOUR_MS = 3_600_000
LAST_BAR = int(NOW_S * 1000) - HOUR_MS  # the newest closed 1h bar opened at 11:00
BASES = {"BTC/USDT": 64_000.0, "ETH/USDT": 3_400.0, "SOL/USDT": 172.0}
SYMBOLS = tuple(BASES)


def frozen_clock() -> float:
    return NOW_S


def fake_candles(symbol: str, count: int, *, step_ms: int = HOUR_MS, last: int = LAST_BAR) -> list[Candle]:
    """A deterministic wavy path: a slow swing, a faster ripple and a per-symbol phase."""
    base = BASES.get(symbol, 100.0)
    phase = sum(map(ord, symbol)) % 17
    rows = []
    previous = base
    for i in range(count):
        ts = last - (count - 1 - i) * step_ms
        k = ts // step_ms + phase
        close = base * (1 + 0.06 * math.sin(k / 23) + 0.015 * math.sin(k / 3.1) + 0.004 * math.cos(k * 1.7))
        open_ = previous
        high = max(open_, close) * (1 + 0.002 + 0.002 * abs(math.sin(k * 0.9)))
        low = min(open_, close) * (1 - 0.002 - 0.002 * abs(math.cos(k * 1.3)))
        volume = 100 + 60 * abs(math.sin(k / 5))
        rows.append(
            Candle(
                ts=ts,
                time=datetime.fromtimestamp(ts / 1000, tz=UTC),
                open=open_,
                high=high,
                low=low,
                close=close,
                volume=volume * 64_000 / base,
            )
        )
        previous = close
    return rows


def tick(symbol: str, close: float, *, bar_ts: int = LAST_BAR + HOUR_MS, at: float = NOW_S) -> ev.PriceTick:
    return ev.PriceTick(
        at=at,
        venue="sim",
        symbol=symbol,
        timeframe="1h",
        simulated=True,
        candle=Ohlcv(bar_ts, close, close, close, close, 1.0),
    )


def _order(
    id_: int,
    symbol: str,
    side: str,
    type_: str,
    amount: float,
    state: str,
    *,
    price: float | None = None,
    filled: float = 0.0,
    average: float | None = None,
    strategy: str | None = None,
    hours_ago: int = 1,
    mode: str = "paper",
    book: str = "paper",
) -> OrderInfo:
    at = NOW - timedelta(hours=hours_ago)
    return OrderInfo(
        id=id_,
        client_order_id=f"mt-{id_:06d}",
        book=book,
        mode=mode,
        symbol=symbol,
        side=side,
        type=type_,
        role="order",
        amount=amount,
        price=price,
        state=state,
        filled=filled,
        average_price=average,
        fee=0.0,
        strategy_id=strategy,
        placed_ts=int(at.timestamp() * 1000),
        created_at=at,
        updated_at=at,
    )


def fake_position(symbol: str, amount: float, average: float, mark: float) -> PositionInfo:
    return PositionInfo(
        symbol=symbol,
        amount=amount,
        average_price=average,
        cost=round(amount * average, 2),
        mark=mark,
        value=round(amount * mark, 2),
        unrealised_pnl=round(amount * (mark - average), 2),
        realised_pnl=0.0,
        fees=round(amount * average * 0.001, 2),
        opened_ts=LAST_BAR,
    )


def book_order(
    id_: int, strategy: str, symbol: str, side: str, amount: float, price: float, *, hours_ago: int
) -> OrderInfo:
    """A filled market order of a strategy's paper book."""
    return _order(
        id_,
        symbol,
        side,
        "market",
        amount,
        "filled",
        filled=amount,
        average=price,
        strategy=strategy,
        hours_ago=hours_ago,
        book=f"strategy:{strategy}",
    )


class FakeBackend:
    def __init__(
        self,
        *,
        mode: str = "paper",
        simulated: bool = True,
        up: bool = True,
        strategies_served: bool = True,
        equity_served: bool = True,
        symbols: Sequence[str] = SYMBOLS,
    ) -> None:
        self.symbols = tuple(symbols)
        self.mode = mode
        self.simulated = simulated
        self.down = not up
        self.strategies_served = strategies_served
        self.equity_served = equity_served
        self.calls: list[tuple[str, Any]] = []
        self.queue: asyncio.Queue[ev.Event | str] = asyncio.Queue()
        self.halted = False
        self.reject_with: str | None = None
        self.place_gate: asyncio.Event | None = None
        """When set, ``place_order`` waits for it (an order on its way)."""
        self.answers_lost = 0
        """How many of the next placed orders lose their answer (``lost_answer`` after placing)."""
        self.lost_answer: Exception = DaemonTimeout("the daemon did not answer within 10 s")
        self.by_client_id: dict[str, OrderInfo] = {}
        self.tripped = {"price_move"}
        self.jobs: list[JobInfo] = []
        """The jobs ``status`` reports, each with its last run (none by default)."""
        self.stages = {s.id: s.state for s in STRATEGIES}
        self.detail_changes: dict[str, dict[str, Any]] = {}
        """Fields of a strategy's detail to serve instead of the usual ones (e.g. a backtest without
        trades)."""
        self.protecting: set[int] = set()
        """Ids of orders that are the stop protecting an open position (a cancel without unprotect is
        refused, as the daemon does)."""
        self.orders_list = [
            _order(12, "ETH/USDT", "buy", "limit", 0.5, "open", price=3_300.0, hours_ago=1),
            _order(
                11,
                "BTC/USDT",
                "buy",
                "market",
                0.02,
                "filled",
                filled=0.02,
                average=63_200.0,
                strategy="g-7f3a",
                hours_ago=5,
            ),
            _order(10, "SOL/USDT", "sell", "limit", 4.0, "cancelled", price=190.0, hours_ago=9),
        ]
        # the traded (paper and active) strategies' own paper books, ``strategy:<id>``
        self.books: dict[str, tuple[list[PositionInfo], list[OrderInfo]]] = {
            "strategy:g-7f3a": (
                [fake_position("BTC/USDT", 0.015, 62_950.0, 64_820.0)],
                [book_order(31, "g-7f3a", "BTC/USDT", "buy", 0.015, 62_950.0, hours_ago=7)],
            ),
            "strategy:g-21c9": (
                [],
                [
                    _order(
                        43, "ETH/USDT", "buy", "market", 0.3, "open", strategy="g-21c9", hours_ago=0
                    ).model_copy(update={"amount": None, "equity_fraction": 0.3, "book": "strategy:g-21c9"}),
                    book_order(42, "g-21c9", "ETH/USDT", "sell", 0.4, 3_452.5, hours_ago=2),
                    book_order(41, "g-21c9", "ETH/USDT", "buy", 0.4, 3_381.0, hours_ago=20),
                ],
            ),
            "strategy:g-a04e": ([], []),
        }

    # --- the switch --------------------------------------------------------------------------------------

    def _check(self) -> None:
        if self.down:
            raise errors.DaemonNotRunning(NOT_RUNNING)

    def push(self, event: ev.Event) -> None:
        self.queue.put_nowait(event)

    def go_down(self) -> None:
        self.down = True
        self.queue.put_nowait("down")

    def come_back(self) -> None:
        self.down = False
        self.queue.put_nowait("up")

    # --- the daemon and the market -----------------------------------------------------------------------

    async def status(self) -> StatusReport:
        self._check()
        return StatusReport(
            version="0.1.0",
            pid=4242,
            started_at=NOW - timedelta(hours=3),
            uptime_s=10_800.0,
            mode=self.mode,
            stopping=False,
            recovered=False,
            venue=VenueInfo(id="sim", kind="sim", simulated=self.simulated),
            timeframe="1h",
            services=[ServiceInfo(name=name, state="running", restarts=0) for name in ("api", "market-feed")],
            symbols=[
                SymbolInfo(symbol=s, timeframe="1h", price=fake_candles(s, 1)[-1].close) for s in self.symbols
            ],
            events=EventsInfo(
                published=1000,
                dropped=0,
                coalesced=10,
                overflows=0,
                subscribers=1,
                max_queue_depth=3,
                lag=LagInfo(),
            ),
            work={},
            jobs=list(self.jobs),
            socket="/tmp/mt.sock",
        )

    async def indicators(
        self, symbol: str, lines: Sequence[str], *, timeframe: str | None = None, limit: int = 100
    ) -> IndicatorsResponse:
        """The engine's lines on the fake candles, as the daemon computes them on its stored ones."""
        import numpy as np

        from mastertrade.engine.market.fold import fold
        from mastertrade.engine.market.store import frame_from_matrix
        from mastertrade.engine.market.timeframes import timeframe_ms
        from mastertrade.engine.signals.lines import INDICATOR_WARMUP, indicator_lines

        self._check()
        self.calls.append(("indicators", (symbol, tuple(lines))))
        step = timeframe_ms(timeframe or "1h")
        if step % HOUR_MS:
            raise errors.NotFound(f"no candles stored for sim:{symbol}:{timeframe}")
        bars = limit + INDICATOR_WARMUP
        candles = fake_candles(symbol, bars * (step // HOUR_MS))
        matrix = np.array([[c.ts, c.open, c.high, c.low, c.close, c.volume] for c in candles], dtype=float)
        frame = fold(frame_from_matrix(matrix), step).iloc[-bars:]  # the daemon folds the 1h candles
        values = indicator_lines(frame, lines)
        stamps = [int(ts) for ts in frame.index.as_unit("ms").asi8.tolist()]
        return IndicatorsResponse(
            exchange="sim",
            symbol=symbol,
            timeframe=timeframe or "1h",
            simulated=True,
            ts=stamps[-limit:],
            lines=[
                IndicatorLine(spec=spec, values=line[-limit:])
                for spec, line in zip(lines, values, strict=True)
            ],
        )

    async def candles(
        self, symbol: str, *, timeframe: str | None = None, limit: int = 100
    ) -> CandlesResponse:
        self._check()
        if timeframe not in (None, "1h"):
            raise errors.NotFound(f"no candles stored for sim:{symbol}:{timeframe}")
        return CandlesResponse(
            exchange="sim", symbol=symbol, timeframe="1h", simulated=True, candles=fake_candles(symbol, limit)
        )

    async def events(
        self, types: Sequence[str] | None = None, *, connection_events: bool = False
    ) -> AsyncIterator[ev.Event]:
        while True:
            item = await self.queue.get()
            if item == "down":
                if connection_events:
                    yield ev.ConnectionChanged(state="disconnected", reason=NOT_RUNNING)
            elif item == "up":
                if connection_events:
                    yield ev.ConnectionChanged(state="connected")
            elif isinstance(item, ev.Event):
                yield item

    async def stop_daemon(self) -> StopResponse:
        self._check()
        self.calls.append(("stop_daemon", None))
        return StopResponse(stopping=True, pid=4242)

    async def aclose(self) -> None:
        self.calls.append(("aclose", None))

    # --- the account -------------------------------------------------------------------------------------

    async def balance(self) -> BalanceInfo:
        self._check()
        return BalanceInfo(
            book="paper",
            mode=self.mode,
            quote="USDT",
            balances={"USDT": 8_720.0, "BTC": 0.02},
            cash=8_720.0,
            reserved=1_650.0,
            free_cash=7_070.0,
            positions_value=1_296.4,
            equity=10_016.4,
            realised_pnl=-12.5,
            unrealised_pnl=28.9,
        )

    async def equity_history(self, *, limit: int = 500) -> list[EquityPointInfo]:
        self._check()
        if not self.equity_served:
            raise errors.OperationFailed("the daemon could not read the equity history")
        start = LAST_BAR - 199 * HOUR_MS
        return [
            EquityPointInfo(
                ts=start + i * HOUR_MS,
                equity=10_000 + 40 * math.sin(i / 9) + 0.3 * i - 15 * math.cos(i / 2.3),
            )
            for i in range(200)
        ]

    def _book(self, book: str) -> tuple[list[PositionInfo], list[OrderInfo]]:
        """A strategy's paper book; ``NotFound`` names the books there are, as the daemon does."""
        book = book if book.startswith("strategy:") else f"strategy:{book}"
        if book not in self.books:
            raise errors.NotFound(f"no trading book {book!r} (books: account, {', '.join(self.books)})")
        return self.books[book]

    async def positions(self, *, book: str | None = None) -> list[PositionInfo]:
        self._check()
        if book not in (None, "", "account"):
            return list(self._book(book)[0])
        return [
            PositionInfo(
                symbol="BTC/USDT",
                amount=0.02,
                average_price=63_200.0,
                cost=1_264.0,
                mark=64_820.0,
                value=1_296.4,
                unrealised_pnl=28.9,
                realised_pnl=0.0,
                fees=1.26,
                opened_ts=LAST_BAR,
            )
        ]

    async def orders(
        self, *, open_only: bool = False, limit: int = 50, book: str | None = None
    ) -> list[OrderInfo]:
        self._check()
        listed = self.orders_list if book in (None, "", "account") else self._book(book)[1]
        rows = [o for o in listed if not open_only or o.state == "open"]
        return rows[:limit]

    async def check_order(self, order: OrderCreate) -> OrderCheck:
        """The daemon's dry run: the reference price is the limit price, else the last close."""
        self._check()
        self.calls.append(("check_order", order))
        last = fake_candles(order.symbol, 1)[-1].close  # the account's mark: the last stored close
        price = order.price if order.type == "limit" and order.price else last
        base = {"symbol": order.symbol, "side": order.side, "requested": order.amount, "price": price}

        def answer(verdict: str, amount: float, reason: str) -> OrderCheck:
            value = amount * price
            return OrderCheck(
                verdict=verdict,
                amount=amount,
                reason=reason,
                value=value,
                fee=value * 0.001,
                fee_rate=0.001,
                quote="USDT",
                mode=self.mode,
                **base,
            )

        if self.halted and order.side == "buy":
            return answer("reject", 0.0, "trading is halted by the kill switch")
        value = order.amount * price
        if value > 2_000:
            fitted = 2_000 / price
            if order.allow_resize:
                return answer(
                    "resize",
                    fitted,
                    f"position would be {value / 10_016.4:.1%} of equity, limit 20.00%; resized to"
                    f" {fitted:.6g}",
                )
            # as the daemon answers a human's order (manual_orders.refused_resize): refused, way out named
            return answer(
                "reject",
                0.0,
                f"position would be {value / 10_016.4:.1%} of equity, limit 20.00%; the limits allow"
                f" {fitted:.8g} {order.symbol.split('/')[0]} of the {order.amount:.8g} asked: order that"
                " amount (or let it be cut: `mt trade --allow-resize`)",
            )
        return answer("approve", order.amount, "within all limits")

    async def place_order(self, order: OrderCreate) -> PlaceResult:
        """Like the daemon: an order whose client order id it already has is returned, not placed."""
        self._check()
        self.calls.append(("place_order", order))
        if self.place_gate is not None:
            await self.place_gate.wait()
        if self.reject_with:
            raise errors.RiskRejected(self.reject_with)
        known = self.by_client_id.get(order.client_order_id or "")
        if known is not None:
            again = RiskDecision(
                verdict="approve",
                symbol=known.symbol,
                side=known.side,
                requested=order.amount,
                amount=order.amount,
                price=order.price or 1.0,
                reason=f"already placed as order {known.id} (same client order id): not placed again",
            )
            return PlaceResult(order=known, risk=again)
        placed = _order(
            13 + len(self.by_client_id),
            order.symbol,
            order.side,
            order.type,
            order.amount,
            "open" if order.type != "market" else "filled",
            price=order.price,
            hours_ago=0,
            mode="live" if order.live else "paper",
        )
        if order.client_order_id:
            placed = placed.model_copy(update={"client_order_id": order.client_order_id})
            self.by_client_id[order.client_order_id] = placed
        self.orders_list.insert(0, placed)
        if self.answers_lost > 0:
            self.answers_lost -= 1
            raise self.lost_answer
        decision = RiskDecision(
            verdict="approve",
            symbol=order.symbol,
            side=order.side,
            requested=order.amount,
            amount=order.amount,
            price=order.price or 1.0,
            reason="within all limits",
        )
        return PlaceResult(order=placed, risk=decision)

    async def cancel_order(self, order_id: int, *, unprotect: bool = False) -> OrderInfo:
        self._check()
        self.calls.append(
            ("cancel_order", order_id) if not unprotect else ("cancel_order", order_id, "unprotect")
        )
        for index, order in enumerate(self.orders_list):
            if order.id == order_id:
                if order_id in self.protecting and not unprotect:
                    raise errors.StopProtectsPosition(
                        f"order {order_id} is the stop-loss protecting the 0.5 {order.symbol} position of the"
                        " account (book account): cancelling it leaves that position without a stop; sell"
                        " the position instead, or cancel with unprotect"
                        f" (mt orders cancel {order_id} --unprotect)"
                    )
                self.orders_list[index] = order.model_copy(update={"state": "cancelled"})
                return self.orders_list[index]
        raise errors.NotFound(f"no order {order_id}")

    # --- risk, goals, alerts -----------------------------------------------------------------------------

    async def risk_status(self) -> RiskStatus:
        self._check()
        return RiskStatus(
            mode=self.mode,
            halted=self.halted,
            halt_reason="halted from the dashboard" if self.halted else None,
            reduce_only=False,
            equity=10_016.4,
            cash=8_720.0,
            exposure=2_946.4,
            exposure_pct=0.2942,
            open_positions=2,
            drawdown=0.031,
            daily_loss=0.012,
            peak_equity=10_336.0,
            limits={
                "max_position": 0.2,
                "max_exposure": 0.8,
                "max_open_positions": 5,
                "min_notional": 10.0,
                "daily_loss_limit": 0.05,
                "max_drawdown": 0.15,
            },
            breakers=[
                BreakerInfo(
                    name=name,
                    tripped=name in self.tripped,
                    reason="BTC/USDT moved 11.2% in one bar" if name in self.tripped else None,
                    tripped_at=NOW - timedelta(minutes=20) if name in self.tripped else None,
                    until=NOW + timedelta(minutes=10) if name in self.tripped else None,
                    reset=reset,
                )
                for name, reset in (
                    ("kill_switch", "manual"),
                    ("price_move", "cool-down"),
                    ("stale_data", "fresh data"),
                    ("consecutive_losses", "cool-down"),
                    ("exchange_errors", "cool-down"),
                )
            ],
            var={
                "source": "positions",
                "horizon": "1d",
                "returns": 90,
                "equity": 10_016.4,
                "note": None,
                "figures": [
                    {
                        "level": 0.95,
                        "historical_var": 61.2,
                        "historical_cvar": 88.7,
                        "parametric_var": 58.3,
                        "parametric_cvar": 73.1,
                    },
                    {
                        "level": 0.99,
                        "historical_var": 97.5,
                        "historical_cvar": 121.0,
                        "parametric_var": 82.4,
                        "parametric_cvar": 94.4,
                    },
                ],
            },
            var_at=NOW - timedelta(minutes=4),
        )

    async def risk_halt(self, reason: str = "") -> RiskStatus:
        self._check()
        self.calls.append(("risk_halt", reason))
        self.halted = True
        return await self.risk_status()

    async def risk_resume(self, breaker: str | None = None) -> RiskStatus:
        self._check()
        self.calls.append(("risk_resume", breaker))
        if breaker is None:
            self.halted = False
            self.tripped.clear()
        else:
            self.tripped.discard(breaker)
        return await self.risk_status()

    async def goals(self) -> GoalsReport:
        self._check()
        month_end = datetime(2026, 12, 1, tzinfo=UTC)
        return GoalsReport(
            goals=[
                GoalInfo(
                    id=1,
                    name="monthly return",
                    kind="return",
                    target=0.1,
                    period="month",
                    description="10.00% return per month",
                    status="behind schedule",
                    progress=0.34,
                    period_end=month_end,
                    projected=datetime(2026, 12, 9, tzinfo=UTC),
                ),
                GoalInfo(
                    id=2,
                    name="monthly profit",
                    kind="profit",
                    target=500.0,
                    period="month",
                    description="500.00 profit per month",
                    status="on schedule",
                    progress=0.81,
                    period_end=month_end,
                    projected=datetime(2026, 11, 28, tzinfo=UTC),
                ),
                GoalInfo(
                    id=3,
                    name="portfolio value",
                    kind="value",
                    target=50_000.0,
                    period="none",
                    description="account value 50,000.00",
                    status="no schedule",
                    progress=0.2,
                ),
            ],
            risk_factor=RiskFactorInfo(value=1.15, reasons=["goal 'monthly return' is behind schedule"]),
        )

    async def alert_history(self, *, limit: int = 50) -> list[AlertInfo]:
        self._check()
        rows = [
            (1, 50, "warning", "pct_move", "BTC/USDT moved 5.2% in 1h", "from 61,900 to 65,120"),
            (2, 31, "info", "order_filled", "Filled: buy 0.02 BTC/USDT", "at 63,200.00 (g-7f3a)"),
            (3, 20, "critical", "risk_limit", "Circuit breaker price_move tripped", "BTC/USDT moved 11.2%"),
        ]
        return [
            AlertInfo(
                id=i,
                created_at=NOW - timedelta(minutes=ago),
                rule=rule,
                severity=severity,
                dedupe_key=f"k{i}",
                title=title,
                body=body,
                status="delivered",
                attempts=1,
                repeats=0,
                last_seen_at=NOW - timedelta(minutes=ago),
                targets=[],
            )
            for i, ago, severity, rule, title, body in rows
        ][:limit]

    async def logs(self, *, limit: int = 100) -> list[LogRecord]:
        self._check()
        rows = [
            (50, "INFO", "mastertrade.engine.daemon", "daemon started (paper mode, venue sim)"),
            (31, "INFO", "mastertrade.engine.scheduler.service", "job nightly_generation run 76 started"),
            (20, "WARNING", "mastertrade.engine.risk.manager", "circuit breaker price_move tripped"),
        ]
        return [
            LogRecord(
                time=(NOW - timedelta(minutes=ago)).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                level=level,
                logger=logger,
                message=message,
            )
            for ago, level, logger, message in rows
        ][-limit:]

    # --- strategies --------------------------------------------------------------------------------------

    def _strategies_served(self) -> None:
        if not self.strategies_served:
            raise errors.OperationFailed("the daemon could not read the strategy store")

    async def strategies(self) -> list[StrategySummary]:
        self._check()
        self._strategies_served()
        return [s.model_copy(update={"state": self.stages[s.id]}) for s in STRATEGIES]

    async def strategy(self, strategy_id: str) -> StrategyDetail:
        self._check()
        self._strategies_served()
        row = next((s for s in STRATEGIES if s.id == strategy_id), None)
        if row is None:
            raise errors.NotFound(f"no strategy {strategy_id}")
        start = LAST_BAR - 299 * HOUR_MS
        detail = StrategyDetail(
            **row.model_dump(exclude={"state"}),
            state=self.stages[strategy_id],
            backtest=BacktestInfo(bars=300, cash=10_000.0, fee=0.001),
            description="entry: RSI(14) crosses above 30 and close > SMA(50)\n"
            "exit: RSI(14) crosses below 70\n"
            "stop-loss 3%, take-profit 8%, size 25% of equity",
            genome={"entry": {"crosses_above": [{"ind": "rsi", "length": 14}, 30]}},
            metrics={"profit_factor": 1.62, "win_rate_pct": 54.2},
            backtest_equity=[
                EquityPointInfo(
                    ts=start + i * HOUR_MS, equity=10_000 * (1 + 0.0006 * i + 0.01 * math.sin(i / 13))
                )
                for i in range(300)
            ],
            paper_equity=[
                EquityPointInfo(
                    ts=start + (200 + i) * HOUR_MS, equity=10_000 * (1 + 0.0004 * i + 0.006 * math.sin(i / 7))
                )
                for i in range(100)
            ],
            history=[
                TransitionInfo(at=NOW - timedelta(days=6), to="generated", reason="night run 41"),
                TransitionInfo.model_validate(
                    {
                        "at": NOW - timedelta(days=6),
                        "from": "generated",
                        "to": "passed",
                        "reason": "OOS sharpe 1.84, DSR 0.97",
                    }
                ),
                TransitionInfo.model_validate(
                    {"at": NOW - timedelta(days=5), "from": "passed", "to": "paper", "reason": "top 5"}
                ),
            ],
        )
        return detail.model_copy(update=self.detail_changes.get(strategy_id, {}))

    async def change_strategy(self, strategy_id: str, action: str) -> StrategySummary:
        self._check()
        self._strategies_served()
        self.calls.append(("change_strategy", (strategy_id, action)))
        before = self.stages[strategy_id]
        self.stages[strategy_id] = {"activate": "active", "pause": "paused", "retire": "retired"}[action]
        row = next(s for s in STRATEGIES if s.id == strategy_id)
        return row.model_copy(update={"state": self.stages[strategy_id], "moved_from": before})

    async def run_job(self, name: str) -> JobRunInfo:
        self._check()
        self.calls.append(("run_job", name))
        return JobRunInfo(
            id=77, job="nightly_generation", trigger="manual", started_at=NOW, outcome="running"
        )


def _strategy(
    id_: str,
    name: str,
    stage: str,
    symbol: str,
    sharpe: float,
    dsr: float,
    ret: float,
    dd: float,
    trades: int,
    paper: float | None = None,
) -> StrategySummary:
    at = NOW - timedelta(hours=2)
    return StrategySummary(
        id=id_,
        name=name,
        state=stage,
        symbol=symbol,
        timeframe="1h",
        exchange="sim",
        sharpe=sharpe,
        deflated_sharpe=dsr,
        return_pct=ret,
        max_drawdown_pct=dd,
        trades=trades,
        paper=None
        if paper is None
        else PaperRecord(
            book=f"strategy:{id_}",
            start=NOW - timedelta(days=5),
            end=at,
            days=4.9,
            trades=14,
            return_pct=paper,
            max_drawdown_pct=2.0,
        ),
        state_since=at,
        created_at=NOW - timedelta(days=6),
        updated_at=at,
    )


STRATEGIES = [
    _strategy("g-7f3a", "rsi-trend-7f3a", "active", "BTC/USDT", 1.84, 0.97, 38.2, 9.1, 61, 4.2),
    _strategy("g-21c9", "bb-revert-21c9", "paper", "ETH/USDT", 1.52, 0.91, 27.5, 11.4, 48, 1.1),
    _strategy("g-a04e", "ema-cross-a04e", "paper", "SOL/USDT", 1.31, 0.84, 22.0, 14.8, 37, -0.6),
    _strategy("g-5d11", "breakout-5d11", "passed", "BTC/USDT", 1.12, 0.71, 15.3, 12.2, 29),
    _strategy("g-9be2", "macd-mom-9be2", "retired", "ETH/USDT", 0.88, 0.42, 9.6, 21.3, 44, -7.9),
    _strategy("g-0c77", "stoch-dip-0c77", "failed", "SOL/USDT", 0.21, 0.05, -3.4, 25.0, 12),
]


class TickSource:
    """Ticks that continue the fake candles: a seeded random walk per symbol, folded into the forming
    bar (open, high, low, volume so far) the way the daemon's ``price.tick`` events are."""

    def __init__(self, symbols: Sequence[str] = SYMBOLS, *, seed: int = 1) -> None:
        import random

        self.rng = random.Random(seed)
        self.bars: dict[str, list[float]] = {}
        for symbol in symbols:
            close = fake_candles(symbol, 1)[-1].close
            self.bars[symbol] = [close, close, close, close, 0.0]

    def next(self, symbol: str, at: float = NOW_S) -> ev.PriceTick:
        bar = self.bars[symbol]
        price = bar[3] * (1 + self.rng.gauss(0, 0.0008))
        bar[1], bar[2], bar[3], bar[4] = (
            max(bar[1], price),
            min(bar[2], price),
            price,
            bar[4] + self.rng.random(),
        )
        return ev.PriceTick(
            at=at,
            venue="sim",
            symbol=symbol,
            timeframe="1h",
            simulated=True,
            candle=Ohlcv(LAST_BAR + HOUR_MS, bar[0], bar[1], bar[2], bar[3], bar[4]),
        )


def symbols(count: int) -> list[str]:
    """``count`` symbols: the three with history, then made-up ones (they get candles too)."""
    extra = [f"C{i:02d}/USDT" for i in range(count - len(SYMBOLS))]
    return [*SYMBOLS, *extra][:count]


NO_EXITS = "0.004 BTC/USDT of order 11 has no stop"
GONE = (
    "ADA/USDT is no longer listed by binance (delisted or removed) since 2026-12-05 10:00 UTC: order 13 "
    "and no position are stuck there; asked again at 11:00"
)


class UnsafeBookBackend(FakeBackend):
    """A live book's safety facts: the BTC position has no exits at the exchange, an ADA order sits in a
    delisted market; a SOL position and the ETH order have neither. With ``unsafe`` off it answers as
    the plain fake (the daemon cleared the facts)."""

    unsafe = True

    async def positions(self, *, book: str | None = None) -> list[PositionInfo]:
        rows = await super().positions(book=book)
        if book not in (None, "", "account") or not self.unsafe:
            return rows
        return [
            *(row.model_copy(update={"unprotected": NO_EXITS}) for row in rows),
            fake_position("SOL/USDT", 4.0, 180.0, 185.0),
        ]

    async def orders(
        self, *, open_only: bool = False, limit: int = 50, book: str | None = None
    ) -> list[OrderInfo]:
        rows = await super().orders(open_only=open_only, limit=limit, book=book)
        if book not in (None, "", "account") or not self.unsafe:
            return rows
        gone = rows[0].model_copy(update={"id": 13, "symbol": "ADA/USDT", "market_gone": GONE})
        return [rows[0], gone, *rows[1:]]
