"""The account a daemon trades: its broker (paper or live), the journal, the risk gate, the portfolio, the
paper books of the paper-stage strategies, manual orders and cancels, and the read models the API serves.

The ``Trader`` decides (``trader.py``); the ``Account`` carries out and answers. Every order of the
account, a strategy's or a manual one, passes ``send``: the risk manager's check (which may resize or
reject it, audited), then the broker's journaled path. ``Protector`` and VaR take an ``Account``, never
the ``Trader``.

The account's broker is the paper broker in paper mode and the live broker in live mode; live needs the
``LiveConsent`` that only both switches give. Market time is the candles' time: orders placed on a bar's
close carry the next bar's open time (``placed_ts``), from the newest bar the account has seen.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from mastertrade import errors
from mastertrade.config import Settings
from mastertrade.db.models.trading import OrderRecord
from mastertrade.db.types import utcnow
from mastertrade.engine import events
from mastertrade.engine.candle import Bar
from mastertrade.engine.execution import bracket_sell, dust, order_shares, watched_sell
from mastertrade.engine.execution.bar_clock import BookCursor, book_cursor
from mastertrade.engine.execution.bracket_sell import BRACKET_EXITS
from mastertrade.engine.execution.broker import BarOutcome, Broker, Publish
from mastertrade.engine.execution.journal import Journal, order_info
from mastertrade.engine.execution.ledger import RoundTrip, split_symbol
from mastertrade.engine.execution.manual_orders import (
    already_placed,
    as_shown,
    check_not_dust,
    check_same_order,
    dust_price,
    refused_resize,
)
from mastertrade.engine.execution.paper import PaperBroker
from mastertrade.engine.execution.portfolio import balance_view, positions_view, snapshot
from mastertrade.engine.execution.stop_guard import protected_position, refusal
from mastertrade.engine.market.symbols import spelled_as
from mastertrade.engine.market.timeframes import timeframe_ms
from mastertrade.engine.orders import IN_FLIGHT, OrderRequest, OrderState, OrderType, Side
from mastertrade.engine.risk.breakers import Breaker
from mastertrade.engine.risk.check import Decision, PortfolioSnapshot, ProposedOrder
from mastertrade.engine.risk.manager import RiskManager
from mastertrade.engine.risk.store import audit_info
from mastertrade.engine.sizing.kelly import TradeStats
from mastertrade.utc import to_ms

log = logging.getLogger(__name__)

ON_ITS_WAY = [OrderState.INTENT, *IN_FLIGHT]
"""An order on its way: journaled and not final (an intent may still be sent)."""


class ProtectionStatus(Protocol):
    """What the account shows of the live protections (``protector.Protector``) in its risk status."""

    def status(self) -> dict[str, Any]: ...
    def watches(self, symbol: str, strategy_id: str) -> bool: ...
    async def sync(self, symbol: str | None = None) -> None: ...
    async def cancel_take_profit(self, row: OrderRecord) -> OrderRecord | None: ...
    async def sell_taking_back(
        self, exits: Sequence[OrderRecord], sell: Callable[[], Awaitable[OrderRecord | None]]
    ) -> tuple[OrderRecord | None, str]: ...


def paper_broker(settings: Settings, journal: Journal, *, publish: Publish | None = None) -> PaperBroker:
    """The account's broker in paper mode, from ``[paper]`` and ``[execution]``."""
    return PaperBroker(
        journal,
        "paper",
        quote=settings.paper.quote,
        fee=settings.paper.fee,
        slippage=settings.paper.slippage,
        starting_cash=settings.paper.starting_cash,
        intent_max_age_s=settings.execution.intent_max_age_s,
        publish=publish,
    )


