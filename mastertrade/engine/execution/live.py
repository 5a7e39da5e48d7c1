"""The live broker: orders at a real exchange through ccxt, never lost and never doubled.

**Sending.** An order is rounded to the market's precision, journaled as an intent with our client order
id (committed), marked ``sent`` (committed), and only then sent with that id. The call goes through the
venue's retry policy (``market/retry.py``) as a non-idempotent call: a clock out of step is retried (the
exchange refused the request for its timestamp), a refusal (insufficient funds, an invalid order, a
refused key) makes the order ``rejected`` with the reason, and anything after which the order may exist
(a timeout, a 5xx, a dropped connection, and a 429 or 418: a gateway may answer so after the exchange
booked the order) makes it ``unknown``.

**Resolving.** An unknown order, or one left ``sent`` by a crash, is looked up by its client order id
(an idempotent call, retried). Found: its state and fills are taken from the exchange. Not found: it is
declared never received (``rejected``) only once the last request for it could no longer arrive: its
newest attempt (``sent_at`` moves with every resend after a rate limit or a clock re-sync) plus the
HTTP timeout, the exchange's receive window and ``unknown_grace_s``. Before that it stays unknown and
is looked up again later (an exchange may answer -2013 "Order does not exist" for an order it booked a
moment ago). A leg of an OCO list whose other leg the exchange shows reached it too (a list is booked
as one): it is settled from its list and its sibling instead (``lost_legs.py``). An order is never
sent twice, except one whose create was answered as rate-limited: once its window proves it absent
it is sent again with the same client id (at most as often as the venue's retries, and only while
younger than a fresh intent), never before. Should it turn up all the same,
the exchange's word wins: orders declared never received are looked up again for a while
(``recheck_lost_s``; a day at each start), and one found takes the exchange's state and fills as a
correction (``orders.CORRECTIONS``); a fill is never dropped.

**A cancel racing its order.** A cancel asked while the exchange does not know the order yet (its answer
was lost and its request may still arrive) is kept with the order, in its reason, and carried out when
the order turns up: at a later poll, after it was declared never received, or after a restart. An order
that filled before a cancel could reach it says so in its reason.

**One writer per order.** Every state change of an order happens under that order's lock: the send
(with its resends and the resolution of a lost answer), the housekeeping poll (which skips an order
whose writer is busy), a cancel, reconciliation. ``submit`` answers within ``answer_within_s`` with the
order as it stands (``sent`` when the exchange has not answered yet); the send carries on in the
background and its fills reach the trader through the next ``poll``.

**Starting** is reconciling, and a crash is just a start: intents never sent are sent if recent (after
checking the exchange does not know them) or cancelled as stale; every order that may be at the
exchange is resolved and its fills fetched; and the balances at the exchange are compared with the
book's (ledger entries plus fills), a difference being recorded as a ledger entry with its reason, so the
book keeps equal to the sum of its entries and fills. Orders working meanwhile (resting stops) are
looked up again after the balances are read: the comparison waits for the next start when one of them
filled more than the journal has booked.

**Protective exits rest at the exchange.** A stop order is sent as the venue's native stop-limit
(``STOP_LOSS_LIMIT`` on Binance: the trigger, and a limit ``stop_limit_offset`` beyond it so that it
fills in a falling market). An entry with a bracket (``--stop-loss`` and/or ``--take-profit`` on
``mt trade buy``) journals its exits as intents; once the entry has filled, they are sized to the fill
and sent, so they protect the position while the daemon is down, and an exit that filled meanwhile is
booked like any fill at the next start. While a limit entry rests partly filled, what it bought so far
has exits of its own at the exchange, resized as it fills and replaced by the entry's when it ends
(``live_partial.py``). Both exits together go as one OCO order list where the venue has
them; elsewhere the stop rests alone and the take-profit is kept by the daemon (``live_oco.py``). A
start arms the exits of entries that filled while the daemon was down. Venues without native stops
(``has_native_stops``) refuse live stop orders; their positions are protected only while the daemon
runs (``protector.py``).

Fills come from the exchange's trades of the order (``fetch_my_trades``), keyed by trade id, so a fill
is stored once however often it is seen. Keys never appear in logs or messages (``CcxtVenue`` silences
ccxt's wire log; error messages carry the exchange's answer, not the request).
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt

from mastertrade import errors
from mastertrade.db.models.trading import OrderRecord
from mastertrade.db.types import utcnow
from mastertrade.engine import events
from mastertrade.engine.candle import Bar
from mastertrade.engine.execution import (
    archived_orders,
    dust,
    exit_cancels,
    gone_markets,
    live_bracket_sell,
    live_oco,
    live_partial,
    lost_legs,
    order_events,
    take_profit_only,
    venue_steps,
)
from mastertrade.engine.execution.bracket_sell import Plan
from mastertrade.engine.execution.broker import BarOutcome, LiveConsent, Publish
from mastertrade.engine.execution.fees import fee_value, fill_fees, split_fees, trade_fees
from mastertrade.engine.execution.final_order import nothing_to_cancel
from mastertrade.engine.execution.journal import Journal, NewFill
from mastertrade.engine.execution.ledger import Fill, Ledger, split_symbol
from mastertrade.engine.execution.lost_answers import DUPLICATE, DUPLICATE_HELD, RESENDS, rate_limited
from mastertrade.engine.execution.unclear_lookups import UnclearLookups
from mastertrade.engine.execution.unprotected import Unprotected, below_minimum
from mastertrade.engine.market.ccxt_venue import CcxtVenue
from mastertrade.engine.market.retry import REFUSED, map_error
from mastertrade.engine.orders import IN_FLIGHT, OrderRequest, OrderState, OrderType, Side
from mastertrade.utc import to_ms

log = logging.getLogger(__name__)

STATUS = {
    "open": OrderState.OPEN,
    "closed": OrderState.FILLED,
    "canceled": OrderState.CANCELLED,
    "cancelled": OrderState.CANCELLED,
    "expired": OrderState.CANCELLED,
    "rejected": OrderState.REJECTED,
}
BALANCE_TOLERANCE = 1e-8
FILL_TOLERANCE = 1e-9
"""Amounts closer than this count as equal (an exchange's decimal strings summed as floats)."""
NEVER_RECEIVED = "never reached the exchange"
CANCEL_ASKED = re.compile(r"cancel asked \((?P<reason>.*)\) before the exchange knew the order")
TRADES_PAGE = 1000
"""Trades asked for per ``fetch_my_trades`` call (Binance's most; it lists 500 unless asked)."""
TRADES_PAGES = 10
"""Further pages one look at an order may ask for; the walk carries on at the next poll."""


class LiveBroker:
    mode = "live"
    buy_fee_reserve = 0.0
    """The exchange holds back a resting buy's value, not its fee (taken from the fill)."""

    def __init__(
        self,
        journal: Journal,
        venue: CcxtVenue,
        consent: LiveConsent,
        *,
        book: str = "live",
        quote: str = "USDT",
        intent_max_age_s: float = 60.0,
        unknown_grace_s: float = 15.0,
        answer_within_s: float = 5.0,
        recheck_lost_s: float = 600.0,
        stop_limit_offset: float = 0.01,
        publish: Publish | None = None,
        on_error: Callable[[str], Awaitable[object]] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if not isinstance(consent, LiveConsent):
            raise errors.UserInputError('live trading needs both mode = "live" in the config and --live')
        self.journal = journal
        self.venue = venue
        self.exchange: Any = venue.exchange
        self.book = book
        self.quote = quote
        self.intent_max_age_s = intent_max_age_s
        self.unknown_grace_s = unknown_grace_s
        self.answer_within_s = answer_within_s
        self.recheck_lost_s = recheck_lost_s
        self.stop_limit_offset = stop_limit_offset
        self._locks: dict[int, asyncio.Lock] = {}
        self._sending: set[asyncio.Task[OrderRecord]] = set()
        self._sending_pairs: set[asyncio.Task[list[OrderRecord]]] = set()
        self._late: list[Any] = []
        """Fills booked outside ``submit``'s answer (a late send, a cancel, a correction), for ``poll``."""
        self._detached: set[int] = set()
        self._trade_cursors: dict[int, int] = {}
        """Order id -> the trade id its walk through the exchange's trades goes on from (``_fills_of``)."""
        self._trips_seen = 0
        self.publish = publish
        self.on_error = on_error
        self.clock = clock
        self._ledger = Ledger()
        self._marks: dict[str, float] = {}
        self._ranges: dict[str, tuple[float, float]] = {}
        """Symbol -> the low and high of its latest price update's bar (``unclear_lookups``)."""
        self.unprotected_parts = Unprotected(journal.db, book)
        """Buys whose filled part has no exits at the exchange (below its minimum), for ``unprotected``."""
        self.unclear = UnclearLookups(clock, archived_orders.was_marked)
        """When each order the exchange cannot confirm is asked again (``unclear_lookups``)."""
        self.gone_markets = gone_markets.GoneMarkets(clock)
        """Markets the exchange no longer lists, whose orders wait (``gone_markets``)."""

    @property
    def receive_window_s(self) -> float:
        return float(self.exchange.options.get("recvWindow", 10_000)) / 1000

    @property
    def request_timeout_s(self) -> float:
        return float(self.exchange.timeout) / 1000

    @property
    def arrival_window_s(self) -> float:
        """How long after a request left it could still reach the exchange and be accepted: its HTTP
        timeout (the request may sit in a queue that long), the exchange's receive window for its
        timestamp, and our grace for clocks out of step."""
        return self.request_timeout_s + self.receive_window_s + self.unknown_grace_s

    def rate_limited_until(self) -> datetime | None:
        """Until when the exchange's rate limit holds every request to it (a send waits there, already
        journaled and ``sent``; so does a lookup), or None when it does not (``retry.RateGate``)."""
        left = self.venue.rate_limited_for()
        return utcnow() + timedelta(seconds=left) if left > 0 else None

    def _lock(self, order_id: int) -> asyncio.Lock:
        lock = self._locks.get(order_id)
        if lock is None:
            lock = self._locks[order_id] = asyncio.Lock()
        return lock

    # --- life cycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Reconcile with the exchange (the same path after a crash as after a clean stop)."""
        await self.journal.ensure_book(self.book, mode=self.mode, quote=self.quote)
        await self.venue.load_markets()
        await self.reconcile()

    async def close(self) -> None:
        """Stop sends still waiting for an answer: their orders stay ``sent``/``unknown`` and the next
        start resolves them by client id (crash-only: a stop is a crash that was announced). The venue
        belongs to the caller."""
        pending: list[asyncio.Task[Any]] = [*self._sending, *self._sending_pairs]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def reconcile(self) -> dict[str, Any]:
        """Send or cancel left-over intents, resolve every order that may be at the exchange, fetch its
        fills, and true the book's balances up with the exchange's. Returns what it did."""
        report: dict[str, Any] = {"sent": [], "cancelled": [], "resolved": [], "adjusted": {}}
        await self.unprotected_parts.load()  # what a previous run left bare, before anything notes anew
        stale_before = self.clock() - timedelta(seconds=self.intent_max_age_s)
        for row in reversed(await self.journal.orders(book=self.book, states=[OrderState.INTENT])):
            assert row.id is not None
            if row.parent_id is not None or row.oco is not None:
                continue  # a bracket exit waits for its entry; an OCO pair is sent as one (below)
            if live_bracket_sell.is_marked(row):
                continue  # a sell by hand sent once its exits are replaced (below)
            order_id = row.id
            async with self._lock(order_id):
                row = await self.journal.get(order_id)
                if row.state != OrderState.INTENT:
                    continue
                known = await self._lookup(row)
                if known is not None:
                    await self.journal.transition(order_id, OrderState.SENT, sent=True)
                    await self._sync(await self.journal.get(order_id), known)
                    report["resolved"].append(row.client_order_id)
                elif row.created_at < stale_before:
                    await self.journal.transition(
                        order_id, OrderState.CANCELLED, reason="stale intent: never sent"
                    )
                    report["cancelled"].append(row.client_order_id)
                else:
                    await self._send(row)
                    report["sent"].append(row.client_order_id)
        for key, done in (await live_oco.reconcile_pairs(self, stale_before)).items():
            report[key] += done
        for row in await self.journal.in_flight(self.book):
            if self.gone_markets.gone(row.symbol):
                continue  # its market is no longer listed: said once, its orders asked again later
            await self.resolve(row)
            report["resolved"].append(row.client_order_id)
        # What the book holds, before exits are sized or placed again for it below (``exit_cancels``
        # read an empty ledger here and placed nothing, "nothing of the position is left to protect").
        self._ledger = await self.journal.ledger(self.book)
        report["sold_by_hand"] = await live_bracket_sell.finish(self)
        # Before arming: a stop cancelled at the exchange while the daemon was down is placed again
        # first, so the take-profit the daemon keeps for it (no OCO lists) stays held with it, instead of
        # being sent to rest at the exchange (holding the coins the stop then could not have).
        report["restored"] = await exit_cancels.restore(self)
        armed = await self._arm_waiting(at_start=True)
        if armed:
            report["armed"] = armed
        report["corrected"] = await self._recheck_lost(timedelta(days=1))
        report["reprotected"] = await live_oco.reprotect(self, at_start=True)
        report["restored"] += await exit_cancels.restore(self)
        report["adjusted"] = await self._true_up_balances()
        self._ledger = await self.journal.ledger(self.book)
        self._trips_seen = len(self._ledger.round_trips)
        await self.unprotected_parts.prune(self)
        self.unprotected_parts.remind(self._emit)  # still bare after the start: said again, once
        return report

    # --- state ----------------------------------------------------------------------------------

    async def ledger(self) -> Ledger:
        return self._ledger

    async def working_orders(self) -> list[OrderRecord]:
        """The book's working orders from the journal (``Broker.working_orders``): ``_sync`` books a
        fill in the ledger as soon as the journal has it."""
        return await self.journal.orders(
            book=self.book,
            states=[OrderState.OPEN, OrderState.PARTIALLY_FILLED, OrderState.SENT, OrderState.UNKNOWN],
        )

    def marks(self) -> dict[str, float]:
        return dict(self._marks)

    async def on_bar(self, symbol: str, bar: Bar) -> BarOutcome:
        """Prices mark the book; working orders are checked for fills by ``poll``."""
        self._marks[symbol] = bar.close
        self._ranges[symbol] = (bar.low, bar.high)
        self.unclear.priced(symbol, bar.low, bar.high)
        await live_oco.watch_held(self, symbol, bar.close)
        return BarOutcome()

    async def poll(self) -> BarOutcome:
        """Bring every order that may be at the exchange up to date (fills of resting orders)."""
        outcome = BarOutcome()
        listed: dict[str, bool] = {}
        for row in await self.journal.in_flight(self.book):
            assert row.id is not None
            if self._lock(row.id).locked():
                continue  # its writer (a send or a cancel) is at it; the next poll looks again
            if self.gone_markets.gone(row.symbol):
                if row.symbol not in listed:  # its market list asked once a poll, when its look is due
                    listed[row.symbol] = self.gone_markets.due(row.symbol) and await gone_markets.look_again(
                        self, self.gone_markets, row.symbol
                    )
                if not listed[row.symbol]:
                    continue  # its market is no longer listed: asked again after a growing interval
            if lost_legs.marked(row):
                continue  # an OCO leg no lookup settles: said once, looked up again at each start
            if not self.unclear.due(row):
                continue  # the exchange could not tell: asked again after a growing interval
            outcome.fills += await self.resolve(row)
            self.unclear.looked(await self.journal.get(row.id), self._ranges.get(row.symbol))
        if self.recheck_lost_s > 0:
            await self._recheck_lost(timedelta(seconds=self.recheck_lost_s))
        await live_bracket_sell.finish(self)
        await live_oco.reprotect(self)
        await self._arm_waiting()
        await exit_cancels.restore(self)
        await self.unprotected_parts.prune(self)
        outcome.fills, self._late = self._late + outcome.fills, []
        outcome.round_trips += self._ledger.round_trips[self._trips_seen :]
        self._trips_seen = len(self._ledger.round_trips)
        return outcome

    async def cancel_exits(self, symbol: str, reason: str, *, strategy_id: str | None) -> None:
        """Nothing to cancel for a strategy's exit signal: strategies' live exits are kept by the daemon
        (``protector``); the exits resting at the exchange belong to manual bracketed buys and keep
        protecting those positions."""

    # --- orders ---------------------------------------------------------------------------------

    async def submit(self, request: OrderRequest, *, placed_ts: int) -> OrderRecord:
        request = await self.prepare(request)
        row, _ = await self.journal.create_order(self.book, self.mode, request, placed_ts=placed_ts)
        assert row.id is not None
        task = asyncio.create_task(self._send_alone(row.id), name=f"send {row.client_order_id}")
        self._sending.add(task)
        task.add_done_callback(self._sent)
        try:
            await asyncio.wait({task}, timeout=self.answer_within_s)
        except asyncio.CancelledError:
            task.cancel()  # the caller is going away (a stop): the next start resolves the order
            raise
        if task.done():
            return task.result()
        self._detached.add(row.id)
        log.info("order %s: no answer yet, resolved in the background", row.client_order_id)
        return await self.journal.get(row.id)

    async def prepare(self, request: OrderRequest) -> OrderRequest:
        """The order as it is sent: checked (the venue takes it: native stops, a known symbol, above the
        market's minimum), its amount and prices at the market's precision; ``UserInputError`` or
        ``NotFound`` naming what it cannot take, before anything is journaled."""
        request.validate()
        if request.amount is None:
            raise errors.UserInputError("a live order needs an amount (equity fractions are for paper books)")
        if (request.type is OrderType.STOP or request.has_bracket) and not self.has_native_stops:
            raise errors.UserInputError(
                f"{self.venue.id} has no native stop orders: live stop orders and brackets need one "
                "(the daemon's own protection guards strategy positions while it runs)"
            )
        if request.trailing_stop is not None:
            raise errors.UserInputError("a trailing stop is kept by the daemon for strategies only")
        markets = await self.venue.load_markets()
        if request.symbol not in markets:
            raise errors.NotFound(f"unknown symbol {request.symbol!r} on {self.venue.id}")
        await self._check_trading(markets[request.symbol])
        amount = self._amount_to_send(request.symbol, request.amount)
        price = request.price
        stop_price = request.stop_price
        if request.type is OrderType.STOP:
            assert stop_price is not None
            offset = -self.stop_limit_offset if request.side.value == "sell" else self.stop_limit_offset
            stop_price = float(self.exchange.price_to_precision(request.symbol, stop_price))
            price = stop_price * (1 + offset)
        if price is not None:
            price = float(self.exchange.price_to_precision(request.symbol, price))
        reference = price or request.reference_price or self._marks.get(request.symbol)
        self._check_limits(markets[request.symbol], amount, reference)
        self._check_exit_limits(markets[request.symbol], amount, reference, request.stop_loss)
        return replace(request, amount=amount, price=price, stop_price=stop_price)

    async def sell_replacing(
        self, request: OrderRequest, *, placed_ts: int, plan: Plan
    ) -> tuple[OrderRecord, str | None]:
        """A sell by hand of a position its bracket exits hold: they are replaced for what it leaves
        (``live_bracket_sell``). Returns the sell and what was done to the exits."""
        return await live_bracket_sell.sell(self, request, placed_ts=placed_ts, plan=plan)

    async def why_not_replaceable(self, plan: Plan) -> str | None:
        """Why a sell by hand cannot replace these exits now (``live_bracket_sell.why_not``), or None."""
        return await live_bracket_sell.why_not(self, plan)

    async def fit_to_market(self, request: OrderRequest, *, allow_resize: bool) -> OrderRequest:
        """A human's order checked against the market's lot step and price tick (``venue_steps``)."""
        markets = await self.venue.load_markets()
        market = markets.get(request.symbol)
        if market is None or request.amount is None:
            return request  # ``submit`` names an unknown symbol
        venue = self.venue.id
        for what, price in (("limit", request.price), ("stop", request.stop_price)):
            if price is not None:
                venue_steps.check_price(self.exchange, market, venue, price, what)
        # a sell is never offered an amount above what is held (the whole position off the step)
        held = (await self.ledger()).held(request.symbol) if request.side is Side.SELL else None
        amount = venue_steps.fit_amount(
            self.exchange, market, venue, request.amount, allow_resize=allow_resize, held=held
        )
        return replace(request, amount=amount)

    @property
    def has_native_stops(self) -> bool:
        """Whether the venue takes stop orders that rest at the exchange (ccxt's capability flags)."""
        has = self.exchange.has
        return bool(has.get("createStopLossOrder") or has.get("createStopOrder"))

    @property
    def has_oco(self) -> bool:
        """Whether the venue takes one-cancels-other order lists (``live_oco.py``)."""
        return live_oco.has_oco(self)

    async def submit_oco(
        self, stop: OrderRequest, take: OrderRequest, *, placed_ts: int
    ) -> tuple[OrderRecord, OrderRecord]:
        """A stop-loss and a take-profit selling the same coins, sent as one OCO list (``live_oco``);
        answers within ``answer_within_s`` with both legs as they stand."""
        if not self.has_oco:
            raise errors.UserInputError(f"{self.venue.id} takes no OCO order lists")
        assert stop.amount is not None and stop.stop_price is not None and take.price is not None
        symbol = stop.symbol
        markets = await self.venue.load_markets()
        if symbol not in markets:
            raise errors.NotFound(f"unknown symbol {symbol!r} on {self.venue.id}")
        await self._check_trading(markets[symbol])
        amount = self._amount_to_send(symbol, stop.amount)
        level = float(self.exchange.price_to_precision(symbol, stop.stop_price))
        limit = float(self.exchange.price_to_precision(symbol, level * (1 - self.stop_limit_offset)))
        target = float(self.exchange.price_to_precision(symbol, take.price))
        self._check_limits(markets[symbol], amount, limit)
        legs = (
            replace(stop, amount=amount, stop_price=level, price=limit),
            replace(take, amount=amount, price=target),
        )
        stop_row, take_row = await self.journal.create_oco(self.book, self.mode, legs, placed_ts=placed_ts)
        ended = await live_oco.wait_briefly(self, stop_row, take_row)
        return ended[0], ended[1]

    def unprotected(self) -> dict[str, str]:
        """Symbol -> why (part of) its position has no exits at the exchange though its buy asked for
        them (``unprotected.py``); shown with the positions."""
        return self.unprotected_parts.by_symbol()

    def markets_gone(self) -> dict[str, str]:
        """Symbol -> what is said of its market, no longer listed by the exchange (``gone_markets``);
        shown with its orders and position."""
        return self.gone_markets.by_symbol()

    async def held_exits(self) -> list[dict[str, Any]]:
        """Take-profits the daemon keeps because the venue has no OCO lists (``live_oco``)."""
        return live_oco.held_info(self, await live_oco.held_exits(self))

    async def _arm_waiting(self, *, at_start: bool = False) -> list[str]:
        """Arm the exits of entries that ended but whose exits still wait: at a start, those filled
        while the daemon was down; at a poll, those whose filled part's exits were not yet gone at the
        exchange when they ended (``live_partial.retire``). Each under its entry's lock (skipped while
        a writer is at it). Returns the entries' client ids."""
        waiting = {
            row.parent_id
            for row in await self.journal.orders(book=self.book, states=[OrderState.INTENT])
            if row.parent_id is not None and live_partial.is_template(row)
        }
        armed = []
        for parent_id in sorted(waiting):
            lock = self._lock(parent_id)
            if lock.locked():
                continue
            async with lock:
                parent = await self.journal.get(parent_id)
                if not parent.state.final:
                    continue
                if not at_start:
                    _, parts = await live_partial.exits_of(self, parent)
                    if not any(OrderState(row.state) in (OrderState.INTENT, *IN_FLIGHT) for row in parts):
                        continue  # nothing to retire first: armed when it ended (or kept by the daemon)
                await self._arm_exits(parent)
                armed.append(parent.client_order_id)
        return armed

    async def _arm_exits(self, parent: OrderRecord) -> None:
        """Send the bracket exits of an entry that is done: sized to what it brought in (less what the
        exits of its filled parts sold, which are cancelled first: ``live_partial``), or cancelled when
        it filled nothing. Called when the entry reaches a final state, and at every poll and start
        while they wait; the caller holds the entry's lock."""
        assert parent.id is not None
        children = [
            row
            for row in await self.journal.orders(book=self.book, states=[OrderState.INTENT])
            if row.parent_id == parent.id and live_partial.is_template(row)
        ]
        if children and not await live_partial.retire(self, parent):
            log.info("exits of order %s wait for those of its filled part to be gone", parent.id)
            return  # armed at a later poll, once the exchange has those done
        sized = []
        _, parts = await live_partial.exits_of(self, parent) if children else ([], [])
        received = await live_partial.held(self, parent, parts) if children else 0.0
        if await self._exits_refused(parent, children, received):
            return
        for child in children:
            assert child.id is not None
            child_id = child.id
            async with self._lock(child_id):
                child = await self.journal.get(child_id)
                if child.state != OrderState.INTENT:
                    continue
                if parent.filled <= 0:
                    await self.journal.transition(
                        child_id, OrderState.CANCELLED, reason=f"its entry {parent.id} filled nothing"
                    )
                    continue
                amount = self._lots(child.symbol, received)
                if amount is None:
                    reason = self._too_little(parent, received, sold=any(row.filled > 0 for row in parts))
                    log.warning("exit %s of order %s not armed: %s", child.client_order_id, parent.id, reason)
                    await self.journal.transition(child_id, OrderState.CANCELLED, reason=reason)
                    continue
                limit, stop = self._exit_levels(parent, child)
                sized.append(await self.journal.size_intent(child_id, amount, price=limit, stop_price=stop))
                log.info(
                    "arming %s %s of entry %s at the exchange", child.role, child.client_order_id, parent.id
                )
        await live_oco.send_exits(self, sized)
        await self._note_refused_exits(parent, sized)

    async def _note_refused_exits(self, parent: OrderRecord, sized: list[OrderRecord]) -> None:
        """Exits the exchange refused when they were sent (a market halted since the entry filled:
        "Market is closed.") leave the position bare: said as for exits too small to place (a warning, an
        ``exit_unplaced`` alert) and shown by ``mt positions`` until it is sold or covered again. Before,
        only their ``order.rejected`` events said it, and ``mt positions`` showed the position as if its
        exits rested."""
        assert parent.id is not None
        refused = []
        for row in sized:
            assert row.id is not None
            now = await self.journal.get(row.id)
            if now.state is OrderState.REJECTED:
                refused.append(now)
        if not refused:
            return
        base, _ = split_symbol(parent.symbol)
        amount = refused[0].amount or 0.0
        message = (
            f"the {amount:g} {base} its buy order {parent.id} ({parent.symbol}) bought has no exits at the "
            f"exchange: {self.venue.id} refused them ({refused[0].reason})"
        )
        await self.unprotected_parts.note(parent.id, parent.symbol, message, self._emit)

    async def _exits_refused(self, parent: OrderRecord, children: list[OrderRecord], received: float) -> bool:
        """Cancel the entry's exits, saying so loudly, when the exchange would refuse one of them: what
        it brought in, sold at that exit's limit, is under the market's minimum notional (a stop well
        under the fill price, after a fee taken from the coins). Sent, it would be refused and the
        position left bare with nothing but a line in the log; this way the daemon log has a warning,
        an ``exit_unplaced`` alert goes out and ``mt positions`` shows the position unprotected."""
        amount = self._lots(parent.symbol, received)
        market = (self.exchange.markets or {}).get(parent.symbol)
        if parent.filled <= 0 or amount is None or market is None:
            return False
        why = None
        for child in children:
            limit, _ = self._exit_levels(parent, child)
            why = below_minimum(market, amount, limit)
            if why is not None:
                role = (child.role or "exit").replace("_", "-")
                why = f"its {role} selling {amount:g} at {limit:.8g} would be {why}"
                break
        if why is None:
            return False
        assert parent.id is not None
        message = (
            f"the {amount:g} {parent.symbol.split('/')[0]} its buy order {parent.id} ({parent.symbol}) "
            f"bought has no exits at the exchange: {why}, which {self.venue.id} refuses"
        )
        for child in children:
            assert child.id is not None
            async with self._lock(child.id):
                if (await self.journal.get(child.id)).state == OrderState.INTENT:
                    await self.journal.transition(child.id, OrderState.CANCELLED, reason=message)
        await self.unprotected_parts.note(parent.id, parent.symbol, message, self._emit)
        return True

    def _exit_levels(self, entry: OrderRecord, child: OrderRecord) -> tuple[float | None, float | None]:
        """A bracket exit's (limit, stop) from its entry's average fill, at the market's price tick (a
        stop's limit ``stop_limit_offset`` beyond its trigger)."""
        limit, stop = _levels_from_fill(entry, child)
        if child.type == OrderType.STOP.value and stop is not None:
            stop = float(self.exchange.price_to_precision(child.symbol, stop))
            offset = -self.stop_limit_offset if child.side == "sell" else self.stop_limit_offset
            limit = float(self.exchange.price_to_precision(child.symbol, stop * (1 + offset)))
        elif limit is not None:
            limit = float(self.exchange.price_to_precision(child.symbol, limit))
        return limit, stop

    def _amount_to_send(self, symbol: str, amount: float) -> float:
        """``amount`` in whole lot steps, a float a hair under a step counting as on it
        (``venue_steps.whole_steps``: a position's size left as 0.08499999999999999 by its sums is sent
        as 0.085, not cut a step short to 0.08499); ``UserInputError`` when that leaves nothing."""
        cut = venue_steps.whole_steps(self.exchange, symbol, amount)
        if not cut > 0:
            raise errors.UserInputError(
                f"amount {amount!r} rounds to 0 at {symbol}'s precision on {self.venue.id}"
            )
        return cut

    def _lots(self, symbol: str, amount: float) -> float | None:
        """``amount`` cut down to whole lot steps (``venue_steps.whole_steps``), or None when that leaves
        nothing."""
        cut = venue_steps.whole_steps(self.exchange, symbol, amount)
        return cut if cut > 0 else None

    def _too_little(self, entry: OrderRecord, received: float, *, sold: bool = False) -> str:
        """Why an entry's exits are not armed: what it brought in (and its filled part's exits did not
        sell) is under one lot step."""
        if sold and received <= 0:
            return f"the exits of its entry {entry.id}'s filled part sold all it brought in"
        base, _ = split_symbol(entry.symbol)
        market = self.exchange.markets.get(entry.symbol) or {}
        step = venue_steps.step_of(self.exchange, market, "amount")
        got = venue_steps.shown(Decimal(repr(received)))
        under = (
            f"under one lot step ({venue_steps.shown(step)})" if step is not None else "under one lot step"
        )
        return (
            f"its entry {entry.id} brought in {got} {base}, {under} of {entry.symbol} on {self.venue.id}:"
            " too little for an exit the exchange takes"
        )

    async def _received(self, entry: OrderRecord) -> float:
        """What an entry's fills brought in: its filled amount less the fees taken from it (Binance takes
        a buy's fee from the coins bought unless BNB pays it), so its exits sell no more than is held."""
        base, _ = split_symbol(entry.symbol)
        fills = await self.journal.fills(order_id=entry.id)
        return max(0.0, entry.filled - math.fsum(fill_fees(f).get(base, 0.0) for f in fills))

    def _check_exit_limits(
        self, market: dict[str, Any], amount: float, reference: float | None, stop_loss: float | None
    ) -> None:
        """``UserInputError`` for a bracketed buy whose stop-loss the exchange would refuse: ``amount``
        sold at the stop's limit (``stop_loss`` under ``reference``, ``stop_limit_offset`` under that)
        is under the market's minimum notional. The buy would fill and its position be left bare."""
        if stop_loss is None or reference is None:
            return
        limit = reference * (1 - stop_loss) * (1 - self.stop_limit_offset)
        why = below_minimum(market, amount, limit)
        if why is not None:
            raise errors.UserInputError(
                f"amount {amount:g} {market['symbol']} is too little for its stop-loss: sold at the stop's "
                f"limit of {limit:.8g} it is {why}, so {self.venue.id} would refuse the stop and leave the "
                "position without exits; buy more, or set a closer --stop-loss"
            )

    async def _check_trading(self, market: dict[str, Any]) -> None:
        """``OperationFailed`` for a market the exchange lists as not trading (ccxt's ``active`` False:
        Binance's status ``BREAK`` or ``HALT``, a halt or a delisting), before anything is journaled. The
        markets read earlier are read again first: a halt seen at the start would otherwise be refused
        until the daemon restarts, long after the market trades again. A halt begun since they were read
        is the exchange's refusal of the order ("Market is closed."), rejected with that reason."""
        if market.get("active") is not False:
            return
        market = (await self.venue.load_markets(reload=True)).get(market["symbol"]) or market
        if market.get("active") is not False:
            return
        status = (market.get("info") or {}).get("status")
        said = f" (its status: {status})" if status else ""
        raise errors.OperationFailed(
            f"{market['symbol']} is not trading on {self.venue.id}{said}: no order can be placed now"
        )

    def _check_limits(self, market: dict[str, Any], amount: float, price: float | None) -> None:
        """``UserInputError`` for an order below the market's minimum amount or value (dust)."""
        limits = market.get("limits") or {}
        least = (limits.get("amount") or {}).get("min")
        if least is not None and amount < float(least):
            raise errors.UserInputError(
                f"amount {amount:g} {market['symbol']} is dust: below the market minimum of {least:g}"
            )
        least_cost = (limits.get("cost") or {}).get("min")
        if least_cost is not None and price is not None and amount * price < float(least_cost):
            raise errors.UserInputError(
                f"amount {amount:g} {market['symbol']} is dust: worth {amount * price:.8g}, below the "
                f"market minimum of {least_cost:g}"
            )

    def _book_late(self, order_id: int, fills: list[Any]) -> None:
        """Fills of a send that ``submit`` stopped waiting for go out with the next ``poll``."""
        if order_id in self._detached:
            self._detached.discard(order_id)
            self._late += fills

    def _sent(self, task: asyncio.Task[OrderRecord]) -> None:
        self._sending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("sending an order failed: %s", task.exception())

    async def _send_alone(self, order_id: int) -> OrderRecord:
        """Send the order as its only writer; fills it books reach the trader through ``poll``."""
        async with self._lock(order_id):
            return await self._send(await self.journal.get(order_id))

    async def _send(self, row: OrderRecord) -> OrderRecord:
        """Mark the order sent, send it, and settle what the answer (or its absence) says. The caller
        holds the order's lock."""
        assert row.id is not None
        return await self._place(await self.journal.transition(row.id, OrderState.SENT, sent=True))

    async def _place(self, row: OrderRecord, *, resends: int = 0) -> OrderRecord:
        """Send the order (``resends``: how often it was sent again after rate limits proved nothing),
        and settle what the answer (or its absence) says. The caller holds the order's lock."""
        assert row.id is not None
        order_id = row.id
        assert row.amount is not None
        params: dict[str, Any] = {"newClientOrderId": row.client_order_id}
        what = f"{self.venue.id} create_order {row.side} {row.amount:g} {row.symbol}"
        attempts = 0

        kind = row.type
        if row.type == OrderType.STOP.value:  # the venue's native stop-limit
            kind = "STOP_LOSS_LIMIT"
            params["stopPrice"] = row.stop_price
            params["timeInForce"] = "GTC"

        async def attempt() -> Any:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                # A resend after a clock re-sync (the exchange refused the request for its timestamp):
                # asked first by client id all the same, never placed a second time.
                found = await self.lookup_before_resend(row, what)
                if found is not None:
                    return found
                await self.journal.mark_attempt(order_id)  # the arrival deadline moves
            return await self.exchange.create_order(row.symbol, kind, row.side, row.amount, row.price, params)

        try:
            # A 400 with the exchange's code (Binance -1013 "Filter failure: NOTIONAL", -1111 precision,
            # "Market is closed.") is its refusal (``REFUSED``): rejected with its reason, not taken for an
            # answer lost (unknown for a minute, then "never reached the exchange"). A 429 or 418 is not
            # retried here: a gateway may answer so after the exchange booked the order (``_rate_limited``).
            answer = await self.venue.call(
                attempt,
                what=what,
                idempotent=False,
                passthrough=REFUSED,
                retry_rate_limits=False,
            )
        except REFUSED as exc:
            return await self._rejected(row, f"refused: {map_error(exc, what)}")
        except (errors.InsufficientFunds, errors.OrderRejected, errors.NotFound) as exc:
            if (
                (attempts > 1 or resends > 0)
                and isinstance(exc, errors.OrderRejected)
                and DUPLICATE.search(str(exc))
            ):
                # A resend refused because the exchange holds an order with our client id: an earlier
                # attempt reached it after all (its answer said otherwise, or lookups missed it). Looked
                # up, not rejected: rejecting it would leave that order working at the exchange, unknown
                # to the book; and never sent again, the exchange having said it has it.
                return await self._answer_lost(row, what, exc, reason=f"{DUPLICATE_HELD}: {exc}")
            return await self._rejected(row, str(exc))
        except errors.RateLimitedUnknown as exc:
            return await self._rate_limited(row, what, exc, resends)
        except (errors.AuthenticationFailed, errors.RateLimited) as exc:
            # Refused before it was sent (a wait asked by the exchange is too long) or for the key.
            await self._error(f"{what}: {exc}")
            return await self._rejected(row, str(exc))
        except errors.MasterTradeError as exc:
            # Timeout, 5xx, dropped connection, or an answer we could not read: it may exist.
            return await self._answer_lost(row, what, exc)
        fills = await self._sync(await self.journal.get(order_id), answer)
        self._book_late(order_id, fills)
        placed = await self.journal.get(order_id)
        self._emit(order_events.placed(placed, self.mode))
        return placed

    async def _rate_limited(
        self, row: OrderRecord, what: str, exc: errors.RateLimitedUnknown, resends: int
    ) -> OrderRecord:
        """A create answered 429 or 418 proves nothing: a gateway may answer so for an order the exchange
        booked, which lookups by client id may not show at once (-2013). Its outcome is unknown, as after
        an answer lost: looked up over its arrival window, booked when found; only once the window proves
        it absent is it sent again (``_resolve``), with the same client id."""
        assert row.id is not None
        reason = rate_limited(resends + 1, self.venue.retry.max_retries + 1, exc)
        return await self._answer_lost(row, what, exc, reason=reason)

    async def _answer_lost(
        self, row: OrderRecord, what: str, exc: Exception, *, reason: str | None = None
    ) -> OrderRecord:
        """The send's outcome is not known (no answer, or one we cannot trust): counted as an exchange
        error, the order marked unknown (with ``reason``, by default "answer lost") and looked up by its
        client id."""
        assert row.id is not None
        order_id = row.id
        await self._error(f"{what}: {exc}")
        row = await self.journal.get(order_id)
        why = reason or f"answer lost: {exc}"
        if row.state == OrderState.SENT:
            row = await self.journal.transition(order_id, OrderState.UNKNOWN, reason=why)
        elif row.state == OrderState.UNKNOWN and _cancel_asked(row) is None:
            row, _ = await self.journal.add_fills(order_id, [], OrderState.UNKNOWN, reason=why)
        fills = await self._resolve(row)
        self._book_late(order_id, fills)
        return await self.journal.get(order_id)

    async def _rejected(self, row: OrderRecord, reason: str) -> OrderRecord:
        assert row.id is not None
        log.info("order %s rejected: %s", row.client_order_id, reason)
        row = await self.journal.transition(row.id, OrderState.REJECTED, reason=reason)
        self._emit(order_events.rejected(row, reason, self.mode))
        return row

    async def cancel(self, order_id: int, reason: str = "cancelled by hand") -> OrderRecord:
        row = await self.journal.get(order_id)
        if row.book != self.book:
            raise errors.NotFound(f"no order {order_id} in book {self.book}")
        gone = self.gone_markets.by_symbol().get(row.symbol)
        if gone is not None:
            raise errors.OperationFailed(
                f"order {order_id} cannot be cancelled through the exchange now: {gone}"
            )
        lock = self._lock(order_id)
        try:
            await asyncio.wait_for(lock.acquire(), self.answer_within_s)
        except TimeoutError:
            raise errors.OperationFailed(
                f"order {order_id} is still being sent: cancel it once it is open (see mt orders)"
            ) from None
        try:
            return await self._cancel(await self.journal.get(order_id), reason)
        finally:
            lock.release()

    async def cancel_keeping_stop(self, order_id: int) -> OrderRecord | None:
        """``mt orders cancel`` (without ``--unprotect``) of a take-profit in one OCO list with the stop
        protecting a position: cancelled, the stop kept (``take_profit_only``). None when ``order_id``
        is not such a take-profit (an ordinary cancel then)."""
        row = await self.journal.get(order_id)
        if row.book != self.book:
            return None
        stop = await take_profit_only.stop_leg(self, row)
        if stop is None:
            return None
        return await take_profit_only.cancel(self, row, stop)

    async def _cancel(self, row: OrderRecord, reason: str) -> OrderRecord:
        assert row.id is not None
        order_id = row.id
        state = row.state
        if state is OrderState.INTENT:
            return await self.journal.transition(order_id, OrderState.CANCELLED, reason=reason)
        if state not in (OrderState.OPEN, OrderState.PARTIALLY_FILLED, OrderState.UNKNOWN, OrderState.SENT):
            raise nothing_to_cancel(row)
        if state in (OrderState.SENT, OrderState.UNKNOWN):
            # The exchange may not know the order yet, and its request may still arrive: the cancel is
            # kept with the order (in its reason, so a restart keeps it too) and carried out whenever the
            # order turns up (``_take``), instead of the order resting there after it was cancelled.
            row, _ = await self.journal.add_fills(order_id, [], state, reason=_asking(reason))
        else:
            # Written before it is asked: the exchange's "canceled" is then known as ours, even when the
            # daemon dies before the answer is read (else it would be taken for a cancel at the exchange
            # by someone else, and the exit placed again: ``exit_cancels``).
            row, _ = await self.journal.add_fills(order_id, [], state, reason=exit_cancels.cancelling(reason))
        await self._ask_cancel(row)
        self._late += await self._resolve(row, cancel_reason=reason)
        result = await self.journal.get(order_id)
        if result.state == OrderState.CANCELLED:
            self._emit(order_events.cancelled(result, reason, self.mode))
        return result

    async def _ask_cancel(self, row: OrderRecord) -> None:
        """Ask the exchange to cancel the order (by our client id); whether it did, a lookup says."""
        try:
            await self.venue.call(
                lambda: self.exchange.cancel_order(
                    row.exchange_order_id, row.symbol, {"origClientOrderId": row.client_order_id}
                ),
                what=f"{self.venue.id} cancel_order {row.client_order_id}",
                passthrough=(ccxt.OrderNotFound,),
            )
        except ccxt.OrderNotFound:
            pass  # already filled, cancelled, or never there: the lookup says which

    # --- resolving and syncing --------------------------------------------------------------------

    async def lookup_before_resend(self, row: OrderRecord, what: str) -> dict[str, Any] | None:
        """:meth:`_lookup` before a resend of ``row`` (``what`` names the request): a lookup that fails
        leaves the order's state unknown (resolved later by client id), never resent on a guess."""
        try:
            return await self._lookup(row)
        except errors.MasterTradeError as exc:
            raise errors.OrderStateUnknown(f"{what}: lookup before a resend failed: {exc}") from exc

    async def _lookup(self, row: OrderRecord) -> dict[str, Any] | None:
        """The exchange's order with our client id, or None when it does not know one."""
        try:
            found: dict[str, Any] = await self.venue.call(
                lambda: self.exchange.fetch_order(
                    None, row.symbol, {"origClientOrderId": row.client_order_id}
                ),
                what=f"{self.venue.id} fetch_order {row.client_order_id}",
                passthrough=(ccxt.OrderNotFound,),
            )
        except ccxt.OrderNotFound:
            return None
        return found

    async def resolve(self, row: OrderRecord, *, cancel_reason: str | None = None) -> list[Any]:
        """Settle an order that may be at the exchange by looking it up, as its only writer; returns the
        new fills."""
        assert row.id is not None
        async with self._lock(row.id):
            return await self._resolve(await self.journal.get(row.id), cancel_reason=cancel_reason)

    async def _recheck_lost(self, within: timedelta) -> list[str]:
        """Look up again the orders declared never received within ``within``: one the exchange has
        after all takes its state and fills (a correction). Returns their client ids."""
        since = self.clock() - within
        corrected = []
        for row in await self.journal.orders(book=self.book, states=[OrderState.REJECTED], limit=200):
            if not (row.reason or "").startswith(NEVER_RECEIVED) or row.updated_at < since:
                continue
            assert row.id is not None
            if self._lock(row.id).locked() or self.gone_markets.gone(row.symbol):
                continue
            async with self._lock(row.id):
                try:
                    found = await self._lookup(row)
                except errors.MasterTradeError as exc:
                    await self._error(f"looking up {row.client_order_id} again: {exc}")
                    continue
                if found is not None:
                    self._late += await self._take(await self.journal.get(row.id), found)
                    corrected.append(row.client_order_id)
        return corrected

    async def _resolve(self, row: OrderRecord, *, cancel_reason: str | None = None) -> list[Any]:
        assert row.id is not None
        try:
            found = await self._lookup(row)
        except errors.MasterTradeError as exc:
            if await gone_markets.failed(self, self.gone_markets, row, exc):
                return []  # its market is no longer listed: said once, not an exchange error
            await self._error(f"looking up {row.client_order_id}: {exc}")
            return []  # still unknown: the next poll or start tries again
        if found is not None:
            fills = await self._take(row, found, cancel_reason=cancel_reason)
            if archived_orders.was_marked(row):  # it turned up: its position's protection is known again
                await archived_orders.unmark(self, row.id)
            return fills
        sent_at = row.sent_at or row.updated_at
        deadline = sent_at + timedelta(seconds=self.arrival_window_s)
        if self.clock() >= deadline:
            if row.oco is not None and (settled := await lost_legs.settle(self, row, deadline)) is not None:
                # a leg of an OCO list whose other leg is at the exchange: so was it (``lost_legs``)
                now = await self.journal.get(row.id)
                if archived_orders.was_marked(row) and (now.state.final or now.state is not row.state):
                    await archived_orders.unmark(self, row.id)  # settled: its note goes
                return settled
            state = row.state
            if state in (OrderState.OPEN, OrderState.PARTIALLY_FILLED) and row.exchange_order_id is not None:
                # It had rested at the exchange, which no longer shows it by its client id (it archives
                # orders that ended without trading): asked by its order id (``archived_orders``). Before,
                # it was looked up silently at every poll, forever.
                return await archived_orders.settle(self, row)
            resends = self._resend_due(row)
            if resends is not None and row.oco is not None:
                # a leg of an OCO list: sent again with its sibling, as one list, once both are absent
                return await live_oco.resend_pair(self, row, resends)
            if resends is not None:
                # Its create was answered as rate-limited, and its window proves the exchange never
                # took it: sent again, with the same client id (fills reach the trader through poll).
                log.info(
                    "order %s: not at the exchange after a rate limit; sending it again", row.client_order_id
                )
                await self.journal.mark_attempt(row.id, at=self.clock())  # its arrival deadline moves
                self._detached.add(row.id)
                await self._place(await self.journal.get(row.id), resends=resends)
                return []
            if state in (OrderState.SENT, OrderState.UNKNOWN):
                wish = _cancel_asked(row)  # kept, should the order turn up after all
                await self.journal.transition(
                    row.id,
                    OrderState.REJECTED,
                    reason=f"{NEVER_RECEIVED} (unknown to it after its last request could arrive)"
                    + (f"; {_asking(wish)}" if wish is not None else ""),
                )
        elif row.state == OrderState.SENT:
            wish = _cancel_asked(row)
            await self.journal.transition(
                row.id,
                OrderState.UNKNOWN,
                reason="not yet known to the exchange" if wish is None else _asking(wish),
            )
        return []

    def _resend_due(self, row: OrderRecord) -> int | None:
        """How often an unknown order proven absent was sent again after rate limits, when it is to be
        sent again; None when it is not: its answer was lost otherwise, a cancel was asked for it, its
        sends are used up, or it is older than a fresh intent (a start after a long stop: stale)."""
        match = RESENDS.match(row.reason or "")
        if row.state != OrderState.UNKNOWN or match is None:
            return None
        sent = int(match["sent"])
        if sent >= int(match["most"]) or row.created_at < self.clock() - timedelta(
            seconds=self.intent_max_age_s
        ):
            return None
        return sent

    async def _take(
        self, row: OrderRecord, order: dict[str, Any], *, cancel_reason: str | None = None
    ) -> list[Any]:
        """``_sync`` an order found at the exchange, then carry out a cancel asked for it while the
        exchange did not know it yet, if it is working there."""
        assert row.id is not None
        wish = _cancel_asked(row)
        fills = await self._sync(row, order, cancel_reason=cancel_reason or wish)
        if wish is None or STATUS.get(str(order.get("status")), OrderState.OPEN) is not OrderState.OPEN:
            return fills
        log.info("order %s turned up at the exchange: cancelling it as asked (%s)", row.client_order_id, wish)
        try:
            await self._ask_cancel(await self.journal.get(row.id))
            again = await self._lookup(row)
        except errors.MasterTradeError as exc:  # the cancel stays asked: the next look tries again
            await self._error(f"cancelling {row.client_order_id} as asked: {exc}")
            return fills
        if again is not None:
            fills += await self._sync(await self.journal.get(row.id), again, cancel_reason=wish)
        result = await self.journal.get(row.id)
        if result.state == OrderState.CANCELLED:
            self._emit(order_events.cancelled(result, wish, self.mode))
        return fills

    async def _sync(
        self, row: OrderRecord, order: dict[str, Any], *, cancel_reason: str | None = None
    ) -> list[Any]:
        """Take an order's state and fills from the exchange's view of it."""
        assert row.id is not None
        filled = float(order.get("filled") or 0.0)
        state = STATUS.get(str(order.get("status")), OrderState.OPEN)
        if state is OrderState.FILLED and not filled:  # a venue that leaves the executed amount out
            filled = float(order.get("amount") or row.amount or 0.0)
        if state is OrderState.OPEN and filled > 0:
            state = OrderState.PARTIALLY_FILLED
        fills: list[NewFill] = []
        current = row.state
        ending = state.final and not current.final
        if cancel_reason is None:
            cancel_reason = exit_cancels.cancel_asked(row)
        if (
            cancel_reason is None
            and ending
            and state is OrderState.CANCELLED
            and exit_cancels.is_exit(row)
            and str(order.get("status")) in ("canceled", "cancelled")  # not "expired" (an OCO sibling sold)
        ):
            why = await exit_cancels.why_cancelled(self, row)
            if why is None:
                return []  # its OCO sibling's cancel is on its way right now: the next look decides
            cancel_reason = why
            if why == exit_cancels.CANCELLED_AT_EXCHANGE:
                log.warning("%s of %s: %s", exit_cancels.describe(row), row.symbol, why)
        if filled > row.filled + FILL_TOLERANCE or (ending and state is not OrderState.REJECTED):
            fills = await self._fills_of(row, order, filled)
        reason = cancel_reason if state is OrderState.CANCELLED else None
        if cancel_reason is not None and state is OrderState.FILLED:
            reason = f"filled before the cancel asked for it ({cancel_reason}) could take effect"
        if state.final and state is not OrderState.REJECTED:
            seen = await self._filled_with(row, fills)
            if seen < filled - FILL_TOLERANCE:
                # Done at the exchange, but not all its trades are listed yet: the order stays in flight
                # (partly filled, as far as we can book), so the next poll asks for them again, instead of
                # ending without them.
                state = OrderState.PARTIALLY_FILLED
                reason = f"the exchange has {filled:g} filled; {seen:g} seen in its trades so far"
        if state.final and fills and row.side == Side.SELL.value:
            # the sell's last fill keeps the least amount the exchange takes in one order: what it leaves
            # of a position under that is dust no sell can take, and closes its round trip (``dust``)
            last = fills[-1]
            fills[-1] = replace(last, minimum=dust.minimum(self.exchange, row.symbol))
        exchange_id = str(order["id"]) if order.get("id") is not None else None
        if current.final and current is state:
            if not fills:
                return []
        if current is OrderState.INTENT:
            await self.journal.transition(row.id, OrderState.SENT, sent=True)
        updated, new = await self.journal.add_fills(
            row.id, fills, state, reason=reason, exchange_order_id=exchange_id
        )
        # Booked at once, with nothing awaited since the journal took them: the risk check reads the
        # open orders from the journal and the holdings from this ledger, so a fill journaled but not
        # booked while the exits go out made the buy vanish from the account for that long.
        for fill in new:
            self._ledger.apply(Fill.of(fill, updated.role))
        if updated.state.final and _bracketed(updated):
            await self._arm_exits(updated)
        for fill in new:
            self._emit(
                events.OrderFilled(
                    order_id=str(updated.id),
                    client_order_id=updated.client_order_id,
                    symbol=fill.symbol,
                    side=fill.side,
                    amount=fill.amount,
                    price=fill.price,
                    fee=fill.fee,
                    fee_asset=fill.fee_asset,
                    more_fees=fill.more_fees or {},
                    remaining=max(0.0, (updated.amount or 0.0) - updated.filled),
                    strategy_id=updated.strategy_id,
                    mode=self.mode,
                )
            )
        if updated.state is OrderState.PARTIALLY_FILLED and updated.filled > 0 and _bracketed(updated):
            try:  # what it bought so far, while the rest still rests
                await live_partial.protect(self, updated)
            except errors.MasterTradeError as exc:  # the next poll tries again
                await self._error(f"protecting the filled part of order {updated.id}: {exc}")
        return new

    async def _filled_with(self, row: OrderRecord, fills: list[NewFill]) -> float:
        """How much of the order its stored fills and ``fills`` add up to (a trade counted once)."""
        assert row.id is not None
        amounts = {fill.trade_id: fill.amount for fill in await self.journal.fills(order_id=row.id)}
        for fill in fills:
            amounts.setdefault(fill.trade_id, fill.amount)
        return math.fsum(amounts.values())

    async def _fills_of(self, row: OrderRecord, order: dict[str, Any], filled: float) -> list[NewFill]:
        """The order's trades as fills, page by page until they and the stored ones add up to ``filled``.

        One call when its answer covers ``filled`` (nearly always). Otherwise the trades are walked from
        the oldest on by trade id (Binance's ``fromId``, the one way it pages an order's trades: it
        refuses ``orderId`` with a time range, and the trades of one market order share a millisecond,
        so ccxt's ``since`` could not move past a page of them anyway), ``TRADES_PAGES`` pages a call;
        the walk goes on from where it stopped at the next poll, and ends on a page with no trade not seen.
        """
        assert row.id is not None
        order_id = str(order["id"])
        page = await self._trades_page(row.symbol, order_id, {})
        found = {fill.trade_id: fill for fill in page or []}
        if not page or await self._filled_with(row, list(found.values())) >= filled - FILL_TOLERANCE:
            if page is not None:
                self._trade_cursors.pop(row.id, None)
            return list(found.values())
        for _ in range(TRADES_PAGES):
            cursor = self._trade_cursors.get(row.id, 0)
            page = await self._trades_page(row.symbol, order_id, {"fromId": cursor})
            if page is None:
                break  # the next poll goes on from this page
            new = [fill for fill in page if fill.trade_id not in found]
            found.update((fill.trade_id, fill) for fill in new)
            ids = [int(fill.trade_id) for fill in page if fill.trade_id.isdigit()]
            if not new or not ids or max(ids) < cursor:
                self._trade_cursors.pop(row.id, None)  # the end, or a venue that does not page this way
                break
            self._trade_cursors[row.id] = max(ids) + 1
            if await self._filled_with(row, list(found.values())) >= filled - FILL_TOLERANCE:
                self._trade_cursors.pop(row.id, None)
                break
        return list(found.values())

    async def _trades_page(self, symbol: str, order_id: str, params: dict[str, Any]) -> list[NewFill] | None:
        """One page (up to ``TRADES_PAGE``) of the order's trades, as fills; None when the exchange would
        not list them (counted as an error): the order then stays in flight, short of its fills, and the
        next poll asks again, instead of the error ending the send (an order accepted at the exchange
        reported as failed) or the poll of every other order."""
        what = f"{self.venue.id} fetch_my_trades {symbol} {order_id}"
        try:
            trades = await self.venue.call(
                lambda: self.exchange.fetch_my_trades(
                    symbol, None, TRADES_PAGE, {"orderId": order_id, **params}
                ),
                what=what,
            )
        except errors.MasterTradeError as exc:
            await self._error(f"{what}: {exc}")
            return None
        base, quote = split_symbol(symbol)
        prices = self.fee_prices(quote)
        fills = []
        for trade in trades:
            if str(trade.get("order")) != order_id:
                continue
            charged = trade_fees(trade, quote)
            fee_asset, fee, more = split_fees(charged, quote)
            price = float(trade["price"])
            fills.append(
                NewFill(
                    trade_id=str(trade["id"]),
                    amount=float(trade["amount"]),
                    price=price,
                    fee=fee,
                    fee_asset=fee_asset,
                    ts=int(trade.get("timestamp") or 0),
                    fee_quote=fee_value(charged, base=base, quote=quote, price=price, prices=prices),
                    more_fees=more,
                )
            )
        return fills

    def fee_prices(self, quote: str) -> dict[str, float]:
        """Prices in ``quote`` the broker has for assets a fee may be paid in (BNB): the last price of
        each ``ASSET/quote`` market the daemon follows, else the average price of the book's position in
        it (what those coins cost). An asset with neither has no price: its fees stay in their asset."""
        prices: dict[str, float] = {}
        for symbol, position in self._ledger.positions.items():
            asset, market_quote = split_symbol(symbol)
            if market_quote == quote and position.average_price is not None:
                prices[asset] = position.average_price
        for symbol, mark in self._marks.items():
            asset, market_quote = split_symbol(symbol)
            if market_quote == quote and math.isfinite(mark) and mark > 0:
                prices[asset] = mark
        return prices

    async def _true_up_balances(self) -> dict[str, float]:
        """Record as ledger entries what the exchange's balances hold beyond the book's (deposits,
        withdrawals, trades made elsewhere), so the book equals the exchange.

        Orders may be working meanwhile (a protective stop rests for as long as its position is held):
        after the balance is read, each is looked up again, and the balances are compared only when
        every one has filled at the exchange exactly what the journal has booked of it. An order that
        filled around the balance read (or whose trades are not listed yet) would otherwise be counted
        twice, once as an adjustment and once as its fill; then the next start compares them.
        """
        working = await self.journal.in_flight(self.book)
        gone = sorted({row.symbol for row in working if self.gone_markets.gone(row.symbol)})
        if gone:  # what its orders filled cannot be asked: not an exchange error, nothing to compare
            log.info(
                "reconcile: orders of %s (no longer listed) cannot be looked up; balances compared once "
                "it is listed again",
                ", ".join(gone),
            )
            return {}
        booked = {row.id: row.filled for row in working}
        balance = await self.venue.call(
            lambda: self.exchange.fetch_balance(), what=f"{self.venue.id} fetch_balance"
        )
        for row in working:
            try:
                found = await self._lookup(row)
            except errors.MasterTradeError as exc:
                await self._error(f"reconcile: looking up {row.client_order_id}: {exc}")
                return {}
            filled = float(found.get("filled") or 0.0) if found is not None else 0.0
            if abs(filled - booked[row.id]) > FILL_TOLERANCE:
                log.info(
                    "reconcile: order %s is filling at %s; balances compared at the next start",
                    row.client_order_id,
                    self.venue.id,
                )
                return {}
        ledger = await self.journal.ledger(self.book)
        totals: dict[str, float] = {
            asset: float(value or 0.0)
            for asset, value in (balance.get("total") or {}).items()
            if value is not None
        }
        adjusted: dict[str, float] = {}
        now_ms = to_ms(self.clock())
        for asset in sorted(set(totals) | set(ledger.balances)):
            difference = totals.get(asset, 0.0) - ledger.balance(asset)
            if math.isfinite(difference) and abs(difference) > BALANCE_TOLERANCE:
                await self.journal.add_ledger_entry(
                    self.book,
                    asset,
                    difference,
                    "reconcile: balance at the exchange differs from the book",
                    now_ms,
                )
                adjusted[asset] = difference
        if adjusted:
            log.info("reconcile: balances trued up with %s: %s", self.venue.id, adjusted)
        return adjusted

    async def _error(self, what: str) -> None:
        """An exchange call failed: logged, and counted by the exchange-errors breaker."""
        log.warning("live broker: %s", what)
        if self.on_error is not None:
            await self.on_error(what)

    def _emit(self, event: events.Event) -> None:
        if self.publish is not None:
            self.publish(event)


def _asking(reason: str) -> str:
    """An order's reason while a cancel waits for the exchange to know it (``_cancel_asked`` reads it)."""
    return f"cancel asked ({reason}) before the exchange knew the order: cancelled once it turns up"


def _cancel_asked(row: OrderRecord) -> str | None:
    """The reason of a cancel asked for the order before the exchange knew it, or None."""
    found = CANCEL_ASKED.search(row.reason or "")
    return found["reason"] if found else None


def _bracketed(row: OrderRecord) -> bool:
    """An entry journaled with bracket exits (they wait as intents for it to fill)."""
    return row.parent_id is None and (row.stop_loss is not None or row.take_profit is not None)


def _levels_from_fill(entry: OrderRecord, child: OrderRecord) -> tuple[float | None, float | None]:
    """A bracket exit's (limit, stop) levels from its entry's average fill, as paper arms them
    (``matching._priced``): the stop ``stop_loss`` under it, the take-profit ``take_profit`` over it.
    Levels stay as journaled (from the reference price) for a fraction the entry does not carry."""
    if entry.filled <= 0:
        return child.price, child.stop_price
    paid = entry.cost / entry.filled
    if child.type == OrderType.STOP.value and entry.stop_loss is not None and child.role == "stop_loss":
        return child.price, paid * (1 - entry.stop_loss)
    if child.type == OrderType.LIMIT.value and entry.take_profit is not None:
        return paid * (1 + entry.take_profit), child.stop_price
    return child.price, child.stop_price
