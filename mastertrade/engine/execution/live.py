"""The live broker: orders at a real exchange through ccxt, never lost and never doubled.

**Sending.** An order is rounded to the market's precision, journaled as an intent with our client order
id (committed), marked ``sent`` (committed), and only then sent with that id. The call goes through the
venue's retry policy (``market/retry.py``) as a non-idempotent call: rate limits and a clock out of step
are retried (the exchange refused those requests before acting on them), a refusal (insufficient funds,
an invalid order, a refused key) makes the order ``rejected`` with the reason, and anything after which
the order may exist (a timeout, a 5xx, a dropped connection) makes it ``unknown``.

**Resolving.** An unknown order, or one left ``sent`` by a crash, is looked up by its client order id
(an idempotent call, retried). Found: its state and fills are taken from the exchange. Not found: it is
declared never received (``rejected``) only once the exchange's receive window plus
``unknown_grace_s`` has passed since it was sent, because a request still in flight could arrive until
then; before that it stays unknown and is looked up again later. An order is never sent twice.

**Starting** is reconciling, and a crash is just a start: intents never sent are sent if recent (after
checking the exchange does not know them) or cancelled as stale; every order that may be at the
exchange is resolved and its fills fetched; and, when none of our orders is working, the balances at the
exchange are compared with the book's (ledger entries plus fills), a difference being recorded as a
ledger entry with its reason, so the book keeps equal to the sum of its entries and fills.

Fills come from the exchange's trades of the order (``fetch_my_trades``), keyed by trade id, so a fill
is stored once however often it is seen. Keys never appear in logs or messages (``CcxtVenue`` silences
ccxt's wire log; error messages carry the exchange's answer, not the request).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import ccxt.async_support as ccxt

from mastertrade import errors
from mastertrade.db.models.trading import OrderRecord
from mastertrade.db.types import utcnow
from mastertrade.engine import events
from mastertrade.engine.execution import order_events
from mastertrade.engine.execution.broker import BarOutcome, LiveConsent, Publish
from mastertrade.engine.execution.journal import Journal, NewFill
from mastertrade.engine.execution.ledger import Fill, Ledger, split_symbol
from mastertrade.engine.execution.matching import Bar
from mastertrade.engine.execution.orders import OrderRequest, OrderState, OrderType
from mastertrade.engine.market.ccxt_venue import CcxtVenue

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


class LiveBroker:
    mode = "live"

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
        self.publish = publish
        self.on_error = on_error
        self.clock = clock
        self._ledger = Ledger()
        self._marks: dict[str, float] = {}

    @property
    def receive_window_s(self) -> float:
        return float(self.exchange.options.get("recvWindow", 10_000)) / 1000

    # --- life cycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Reconcile with the exchange (the same path after a crash as after a clean stop)."""
        await self.journal.ensure_book(self.book, mode=self.mode, quote=self.quote)
        await self.venue.load_markets()
        await self.reconcile()

    async def close(self) -> None:
        pass  # the venue belongs to the caller

    async def reconcile(self) -> dict[str, Any]:
        """Send or cancel left-over intents, resolve every order that may be at the exchange, fetch its
        fills, and true the book's balances up with the exchange's. Returns what it did."""
        report: dict[str, Any] = {"sent": [], "cancelled": [], "resolved": [], "adjusted": {}}
        stale_before = self.clock() - timedelta(seconds=self.intent_max_age_s)
        for row in reversed(await self.journal.orders(book=self.book, states=[OrderState.INTENT])):
            assert row.id is not None
            if row.parent_id is not None:
                continue  # a bracket exit waits for its entry
            known = await self._lookup(row)
            if known is not None:
                await self.journal.transition(row.id, OrderState.SENT, sent=True)
                await self._sync(await self.journal.get(row.id), known)
                report["resolved"].append(row.client_order_id)
            elif row.created_at < stale_before:
                await self.journal.transition(row.id, OrderState.CANCELLED, reason="stale intent: never sent")
                report["cancelled"].append(row.client_order_id)
            else:
                await self._send(row)
                report["sent"].append(row.client_order_id)
        for row in await self.journal.in_flight(self.book):
            await self.resolve(row)
            report["resolved"].append(row.client_order_id)
        report["adjusted"] = await self._true_up_balances()
        self._ledger = await self.journal.ledger(self.book)
        return report

    # --- state ----------------------------------------------------------------------------------

    async def ledger(self) -> Ledger:
        return self._ledger

    def marks(self) -> dict[str, float]:
        return dict(self._marks)

    async def on_bar(self, symbol: str, bar: Bar) -> BarOutcome:
        """Prices mark the book; working orders are checked for fills by ``poll``."""
        self._marks[symbol] = bar.close
        return BarOutcome()

    async def poll(self) -> BarOutcome:
        """Bring every order that may be at the exchange up to date (fills of resting orders)."""
        outcome = BarOutcome()
        for row in await self.journal.in_flight(self.book):
            before = len(self._ledger.round_trips)
            fills = await self.resolve(row)
            outcome.fills += fills
            outcome.round_trips += self._ledger.round_trips[before:]
        return outcome

    async def cancel_exits(self, symbol: str, reason: str) -> None:
        """Nothing rests at the exchange to cancel: live exits are kept by the daemon (``protector``)."""

    # --- orders ---------------------------------------------------------------------------------

    async def submit(self, request: OrderRequest, *, placed_ts: int) -> OrderRecord:
        request.validate()
        if request.amount is None:
            raise errors.UserInputError("a live order needs an amount (equity fractions are for paper books)")
        if request.type is OrderType.STOP:
            raise errors.UserInputError(
                "stop orders are paper-only for now: use a limit or market order live"
            )
        markets = await self.venue.load_markets()
        if request.symbol not in markets:
            raise errors.NotFound(f"unknown symbol {request.symbol!r} on {self.venue.id}")
        amount = float(self.exchange.amount_to_precision(request.symbol, request.amount))
        if not amount > 0:
            raise errors.UserInputError(
                f"amount {request.amount!r} rounds to 0 at {request.symbol}'s precision on {self.venue.id}"
            )
        price = request.price
        if price is not None:
            price = float(self.exchange.price_to_precision(request.symbol, price))
        request = replace(request, amount=amount, price=price)
        row, _ = await self.journal.create_order(self.book, self.mode, request, placed_ts=placed_ts)
        return await self._send(row)

    async def _send(self, row: OrderRecord) -> OrderRecord:
        """Mark the order sent, send it, and settle what the answer (or its absence) says."""
        assert row.id is not None
        row = await self.journal.transition(row.id, OrderState.SENT, sent=True)
        assert row.id is not None and row.amount is not None
        params = {"newClientOrderId": row.client_order_id}
        what = f"{self.venue.id} create_order {row.side} {row.amount:g} {row.symbol}"
        try:
            answer = await self.venue.call(
                lambda: self.exchange.create_order(
                    row.symbol, row.type, row.side, row.amount, row.price, params
                ),
                what=what,
                idempotent=False,
            )
        except (errors.InsufficientFunds, errors.OrderRejected, errors.NotFound) as exc:
            return await self._rejected(row, str(exc))
        except (errors.AuthenticationFailed, errors.RateLimited) as exc:
            # Refused before the exchange acted on it (a rate limit on every attempt, or the key).
            await self._error(f"{what}: {exc}")
            return await self._rejected(row, str(exc))
        except errors.MasterTradeError as exc:
            # Timeout, 5xx, dropped connection, or an answer we could not read: it may exist.
            await self._error(f"{what}: {exc}")
            row = await self.journal.transition(row.id, OrderState.UNKNOWN, reason=f"answer lost: {exc}")
            await self.resolve(row)
            return await self.journal.get(row.id)
        await self._sync(row, answer)
        placed = await self.journal.get(row.id)
        self._emit(order_events.placed(placed, self.mode))
        return placed

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
        state = OrderState(row.state)
        if state is OrderState.INTENT:
            return await self.journal.transition(order_id, OrderState.CANCELLED, reason=reason)
        if state not in (OrderState.OPEN, OrderState.PARTIALLY_FILLED, OrderState.UNKNOWN, OrderState.SENT):
            raise errors.UserInputError(f"order {order_id} is {row.state}: only open orders can be cancelled")
        try:
            await self.venue.call(
                lambda: self.exchange.cancel_order(
                    row.exchange_order_id, row.symbol, {"origClientOrderId": row.client_order_id}
                ),
                what=f"{self.venue.id} cancel_order {row.client_order_id}",
                passthrough=(ccxt.OrderNotFound,),
            )
        except ccxt.OrderNotFound:
            pass  # already filled, cancelled, or never there: the lookup below says which
        await self.resolve(row, cancel_reason=reason)
        result = await self.journal.get(order_id)
        if result.state == OrderState.CANCELLED.value:
            self._emit(order_events.cancelled(result, reason, self.mode))
        return result

    # --- resolving and syncing --------------------------------------------------------------------

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
        """Settle an order that may be at the exchange by looking it up; returns the new fills."""
        assert row.id is not None
        try:
            found = await self._lookup(row)
        except errors.MasterTradeError as exc:
            await self._error(f"looking up {row.client_order_id}: {exc}")
            return []  # still unknown: the next poll or start tries again
        if found is not None:
            return await self._sync(row, found, cancel_reason=cancel_reason)
        sent_at = row.sent_at or row.updated_at
        deadline = sent_at + timedelta(seconds=self.receive_window_s + self.unknown_grace_s)
        if self.clock() >= deadline:
            state = OrderState(row.state)
            if state in (OrderState.SENT, OrderState.UNKNOWN):
                await self.journal.transition(
                    row.id,
                    OrderState.REJECTED,
                    reason="never reached the exchange (unknown to it after its receive window)",
                )
        elif row.state == OrderState.SENT.value:
            await self.journal.transition(row.id, OrderState.UNKNOWN, reason="not yet known to the exchange")
        return []

    async def _sync(
        self, row: OrderRecord, order: dict[str, Any], *, cancel_reason: str | None = None
    ) -> list[Any]:
        """Take an order's state and fills from the exchange's view of it."""
        assert row.id is not None
        filled = float(order.get("filled") or 0.0)
        state = STATUS.get(str(order.get("status")), OrderState.OPEN)
        if state is OrderState.OPEN and filled > 0:
            state = OrderState.PARTIALLY_FILLED
        fills: list[NewFill] = []
        if filled > row.filled + 1e-12:
            fills = await self._fills_of(row, order)
        exchange_id = str(order["id"]) if order.get("id") is not None else None
        current = OrderState(row.state)
        if current.final and current is state:
            if not fills:
                return []
        if current is OrderState.INTENT:
            await self.journal.transition(row.id, OrderState.SENT, sent=True)
        reason = cancel_reason if state is OrderState.CANCELLED else None
        updated, new = await self.journal.add_fills(
            row.id, fills, state, reason=reason, exchange_order_id=exchange_id
        )
        for fill in new:
            self._ledger.apply(Fill.of(fill, updated.role))
            self._emit(
                events.OrderFilled(
                    order_id=str(updated.id),
                    client_order_id=updated.client_order_id,
                    symbol=fill.symbol,
                    side=fill.side,
                    amount=fill.amount,
                    price=fill.price,
                    fee=fill.fee,
                    remaining=max(0.0, (updated.amount or 0.0) - updated.filled),
                    strategy_id=updated.strategy_id,
                    mode=self.mode,
                )
            )
        return new

    async def _fills_of(self, row: OrderRecord, order: dict[str, Any]) -> list[NewFill]:
        trades = await self.venue.call(
            lambda: self.exchange.fetch_my_trades(row.symbol, None, None, {"orderId": order["id"]}),
            what=f"{self.venue.id} fetch_my_trades {row.symbol} {order['id']}",
        )
        _, quote = split_symbol(row.symbol)
        fills = []
        for trade in trades:
            if str(trade.get("order")) != str(order["id"]):
                continue
            fee = trade.get("fee") or {}
            fills.append(
                NewFill(
                    trade_id=str(trade["id"]),
                    amount=float(trade["amount"]),
                    price=float(trade["price"]),
                    fee=float(fee.get("cost") or 0.0),
                    fee_asset=str(fee.get("currency") or quote),
                    ts=int(trade.get("timestamp") or 0),
                )
            )
        return fills

    async def _true_up_balances(self) -> dict[str, float]:
        """Record as ledger entries what the exchange's balances hold beyond the book's (deposits,
        withdrawals, trades made elsewhere), so the book equals the exchange.

        Only while none of our orders is working: a resting order filling between the balance and the
        journal being read would otherwise be counted twice (once as an adjustment, once as its fill).
        """
        working = await self.journal.in_flight(self.book)
        if working:
            log.info(
                "reconcile: %d orders working at %s; balances compared later", len(working), self.venue.id
            )
            return {}
        balance = await self.venue.call(
            lambda: self.exchange.fetch_balance(), what=f"{self.venue.id} fetch_balance"
        )
        ledger = await self.journal.ledger(self.book)
        totals: dict[str, float] = {
            asset: float(value or 0.0)
            for asset, value in (balance.get("total") or {}).items()
            if value is not None
        }
        adjusted: dict[str, float] = {}
        now_ms = int(self.clock().timestamp() * 1000)
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