class Account:
    """See the module docstring. ``broker`` trades the account's book; ``books`` are the paper-stage
    strategies' own paper books (``strategy:<id>``)."""

    def __init__(
        self,
        settings: Settings,
        journal: Journal,
        broker: Broker,
        risk: RiskManager,
        *,
        publish: Publish | None = None,
        clock: Any = utcnow,
        wall: Any = None,
    ) -> None:
        self.settings = settings
        self.journal = journal
        self.broker = broker
        self.risk = risk
        self.publish = publish
        self.clock = clock
        """Market time: the account's trading day, cool-downs, order times."""
        self.wall = wall or clock
        """What prices' freshness is judged on: the wall clock (``clock`` itself unless simulated, where
        a stopped feed stops market time too and only the wall clock sees it go stale)."""
        self.quote = settings.paper.quote
        self.mode = broker.mode
        self.books: dict[str, PaperBroker] = {}
        self.last: dict[str, tuple[int, bool]] = {}
        """Per symbol: the newest bar seen (open time) and whether it was closed."""
        self.seen_at: dict[str, datetime] = {}
        """Per symbol: when its newest price update arrived (wall clock)."""
        self._placing: dict[str, asyncio.Lock] = {}
        """Per client order id of a manual order being placed: one placement at a time."""
        self._checking = {Side.BUY: asyncio.Lock(), Side.SELL: asyncio.Lock()}
        """Per side, one order's risk check and submission at a time: an order checked beside another of
        its side would see the book without it (eight buys that each fit the position limit all passed
        it together; two sells of a whole position both did). The sides do not wait for each other: a
        buy checked while a sell is on its way sees more held than will be, a sell checked while a buy is
        on its way sees less, both the safe way; and a protective exit never waits behind an entry's
        submission (up to ``[execution] answer_within_s`` at a live venue)."""
        self.protection: ProtectionStatus | None = None
        """Live only: the daemon-side protections, shown in ``risk_status``."""
        self._marked: dict[str, tuple[int, float, float]] = {}
        """Per book: the equity mark this account last recorded ((ts, equity, cash)), so that the same
        mark is not written again (``mark_equity``)."""

    @property
    def book(self) -> str:
        return self.broker.book

    async def start(self) -> None:
        """The risk gate's state, the broker's book (reconciled when live) and the strategies' books."""
        await self.risk.start()
        await self.broker.start()
        for book in await self.journal.books():
            if book.id.startswith("strategy:") and book.strategy_id is not None:
                await self.strategy_book(book.strategy_id)

    async def close(self) -> None:
        await self.broker.close()

    def emit(self, event: events.Event) -> None:
        if self.publish is not None:
            self.publish(event)

    async def on_price(self, symbol: str, bar: Bar) -> None:
        """A price update: remember it (market time, freshness) and fill what it fills in the account."""
        self.last[symbol] = (bar.ts, bar.closed)
        self.seen_at[symbol] = self.wall()
        await self.settle(await self.broker.on_bar(symbol, bar))

    async def poll(self) -> None:
        """Fills of resting orders the broker has to ask for (live); none on paper."""
        await self.settle(await self.broker.poll())

    @property
    def fee(self) -> float:
        return self.settings.paper.fee

    async def strategy_book(self, strategy_id: str, ts: int = 0) -> PaperBroker:
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
                publish=self.emit,
            )
            await broker.start(ts=ts)
            self.books[strategy_id] = broker
        return broker

    async def book_cursor(self, strategy_id: str) -> BookCursor | None:
        """Where a strategy's book stands (the bar it opened on, the last bar evaluated)."""
        return await book_cursor(self.journal, strategy_id)

    async def mark_book(self, broker: PaperBroker, ts: int) -> None:
        """Record a strategy book's equity at the close of the bar opened at ``ts``."""
        ledger = await broker.ledger()
        equity = ledger.equity(self.quote, broker.marks())
        cash = ledger.balance(self.quote)
        if math.isfinite(equity):
            await self.journal.record_equity(broker.book, ts, equity, cash, equity - cash)

    async def has_book(self, strategy_id: str) -> bool:
        return f"strategy:{strategy_id}" in {book.id for book in await self.journal.books()}

    async def strategy_holding(self, strategy_id: str, symbol: str) -> float:
        """What a strategy holds of ``symbol`` in the account: its own fills' share (with its parts of the
        sells by hand that sold its coins beside other owners': ``order_shares``), never more than the
        account holds (a sell booked as the account's own, or one at the exchange's website, took the rest:
        the strategy, still counting it, was long for ever, its exit refused, its next entry never
        taken)."""
        return min(await self._strategy_share(strategy_id, symbol), (await self.broker.ledger()).held(symbol))

    async def strategy_dust(self, strategy_id: str, symbol: str) -> float:
        """What a strategy holds of ``symbol`` once its round trip closed: live dust no sell can take
        (``dust``), kept in the balance as the strategy's until its next position takes it in."""
        return dust.left(await self.journal.strategy_ledger(self.broker.book, strategy_id), symbol)

    async def strategy_to_sell(self, strategy_id: str, symbol: str) -> float:
        """What a strategy's own exit (its exit signal's sell, its protection's) sells of ``symbol``: what it
        holds (``strategy_holding``) less what the sells by hand on their way will still take of it
        (``selling_by_hand``: a live limit sell resting, a paper market sell waiting for the next bar, with
        its share of the strategy's coins). Those coins are that sell's: an exit asking for them was
        refused for want of free coins (the strategy's exit never made, asked again at every exit signal),
        or resized to other owners' free coins and booked as the strategy's (once the sell by hand filled,
        the strategies' positions no longer added up to what was held). Once such a sell ends without
        them (cancelled, expired, rejected), they are the strategy's again, and its next exit sells them.
        """
        held = await self.strategy_holding(strategy_id, symbol)
        left = held - (await self.selling_by_hand(symbol)).get(strategy_id, 0.0)
        return left if left > held * order_shares.TOLERANCE else 0.0

    async def strategy_order_on_its_way(
        self, strategy_id: str, symbol: str, side: Side
    ) -> OrderRecord | None:
        """A strategy's own order of ``symbol`` in the account that is still on its way (an intent, sent,
        unknown, or working at the exchange), which its next signal on that side must not repeat: a buy
        (its entry), or a market sell (its exit, or its protection's). Its resting stop and take-profit do
        not count: its exit signal takes them back and sells. None when there is none.

        The backtest fills each order at the next bar's open, so a strategy is never flat while entering
        at a close. Live, an entry whose answer was lost stays unknown until the exchange shows it (for
        minutes when it is down); the strategy holds nothing meanwhile, and its entry signal at the next
        close sent a second buy beside the first. A sell by hand booked as the strategy's (it took only
        its coins: ``_attributed``) is not its own: its exit sells what that sell leaves it
        (``strategy_to_sell``)."""
        for row in await self.journal.orders(book=self.broker.book, states=ON_ITS_WAY, symbol=symbol):
            if row.strategy_id != strategy_id or row.side != side.value or row.parent_id is not None:
                continue
            if _by_hand(row):  # a sell by hand of its coins: its exit sells what that leaves it
                continue
            if side is Side.BUY or row.type == OrderType.MARKET.value:
                return row
        return None

    async def _strategy_share(self, strategy_id: str, symbol: str) -> float:
        return (await self.journal.strategy_ledger(self.broker.book, strategy_id)).open_amount(symbol)

    async def real_record(self, strategy_id: str) -> TradeStats:
        """A strategy's own closed trades, each signal counted once: its paper book, which takes every
        signal it gives. An active strategy's account trades are the same signals again (some refused or
        resized by the risk manager); adding them counted each trade twice. The account's trades count
        only for a strategy without a book."""
        trips: list[RoundTrip]
        if f"strategy:{strategy_id}" in {book.id for book in await self.journal.books()}:
            trips = (await self.journal.ledger(f"strategy:{strategy_id}")).round_trips
        else:
            trips = (await self.journal.strategy_ledger(self.broker.book, strategy_id)).round_trips
        return TradeStats.from_returns(trip.return_ for trip in trips)

    async def settle(self, outcome: BarOutcome) -> None:
        """What a price update (or a poll) did to the account: closed trades feed the loss breakers."""
        for trip in outcome.round_trips:
            await self.risk.on_trade_closed(trip.pnl)

    async def mark_equity(self, ts: int) -> None:
        """Record the account's equity at market time ``ts`` (a bar's open time, marked at its close);
        the strategies' books are marked by the bar clock at each bar they are evaluated on.

        Every symbol's closed candle marks the bar, and the marks of one bar mostly agree (a symbol
        the account does not hold moves no equity): a mark equal to the one this account recorded last
        for the same bar is already stored and is not written again (the books' equity is only ever
        written by their account, so the stored row is the remembered one)."""
        for broker in [self.broker]:
            ledger = await broker.ledger()
            marks = broker.marks()
            equity = ledger.equity(self.quote, marks)
            cash = ledger.balance(self.quote)
            if not math.isfinite(equity):
                continue
            mark = (ts, equity, cash)
            if self._marked.get(broker.book) == mark:
                continue
            await self.journal.record_equity(broker.book, ts, equity, cash, equity - cash)
            self._marked[broker.book] = mark

    # --- the account's market time, portfolio and manual orders ------------------------------------

    def placed_ts(self, symbol: str) -> int:
        """Market time for an order placed now: the next bar's open after a closed bar, else inside the
        forming bar (it then fills at the next price seen)."""
        last = self.last.get(symbol)
        if last is None:
            return to_ms(self.clock())
        ts, closed = last
        return ts + timeframe_ms(self.settings.market.timeframe) if closed else ts + 1

    async def history(self) -> list[Any]:
        return await self.journal.equity_history(self.broker.book)

    async def portfolio(self, *, releasing: bracket_sell.Plan | None = None) -> PortfolioSnapshot:
        """The account now, with the equity peak since the drawdown baseline and the equity at the start
        of the (market-time) UTC day; ``releasing``: as it will be once a sell by hand has replaced its
        position's exits (``bracket_sell``: less of the position reserved)."""
        ledger = await self.broker.ledger()
        working = await self.broker.working_orders()
        book = self.broker.book
        last = await self.journal.last_equity_ts(book)
        peak = day_start = None
        if last is not None:
            day_ms = last - last % 86_400_000
            peak, day_start = await self.journal.equity_marks(
                book, since=self.risk.drawdown_since_ts, day_start=day_ms
            )
        portfolio = snapshot(
            ledger,
            self.broker.marks(),
            working,
            self.quote,
            peak_equity=peak,
            day_start_equity=day_start,
            buy_fee=self.broker.buy_fee_reserve,
        )
        if releasing is None or not releasing.exits:
            return portfolio
        symbol = releasing.exits[0].symbol
        holding = portfolio.holdings.get(symbol)
        if holding is None:
            return portfolio
        reserved = max(0.0, holding.reserved - releasing.released)
        holdings = {**portfolio.holdings, symbol: replace(holding, reserved=reserved)}
        return replace(portfolio, holdings=holdings)

    async def place(
        self,
        symbol: str,
        side: str,
        amount: float,
        *,
        type_: str = "market",
        price: float | None = None,
        live: bool = False,
        client_order_id: str | None = None,
        allow_resize: bool = False,
        stop_loss: float | None = None,
        take_profit: float | None = None,
    ) -> dict[str, Any]:
        """A manual order: confirm the mode, check the risk, send. ``RiskRejected`` when refused, and
        when the risk manager would resize it unless ``allow_resize`` (a human's order is never cut
        silently). A ``client_order_id`` already journaled is that order, not a new one (a retried
        command cannot place twice). ``stop_loss``/``take_profit`` (fractions) bracket a buy: its exit
        rests at the exchange once it fills (paper: in the paper book)."""
        exits = (stop_loss, take_profit)
        if client_order_id is not None:
            async with self._placing.setdefault(client_order_id, asyncio.Lock()):
                try:
                    return await self._place(
                        symbol, side, amount, type_, price, live, client_order_id, allow_resize, exits
                    )
                finally:
                    self._placing.pop(client_order_id, None)
        return await self._place(symbol, side, amount, type_, price, live, None, allow_resize, exits)

    async def _place(
        self,
        symbol: str,
        side: str,
        amount: float,
        type_: str,
        price: float | None,
        live: bool,
        client_order_id: str | None,
        allow_resize: bool,
        exits: tuple[float | None, float | None] = (None, None),
    ) -> dict[str, Any]:
        if client_order_id is not None:
            try:
                known = await self.journal.get(client_order_id=client_order_id)
            except errors.NotFound:
                pass
            else:
                check_same_order(
                    known,
                    book=self.broker.book,
                    symbol=symbol,
                    side=side,
                    type_=type_,
                    price=price,
                    amount=amount,
                    allow_resize=allow_resize,
                    stop_loss=exits[0],
                    take_profit=exits[1],
                )
                return {"order": self.shown(known), "risk": already_placed(known)}
        if self.mode == "live" and not live:
            raise errors.UserInputError("the daemon trades live: confirm a live order with --live")
        if self.mode != "live" and live:
            raise errors.UserInputError(
                '--live given but the daemon trades on paper: start it with mode = "live" and --live'
            )
        request, reference = self.manual_request(
            symbol, side, amount, type_=type_, price=price, holdings=await self.holdings()
        )
        worth = dust_price(side, type_, reference, self.broker.marks().get(request.symbol))
        check_not_dust(symbol, amount, worth, self.risk.settings.min_notional, self.quote)
        if client_order_id is not None:
            request = replace(request, client_order_id=client_order_id)
        if exits != (None, None):
            request = replace(request, stop_loss=exits[0], take_profit=exits[1]).validate()
        if request.side is Side.SELL and request.amount is not None:
            held = (await self.broker.ledger()).held(request.symbol)
            if as_shown(request.amount, held):
                request = replace(request, amount=held)  # the whole position, not a hair more or less
        request = await self.broker.fit_to_market(request, allow_resize=allow_resize)
        request = await self._attributed(request)
        row, decision, exits_note = await self._send(
            request,
            reference,
            self.placed_ts(symbol),
            strategy_id=request.strategy_id,
            refuse_resize=not allow_resize,
            by_hand=True,
        )
        if row is None:
            raise errors.RiskRejected(f"risk check rejected the order: {decision.reason}")
        if row.state == OrderState.REJECTED:
            raise errors.OrderRejected(
                f"order {row.id} rejected: {row.reason}" + (f"; {exits_note}" if exits_note else "")
            )
        result: dict[str, Any] = {"order": self.shown(row), "risk": decision.as_dict()}
        if exits_note:
            result["exits"] = exits_note
        return result

    async def plan_sell(self, request: OrderRequest) -> bracket_sell.Plan | None:
        """What a sell by hand does to its position's exits (``bracket_sell``), or None when it leaves
        them alone: no position, no exits, a sell that fits beside them, or other sells working in the
        symbol (then the risk check's own words say what is reserved). Sells by hand still on their way
        (a paper market sell until the next bar, a live limit sell resting) have promised their coins:
        the plan is made on what they leave of each owner (``_owners``), except beside a bracket's exits.
        The exits of a bracketed buy are replaced; a live strategy's, kept by the daemon's protection, are
        taken back for the sell and put back by the protection (``Protector.sell_taking_back``), and the
        sell takes the account's own coins first, then those strategies' by id (``Plan.owners``: its
        shares). Beside a live strategy's exits, a sell
        of the account's own coins replaces its bracketed buys' exits only; one reaching into the
        strategy's coins is refused (``_beyond_own``). A strategy's position that no exit order reserves
        (``watched_sell``: ``native_stops`` off, or no stop) counts the same way: a sell of the account's
        own coins replaces their bracketed buys' exits only, one reaching past them beside such exits is
        refused, and one without them is a plan without exits that says what it takes of the strategy's
        position. A paper strategy's exits are replaced like a bracketed buy's: the sell takes the
        account's own coins, then the strategies' whose sets it takes, in that order. Refused, saying
        what is happening and what to do instead: an exit that is selling the position now, and a live set
        of exits that cannot be replaced now (``live_bracket_sell.why_not``)."""
        if request.amount is None:
            return None
        symbol = request.symbol
        held, holders, on_their_way = await self._owners(symbol)
        if not held > 0:
            return None
        sells = [row for row in on_their_way if OrderState(row.state) in IN_FLIGHT]
        selling = next((row for row in sells if _selling(row)), None)
        if selling is not None:
            raise errors.UserInputError(f"sell of {request.amount:.8g} {symbol}: {_wait_for(selling)}")
        by_hand = [row for row in on_their_way if _by_hand(row)]
        working = [row for row in sells if OrderState(row.state).working and not _by_hand(row)]
        if by_hand and any(row.parent_id is not None for row in working):
            return None  # beside a bracket's exits and another sell by hand: the risk check's words
        kept = [row for row in working if _kept_by_protection(row)]
        watched = _unreserved(holders, sells)
        theirs = sum(share for _, share in watched)
        own = held - sum(holders.values())  # the account's own coins (less its sells on their way)
        if kept and len(kept) == len(working) and self.protection is not None:
            kept.sort(key=lambda row: row.id or 0)
            reserved = bracket_sell.reserved_by(kept)
            free = held - reserved
            if request.amount <= (free - theirs) * (1 + 1e-9):
                return None  # it fits beside them
            if request.amount <= free * (1 + 1e-9):  # said: it takes positions no exit reserves
                owners = ((None, max(free - theirs, 0.0)), *watched)
                return bracket_sell.Plan((), free, 0.0, 0.0, watched=watched, owners=owners)
            if watched:  # the free coins are theirs: one owner at a time
                raise errors.UserInputError(
                    _beyond_own(
                        request, held, free, (), kept, self._holders(symbol, watched), self.mode, theirs
                    )
                )
            resting = sorted({row.strategy_id for row in kept if row.strategy_id in holders})
            owners = ((None, max(own, 0.0)), *((sid, holders[sid]) for sid in resting if sid is not None))
            return bracket_sell.Plan(tuple(kept), held, reserved, 0.0, by_protection=True, owners=owners)
        exits = [row for row in working if row.parent_id is not None and row.role in BRACKET_EXITS]
        if not working and watched and request.amount > (held - theirs) * (1 + 1e-9):
            owners = ((None, max(held - theirs, 0.0)), *watched)  # said, nothing replaced
            return bracket_sell.Plan((), held, 0.0, 0.0, watched=watched, owners=owners)
        if not exits or len(exits) + len(kept) != len(working):
            return None
        if kept and self.protection is None:
            return None
        # Beside a live strategy's exits (kept by its protection) or a strategy's position no exit
        # reserves (``watched_sell``), a sell by hand takes the account's own coins: its bracketed buys'
        # exits are replaced as if the strategy's position were not there (``live_bracket_sell``), and
        # the strategy's is left untouched.
        mine = held - bracket_sell.reserved_by(kept) - theirs
        if (kept or watched) and request.amount > mine * (1 + 1e-9):
            raise errors.UserInputError(
                _beyond_own(request, held, mine, exits, kept, self._holders(symbol, watched), self.mode)
            )
        plan = bracket_sell.plan(exits, mine, request.amount, request.strategy_id)
        if plan is None:
            return None
        why_not = getattr(self.broker, "why_not_replaceable", None)  # live: the exchange's side
        problem = await why_not(plan) if why_not is not None else None
        if problem is not None:
            raise errors.UserInputError(f"sell of {request.amount:.8g} {symbol}: {problem}")
        # the strategies whose exits it replaces (a paper book's) lose their coins in the order it takes
        # their sets, after the account's own
        taken = [(sid, holders[sid]) for sid in bracket_sell.strategies_taken(plan.exits) if sid in holders]
        return replace(plan, owners=((None, max(own, 0.0)), *taken))

    async def _attributed(self, request: OrderRequest) -> OrderRequest:
        """A sell by hand that takes one strategy's coins only is booked as that strategy's: its share of
        the account (``strategy_holding``, what its exit signal sells, what its protection keeps, its
        round trips) shrinks with it. A sell takes the account's own coins first, then the positions no
        exit order reserves (``watched_sell``), by strategy id, then those whose exits rest: so it is the
        strategy's when none of the account's own is held, and the sell is within the first such position
        (or within the one strategy's that is all that is held). Else it is the account's own; one that
        takes the coins of several owners carries each one's share (``_shared``). What each holds is what
        the sells by hand on their way leave it (``_owners``)."""
        if request.side is not Side.SELL or request.amount is None or request.strategy_id is not None:
            return request
        held, holders, on_their_way = await self._owners(request.symbol)
        if not holders or held - sum(holders.values()) > held * 1e-9:
            return request  # the account's own coins go first
        unreserved = _unreserved(holders, [row for row in on_their_way if OrderState(row.state) in IN_FLIGHT])
        first = unreserved[:1] or (tuple(holders.items()) if len(holders) == 1 else ())
        if not first or request.amount > first[0][1] * (1 + 1e-9):
            return request
        return replace(request, strategy_id=first[0][0])

    async def _strategy_shares(self, symbol: str) -> dict[str, float]:
        """The strategies holding ``symbol`` in the account, each with its share (``_strategy_share``), by
        strategy id."""
        ledgers = await self.journal.strategy_ledgers(self.broker.book)
        shares = {sid: ledgers[sid].open_amount(symbol) for sid in sorted(ledgers)}
        return {sid: share for sid, share in shares.items() if share > 0}

    async def _owners(self, symbol: str) -> tuple[float, dict[str, float], list[OrderRecord]]:
        """What a sell by hand of ``symbol`` shares out: what is held less what the sells by hand on
        their way will still take (``order_shares.pending``: a first sell still waiting has promised
        those coins, so a second one never takes them again), the strategies holding some of that, by
        id, each with its share less its part of those sells (never more than that is held), and the
        sells on their way (intents too)."""
        held = (await self.broker.ledger()).held(symbol)
        on_their_way = [
            row
            for row in await self.journal.orders(book=self.broker.book, states=ON_ITS_WAY, symbol=symbol)
            if row.side == Side.SELL.value and row.id is not None
        ]
        pending = order_shares.pending(row for row in on_their_way if _by_hand(row))
        left = held - sum(pending.values())
        holders: dict[str, float] = {}
        for sid, share in (await self._strategy_shares(symbol)).items():
            rest = min(min(share, held) - pending.get(sid, 0.0), left)
            if rest > share * order_shares.TOLERANCE:
                holders[sid] = rest
        return left, holders, on_their_way

    async def selling_by_hand(self, symbol: str) -> dict[str | None, float]:
        """What the sells by hand of ``symbol`` on their way will still take of each owner (None: the
        account's own; ``order_shares.pending``): a strategy's exits placed again beside such a sell
        cover only what it leaves the strategy (``Protector._rest``)."""
        rows = await self.journal.orders(book=self.broker.book, states=ON_ITS_WAY, symbol=symbol)
        return order_shares.pending(row for row in rows if row.side == Side.SELL.value and _by_hand(row))

    def _holders(self, symbol: str, watched: Sequence[tuple[str, float]]) -> list[str]:
        """``watched_sell.holder`` of each position in ``watched``."""
        base = symbol.split("/")[0]
        protection = self.protection
        return [
            watched_sell.holder(
                sid, share, base, watched=protection is not None and protection.watches(symbol, sid)
            )
            for sid, share in watched
        ]

    async def holdings(self) -> dict[str, float]:
        """The account's open positions: symbol -> amount held."""
        return {p.symbol: p.amount for p in (await self.broker.ledger()).open_positions()}

    def manual_request(
        self,
        symbol: str,
        side: str,
        amount: float,
        *,
        type_: str = "market",
        price: float | None = None,
        holdings: Mapping[str, float] | None = None,
    ) -> tuple[OrderRequest, float]:
        """A validated manual order and its reference price (the limit or stop price, else the last
        price the account's broker saw): what ``place`` sends and ``POST /v1/orders/check`` previews.
        ``holdings`` (``holdings()``) name a position in a symbol the daemon no longer streams."""
        try:
            kind = OrderType(type_)
            order_side = Side(side)
        except ValueError:
            raise errors.UserInputError(
                f"invalid order {side!r} {type_!r}: side buy|sell, type market|limit|stop"
            ) from None
        if kind is OrderType.MARKET and price is not None:
            raise errors.UserInputError("a market order takes no --price; use --type limit or --type stop")
        marks = self.broker.marks()
        # `btc/usdt` is BTC/USDT: the spelling the daemon streams or holds (else the quote check below
        # told a trader who typed lower case that the account trades against USDT)
        known = [*self.settings.market.symbols, *marks, *(holdings or {})]
        symbol = spelled_as(symbol.strip(), known) or symbol
        if split_symbol(symbol)[1] != self.quote:
            raise errors.UserInputError(f"invalid symbol {symbol!r}: the account trades against {self.quote}")
        mark = marks.get(symbol)
        reference = price if price is not None else mark
        if kind is OrderType.STOP and order_side is Side.BUY and price is not None and mark is not None:
            # A buy stop fills at its trigger or above, and at once at the market when the market is
            # past the trigger already: valued at the trigger (a stop at 1), it passed every size limit.
            reference = max(price, mark)
        # A limit or stop order brings its own price, but a symbol the daemon neither streams nor
        # holds would rest forever (and keep its funds reserved): as unknown as a market order's.
        if symbol not in self.settings.market.symbols and symbol not in marks:
            streamed = ", ".join(self.settings.market.symbols)
            held = (holdings or {}).get(symbol, 0.0)
            if held > 0:  # taken out of [market] symbols while held: say so, and how to sell it
                raise errors.NotFound(
                    f"the account holds {held:.8g} {symbol}, but the daemon no longer streams it (it "
                    f"trades {streamed}): add it to [market] symbols and `mt daemon restart` to trade it"
                )
            raise errors.NotFound(f"unknown symbol {symbol!r}: the daemon trades {streamed}")
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

    async def send(
        self,
        request: OrderRequest,
        reference: float,
        placed_ts: int,
        *,
        strategy_id: str | None = None,
        sizing: str | None = None,
        refuse_resize: bool = False,
    ) -> tuple[OrderRecord | None, Decision]:
        """The risk check, then the broker. ``refuse_resize`` (a human's order): a resize becomes a
        refusal naming what the limits allow (``manual_orders.refused_resize``), audited."""
        row, decision, _ = await self._send(
            request, reference, placed_ts, strategy_id=strategy_id, sizing=sizing, refuse_resize=refuse_resize
        )
        return row, decision

    async def _send(
        self,
        request: OrderRequest,
        reference: float,
        placed_ts: int,
        *,
        strategy_id: str | None = None,
        sizing: str | None = None,
        refuse_resize: bool = False,
        by_hand: bool = False,
    ) -> tuple[OrderRecord | None, Decision, str | None]:
        """``send``; a sell ``by_hand`` of a position its bracket exits hold replaces them
        (``bracket_sell``), planned under the sells' lock (two sells never plan on the same exits).
        Returns the order, the decision, and what was done to the exits."""
        async with self._checking[request.side]:
            plan = await self.plan_sell(request) if by_hand and request.side is Side.SELL else None
            return await self._check_and_submit(
                request,
                reference,
                placed_ts,
                strategy_id=strategy_id,
                sizing=sizing,
                refuse_resize=refuse_resize,
                plan=plan,
            )

    async def _check_and_submit(
        self,
        request: OrderRequest,
        reference: float,
        placed_ts: int,
        *,
        strategy_id: str | None,
        sizing: str | None,
        refuse_resize: bool,
        plan: bracket_sell.Plan | None = None,
    ) -> tuple[OrderRecord | None, Decision, str | None]:
        assert request.amount is not None
        proposed = ProposedOrder(request.symbol, request.side.value, request.amount, reference, self.fee)
        decision = await self.risk.check(
            proposed,
            await self._as_sold_from(await self.portfolio(releasing=plan), request),
            book=self.broker.book,
            strategy_id=strategy_id,
            sizing=sizing,
        )
        if refuse_resize and decision.verdict == "resize":
            decision = refused_resize(decision)
            await self.risk.store.audit(
                "reject",
                f"manual order not resized: {decision.reason}",
                book=self.broker.book,
                symbol=request.symbol,
                side=request.side.value,
                requested=request.amount,
                amount=0.0,
            )
        if not decision.approved:
            self.emit(
                events.OrderRejected(
                    client_order_id="",
                    symbol=request.symbol,
                    side=request.side.value,
                    amount=request.amount or 0.0,
                    reason=decision.reason + (f" (sizing: {sizing})" if sizing else ""),
                    mode=self.mode,
                    book=self.broker.book,
                    equity_fraction=request.equity_fraction,
                )
            )
            return None, decision, None
        request = replace(request, amount=decision.amount)
        if plan is not None:
            request = _shared(request, plan)
        if plan is not None and not plan.exits:
            row = await self.broker.submit(request, placed_ts=placed_ts)
            if row.state == OrderState.REJECTED:
                return row, decision, None  # it took nothing
            return row, decision, await self._took(request, plan)
        if plan is not None and plan.by_protection:
            assert self.protection is not None
            broker, sell = self.broker, request
            sold, said = await self.protection.sell_taking_back(
                plan.exits, lambda: broker.submit(sell, placed_ts=placed_ts)
            )
            return sold, decision, _with_taken(sold, request, plan, said, "whose exits it takes back")
        if plan is not None:
            row, note = await self.broker.sell_replacing(request, placed_ts=placed_ts, plan=plan)
            return row, decision, _with_taken(row, request, plan, note, "whose exits it replaces")
        row = await self.broker.submit(request, placed_ts=placed_ts)
        return row, decision, None

    async def _as_sold_from(self, portfolio: PortfolioSnapshot, request: OrderRequest) -> PortfolioSnapshot:
        """The account as ``request`` may sell from it: a strategy's own sell (its exit signal's, its
        protection's; not a sell by hand booked as its) finds free only what the strategy keeps beside
        the sells by hand on their way (``strategy_to_sell``), so the risk check resizes it to that, or
        refuses it when such a sell has all of the strategy's coins; never other owners' free coins,
        which it sold as its own. Read under the sells' lock (``_send``), as the sell is checked: a sell
        by hand placed after the strategy sized its exit (``Trader``, ``Protector``) has promised some of
        its coins meanwhile. Its own paper exits still resting hold theirs too: a sell by hand cancelled
        after its exit signal took them back puts them back for all it holds (``paper_put_back``), and
        its exit, sized before, then found free only other owners' coins. So do its live exits resting at the
        exchange for its protection (``native_stops``) that could not be taken back (the cancel failed, or
        its answer is unknown): the coins free beside them are other owners'."""
        if request.side is not Side.SELL or request.strategy_id is None or _by_hand(request):
            return portfolio
        holding = portfolio.holdings.get(request.symbol)
        if holding is None:
            return portfolio
        keeps = await self.strategy_to_sell(request.strategy_id, request.symbol)
        resting = bracket_sell.reserved_by(
            [
                row
                for row in await self.broker.working_orders()
                if row.symbol == request.symbol
                and row.side == Side.SELL.value
                and row.strategy_id == request.strategy_id
                and (row.parent_id is not None or _kept_by_protection(row))
            ]
        )
        reserved = max(holding.reserved, holding.amount - max(keeps - resting, 0.0))
        return replace(
            portfolio, holdings={**portfolio.holdings, request.symbol: replace(holding, reserved=reserved)}
        )

    async def _took(self, request: OrderRequest, plan: bracket_sell.Plan) -> str | None:
        """What a sell by hand sent beside strategies' positions no exit order reserves (``plan.watched``)
        takes of them (``watched_sell.taken``, in the order of its shares: ``_shared``); live, their
        protections settle it first (one the sell took all of ends, one it took part of watches the
        rest)."""
        assert request.amount is not None
        symbol = request.symbol
        protection = self.protection
        watched = protection is not None and all(protection.watches(symbol, sid) for sid, _ in plan.watched)
        if protection is not None:
            await protection.sync(symbol)
        return watched_sell.taken(plan.watched, _own(plan), request.amount, symbol, watched=watched)

    async def cancel(self, order_id: int, *, unprotect: bool = False) -> dict[str, Any]:
        """Cancel an order by hand. The stop protecting an open position is refused
        (``StopProtectsPosition``, see ``stop_guard``) unless ``unprotect`` says the caller means it. A
        sell by hand cancelled gives back the coins it would have taken, and their exits: live, the
        strategies' protections rest theirs again at once; paper, the exits it replaced are put back
        (``paper_put_back``), under the sells' lock, as a sell by hand replaces them: a sell checked
        meanwhile sees the book with them or without the sell, never half of it."""
        row = await self.journal.get(order_id)
        broker: Broker = self.broker
        if row.book != self.broker.book:
            sid = row.book.removeprefix("strategy:")
            if sid not in self.books:
                raise errors.NotFound(f"no order {order_id} in a book this daemon trades")
            broker = self.books[sid]
        if not unprotect and (position := await protected_position(broker, self.journal, row)) is not None:
            raise refusal(row, position)
        if not unprotect and self.protection is not None and broker is self.broker:
            # a strategy's take-profit resting with its stop: the stop is kept, the take-profit not put back
            kept = await self.protection.cancel_take_profit(row)
            if kept is not None:
                return order_info(kept)
        keeping = getattr(broker, "cancel_keeping_stop", None)  # a live take-profit in an OCO list
        if not unprotect and keeping is not None and (kept := await keeping(order_id)) is not None:
            return order_info(kept)
        if isinstance(broker, PaperBroker) and _by_hand(row) and row.side == Side.SELL.value:
            async with self._checking[Side.SELL]:
                cancelled = await broker.cancel(order_id)
        else:
            cancelled = await broker.cancel(order_id)
        if self.protection is not None and broker is self.broker and _by_hand(row) and row.side == "sell":
            # what it still took of strategies' positions is theirs again: their exits are placed again
            # for it now, not at the next poll (``Protector._rest``)
            await self.protection.sync(row.symbol)
        return order_info(cancelled)

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
        broker = self.book_broker(book)
        rows = await self.journal.orders(book=broker.book, states=states, limit=limit)
        if open_only:
            rows = [row for row in rows if not (row.state == OrderState.INTENT and row.parent_id is not None)]
        return [self.shown(row, broker) for row in rows]

    def shown(self, row: OrderRecord, broker: Broker | None = None) -> dict[str, Any]:
        """An order as the API shows it: its journal row, with what its live broker (``broker``, the
        account's by default) knows of it now: its market no longer listed (``market_gone``), and, while
        it is not yet at the exchange (sent or unknown), the exchange's rate limit holding its request
        (``held_until``: the daemon sends it, or asks for it, once that wait is over)."""
        broker = broker or self.broker
        own = row.book == broker.book
        held = getattr(broker, "rate_limited_until", None)  # a live broker's
        waiting = own and row.state in (OrderState.SENT, OrderState.UNKNOWN)
        return {
            **order_info(row),
            "market_gone": _markets_gone(broker).get(row.symbol) if own and row.state in IN_FLIGHT else None,
            "held_until": held() if held is not None and waiting else None,
        }

    def book_broker(self, book: str | None = None) -> Broker:
        """The broker of ``book``: the account's (None, "account" or its own id) or a strategy's paper book
        (``strategy:<id>``, or the bare id, or a unique prefix of it of at least 4 digits, as every
        ``mt strategy`` command takes it and the order tables show it); ``NotFound`` names the books there
        are, ``UserInputError`` the ones an ambiguous prefix matches."""
        if book in (None, "", "account", self.broker.book):
            return self.broker
        assert book is not None
        key = book.removeprefix("strategy:")
        found = self.books.get(key)
        if found is not None:
            return found
        prefix = key.lower()
        matches = [sid for sid in self.books if len(prefix) >= 4 and sid.startswith(prefix)]
        if len(matches) > 1:
            raise errors.UserInputError(
                f"trading book {book!r} is ambiguous: {', '.join(f'strategy:{sid}' for sid in matches)}"
            )
        if not matches:
            known = ", ".join(["account", *(f"strategy:{sid}" for sid in self.books)])
            raise errors.NotFound(f"no trading book {book!r} (books: {known})")
        return self.books[matches[0]]

    async def positions(self, book: str | None = None) -> list[dict[str, Any]]:
        """Open positions of the account (or of the ``book`` named), each with the book it is in."""
        broker = self.book_broker(book)
        rows = positions_view(await broker.ledger(), broker.marks())
        shown = getattr(broker, "unprotected", None)  # a live broker's positions without their exits
        unprotected: dict[str, str] = shown() if shown is not None else {}
        gone = _markets_gone(broker)
        return [
            {
                **row,
                "book": broker.book,
                "unprotected": unprotected.get(row["symbol"]),
                "market_gone": gone.get(row["symbol"]),
            }
            for row in rows
        ]

    async def balance(self) -> dict[str, Any]:
        working = await self.journal.orders(
            book=self.broker.book, states=[OrderState.OPEN, OrderState.PARTIALLY_FILLED]
        )
        view = balance_view(
            await self.broker.ledger(),
            self.broker.marks(),
            self.quote,
            working,
            buy_fee=self.broker.buy_fee_reserve,
        )
        return {"book": self.broker.book, "mode": self.mode, **view}

    # --- risk -------------------------------------------------------------------------------------

    async def risk_status(self) -> dict[str, Any]:
        await self.risk.expire()
        portfolio = await self.portfolio()
        latest = await self.risk.store.latest_snapshot("risk", self.broker.book)
        limits = self.risk.settings
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
            "protection": await self._protection_status(),
        }

    async def _protection_status(self) -> dict[str, Any] | None:
        """The strategies' protections, with the manual take-profits the daemon keeps (``live_oco``)."""
        if self.protection is None:
            return None
        status = self.protection.status()
        held = getattr(self.broker, "held_exits", None)
        if held is not None:
            status["held_take_profits"] = await held()
        return status

    async def halt(self, reason: str) -> dict[str, Any]:
        """The kill switch: no new entries, including the account's buy orders already resting (a
        limit or stop buy placed before the halt filled after it). They are cancelled; exits stay."""
        reason = reason or "halted by hand"
        # Under the buys' lock: a buy being checked now is submitted first, then swept, never after.
        async with self._checking[Side.BUY]:
            await self.risk.halt(reason)
            await self._cancel_entries(f"kill switch: {reason}")
        return await self.risk_status()

    async def _cancel_entries(self, reason: str) -> None:
        """Cancel the account's working buy orders; one that cannot be cancelled (it filled meanwhile,
        the venue does not answer) is logged and the others are still cancelled."""
        rows = await self.journal.orders(
            book=self.broker.book,
            states=[OrderState.OPEN, OrderState.PARTIALLY_FILLED, OrderState.SENT, OrderState.UNKNOWN],
        )
        for row in rows:
            if row.side != Side.BUY.value or row.id is None:
                continue
            try:
                await self.broker.cancel(row.id, reason)
            except errors.MasterTradeError as exc:
                log.warning("kill switch: order %s (%s) not cancelled: %s", row.id, row.client_order_id, exc)

    async def resume(self, breaker: str | None = None) -> dict[str, Any]:
        if breaker is None:
            # The drawdown baseline moves only to release the drawdown limit: a halt and a resume (or
            # a breaker's reset) never forget a loss, so they never widen the room to the limit.
            at_limit = (await self.portfolio()).drawdown >= self.risk.settings.max_drawdown
            last = await self.journal.last_equity_ts(self.broker.book)
            await self.risk.resume(
                drawdown_since_ts=last + 1 if last is not None else None, reset_drawdown=at_limit
            )
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


