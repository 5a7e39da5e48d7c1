"""The trading core of one daemon: the account's broker, paper-stage strategies' books, the risk manager,
sizing and goals, wired to the market's events.

The flow (DESIGN.md "Data flow"): a price update goes to every book's broker (paper orders fill on it)
and to the price breakers; a closed candle also marks every book's equity and then evaluates the
strategies on it (``strategies.latest_signals``, the backtester's code):

- a **paper-stage** strategy trades its own paper book (``strategy:<id>``), sized by its own fraction of
  equity at the fill exactly as its backtest, so ``mt strategy parity`` can compare the two. The book
  opens on the first bar the strategy is evaluated on and trades from the next, as a backtest's first
  bar only opens its account; the account's risk limits and breakers do not apply to these sandboxes
  (they would make the paper record differ from the backtest it is compared with);
- an **active** strategy trades the account: an entry is sized by Kelly (its backtest blended with its
  own record) x the goal risk factor, capped by the position limit, then checked by the risk manager
  (which may resize or reject it, with the reason audited); an exit sells what the strategy holds (its
  own fills' share of the account). In live mode the exchange holds no stop orders: the entry's
  stop-loss, take-profit and trailing stop are kept by the daemon itself (``protector.Protector``),
  which watches every price update and sells through the live broker when a level is reached.

Manual orders (``mt trade``) take the same risk check. The account's broker is the paper broker in
paper mode and the live broker in live mode; live needs the ``LiveConsent`` that only both switches give.
Market time is the candles' time: orders placed on a bar's close carry the next bar's open time.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mastertrade import errors
from mastertrade.config import Settings
from mastertrade.db.database import Database
from mastertrade.db.models.trading import OrderRecord
from mastertrade.db.types import utcnow
from mastertrade.engine import events
from mastertrade.engine.execution.broker import BarOutcome, Broker, Publish
from mastertrade.engine.execution.journal import Journal, order_info
from mastertrade.engine.execution.ledger import RoundTrip, split_symbol
from mastertrade.engine.execution.matching import Bar
from mastertrade.engine.execution.orders import OrderRequest, OrderState, OrderType, Side
from mastertrade.engine.execution.paper import PaperBroker
from mastertrade.engine.execution.portfolio import balance_view, positions_view, snapshot
from mastertrade.engine.execution.protector import Protector
from mastertrade.engine.execution.strategies import (
    StaticStrategies,
    StrategySource,
    TradedStrategy,
)
from mastertrade.engine.execution.strategy_orders import Action, Bracket, decide, entry_request, exit_request
from mastertrade.engine.market.timeframes import timeframe_ms
from mastertrade.engine.risk.breakers import Breaker, BreakerPolicy
from mastertrade.engine.risk.check import Decision, PortfolioSnapshot, ProposedOrder, RiskLimits
from mastertrade.engine.risk.manager import RiskManager
from mastertrade.engine.risk.store import RiskStore, audit_info
from mastertrade.engine.sizing.factor import FactorPolicy, RiskFactor, risk_factor
from mastertrade.engine.sizing.goals import Goal, GoalProgress, goal_progress
from mastertrade.engine.sizing.kelly import TradeStats, kelly_sizing
from mastertrade.engine.sizing.sizer import size_entry
from mastertrade.engine.sizing.store import GoalStore

if TYPE_CHECKING:
    from mastertrade.engine.market.store import CandleStore

log = logging.getLogger(__name__)

MILESTONES = (0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class PriceUpdate:
    """One update of a symbol's current bar from the market feed."""

    symbol: str
    timeframe: str
    bar: Bar
    simulated: bool = True


