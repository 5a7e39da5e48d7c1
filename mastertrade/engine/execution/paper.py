"""The paper broker: a simulated account whose orders fill by the backtest's rules (``matching``).

It trades one book (the paper account, or a paper-stage strategy's isolated book). Orders are journaled
as intents and accepted at once (or rejected when the book cannot pay or deliver); fills happen as price
updates arrive (``on_bar``), each journaled with the order states they cause in one transaction. The
broker keeps the book's ledger in memory by applying each new fill in the order it was recorded, which
is exactly the replay of the journal (``journal.ledger``); a test holds it to that.

A start is a recovery: an order left as an intent by a stop between journaling and accepting is accepted
if it is younger than ``intent_max_age_s``, cancelled as stale otherwise; one left "sent" is accepted; the
exits a sell by hand replaced are put back when that sell ended without selling before they were
(``paper_put_back``, as a cancel or a fill that ends it does at once).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from mastertrade.db.models.trading import OrderRecord
from mastertrade.db.types import utcnow
from mastertrade.engine import events
from mastertrade.engine.candle import Bar
from mastertrade.engine.execution import bracket_sell, order_events, paper_put_back
from mastertrade.engine.execution.bracket_sell import Plan
from mastertrade.engine.execution.broker import BarOutcome, Publish
from mastertrade.engine.execution.final_order import nothing_to_cancel
from mastertrade.engine.execution.journal import Journal, working_order
from mastertrade.engine.execution.ledger import Fill, Ledger, split_symbol
from mastertrade.engine.execution.matching import BookView, WorkingOrder, match
from mastertrade.engine.execution.portfolio import order_price
from mastertrade.engine.orders import FINAL_STATES, OrderRequest, OrderState, OrderType, Side
from mastertrade.errors import NotFound, OperationFailed, UserInputError


class PaperBroker:
    mode = "paper"

    def __init__(
        self,
        journal: Journal,
        book: str,
        *,
        quote: str = "USDT",
        fee: float = 0.001,
        slippage: float = 0.0,
        starting_cash: float = 10_000.0,
        strategy_id: str | None = None,
        intent_max_age_s: float = 60.0,
        publish: Publish | None = None,
    ) -> None:
        self.journal = journal
        self.book = book
        self.quote = quote
        self.fee = fee
        self.slippage = slippage
        self.starting_cash = starting_cash
        self.strategy_id = strategy_id
        self.intent_max_age_s = intent_max_age_s
        self.publish = publish
        self._ledger = Ledger()
        self._working: dict[int, OrderRecord] = {}
        self._cancelling: dict[int, asyncio.Event] = {}
        self._matching = asyncio.Lock()
        """Held by a price update's match and by a cancel: a cancel that came while a match was being
        written was answered "cancelled" and then the match filled the order anyway."""
        self._marks: dict[str, float] = {}
        self._started = False

    # --- life cycle -----------------------------------------------------------------------------

    async def start(self, ts: int = 0) -> None:
        """Create the book if new, recover orders left half-way, and load the book."""
        await self.journal.ensure_book(
            self.book,
            mode=self.mode,
            quote=self.quote,
            starting_cash=self.starting_cash,
            strategy_id=self.strategy_id,
            ts=ts,
        )
        stale_before = utcnow() - timedelta(seconds=self.intent_max_age_s)
        for row in await self.journal.orders(book=self.book, states=[OrderState.INTENT, OrderState.SENT]):
            assert row.id is not None
            if row.parent_id is not None:
                continue  # a bracket exit waits for its entry
            if row.state == OrderState.INTENT and row.created_at < stale_before:
                await self.journal.transition(row.id, OrderState.CANCELLED, reason="stale intent: never sent")
                await self._cancel_children(row.id, "its entry was never sent")
            else:
                await self.journal.transition(row.id, OrderState.OPEN, reason="accepted at restart")
        self._ledger = await self.journal.ledger(self.book)
        self._working = {}
        for row in await self.journal.orders(
            book=self.book, states=[OrderState.OPEN, OrderState.PARTIALLY_FILLED, OrderState.INTENT]
        ):
            assert row.id is not None
            self._working[row.id] = row
        if self.strategy_id is None:  # a strategy's own book takes no sells by hand
            async with self._matching:
                for sell_id in await paper_put_back.waiting(self.journal, self.book):
                    await self._put_back(await self.journal.get(sell_id))
        self._started = True

    async def close(self) -> None:
        self._started = False

    # --- state ----------------------------------------------------------------------------------

    async def ledger(self) -> Ledger:
        return self._ledger

    def marks(self) -> dict[str, float]:
        return dict(self._marks)

    async def working_orders(self) -> list[OrderRecord]:
        """The working orders as the ledger stands (``Broker.working_orders``): both are updated together,
        after a match's transaction, so the journal may already list an order filled whose fill the
        ledger has not booked yet; this set still holds it then."""
        return [row for row in self._working.values() if row.state is not OrderState.INTENT]

    def working(self, symbol: str | None = None) -> list[OrderRecord]:
        return [row for row in self._working.values() if symbol is None or row.symbol == symbol]

    async def fit_to_market(self, request: OrderRequest, *, allow_resize: bool) -> OrderRequest:
        """A paper book takes any amount and price."""
        return request

    @property
    def buy_fee_reserve(self) -> float:
        """A resting buy's fee is held back with its value (``reserved_cash``)."""
        return self.fee

    def reserved_cash(self) -> float:
        """Cash promised to working buy orders (at their limit, stop or reference price, fee included)."""
        total = 0.0
        for row in self._working.values():
            if row.side != "buy" or row.state == OrderState.INTENT or row.amount is None:
                continue
            price = order_price(row, self._marks)
            if price:
                total += (row.amount - row.filled) * price * (1 + self.fee)
        return total

    def reserved_amount(self, symbol: str) -> float:
        """Position promised to working sells: one-cancels-other siblings promise the same units once."""
        groups: dict[str, float] = {}
        total = 0.0
        for row in self._working.values():
            if row.symbol != symbol or row.side != "sell" or row.state == OrderState.INTENT:
                continue
            remaining = (row.amount or 0.0) - row.filled
            if row.oco:
                groups[row.oco] = max(groups.get(row.oco, 0.0), remaining)
            else:
                total += remaining
        return total + sum(groups.values())

    # --- orders ---------------------------------------------------------------------------------

    async def submit(self, request: OrderRequest, *, placed_ts: int) -> OrderRecord:
        """Journal and accept an order, or journal it as rejected when the book cannot cover it."""
        request.validate()
        if split_symbol(request.symbol)[1] != self.quote:
            raise UserInputError(f"{request.symbol}: this book trades against {self.quote}")
        row, children = await self.journal.create_order(self.book, self.mode, request, placed_ts=placed_ts)
        assert row.id is not None
        order_id = row.id
        # Opened under the matching lock: a price that arrives while the order is being opened (its
        # state committed and visible, the book not yet told) waits and meets it, instead of passing
        # a market order that then waits for the price after.
        async with self._matching:
            problem = self._cannot_cover(request)
            if problem is not None:
                row = await self.journal.transition(order_id, OrderState.REJECTED, reason=problem)
                await self._cancel_children(order_id, "its entry was rejected")
                self._emit(order_events.rejected(row, problem, self.mode))
                return row
            row = await self.journal.transition(order_id, OrderState.OPEN, sent=True)
            self._working[order_id] = row
            for child in children:
                assert child.id is not None
                self._working[child.id] = child
            self._emit(order_events.placed(row, self.mode))  # before any fill's event
        return row

    async def sell_replacing(
        self, request: OrderRequest, *, placed_ts: int, plan: Plan
    ) -> tuple[OrderRecord, str | None]:
        """A sell by hand that replaces its position's bracket exits (``bracket_sell``), in one journal
        transaction: a book that cannot deliver it rejects it with the exits untouched. Returns the
        sell and what was done to the exits (None when nothing was)."""
        request.validate()
        async with self._matching:
            gone = [row for row in plan.exits if row.id not in self._working]
            if gone:
                raise OperationFailed(
                    f"{bracket_sell.names(gone)} changed while the sell was checked (filled or cancelled):"
                    " look at `mt orders` and sell again"
                )
            problem = self._cannot_cover(request, released=plan.released)
            if problem is not None:
                row, _ = await self.journal.create_order(self.book, self.mode, request, placed_ts=placed_ts)
                assert row.id is not None
                row = await self.journal.transition(row.id, OrderState.REJECTED, reason=problem)
                self._emit(order_events.rejected(row, problem, self.mode))
                return row, None
            symbol = request.symbol
            sell, new = await self.journal.sell_replacing(
                self.book,
                self.mode,
                request,
                placed_ts=placed_ts,
                exits=plan.exits,
                keep=plan.keep,
                reason=lambda sell_id, ids, resized: bracket_sell.sold_reason(
                    sell_id, ids, plan.keep, symbol, resized=resized
                ),
            )
            assert sell.id is not None
            for row in plan.exits:
                old = self._working.pop(row.id or 0)
                self._emit(order_events.cancelled(old, "replaced for a sell by hand", self.mode))
            for row in new:
                assert row.id is not None
                self._working[row.id] = row
                self._emit(order_events.placed(row, self.mode))
            self._working[sell.id] = sell
            self._emit(order_events.placed(sell, self.mode))
        return sell, bracket_sell.note(plan.exits, new, plan.keep, symbol)

    def _cannot_cover(self, request: OrderRequest, *, released: float = 0.0) -> str | None:
        if request.amount is None:
            return None  # an equity fraction is sized to what the book has, at the fill
        if request.side is Side.SELL:
            held = self._ledger.held(request.symbol)
            free = held - self.reserved_amount(request.symbol) + released
            if request.amount > free:
                return (
                    f"insufficient position: sell of {request.amount:.8g} {request.symbol}, "
                    f"{max(free, 0.0):.8g} free (long-only spot)"
                )
            return None
        price = {
            OrderType.LIMIT: request.price,
            OrderType.STOP: request.stop_price,
            OrderType.MARKET: request.reference_price or self._marks.get(request.symbol),
        }[request.type]
        market = request.reference_price or self._marks.get(request.symbol)
        if request.type is OrderType.STOP and price is not None and market is not None:
            price = max(price, market)  # a stop below the market buys at the market, at once
        if price is None:
            return f"no price known for {request.symbol} yet: cannot value the order"
        cost = request.amount * price * (1 + self.fee)
        free_cash = self._ledger.balance(self.quote) - self.reserved_cash()
        if cost > free_cash:
            return f"insufficient funds: cost with fee {cost:,.2f} {self.quote}, free cash {free_cash:,.2f}"
        return None

    async def cancel(self, order_id: int, reason: str = "cancelled by hand") -> OrderRecord:
        # One at a time, and never inside a price update's match: a second cancel at the same time
        # (another terminal, the TUI) waits for the first to be committed and is told the order's
        # state, instead of cancelling it again and publishing it twice; a cancel that meets a fill
        # is told the order filled.
        busy = self._cancelling.get(order_id)
        if busy is not None:
            await busy.wait()
        async with self._matching:
            return await self._cancel(order_id, reason)

    async def _cancel(self, order_id: int, reason: str) -> OrderRecord:
        claimed = self._working.pop(order_id, None)
        if claimed is None:
            found = await self.journal.get(order_id)
            if found.book != self.book:
                raise NotFound(f"no order {order_id} in book {self.book}")
            if found.state.final:
                raise nothing_to_cancel(found)
            raise OperationFailed(f"order {order_id} is {found.state}: only open orders can be cancelled")
        done = self._cancelling[order_id] = asyncio.Event()
        try:
            row = await self.journal.transition(order_id, OrderState.CANCELLED, reason=reason)
        except BaseException:
            if (await self.journal.get(order_id)).state not in FINAL_STATES:
                self._working.setdefault(order_id, claimed)  # still open: it keeps working
            raise
        finally:
            del self._cancelling[order_id]
            done.set()
        await self._cancel_children(order_id, f"its entry was cancelled ({reason})")
        self._emit(order_events.cancelled(row, reason, self.mode))
        await self._put_back(row)
        return row

    async def _put_back(self, sell: OrderRecord) -> None:
        """The exits ``sell`` replaced, put back if it ended without selling (``paper_put_back``); the
        caller holds the matching lock."""
        if not paper_put_back.ended_short(sell):
            return
        held = self._ledger.held(sell.symbol)
        cancelled, new = await paper_put_back.put_back(
            self.journal, self.book, sell, held, list(self._working.values())
        )
        for row in cancelled:
            self._working.pop(row.id or 0, None)
            self._emit(order_events.cancelled(row, row.reason or "", self.mode))
        for row in new:
            assert row.id is not None
            self._working[row.id] = row
            self._emit(order_events.placed(row, self.mode))

    async def poll(self) -> BarOutcome:
        """Nothing to ask: paper orders fill on the price updates ``on_bar`` gives."""
        return BarOutcome()

    async def cancel_exits(self, symbol: str, reason: str, *, strategy_id: str | None) -> None:
        """Cancel strategy ``strategy_id``'s working bracket exits in ``symbol``, before its own exit
        replaces them. Other owners' (another strategy's, a buy bracketed by hand) keep protecting their
        positions: every exit of the symbol was cancelled, and those positions were left without a stop
        (a buy by hand's for good, another strategy's until its own exit signal). A strategy's own book
        holds only its orders: all of them are its."""
        for row in list(self._working.values()):
            mine = self.strategy_id is not None or row.strategy_id == strategy_id
            if row.symbol == symbol and row.parent_id is not None and mine and row.id is not None:
                await self.cancel(row.id, reason)

    async def _cancel_children(self, parent_id: int, reason: str) -> None:
        for row in await self.journal.orders(book=self.book, states=[OrderState.INTENT]):
            if row.parent_id == parent_id and row.id is not None:
                await self.journal.transition(row.id, OrderState.CANCELLED, reason=reason)
                self._working.pop(row.id, None)

    # --- prices ---------------------------------------------------------------------------------

    async def on_bar(self, symbol: str, bar: Bar) -> BarOutcome:
        """Fill what this update of ``symbol``'s bar fills (see ``matching``), journal it, publish it."""
        self._marks[symbol] = bar.close
        async with self._matching:
            return await self._match(symbol, bar)

    async def _match(self, symbol: str, bar: Bar) -> BarOutcome:
        outcome = BarOutcome()
        orders = [working_order(row) for row in self._working.values() if row.symbol == symbol]
        if not orders:
            return outcome
        held = self._ledger.held(symbol)
        cash = self._ledger.balance(self.quote)
        equity = self._ledger.equity(self.quote, self._marks)
        mark = self._marks.get(symbol, bar.close)
        view = BookView(cash=cash, position=held, other_value=equity - cash - held * mark)
        result = match(orders, bar, view, fee=self.fee, slippage=self.slippage)
        if not result.changed and not result.fills:
            return outcome
        changed, fills = await self.journal.apply_match(self.book, symbol, result)
        outcome.orders = changed
        outcome.fills = fills
        roles = {row.id: row.role for row in changed}
        for fill in fills:
            trip = self._ledger.apply(Fill.of(fill, roles.get(fill.order_id, "order")))
            if trip is not None:
                outcome.round_trips.append(trip)
        for row in changed:
            assert row.id is not None
            if row.state.working or row.state == OrderState.INTENT:
                self._working[row.id] = row
            else:
                self._working.pop(row.id, None)
        self._publish_outcome(outcome)
        for row in changed:  # a sell by hand cut to the position: the exits it replaced come back
            await self._put_back(row)
        return outcome

    def _publish_outcome(self, outcome: BarOutcome) -> None:
        rows = {row.id: row for row in outcome.orders}
        for fill in outcome.fills:
            row = rows[fill.order_id]
            self._emit(
                events.OrderFilled(
                    order_id=str(fill.order_id),
                    client_order_id=row.client_order_id,
                    symbol=fill.symbol,
                    side=fill.side,
                    amount=fill.amount,
                    price=fill.price,
                    fee=fill.fee,
                    fee_asset=fill.fee_asset,
                    remaining=max(0.0, (row.amount or row.filled) - row.filled),
                    strategy_id=row.strategy_id,
                    mode=self.mode,
                    book=self.book,
                )
            )
        for row in outcome.orders:
            if row.state == OrderState.CANCELLED:
                self._emit(order_events.cancelled(row, row.reason or "", self.mode))

    def _emit(self, event: events.Event) -> None:
        if self.publish is not None:
            self.publish(event)


__all__ = ["PaperBroker", "WorkingOrder"]