def _own(plan: bracket_sell.Plan) -> float:
    """The account's own coins beside the strategies' positions no exit order reserves (``plan.watched``):
    what of ``plan.held`` they leave."""
    return plan.held - sum(share for _, share in plan.watched)


def _shared(request: OrderRequest, plan: bracket_sell.Plan) -> OrderRequest:
    """A sell by hand that takes the coins of several owners (``plan.owners``: the account's own, then
    strategies' positions no exit order reserves by id, or those whose exits it takes back at the
    exchange by id, or those whose paper exits it replaces in the order it takes their sets) carries
    each one's share (``order_shares``), in the order its answer names them (``watched_sell.taken``). Its
    fills are shared out so, and each strategy's position drops by its share. One taking a single
    strategy's coins is booked as that strategy's (most are already: ``Account._attributed``); one taking
    the account's own only is the account's."""
    if request.strategy_id is not None or request.amount is None or not plan.owners:
        return request
    shares = order_shares.allocate(plan.owners, request.amount)
    if len(shares) > 1:
        return replace(request, shares=shares)
    if shares and shares[0][0] is not None:
        return replace(request, strategy_id=shares[0][0])
    return request


def _with_taken(
    row: OrderRecord | None, request: OrderRequest, plan: bracket_sell.Plan, note: str | None, how: str
) -> str | None:
    """What a sell by hand that takes exits back or replaces them (``note``) is told, after what it
    takes of each strategy's position (``watched_sell.taken``, ``how`` naming what it does to their
    exits) when it sells the coins of more than one owner (a refused sell took nothing)."""
    if row is None or row.state == OrderState.REJECTED or request.amount is None:
        return note
    total = sum(held for _, held in plan.owners)
    if len([held for _, held in plan.owners if held > total * order_shares.TOLERANCE]) < 2:
        return note
    positions = [(sid, held) for sid, held in plan.owners if sid is not None]
    own = plan.owners[0][1] if plan.owners[0][0] is None else 0.0
    said = watched_sell.taken(positions, own, request.amount, request.symbol, exits=how)
    if said is None:
        return note
    return f"{said}; {note}" if note else said