class Trader:
    """See the module docstring. ``account`` is the account's broker (paper or live)."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        candles: CandleStore,
        *,
        venue_id: str,
        account: Broker | None = None,
        strategies: StrategySource | None = None,
        publish: Publish | None = None,
        clock: Any = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.candles = candles
        self.venue_id = venue_id
        self.publish = publish
        self.clock = clock
        self.journal = Journal(db)
        self.quote = settings.paper.quote
        self.account: Broker = account or PaperBroker(
            self.journal,
            "paper",
            quote=self.quote,
            fee=settings.paper.fee,
            slippage=settings.paper.slippage,
            starting_cash=settings.paper.starting_cash,
            intent_max_age_s=settings.execution.intent_max_age_s,
            publish=self._emit,
        )
        self.mode = self.account.mode
        self.strategies = strategies or StaticStrategies()
        self.risk = RiskManager(
            RiskStore(db),
            RiskLimits.from_settings(settings.risk),
            BreakerPolicy.from_settings(settings.risk),
            publish=self._emit,
            clock=clock,
        )
        self.goals = GoalStore(db, settings.goals)
        self.books: dict[str, PaperBroker] = {}
        self.last: dict[str, tuple[int, bool]] = {}
        """Per symbol: the newest bar seen (open time) and whether it was closed."""
        self.seen_at: dict[str, datetime] = {}
        self._started: datetime | None = None
        self.protection = Protector(self) if self.mode == "live" else None
        """Live only: the daemon-side protective exits of the strategies' positions."""
        from mastertrade.engine.execution.bar_clock import BarClock

        self.bar_clock = BarClock(
            candles,
            self.journal,
            venue_id,
            open_book=self._strategy_book,
            features=self._features,
            account=self._act_in_account,
            on_signal=self._signal,
        )
        """Evaluates every closed bar exactly once, in order, for every traded strategy."""

    # --- life cycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        self._started = self.clock()
        await self.risk.start()
        await self.goals.list()
        await self.account.start()
        if self.protection is not None:
            await self.protection.start()
        for book in await self.journal.books():
            if book.id.startswith("strategy:") and book.strategy_id is not None:
                await self._strategy_book(book.strategy_id)

    async def close(self) -> None:
        await self.account.close()

    def _emit(self, event: events.Event) -> None:
        if self.publish is not None:
            self.publish(event)

    @property
    def fee(self) -> float:
        return self.settings.paper.fee

    async def _strategy_book(self, strategy_id: str, ts: int = 0) -> PaperBroker:
        """A paper-stage strategy's book; a new one starts at market time ``ts`` (the bar it first trades
        on, which ``parity`` starts from)."""
        broker = self.books.get(strategy_id)
        if broker is None:
            broker = PaperBroker(
                self.journal,
                f"strategy:{strategy_id}",
                quote=self.quote,
                fee=self.settings.paper.fee,
                slippage=self.settings.paper.slippage,
                starting_cash=self.settings.paper.strategy_cash,
                strategy_id=strategy_id,
                intent_max_age_s=self.settings.execution.intent_max_age_s,
                publish=self._emit,
            )
            await broker.start(ts=ts)
            self.books[strategy_id] = broker
        return broker

    # --- market events ----------------------------------------------------------------------------

    async def on_price(self, update: PriceUpdate) -> None:
        """A forming (or closed) bar: fill what it fills in every book, feed the price breakers."""
        bar = update.bar
        self.last[update.symbol] = (bar.ts, bar.closed)
        self.seen_at[update.symbol] = self.clock()
        await self._handle(await self.account.on_bar(update.symbol, bar), account=True)
        if self.protection is not None:
            await self.protection.on_price(update.symbol, bar)
        market_ms = bar.ts if update.simulated else int(self.clock().timestamp() * 1000)
        await self.risk.on_price(update.symbol, market_ms, bar.close)

    async def on_price_bar(self, symbol: str, bar: Bar) -> None:
        """``on_price`` for a bar of the trading timeframe (a convenience for callers without a feed)."""
        await self.on_price(PriceUpdate(symbol, self.settings.market.timeframe, bar, simulated=False))

    async def on_candle_closed(self, update: PriceUpdate) -> None:
        """A closed bar: fills, breakers, equity marks, then the strategies' decisions at its close."""
        await self.on_price(update)
        bar = update.bar
        await self.risk.on_bar(update.symbol, bar.open, bar.high, bar.low)
        await self.mark_equity(bar.ts)
        if update.timeframe != self.settings.market.timeframe:
            return
        chosen = [
            item
            for item in await self.strategies.traded()
            if item.symbol == update.symbol and item.timeframe == update.timeframe
        ]
        await self.bar_clock.catch_up(chosen, update.symbol, update.timeframe, bar.ts)

    async def _features(self, strategies: Sequence[Any], timeframe: str) -> Any:
        from mastertrade.engine.collectors.provider import features_for
        from mastertrade.engine.market.store import is_simulated_exchange

        return await features_for(
            self.db, strategies, timeframe=timeframe, simulated=is_simulated_exchange(self.venue_id)
        )

    async def _act_in_account(
        self, item: TradedStrategy, entry: bool, exit_: bool, bar: Bar, placed_ts: int, newest: bool
    ) -> None:
        """An active strategy's signals at ``bar`` in the account (its own paper book is the bar
        clock's). A live account acts only on the newest bar: a signal of a bar evaluated while catching
        up is recorded in the strategy's book, never sent late to the exchange."""
        symbol = item.strategy.symbol
        assert symbol is not None
        bracket = Bracket(
            item.strategy.stop_loss,
            item.strategy.take_profit,
            item.strategy.trailing_stop,
            item.strategy.size,
        )
        if self.mode == "live" and not newest:
            log.warning("strategy %s: bar %d evaluated late; no live order for it", item.id, bar.ts)
            return
        held = await self._strategy_holding(item.id, symbol)
        action = decide(long=held > 0, entry=entry, exit_=exit_)
        if action is None:
            return
        self._signal(item, action, bar)
        if action is Action.EXIT:
            if isinstance(self.account, PaperBroker):
                await self.account.cancel_exits(symbol, "exit signal")
            request = exit_request(symbol, held, bar.close, strategy_id=item.id)
            await self._risk_and_send(request, bar.close, placed_ts, strategy_id=item.id)
            if self.protection is not None:
                await self.protection.sync(symbol)  # a filled exit closes the position's protection
            return
        portfolio = await self.portfolio()
        sizing = kelly_sizing(
            item.backtest,
            await self.real_record(item.id),
            kelly_fraction=self.settings.sizing.kelly_fraction,
            prior_trades=self.settings.sizing.prior_trades,
            min_trades=self.settings.sizing.min_trades,
            default_fraction=self.settings.sizing.default_fraction,
        )
        factor = await self.risk_factor(portfolio)
        size = size_entry(portfolio.equity, bar.close, sizing, factor, self.settings.risk.max_position)
        if size.amount <= 0:
            await self.risk.store.audit(
                "reject",
                f"sizing: {size.explanation}",
                book=self.account.book,
                strategy_id=item.id,
                symbol=symbol,
                side="buy",
            )
            return
        if self.protection is not None:
            # Live: no stop orders at the exchange; the protector keeps the bracket and sells itself.
            plain = entry_request(
                symbol, Bracket(size=bracket.size), bar.close, strategy_id=item.id, amount=size.amount
            )
            await self.protection.enter(
                plain,
                bracket,
                lambda request: self._risk_and_send(
                    request, bar.close, placed_ts, strategy_id=item.id, sizing=size.explanation
                ),
            )
            return
        request = entry_request(symbol, bracket, bar.close, strategy_id=item.id, amount=size.amount)
        await self._risk_and_send(request, bar.close, placed_ts, strategy_id=item.id, sizing=size.explanation)

    def _signal(self, item: TradedStrategy, action: Action, bar: Bar) -> None:
        symbol = item.strategy.symbol or ""
        self._emit(
            events.SignalRaised(
                strategy_id=item.id,
                symbol=symbol,
                timeframe=item.strategy.timeframe or "",
                side="buy" if action is Action.ENTER else "sell",
                price=bar.close,
                bar_ts=bar.ts,
                reason=f"{item.stage} strategy {item.strategy.name}",
            )
        )

    async def _has_book(self, strategy_id: str) -> bool:
        return f"strategy:{strategy_id}" in {book.id for book in await self.journal.books()}

    async def _strategy_holding(self, strategy_id: str, symbol: str) -> float:
        ledger = await self.journal.strategy_ledger(self.account.book, strategy_id)
        position = ledger.positions.get(symbol)
        return position.amount if position is not None and position.opened_ts is not None else 0.0

    async def real_record(self, strategy_id: str) -> TradeStats:
        """A strategy's own trades: in its paper book and in the account."""
        trips: list[RoundTrip] = []
        if f"strategy:{strategy_id}" in {book.id for book in await self.journal.books()}:
            trips += (await self.journal.ledger(f"strategy:{strategy_id}")).round_trips
        trips += (await self.journal.strategy_ledger(self.account.book, strategy_id)).round_trips
        return TradeStats.from_returns(trip.return_ for trip in trips)

    async def _handle(self, outcome: BarOutcome, *, account: bool) -> None:
        if account:
            for trip in outcome.round_trips:
                await self.risk.on_trade_closed(trip.pnl)

    async def mark_equity(self, ts: int) -> None:
        """Record the account's equity at market time ``ts`` (a bar's open time, marked at its close);
        the strategies' books are marked by the bar clock, at each bar they are evaluated on."""
        for broker in [self.account]:
            ledger = await broker.ledger()
            marks = broker.marks()
            equity = ledger.equity(self.quote, marks)
            cash = ledger.balance(self.quote)
            if math.isfinite(equity):
                await self.journal.record_equity(broker.book, ts, equity, cash, equity - cash)

    async def housekeeping(self) -> None:
        """Periodic: breaker cool-downs, stale data, and (live) fills of resting orders."""
        await self.risk.expire()
        symbols = list(self.settings.market.symbols)
        if self.protection is not None:  # a protected position's prices must stay fresh too
            symbols += [symbol for symbol in self.protection.symbols() if symbol not in symbols]
        since = self._started or self.clock()  # a symbol not seen yet is as old as this run
        await self.risk.on_freshness({symbol: self.seen_at.get(symbol, since) for symbol in symbols})
        poll = getattr(self.account, "poll", None)
        if poll is not None:
            outcome = await poll()
            await self._handle(outcome, account=True)
        if self.protection is not None:
            await self.protection.sync()
            await self.protection.check_health(self.seen_at, since, self.risk.policy.stale_after_s)

    # --- the account, for the API -------------------------------------------------------------------

    def placed_ts(self, symbol: str) -> int:
        """Market time for an order placed now: the next bar's open after a closed bar, else inside the
        forming bar (it then fills at the next price seen)."""
        last = self.last.get(symbol)
        if last is None:
            return int(self.clock().timestamp() * 1000)
        ts, closed = last
        return ts + timeframe_ms(self.settings.market.timeframe) if closed else ts + 1

    async def history(self) -> list[Any]:
        return await self.journal.equity_history(self.account.book)

    async def portfolio(self) -> PortfolioSnapshot:
        """The account now, with the equity peak since the drawdown baseline and the equity at the start
        of the (market-time) UTC day."""
        ledger = await self.account.ledger()
        working = await self.journal.orders(
            book=self.account.book,
            states=[OrderState.OPEN, OrderState.PARTIALLY_FILLED, OrderState.SENT, OrderState.UNKNOWN],
        )
        book = self.account.book
        last = await self.journal.last_equity_ts(book)
        peak = day_start = None
        if last is not None:
            day_ms = last - last % 86_400_000
            peak, day_start = await self.journal.equity_marks(
                book, since=self.risk.drawdown_since_ts, day_start=day_ms
            )
        return snapshot(
            ledger, self.account.marks(), working, self.quote, peak_equity=peak, day_start_equity=day_start
        )

    async def place(
        self,
        symbol: str,
        side: str,
        amount: float,
        *,
        type_: str = "market",
        price: float | None = None,
        live: bool = False,
    ) -> dict[str, Any]:
        """A manual order: confirm the mode, check the risk, send. ``RiskRejected`` when refused."""
        if self.mode == "live" and not live:
            raise errors.UserInputError("the daemon trades live: confirm a live order with --live")
        if self.mode != "live" and live:
            raise errors.UserInputError(
                '--live given but the daemon trades on paper: start it with mode = "live" and --live'
            )
        request, reference = self.manual_request(symbol, side, amount, type_=type_, price=price)
        row, decision = await self._risk_and_send(request, reference, self.placed_ts(symbol))
        if row is None:
            raise errors.RiskRejected(f"risk check rejected the order: {decision.reason}")
        if row.state == OrderState.REJECTED.value:
            raise errors.OrderRejected(f"order {row.id} rejected: {row.reason}")
        return {"order": order_info(row), "risk": decision.as_dict()}

    def manual_request(
        self, symbol: str, side: str, amount: float, *, type_: str = "market", price: float | None = None
    ) -> tuple[OrderRequest, float]:
        """A validated manual order and its reference price (the limit or stop price, else the last
        price the account's broker saw): what ``place`` sends and ``POST /v1/orders/check`` previews."""
        try:
            kind = OrderType(type_)
            order_side = Side(side)
        except ValueError:
            raise errors.UserInputError(
                f"invalid order {side!r} {type_!r}: side buy|sell, type market|limit|stop"
            ) from None
        if kind is OrderType.MARKET and price is not None:
            raise errors.UserInputError("a market order takes no --price; use --type limit or --type stop")
        if split_symbol(symbol)[1] != self.quote:
            raise errors.UserInputError(f"invalid symbol {symbol!r}: the account trades against {self.quote}")
        reference = price if price is not None else self.account.marks().get(symbol)
        if reference is None:
            raise errors.OperationFailed(
                f"no price for {symbol} yet: is it in [market] symbols and streaming?"
            )
        request = OrderRequest(
            symbol,
            order_side,
            kind,
            amount=amount,
            price=price if kind is OrderType.LIMIT else None,
            stop_price=price if kind is OrderType.STOP else None,
            reference_price=reference,
        ).validate()
        return request, reference

    async def _risk_and_send(
        self,
        request: OrderRequest,
        reference: float,
        placed_ts: int,
        *,
        strategy_id: str | None = None,
        sizing: str | None = None,
    ) -> tuple[OrderRecord | None, Decision]:
        assert request.amount is not None
        proposed = ProposedOrder(request.symbol, request.side.value, request.amount, reference, self.fee)
        decision = await self.risk.check(
            proposed, await self.portfolio(), book=self.account.book, strategy_id=strategy_id
        )
        if not decision.approved:
            self._emit(
                events.OrderRejected(
                    client_order_id="",
                    symbol=request.symbol,
                    side=request.side.value,
                    amount=request.amount,
                    reason=decision.reason + (f" (sizing: {sizing})" if sizing else ""),
                    mode=self.mode,
                )
            )
            return None, decision
        from dataclasses import replace

        request = replace(request, amount=decision.amount)
        row = await self.account.submit(request, placed_ts=placed_ts)
        return row, decision

    async def cancel(self, order_id: int) -> dict[str, Any]:
        row = await self.journal.get(order_id)
        broker: Broker = self.account
        if row.book != self.account.book:
            sid = row.book.removeprefix("strategy:")
            if sid not in self.books:
                raise errors.NotFound(f"no order {order_id} in a book this daemon trades")
            broker = self.books[sid]
        return order_info(await broker.cancel(order_id))

    async def orders(
        self, *, open_only: bool = False, limit: int = 50, book: str | None = None
    ) -> list[dict[str, Any]]:
        states = (
            [
                OrderState.INTENT,
                OrderState.SENT,
                OrderState.UNKNOWN,
                OrderState.OPEN,
                OrderState.PARTIALLY_FILLED,
            ]
            if open_only
            else None
        )
        rows = await self.journal.orders(book=book or self.account.book, states=states, limit=limit)
        if open_only:
            rows = [
                row
                for row in rows
                if not (row.state == OrderState.INTENT.value and row.parent_id is not None)
            ]
        return [order_info(row) for row in rows]

    async def positions(self) -> list[dict[str, Any]]:
        return positions_view(await self.account.ledger(), self.account.marks())

    async def balance(self) -> dict[str, Any]:
        working = await self.journal.orders(
            book=self.account.book, states=[OrderState.OPEN, OrderState.PARTIALLY_FILLED]
        )
        view = balance_view(await self.account.ledger(), self.account.marks(), self.quote, working)
        return {"book": self.account.book, "mode": self.mode, **view}

    # --- risk -------------------------------------------------------------------------------------

    async def risk_status(self) -> dict[str, Any]:
        await self.risk.expire()
        portfolio = await self.portfolio()
        latest = await self.risk.store.latest_snapshot("risk", self.account.book)
        limits = self.risk.limits
        equity = portfolio.equity
        return {
            "mode": self.mode,
            "halted": self.risk.breakers.halted,
            "halt_reason": self.risk.breakers.halt_reason,
            "reduce_only": portfolio.drawdown >= limits.max_drawdown,
            "equity": equity,
            "cash": portfolio.cash,
            "exposure": portfolio.exposure,
            "exposure_pct": portfolio.exposure / equity if equity > 0 else None,
            "open_positions": portfolio.open_positions,
            "drawdown": portfolio.drawdown,
            "daily_loss": portfolio.daily_loss,
            "peak_equity": portfolio.peak_equity,
            "limits": {
                "max_position": limits.max_position,
                "max_exposure": limits.max_exposure,
                "max_open_positions": limits.max_open_positions,
                "min_notional": limits.min_notional,
                "daily_loss_limit": limits.daily_loss_limit,
                "max_drawdown": limits.max_drawdown,
            },
            "breakers": [state.as_dict() for state in self.risk.status()],
            "var": latest.data if latest is not None else None,
            "var_at": latest.at if latest is not None else None,
            "protection": self.protection.status() if self.protection is not None else None,
        }

    async def halt(self, reason: str) -> dict[str, Any]:
        await self.risk.halt(reason or "halted by hand")
        return await self.risk_status()

    async def resume(self, breaker: str | None = None) -> dict[str, Any]:
        if breaker is None:
            last = await self.journal.last_equity_ts(self.account.book)
            await self.risk.resume(drawdown_since_ts=last + 1 if last is not None else None)
        else:
            try:
                name = Breaker(breaker)
            except ValueError:
                known = ", ".join(b.value for b in Breaker)
                raise errors.UserInputError(f"unknown breaker {breaker!r}: expected one of {known}") from None
            await self.risk.resume([name])
        return await self.risk_status()

    async def audit(self, limit: int = 50) -> list[dict[str, Any]]:
        return [audit_info(record) for record in await self.risk.store.audit_log(limit=limit)]

    async def compute_risk_metrics(self) -> dict[str, Any]:
        """VaR and CVaR (95%, 99%; historical and parametric) of the account now, stored as a snapshot."""
        from mastertrade.engine.execution.riskmetrics import account_var

        data = await account_var(self)
        await self.risk.store.save_snapshot("risk", self.account.book, data)
        return data

    # --- goals --------------------------------------------------------------------------------------

    async def risk_factor(self, portfolio: PortfolioSnapshot | None = None) -> RiskFactor:
        portfolio = portfolio or await self.portfolio()
        progress = await self.goal_progress()
        policy = FactorPolicy.from_settings(self.settings.sizing, self.settings.risk.max_drawdown)
        return risk_factor(progress, portfolio.drawdown, policy)

    async def goal_progress(self, goals: Sequence[Goal] | None = None) -> list[GoalProgress]:
        history = await self.history()
        found = []
        for goal in goals if goals is not None else await self.goals.list():
            progress = goal_progress(goal, history, tolerance=self.settings.sizing.schedule_tolerance)
            if progress is not None:
                found.append(progress)
        return found

    async def goals_report(self) -> dict[str, Any]:
        goals = await self.goals.list()
        progress = {item.goal.id: item for item in await self.goal_progress(goals)}
        factor = await self.risk_factor()
        return {
            "goals": [
                progress[goal.id].as_dict()
                if goal.id in progress
                else {
                    "id": goal.id,
                    "name": goal.name,
                    "kind": goal.kind.value,
                    "target": goal.target,
                    "period": goal.period.value,
                    "description": goal.describe(),
                    "status": "no equity history yet",
                }
                for goal in goals
            ],
            "risk_factor": factor.as_dict(),
        }

    async def goal_snapshot(self) -> dict[str, Any]:
        """The scheduled goal snapshot: stored, and a ``GoalMilestone`` for each milestone crossed since
        the previous one."""
        report = await self.goals_report()
        previous = await self.risk.store.latest_snapshot("goals", self.account.book)
        before = {
            item.get("id"): item.get("progress") or 0.0
            for item in (previous.data.get("goals", []) if previous else [])
        }
        for item in report["goals"]:
            now = item.get("progress")
            if now is None:
                continue
            was = before.get(item["id"], 0.0) or 0.0
            for milestone in MILESTONES:
                if was < milestone <= now:
                    self._emit(
                        events.GoalMilestone(
                            goal_id=str(item["id"]),
                            name=item["name"],
                            milestone=f"{milestone:.0%}",
                            progress_pct=now * 100,
                            message=f"{item['description']}: {now:.0%} of target",
                        )
                    )
        await self.risk.store.save_snapshot("goals", self.account.book, _jsonable(report))
        return report


async def parity(trader: Trader, strategy_id: str) -> dict[str, Any]:
    """A traded strategy's paper book against its backtest over the same bars (``bar_clock.book_backtest``:
    from the bar the book opened on to the last one it was evaluated on, signals over the same window)."""
    from mastertrade.engine.execution.bar_clock import book_backtest

    found = {item.id: item for item in await trader.strategies.traded()}
    if strategy_id not in found:
        raise errors.NotFound(f"no paper or active strategy {strategy_id!r} trades in this daemon")
    item = found[strategy_id]
    assert item.strategy.timeframe is not None
    features = await trader._features([item.strategy], item.strategy.timeframe)
    return await book_backtest(
        trader.candles,
        trader.journal,
        trader.venue_id,
        item,
        features,
        cash=trader.settings.paper.strategy_cash,
        fee=trader.settings.paper.fee,
        lock=trader.bar_clock.lock,
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
