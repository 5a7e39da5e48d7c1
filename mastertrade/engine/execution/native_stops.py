"""The stop of a strategy's live position, resting at the exchange as well as kept by the daemon.

The daemon's protection (``protector.py``) watches every price and sells when a level is reached, but only
while it runs. Where the venue has native stop orders (``LiveBroker.has_native_stops``) and ``[execution]
native_stops`` is on, each armed protection also keeps one stop-limit sell resting at the exchange at the
stop in force (the higher of the fixed stop and the trailing level), for the position's amount, so the
position stays protected while the daemon is down; the next start books its fill like any other.

It is kept in step with the daemon's logic: replaced (cancel, then place) when the trailing level rises
or the protected amount changes, the new one placed only once the old one ended unsold (``_not_taken_back``:
one the exchange would not take back still holds the coins, and one placed beside it took the coins free
there, other owners', as the strategy's; one that sold just before its cancel left no position of that
size); cancelled before the daemon sells itself (a take-profit, a stop it saw first, the strategy's exit
signal), because the resting order holds the coins; cancelled when the protection closes. A cancel that
finds the stop already filled books that fill, and the protection then sees the position gone.

A take-profit rests too where the venue takes OCO order lists (``LiveBroker.has_oco``): the stop and the
take-profit go as one list (``live_oco.py``), so whichever the price reaches first sells and the exchange
cancels the other, with nobody connected; the pair is replaced as one when the trailing level or the
amount moves. Where the venue has no OCO lists, the take-profit stays with the daemon (a second resting
sell would need the coins the stop holds), which ``mt risk status`` says.

A stop (or a pair) that someone cancelled at the exchange, not MasterTrade (``exit_cancels``), is placed
again the same way, once the exchange confirms that it is cancelled (by its client order id; one it has
archived through its order list or by its order id: ``archived_legs``), and said loudly (a warning and a
critical alert naming the old and the new orders): the strategy's protection keeps its exits while the
strategy holds the position. When the exchange can tell nothing of one (its list archived too), nothing
is placed on a guess: it is said once (``exit_cancels.forgotten``; before, an error was logged at every
price), the position is shown without exits at the exchange (``mt positions``), and its exits are not
placed again while it is held; the daemon's own watch protects it meanwhile, and the strategy's next
position has its exits at the exchange again.

A take-profit cancelled by hand (``mt orders cancel`` without ``--unprotect``) is not put back: the
protection forgets it (``Protector.cancel_take_profit``), and the stop leg the exchange cancelled with it
(``exit_cancels.STOP_KEPT``) is placed again alone here, said in an info line.

A native stop is the strategy's only ``stop`` order in the symbol, and its take-profit leg its only
resting ``limit`` sell with the role ``take_profit`` (its other orders are market orders), which is how
they are found again after a restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, cast

from mastertrade import errors
from mastertrade.db.models.trading import OrderRecord
from mastertrade.engine.execution import exit_cancels, venue_steps
from mastertrade.engine.orders import OrderRequest, OrderState, OrderType, Side

if TYPE_CHECKING:
    from mastertrade.engine.execution.account import Account
    from mastertrade.engine.execution.live import LiveBroker

log = logging.getLogger(__name__)

RETRY_S = 60.0
"""After the exchange refused a native stop, the next attempt waits this long (no order every poll)."""
RESTING = [OrderState.SENT, OrderState.UNKNOWN, OrderState.OPEN, OrderState.PARTIALLY_FILLED]


class NativeStops:
    """See the module docstring."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self._locks: dict[tuple[str, str | None], asyncio.Lock] = {}
        self._retry_at: dict[tuple[str, str | None], float] = {}
        """After a refused placement, no new attempt for that position before this (monotonic) time."""

    @property
    def oco(self) -> bool:
        """Whether take-profits rest at the exchange too (with the stop, as one OCO list)."""
        return self.enabled and bool(getattr(self.account.broker, "has_oco", False))

    @property
    def enabled(self) -> bool:
        broker = self.account.broker
        return bool(
            self.account.settings.execution.native_stops and getattr(broker, "has_native_stops", False)
        )

    async def resting(self, symbol: str, strategy_id: str | None) -> list[OrderRecord]:
        rows = await self.account.journal.orders(book=self.account.book, states=RESTING, symbol=symbol)
        return [
            row
            for row in rows
            if row.side == "sell"
            and row.strategy_id == strategy_id
            and (
                row.type == OrderType.STOP.value
                or (row.type == OrderType.LIMIT.value and row.role == "take_profit")
            )
        ]

    def lock(self, symbol: str, strategy_id: str | None) -> asyncio.Lock:
        """The lock of one position's resting exits: one caller at a time changes them (a price update,
        the housekeeping poll, a take-profit's cancel by hand through the API), else two callers that
        both found them missing placed two, the second taking the first back."""
        key = (symbol, strategy_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    async def ensure(
        self,
        symbol: str,
        strategy_id: str | None,
        level: float,
        amount: float,
        role: str,
        take: float | None = None,
    ) -> None:
        """One stop at ``level`` for ``amount`` resting at the exchange, with the take-profit at ``take``
        beside it as one OCO list where the venue has them (replacing what differs)."""
        if not self.enabled:
            return
        async with self.lock(symbol, strategy_id):
            await self._ensure(symbol, strategy_id, level, amount, role, take)

    async def _ensure(
        self,
        symbol: str,
        strategy_id: str | None,
        level: float,
        amount: float,
        role: str,
        take: float | None,
    ) -> None:
        if not self.oco:
            take = None
        exchange = getattr(self.account.broker, "exchange", None)
        if exchange is not None:
            level = float(exchange.price_to_precision(symbol, level))
            # whole lot steps, a float a hair under a step counting as on it: a holding left as
            # 0.08499999999999999 by its sums is 0.085 at the exchange, not a step short (0.08499)
            amount = venue_steps.whole_steps(exchange, symbol, amount)
            if not amount > 0:
                return  # less than one lot step: nothing an exit could sell
            if take is not None:
                take = float(exchange.price_to_precision(symbol, take))
        current = await self.resting(symbol, strategy_id)
        stops = [row for row in current if row.type == OrderType.STOP.value]
        takes = [row for row in current if row.type != OrderType.STOP.value]

        def same(row: OrderRecord) -> bool:
            return abs((row.amount or 0.0) - row.filled - amount) <= 1e-12

        kept = await self._cancelled(symbol, strategy_id, exit_cancels.STOP_KEPT)
        if (
            len(stops) == 1
            and stops[0].stop_price == level
            and same(stops[0])
            and (
                (take is None and not takes)
                or (take is not None and len(takes) == 1 and takes[0].price == take and same(takes[0]))
            )
        ):
            await self._answer_kept(kept, stops)  # placed by a run that stopped before saying so
            return
        key = (symbol, strategy_id)
        if time.monotonic() < self._retry_at.get(key, 0.0):
            return  # refused a moment ago: the daemon protects meanwhile; try again later
        cancelled = await self._cancelled(symbol, strategy_id, exit_cancels.CANCELLED_AT_EXCHANGE)
        if cancelled and not await self._confirmed(cancelled):
            return  # never placed again on a guess
        if not cancelled and await self._unconfirmed(symbol, strategy_id):
            return  # said once: the position is shown without exits at the exchange until it is sold
        await self.release_locked(symbol, strategy_id, "replaced by the protection's new level")
        if await self._not_taken_back(current):
            return  # the protection settles first (closed, or placed again for what is left)
        if take is not None:
            placed = await self._place_pair(symbol, strategy_id, level, amount, role, take)
        else:
            placed = await self._place_stop(symbol, strategy_id, level, amount, role)
        if cancelled:
            broker = cast("LiveBroker", self.account.broker)  # only a live broker's exits rest there
            if placed:
                done = exit_cancels.placed_again(placed, door=False) + (
                    "; a strategy's protection keeps its exits at the exchange while the strategy holds "
                    "the position"
                )
            else:
                done = (
                    "placing them again was refused: only the daemon's own watch protects the position, "
                    "while it runs"
                )
            await exit_cancels.answer(broker, cancelled, done)
        await self._answer_kept(kept, placed)

    async def _not_taken_back(self, replaced: list[OrderRecord]) -> bool:
        """Whether the exits ``replaced`` did not simply end at their cancel: one still rests (the cancel
        failed, or its answer is unknown: it holds the coins, and a new exit beside it would take the coins
        free there, which are other owners', as the strategy's), or one sold meanwhile (it filled before the
        cancel reached it: the position is not the amount the new exits were sized for). Nothing is placed
        then: the next price or poll asks again, once the protection has settled what is left."""
        journal = self.account.journal
        for row in replaced:
            assert row.id is not None
            now = await journal.get(row.id)
            if OrderState(now.state) in RESTING:
                log.warning(
                    "%s of %s not taken back yet: its replacement waits (the next price asks again)",
                    exit_cancels.describe(now),
                    now.symbol,
                )
                return True
            if now.filled > row.filled:
                log.info(
                    "%s of %s sold %.8g before its cancel: not replaced for the old amount",
                    exit_cancels.describe(now),
                    now.symbol,
                    now.filled - row.filled,
                )
                return True
        return False

    async def _cancelled(self, symbol: str, strategy_id: str | None, reason: str) -> list[OrderRecord]:
        """The strategy's exits in ``symbol`` cancelled with ``reason`` (not answered yet): someone
        cancelled them at the exchange (``CANCELLED_AT_EXCHANGE``), or the stop leg the exchange cancelled
        with a take-profit cancelled by hand (``STOP_KEPT``, ``Protector.cancel_take_profit``)."""
        rows = await self.account.journal.orders(
            book=self.account.book, states=[OrderState.CANCELLED], symbol=symbol, reason=reason
        )
        return sorted((row for row in rows if row.strategy_id == strategy_id), key=lambda row: row.id or 0)

    async def _confirmed(self, cancelled: list[OrderRecord]) -> bool:
        """Whether the exchange confirms each of ``cancelled`` ended (``exit_cancels.unconfirmed``), so
        they may be placed again. When it knows one no more (archived, its list too), that is said once
        (``exit_cancels.forgotten``: answered, and the position shown without exits); before, an error
        was logged at every price, for as long as the position was held."""
        broker = cast("LiveBroker", self.account.broker)  # only a live broker's exits rest there
        doubt = await exit_cancels.unconfirmed(broker, cancelled)
        if doubt is not None and not doubt[1]:
            await exit_cancels.forgotten(broker, cancelled, doubt[0], watched=True)
        return doubt is None

    async def _unconfirmed(self, symbol: str, strategy_id: str | None) -> bool:
        """Whether the strategy's exits in ``symbol`` were said not placed again, the exchange unable to
        confirm how one ended, while the position they protected is still held (its record is kept until
        it is sold, or exits at the exchange cover it: ``unprotected``). Placed again at the next price
        instead, they would be placed on the guess that the old ones had ended."""
        broker = cast("LiveBroker", self.account.broker)
        rows = await self.account.journal.orders(
            book=self.account.book,
            states=[OrderState.CANCELLED],
            symbol=symbol,
            reason_prefix=f"{exit_cancels.CANCELLED_AT_EXCHANGE}: {exit_cancels.UNCONFIRMED}",
        )
        return any(
            row.strategy_id == strategy_id and broker.unprotected_parts.noted(row.parent_id or row.id or 0)
            for row in rows
        )

    async def _answer_kept(self, kept: list[OrderRecord], placed: list[OrderRecord]) -> None:
        """Say what became of stops kept after their take-profit's cancel by hand: placed again alone
        (an info line), or refused (loudly: the exchange holds no stop for the position)."""
        if not kept:
            return
        broker = cast("LiveBroker", self.account.broker)  # only a live broker's exits rest there
        stop = next((row for row in placed if row.type == OrderType.STOP.value), None)
        if stop is not None:
            done = f"placed again alone as {exit_cancels.describe(stop)}"
            await exit_cancels.answer(broker, kept, done, why=exit_cancels.KEPT, loud=False)
        else:
            done = (
                "placing it again was refused: only the daemon's own watch protects the position, while "
                "it runs"
            )
            await exit_cancels.answer(broker, kept, done, why=exit_cancels.KEPT)

    async def _place_stop(
        self, symbol: str, strategy_id: str | None, level: float, amount: float, role: str
    ) -> list[OrderRecord]:
        """The stop alone; the order placed, or none when it was not."""
        key = (symbol, strategy_id)
        request = OrderRequest(
            symbol,
            Side.SELL,
            OrderType.STOP,
            amount=amount,
            stop_price=level,
            strategy_id=strategy_id,
            role=role,
        )
        try:
            row = await self.account.broker.submit(request, placed_ts=self.account.placed_ts(symbol))
        except errors.MasterTradeError as exc:  # dust, a refusal: the daemon still protects
            log.warning("native stop of %s at %.8g not placed: %s", symbol, level, exc)
            self._retry_at[key] = time.monotonic() + RETRY_S
            return []
        if row.state == OrderState.REJECTED:
            log.warning("native stop of %s at %.8g refused: %s", symbol, level, row.reason)
            self._retry_at[key] = time.monotonic() + RETRY_S
            return []
        self._retry_at.pop(key, None)
        log.info("native stop of %s (%s) at %.8g for %.8g: %s", symbol, strategy_id, level, amount, row.state)
        return [row]

    async def _place_pair(
        self, symbol: str, strategy_id: str | None, level: float, amount: float, role: str, take: float
    ) -> list[OrderRecord]:
        """The stop and the take-profit as one OCO list (``live_oco.py``); its legs, or none when it was
        not placed."""
        key = (symbol, strategy_id)
        stop = OrderRequest(
            symbol,
            Side.SELL,
            OrderType.STOP,
            amount=amount,
            stop_price=level,
            strategy_id=strategy_id,
            role=role,
        )
        target = OrderRequest(
            symbol, Side.SELL, OrderType.LIMIT, amount=amount, price=take, strategy_id=strategy_id,
            role="take_profit",
        )  # fmt: skip
        try:
            broker = cast("LiveBroker", self.account.broker)  # ``oco`` says it is one
            legs = await broker.submit_oco(stop, target, placed_ts=self.account.placed_ts(symbol))
        except errors.MasterTradeError as exc:
            log.warning("native stop and take-profit of %s not placed: %s", symbol, exc)
            self._retry_at[key] = time.monotonic() + RETRY_S
            return []
        if any(row.state == OrderState.REJECTED for row in legs):
            log.warning("native stop and take-profit of %s refused: %s", symbol, legs[0].reason)
            self._retry_at[key] = time.monotonic() + RETRY_S
            return []
        self._retry_at.pop(key, None)
        log.info(
            "native stop %.8g and take-profit %.8g of %s (%s) for %.8g: %s",
            level, take, symbol, strategy_id, amount, [row.state for row in legs],
        )  # fmt: skip
        return list(legs)

    async def release(self, symbol: str, strategy_id: str | None, reason: str) -> None:
        """Cancel the strategy's resting exits in ``symbol`` (their fills, if any, are booked)."""
        async with self.lock(symbol, strategy_id):
            await self.release_locked(symbol, strategy_id, reason)

    async def release_locked(self, symbol: str, strategy_id: str | None, reason: str) -> None:
        """``release`` for a caller that holds ``lock(symbol, strategy_id)`` already (a sell by hand takes
        back several strategies' exits under their locks, ``protector``)."""
        for row in await self.resting(symbol, strategy_id):
            assert row.id is not None
            try:
                await self.account.broker.cancel(row.id, reason)
            except errors.MasterTradeError as exc:
                log.warning("cancelling native stop %s failed: %s", row.client_order_id, exc)