def _by_hand(row: OrderRecord | OrderRequest) -> bool:
    """A sell by hand (``mt trade sell``, ``POST /v1/orders``): not a strategy's, nor an exit."""
    return row.role == "order"


def _unreserved(holders: Mapping[str, float], sells: Sequence[OrderRecord]) -> tuple[tuple[str, float], ...]:
    """The strategies' positions (``holders``: what each holds, less its part of the sells by hand on
    their way) that none of their own ``sells`` on their way reserves (an exit, resting or selling, an
    exit signal's sell), by strategy id."""
    selling = {row.strategy_id for row in sells if not _by_hand(row)}
    return tuple((sid, share) for sid, share in holders.items() if sid not in selling)


def _beyond_own(
    request: OrderRequest,
    held: float,
    own: float,
    exits: Sequence[OrderRecord],
    kept: Sequence[OrderRecord],
    holders: Sequence[str] = (),
    mode: str = "live",
    unreserved: float = 0.0,
) -> str:
    """Why a sell by hand reaching past the account's own coins into a strategy's (whose exits its
    protection keeps, or which no exit order reserves: ``holders``, ``watched_sell``) is refused, and
    the two commands that sell as much: the account's own first (its bracketed buys' exits replaced),
    then the rest, which only strategies' positions then hold (their exits taken back and placed again
    by their protection; said, where none rests). Both at once would cancel two owners' exits through
    two mechanisms, each with its own crash recovery, with the position bare in between; and a sell
    beside a position no exit reserves took its coins before the account's own. Without ``exits`` (no
    buy bracketed by hand), ``own`` is what no exit reserves, of which ``unreserved`` is the
    ``holders``' (named first)."""
    assert request.amount is not None
    symbol = request.symbol
    base = symbol.split("/")[0]
    owners: dict[str, list[OrderRecord]] = {}
    exits = sorted(exits, key=lambda row: row.id or 0)
    for row in sorted(kept, key=lambda row: row.id or 0):
        owners.setdefault(row.strategy_id or "", []).append(row)
    resting = [
        f"strategy {sid}'s exits {bracket_sell.names(rows)} are kept by its protection"
        for sid, rows in sorted(owners.items())
    ]
    owners_said = "; ".join([*resting, *holders] if exits else [*holders, *resting])
    live = " --live" if mode == "live" else ""
    first = f"{own:.8g}"
    rest = min(request.amount, held) - float(first)
    more = f" (more than the {held:.8g} held: at most that can be sold)" if request.amount > held else ""
    if exits:
        free = (
            f"only {first} of the {held:.8g} {base} held are the account's own, protected by "
            f"{bracket_sell.names(exits)} (bought with --stop-loss/--take-profit)"
        )
        which, joint = "the account's own", "; "
    else:
        mine = own - unreserved
        whose = (
            f"{mine:.8g} of them the account's own"
            if mine > held * 1e-9
            else "none of them the account's own"
        )
        free = f"only {first} of the {held:.8g} {base} held are free of resting exits, {whose}"
        which, joint = "the free ones", ": "  # whose they are follows
    return (
        f"sell of {request.amount:.8g} {symbol}{more}: {free}{joint}"
        f"{owners_said}: one sell by hand replaces one owner's exits, so sell {which} first "
        f"(`mt trade sell {symbol} {first}{live}`), then the {rest:.8g} left to sell from the strategy's "
        f"position (`mt trade sell {symbol} {rest:.8g}{live}`)"
    )


def _kept_by_protection(row: OrderRecord) -> bool:
    """A live strategy's exit resting at the exchange for the daemon's protection (``native_stops``: a
    stop not triggered, or an OCO list's take-profit, filled in part or not: its protection re-protects
    the rest the same way), without an entry of its own."""
    take = row.type == OrderType.LIMIT.value and row.role == "take_profit"
    stop = row.type == OrderType.STOP.value and not row.filled > 0
    return (
        row.strategy_id is not None and row.parent_id is None and row.role in BRACKET_EXITS and (take or stop)
    )


def _selling(row: OrderRecord) -> bool:
    """An exit selling the position now: a stop that triggered (part of it filled), or a protection's
    sell at the market. A take-profit filled in part is left to the exits' replacement, which knows
    whether its stop has expired (``live_bracket_sell``)."""
    if row.role not in BRACKET_EXITS:
        return False
    return row.type == OrderType.MARKET.value or (row.role != "take_profit" and row.filled > 0)


def _wait_for(row: OrderRecord) -> str:
    """What a trader is told while ``row`` is selling the position: what it is, and what to do. A
    strategy's is only waited for: its protection, which watches the price, would sell again itself."""
    role = (row.role or "exit").replace("_", "-")
    wait = f"wait for it to end (`mt orders show {row.id}`), then sell what it leaves"
    if row.type == OrderType.MARKET.value:
        whose = f"strategy {row.strategy_id}'s protection" if row.strategy_id else "its protection"
        return f"{whose} is selling the position at the market ({role} reached), order {row.id}: {wait}"
    sold = f"{row.filled:.8g} of {row.amount or 0.0:.8g} sold so far"
    if row.strategy_id is not None:
        return (
            f"strategy {row.strategy_id}'s {role} order {row.id} has triggered and is selling the position "
            f"({sold}): {wait}"
        )
    return (
        f"its {role} order {row.id} has triggered and is selling the position ({sold}): {wait}; or stop "
        f"it with `mt orders cancel {row.id} --unprotect` (what is held is then without a stop) and sell"
    )


def _markets_gone(broker: Broker) -> dict[str, str]:
    """A live broker's markets the exchange no longer lists, with what is said of each
    (``gone_markets``); none for a paper book."""
    shown = getattr(broker, "markets_gone", None)
    gone: dict[str, str] = shown() if shown is not None else {}
    return gone
