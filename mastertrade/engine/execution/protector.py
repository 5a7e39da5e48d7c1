"""Protective exits of live positions, kept by the daemon: synthetic stop-loss, take-profit, trailing stop.

On paper a strategy's entry carries its bracket as paper orders (``matching``). At a live exchange
MasterTrade places no stop orders, so the daemon protects every live position a strategy opened with a
bracket itself, on every price update the market feed brings (ticks, not only closed bars). The
protection is daemon-side: **while the daemon is down, nothing protects a live position** (a restart
picks the protections up again; ``mt risk status`` shows them).

The life of a protection (``db/models/protection.py``, levels in ``protection.py``):

1. Before a live entry is journaled, a ``pending`` protection is committed under the entry's client
   order id, so a crash anywhere leaves a row that the next start settles against the journal (an entry
   never journaled was never sent: the protection is closed).
2. Once the entry has fills it is armed (``active``) from their average price, by the backtest's rules.
   ``armed_ts`` is the entry bar's open time (the bar after the signal), so that bar's whole range counts
   as in the backtest; a protection armed later (an entry whose answer came late) counts whole bars from
   the next one and, until then, each price seen.
3. Each price update of the symbol is checked: a bar's low and high when the bar opened at or after
   ``armed_ts``, else its latest price. A closed bar then raises the trailing peak to its high (persisted;
   in force from the next bar; never lowered).
4. A level reached moves the protection to ``triggered`` with a fresh client order id, committed before
   the sell is journaled, so it fires once: later prices leave it alone. The sell is a market sell of
   the position (the strategy's own holding, at most the free position: it can only reduce it; never
   what its own exits still resting hold when the exchange would not take them back: the coins free
   beside them are other owners', and it waits until the next price instead), through
   the account's risk check (which never blocks an exit, and audits it) and the live broker's journaled
   path (intent before send, an unknown answer resolved by client id, never resent).
5. A triggered protection is settled from its sell's journal state: filled closes it; in flight (sent,
   unknown, open) waits for the broker to resolve it; refused, cancelled, or never received (the broker
   proves that by client id after the receive window) re-arms it while the position is there, and a later
   price decides again with a new client order id (not sooner than ``RETRY_S`` after a failure seen in
   this run; at a start, at once).
6. A position closed by other means (the strategy's exit signal, its exits resting at the exchange, a
   manual sell) closes its protection, whose reason names what sold it (before, a stop or take-profit
   filling at the exchange read as the exit signal) and the dust it left, if any (``dust``: under the
   least the exchange takes in one sell, the round trip is closed).

A sell by hand of part of a strategy's position (``mt trade sell``) whose exits rest at the exchange
(they hold its coins) goes through ``sell_taking_back``: the exits are taken back under the position's
lock, the sell is sent, and the protection places them again at its own levels for what is left, never
more than the account holds (``_position_left``): not the old full size, and one set, not a second beside
it. A crash in between leaves the protection armed, and the next start places its exits again for what
is held then. A sell taking the account's own coins and several strategies' (their exits all taken back)
is booked by each owner's share (``order_shares``), so each strategy's exits come back for what it still
holds; beside a sell by hand still on its way (a limit sell resting), for what that sell leaves it
(``_rest``), and a level reached then sells only that (``_fire``): the coins the sell by hand takes are
its, until it ends without them (cancelled by hand or at the exchange, expired, rejected), when the
protection protects and sells them again.

Stale prices blind the protection: the stale-data breaker watches the protected symbols too, and while a
protected symbol has no fresh price the protection is ``degraded``, which is published as a critical
``RiskBreached`` (limit ``protection``, the ``risk_limit`` alert rule) and shown by ``mt risk status``.
Every arm, trigger, re-arm and close is written to the risk audit log (kind ``protection``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from mastertrade import errors
from mastertrade.db.models.protection import ProtectionRecord
from mastertrade.db.models.trading import OrderRecord
from mastertrade.db.types import utcnow
from mastertrade.engine import events
from mastertrade.engine.backtest.params import OrderParams
from mastertrade.engine.candle import Bar
from mastertrade.engine.execution import bracket_sell, dust, exit_cancels, venue_steps
from mastertrade.engine.execution.native_stops import NativeStops
from mastertrade.engine.execution.protection import Levels, Trigger
from mastertrade.engine.execution.protection_store import Guard, ProtectionStore, levels_of, protection_info
from mastertrade.engine.orders import OrderRequest, OrderState, OrderType, Side, new_client_order_id

if TYPE_CHECKING:
    from mastertrade.db.database import Database
    from mastertrade.engine.execution.account import Account

log = logging.getLogger(__name__)

DUST = 1e-6
"""A position left below this fraction of the protected amount counts as closed."""
RETRY_S = 5.0
"""After a protective sell failed (refused, or it never reached the exchange), the next attempt waits
this many seconds, so a refusal that persists does not send an order on every tick."""
NOTE = (
    "strategies' live positions are protected by the daemon itself, only while it runs (no stop order "
    "rests at the exchange for them): keep the daemon running"
)
NATIVE_NOTE = (
    "each strategy position's stop also rests at the exchange as a stop-limit order, so it holds while "
    "the daemon is down; take-profits (this venue has no OCO order lists) and moving the trailing stop "
    "up hold only while the daemon runs"
)
TAKE_CANCELLED = (
    "its take-profit was cancelled by hand: not put back, and the daemon does not sell there, until the "
    "strategy's next entry"
)
"""The reason of a protection whose take-profit was cancelled by hand (``cancel_take_profit``)."""
TAKEN_BACK = "taken back for a sell by hand; the protection places it again for what is left"
"""The reason of a strategy's exit taken back for a sell by hand (``sell_taking_back``)."""
EXIT_SIGNAL = "the position was closed by its strategy (exit signal)"
"""How the close reason of a protection whose position the strategy's exit signal sold begins."""
OCO_NOTE = (
    "each strategy position's stop also rests at the exchange, with its take-profit as one OCO order "
    "list, so both hold while the daemon is down; moving the trailing stop up needs the daemon running"
)


class Protector:
    """The protections of the live account (see the module docstring)."""

    def __init__(self, account: Account, db: Database) -> None:
        self.account = account
        self.store = ProtectionStore(db)
        self.native = NativeStops(account)
        """The stops resting at the exchange beside the daemon's own watch (``native_stops.py``)."""
        self.rows: dict[int, ProtectionRecord] = {}
        """Protections not closed, by id."""
        self.degraded: str | None = None
        self._sending: set[str] = set()
        """Client order ids (entries and protective sells) being journaled and sent right now."""
        self._entry_working: set[int] = set()
        """Protections armed while their entry could still fill more."""
        self._retry_at: dict[int, datetime] = {}
        self._attempted: set[int] = set()
        """Protections that sent (or tried to send) a sell in this run."""
        self._blocked: set[int] = set()

    @property
    def book(self) -> str:
        return self.account.book

    def symbols(self) -> list[str]:
        return sorted({row.symbol for row in self.rows.values()})

    def watched(self) -> list[ProtectionRecord]:
        """Protections guarding a position (armed, or with their sell on its way)."""
        return [row for row in self.rows.values() if row.state in (Guard.ACTIVE, Guard.TRIGGERED)]

    def watches(self, symbol: str, strategy_id: str) -> bool:
        """Whether a protection guards ``strategy_id``'s position in ``symbol`` (``watched``)."""
        return any(row.symbol == symbol and row.strategy_id == strategy_id for row in self.watched())

    # --- life cycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the open protections and settle each against the journal (after the broker reconciled,
        so every order that may be at the exchange has been resolved by its client id)."""
        self.rows = {row.id: row for row in await self.store.open(self.book) if row.id is not None}
        await self.sync()
        if self.rows:
            log.info("protecting %d live positions: %s", len(self.watched()), ", ".join(self.symbols()))

    async def sync(self, symbol: str | None = None) -> None:
        """Settle every open protection (of ``symbol``): arm those whose entry filled, close those whose
        position is gone, settle those whose sell has an outcome."""
        for row in list(self.rows.values()):
            if symbol is None or row.symbol == symbol:
                await self._settle(row)

    # --- entries --------------------------------------------------------------------------------

    async def enter(
        self,
        request: OrderRequest,
        bracket: OrderParams,
        send: Callable[[OrderRequest], Awaitable[object]],
    ) -> None:
        """Send a live entry through ``send`` with its bracket kept here: the pending protection is
        committed first, under the client order id the entry is then journaled with."""
        if all(value is None for value in (bracket.stop_loss, bracket.take_profit, bracket.trailing_stop)):
            await send(request)
            return
        client = new_client_order_id()
        row = await self.store.create(
            self.book,
            request.symbol,
            request.strategy_id,
            client,
            stop_loss=bracket.stop_loss,
            take_profit=bracket.take_profit,
            trailing_stop=bracket.trailing_stop,
        )
        assert row.id is not None
        self.rows[row.id] = row
        self._sending.add(client)
        try:
            await send(replace(request, client_order_id=client))
        finally:
            self._sending.discard(client)
        if row.id in self.rows:
            await self._settle(self.rows[row.id])

    # --- prices ---------------------------------------------------------------------------------

    async def on_price(self, symbol: str, bar: Bar) -> None:
        """Check the symbol's armed protections against a price update (see the module docstring)."""
        for row in [r for r in self.rows.values() if r.symbol == symbol and r.state == Guard.ACTIVE]:
            assert row.id is not None
            levels = levels_of(row)
            whole = row.armed_ts is not None and bar.ts >= row.armed_ts
            low, high = (bar.low, bar.high) if whole else (bar.close, bar.close)
            hit = levels.hit(low, high)
            if hit is not None and self._may_fire(row):
                try:
                    await self._fire(row, hit, bar.close)
                except errors.MasterTradeError as exc:
                    log.error("protection %s of %s: the sell failed: %s", row.id, symbol, exc)
                current = self.rows.get(row.id)
                if current is None or current.state != Guard.ACTIVE:
                    continue
                row = current
            if bar.closed and whole:
                raised = levels.after_close(bar.high)
                if raised.peak is not None and raised.peak != levels.peak:
                    await self._rest(self._keep(await self.store.set_peak(row, raised.peak)))

    def _may_fire(self, row: ProtectionRecord) -> bool:
        assert row.id is not None
        wait = self._retry_at.get(row.id)
        return wait is None or self.account.clock() >= wait

    async def _fire(self, row: ProtectionRecord, hit: Trigger, price: float) -> None:
        """A level was reached: commit the trigger with a new client order id, then sell (after taking
        back the stop resting at the exchange, which holds the coins; if it filled, nothing is left)."""
        assert row.id is not None
        await self.native.release(row.symbol, row.strategy_id, f"the protection sells itself ({hit.role})")
        left, why = await self._position_left(row)
        if left <= self._dust(row):
            await self._close(row, Guard.ACTIVE, why)
            return
        # what a sell by hand on its way takes of the position is that sell's (``Account.strategy_to_sell``);
        # what its own exits still resting hold (their cancel failed, or its answer is unknown) is theirs:
        # the coins free beside them are other owners' (the account's own, another strategy's), never sold
        promised = await self._promised(row)
        beside, held = await self.beside_resting(row.symbol, row.strategy_id, left - promised)
        portfolio = await self.account.portfolio()
        holding = portfolio.holdings.get(row.symbol)
        free = max(0.0, holding.amount - holding.reserved) if holding is not None else 0.0
        amount = min(beside, free)
        if amount <= self._dust(row):
            if row.id not in self._blocked:
                self._blocked.add(row.id)
                if left - promised <= self._dust(row):
                    whose = (
                        f"the {left:.8g} left are promised to a sell by hand still working (if it ends "
                        "without them, the protection sells them)"
                    )
                elif beside <= self._dust(row):
                    whose = (
                        f"its exits resting at the exchange, which hold its {held:.8g}, could not be taken "
                        "back yet (the next price asks again)"
                    )
                else:
                    whose = "the position is promised to open sell orders"
                log.warning(
                    "protection %s of %s: %s reached but %s; waiting for them",
                    row.id,
                    row.symbol,
                    hit.role,
                    whose,
                )
            return
        self._blocked.discard(row.id)
        client = new_client_order_id()
        moved = await self.store.move(
            row,
            Guard.ACTIVE,
            Guard.TRIGGERED,
            exit_client_order_id=client,
            trigger=hit.role,
            trigger_level=hit.level,
            trigger_seen=hit.seen,
            triggered_at=utcnow(),
        )
        if moved is None:  # another caller moved it first
            self._keep(await self.store.get(row.id))
            return
        self._keep(moved)
        self._attempted.add(row.id)
        message = (
            f"{hit.role} of {row.symbol} at {hit.level:.8g} reached (price {hit.seen:.8g}): "
            f"selling {amount:.8g} at market"
        )
        log.warning("protection %s: %s", row.id, message)
        await self._audit(moved, message, client_order_id=client, amount=amount, data={"seen": hit.seen})
        request = OrderRequest(
            row.symbol,
            Side.SELL,
            OrderType.MARKET,
            amount=amount,
            reference_price=price,
            strategy_id=row.strategy_id,
            client_order_id=client,
            role=hit.role,
        )
        self._sending.add(client)
        try:
            await self.account.send(
                request, price, self.account.placed_ts(row.symbol), strategy_id=row.strategy_id
            )
        except errors.UserInputError as exc:
            # Refused before it was journaled (a remainder below the exchange's precision, say).
            if await self._order(client) is None:
                await self._close(moved, Guard.TRIGGERED, f"nothing left to sell: {exc}")
                return
            raise
        finally:
            self._sending.discard(client)
        await self._settle(moved)

    # --- settling -------------------------------------------------------------------------------

    async def _settle(self, row: ProtectionRecord) -> None:
        state = Guard(row.state)
        if state is Guard.PENDING:
            await self._settle_pending(row)
        elif state is Guard.ACTIVE:
            await self._settle_active(row)
        elif state is Guard.TRIGGERED:
            await self._settle_triggered(row)

    async def _settle_pending(self, row: ProtectionRecord) -> None:
        if row.entry_client_order_id in self._sending:
            return
        entry = await self._order(row.entry_client_order_id)
        if entry is None:
            await self._close(
                row, Guard.PENDING, "the entry was not sent (refused by the risk check, or never journaled)"
            )
        elif entry.filled > 0:
            await self._arm(row, entry)
        elif entry.state.final:
            why = f": {entry.reason}" if entry.reason else ""
            await self._close(row, Guard.PENDING, f"the entry was {entry.state}{why}; nothing to protect")

    async def _arm(self, row: ProtectionRecord, entry: OrderRecord) -> None:
        assert row.id is not None
        price = entry.cost / entry.filled
        levels = Levels.arm(price, row.stop_loss, row.take_profit, row.trailing_stop)
        armed_ts = max(entry.placed_ts, self.account.placed_ts(row.symbol))
        moved = await self.store.move(
            row,
            Guard.PENDING,
            Guard.ACTIVE,
            amount=entry.filled,
            entry_price=price,
            stop_price=levels.fixed_stop,
            take_price=levels.take,
            trail_peak=levels.peak,
            armed_ts=armed_ts,
        )
        if moved is None:
            self._keep(await self.store.get(row.id))
            return
        self._keep(moved)
        if not entry.state.final:
            self._entry_working.add(row.id)
        await self._audit(
            moved, f"armed for {entry.filled:.8g} {row.symbol} from {price:.8g}: {_levels(levels)}"
        )
        await self._rest(moved)

    async def _settle_active(self, row: ProtectionRecord) -> None:
        assert row.id is not None
        if row.id in self._entry_working:
            row = await self._follow_entry(row)
        left, why = await self._position_left(row)
        if left <= self._dust(row):
            await self._close(row, Guard.ACTIVE, why)
        else:
            await self._rest(row, left)

    async def _rest(self, row: ProtectionRecord, left: float | None = None) -> None:
        """Keep the stop in force resting at the exchange for what is left (see ``native_stops``), less
        what a sell by hand on its way takes of the position (a limit sell resting, taking its share:
        ``order_shares.pending``); that sell holds those coins, and the position keeps only the rest."""
        if not self.native.enabled or row.state != Guard.ACTIVE:
            return
        level = levels_of(row)
        if level.stop is None:
            return
        if left is None:
            left, _ = await self._position_left(row)
        left -= await self._promised(row)
        if left > self._dust(row):
            await self.native.ensure(
                row.symbol, row.strategy_id, level.stop, left, level.stop_role, take=level.take
            )

    async def cancel_take_profit(self, row: OrderRecord) -> OrderRecord | None:
        """``mt orders cancel`` (without ``--unprotect``) of a strategy's take-profit resting at the
        exchange in one OCO list with its stop: the human's cancel holds, as a bracketed buy's does
        (``take_profit_only``). The protection of the position forgets its take-profit (persisted, and
        before the cancel is asked: a crash in between ends the same at the next start, where the pair is
        replaced by the stop alone), so the daemon neither sells there nor puts it back; the exchange
        cancels the list as one, and the stop is placed again alone at once (``native_stops``). The
        strategy's next entry has its own protection, with its take-profit. Returns the take-profit, its
        reason saying what became of the stop; None when ``row`` is not such a take-profit."""
        if row.role != "take_profit" or row.strategy_id is None or row.oco is None or row.id is None:
            return None
        if not OrderState(row.state).working or row.book != self.book:
            return None
        journal = self.account.journal
        async with self.native.lock(row.symbol, row.strategy_id):  # no re-protection meanwhile
            row = await journal.get(row.id)
            if not OrderState(row.state).working:
                return None  # taken back meanwhile (a new level): an ordinary cancel says what it is
            guards = [
                guard
                for guard in self.rows.values()
                if guard.symbol == row.symbol
                and guard.strategy_id == row.strategy_id
                and guard.state == Guard.ACTIVE
                and guard.take_profit is not None
            ]
            if not guards:
                return None
            await self._forget_take(guards, row)
            assert row.id is not None
            take = await self.account.broker.cancel(row.id, exit_cancels.TAKE_PROFIT_ONLY)
            await self._resolve_stop_leg(row)
        await self.sync(row.symbol)  # the stop placed again alone
        if take.state != OrderState.CANCELLED:
            return take  # it filled before the cancel: the position is sold
        resting = [
            other
            for other in await self.native.resting(row.symbol, row.strategy_id)
            if other.type == OrderType.STOP.value
        ]
        stop_now = (
            f"its stop rests alone as {exit_cancels.describe(resting[0])}"
            if resting
            else "its stop is kept by the protection (placed again at the next price)"
        )
        said = f"{exit_cancels.TAKE_PROFIT_ONLY}: {stop_now}; {TAKE_CANCELLED}"
        take, _ = await journal.add_fills(row.id, [], OrderState.CANCELLED, reason=said)
        return take

    async def _forget_take(self, guards: list[ProtectionRecord], take: OrderRecord) -> None:
        """The protections ``guards`` no longer take profit (their take-profit ``take`` cancelled by hand)."""
        for guard in guards:
            moved = await self.store.move(
                guard, Guard.ACTIVE, Guard.ACTIVE, take_profit=None, take_price=None, reason=TAKE_CANCELLED
            )
            if moved is None:  # another caller moved it first
                continue
            self._keep(moved)
            log.info("protection %s of %s: %s", guard.id, take.symbol, TAKE_CANCELLED)
            await self._audit(moved, TAKE_CANCELLED, client_order_id=take.client_order_id)

    async def _resolve_stop_leg(self, take: OrderRecord) -> None:
        """Look up the stop leg the exchange cancelled with ``take`` (one OCO list): journaled as kept
        (``exit_cancels.STOP_KEPT``), so the protection places it again alone."""
        resolve = getattr(self.account.broker, "resolve", None)  # a live broker's lookup by client id
        if resolve is None:
            return
        for stop in await self.account.journal.orders(book=self.book, symbol=take.symbol):
            if stop.oco == take.oco and stop.id != take.id and OrderState(stop.state).working:
                await resolve(stop)

    async def release(self, symbol: str, strategy_id: str | None, reason: str) -> None:
        """Take back a strategy's stops resting at the exchange before it sells (its exit signal)."""
        await self.native.release(symbol, strategy_id, reason)

    async def beside_resting(self, symbol: str, strategy_id: str | None, keeps: float) -> tuple[float, float]:
        """What a strategy's own sell (its protection's, its exit signal's) may sell of the ``keeps`` it
        holds, and what its exits still resting at the exchange hold of it (``release`` could not take them
        back: the cancel failed, or its answer is unknown, and they may still sell). Their coins are
        theirs: the sell takes only what the strategy keeps beside them, never the coins free beside them,
        which are other owners'. While they rest, that is whole lot steps only: they cover the position in
        whole steps, and the rest under one step (a buy's fee taken in the coin) is nothing the exchange
        takes; a sell of it was refused, and the protection, taking that for nothing left, ended."""
        held = bracket_sell.reserved_by(await self.native.resting(symbol, strategy_id))
        beside = keeps - held
        if held > 0:
            exchange = getattr(self.account.broker, "exchange", None)  # a live broker's lot steps
            if exchange is None:
                beside = max(beside, 0.0)
            else:
                beside = venue_steps.whole_steps(exchange, symbol, beside) if beside > 0 else 0.0
        return beside, held

    async def sell_taking_back(
        self, exits: Sequence[OrderRecord], sell: Callable[[], Awaitable[OrderRecord | None]]
    ) -> tuple[OrderRecord | None, str]:
        """A sell by hand of a strategy's live position whose ``exits`` rest at the exchange (see the
        module docstring). Under each position's lock (no re-protection meanwhile), the exits are taken
        back, each cancel journaled as MasterTrade's and confirmed by client order id; ``sell`` is sent
        only once all are cancelled (one that sold or is not confirmed meanwhile stops it:
        ``OperationFailed``); then the protection places them again for what is left, or closes. Returns
        the sell and what became of the exits."""
        keys = sorted(
            {(row.symbol, row.strategy_id) for row in exits}, key=lambda key: (key[0], key[1] or "")
        )
        journal = self.account.journal
        sold: OrderRecord | None = None
        try:
            async with contextlib.AsyncExitStack() as stack:
                for symbol, strategy_id in keys:
                    await stack.enter_async_context(self.native.lock(symbol, strategy_id))
                for symbol, strategy_id in keys:  # (the locks are held: ``release`` would wait on them)
                    await self.native.release_locked(symbol, strategy_id, TAKEN_BACK)
                now = [await journal.get(row.id) for row in exits if row.id is not None]
                left = [row for row in now if OrderState(row.state) is not OrderState.CANCELLED]
                if left:
                    raise errors.OperationFailed(_not_taken_back(left))
                sold = await sell()
        finally:
            said = await self._after_sell_by_hand(keys)
        return sold, f"{_names(exits)} were taken back for the sell; {said}"

    async def _after_sell_by_hand(self, keys: Sequence[tuple[str, str | None]]) -> str:
        """The strategies' protections after a sell by hand (sent or not): closed where it took all that
        was left (``_position_left`` says so), else their exits placed again for what is left; said in
        words."""
        done = []
        for symbol, strategy_id in keys:
            await self.sync(symbol)
            resting = sorted(await self.native.resting(symbol, strategy_id), key=lambda row: row.id or 0)
            guarded = [r for r in self.rows.values() if r.symbol == symbol and r.strategy_id == strategy_id]
            whose = f"strategy {strategy_id}'s protection" if len(keys) > 1 else "its protection"
            selling = (await self.account.selling_by_hand(symbol)).get(strategy_id, 0.0)
            if resting:
                amount = (resting[0].amount or 0.0) - resting[0].filled
                done.append(
                    f"{whose} placed them again for the {amount:.8g} {symbol} left: "
                    f"{bracket_sell.names(resting)}"
                )
            elif guarded and selling > 0:  # a limit sell resting with all the position still holds
                done.append(
                    f"{whose} watches the position until the sell, still working, has sold the "
                    f"{selling:.8g} {symbol} it takes of it"
                )
            elif guarded:
                done.append(
                    f"{whose} watches what is left and places them again at the next price "
                    "(`mt risk status` shows it)"
                )
            else:
                done.append(f"strategy {strategy_id}'s protection of {symbol} ended with the position")
        return "; ".join(done)

    async def _follow_entry(self, row: ProtectionRecord) -> ProtectionRecord:
        """An entry that filled in parts: the levels follow its average price (the peak is kept)."""
        assert row.id is not None
        entry = await self._order(row.entry_client_order_id)
        if entry is None or entry.state.final:
            self._entry_working.discard(row.id)
        if entry is None or entry.filled <= (row.amount or 0.0):
            return row
        price = entry.cost / entry.filled
        levels = Levels.arm(price, row.stop_loss, row.take_profit, row.trailing_stop, row.trail_peak)
        moved = await self.store.move(
            row,
            Guard.ACTIVE,
            Guard.ACTIVE,
            amount=entry.filled,
            entry_price=price,
            stop_price=levels.fixed_stop,
            take_price=levels.take,
            trail_peak=levels.peak,
        )
        return self._keep(moved if moved is not None else await self.store.get(row.id))

    async def _settle_triggered(self, row: ProtectionRecord) -> None:
        client = row.exit_client_order_id
        assert client is not None
        if client in self._sending:
            return
        order = await self._order(client)
        if order is None:
            await self._rearm(row, "its sell was never journaled, so never sent")
            return
        state = order.state
        if not state.final:
            return  # on its way: the broker resolves it by its client order id
        left, why = await self._position_left(row)
        if order.filled > 0:
            sold = f"sold {order.filled:.8g} at {order.cost / order.filled:.8g}"
            if left <= self._dust(row):
                level = f" at {row.trigger_level:.8g}" if row.trigger_level is not None else ""
                said = f"{row.trigger}{level}: {sold}{await self._dust_left(row)}"
                await self._close(row, Guard.TRIGGERED, said)
            else:
                await self._rearm(row, f"{sold}; {left:.8g} left", failed=False)
            return
        if left <= self._dust(row):
            await self._close(row, Guard.TRIGGERED, why)
            return
        reason = f": {order.reason}" if order.reason else ""
        await self._rearm(row, f"its sell {order.client_order_id} was {order.state}{reason}")

    async def _rearm(self, row: ProtectionRecord, reason: str, *, failed: bool = True) -> None:
        assert row.id is not None
        moved = await self.store.move(
            row,
            Guard.TRIGGERED,
            Guard.ACTIVE,
            exit_client_order_id=None,
            trigger=None,
            trigger_level=None,
            trigger_seen=None,
            triggered_at=None,
            reason=reason,
        )
        if moved is None:
            self._keep(await self.store.get(row.id))
            return
        self._keep(moved)
        if failed and row.id in self._attempted:
            self._retry_at[row.id] = self.account.clock() + timedelta(seconds=RETRY_S)
        log.warning("protection %s of %s re-armed: %s", row.id, row.symbol, reason)
        await self._audit(moved, f"re-armed: {reason}")

    async def _close(self, row: ProtectionRecord, expected: Guard, reason: str) -> None:
        assert row.id is not None
        moved = await self.store.move(row, expected, Guard.CLOSED, reason=reason)
        if moved is None:
            self._keep(await self.store.get(row.id))
            return
        self._keep(moved)
        if self.native.enabled:
            await self.native.release(row.symbol, row.strategy_id, f"protection closed: {reason}")
        log.info("protection %s of %s closed: %s", row.id, row.symbol, reason)
        await self._audit(moved, f"closed: {reason}")

    # --- helpers --------------------------------------------------------------------------------

    def _keep(self, row: ProtectionRecord) -> ProtectionRecord:
        """Take a row as it is now: kept while open, forgotten once closed."""
        assert row.id is not None
        if row.state == Guard.CLOSED:
            self.rows.pop(row.id, None)
            self._retry_at.pop(row.id, None)
            self._attempted.discard(row.id)
            self._entry_working.discard(row.id)
            self._blocked.discard(row.id)
        else:
            self.rows[row.id] = row
        return row

    @staticmethod
    def _dust(row: ProtectionRecord) -> float:
        return DUST * (row.amount or 0.0)

    async def _order(self, client_order_id: str) -> OrderRecord | None:
        try:
            return await self.account.journal.get(client_order_id=client_order_id)
        except errors.NotFound:
            return None

    async def _position_left(self, row: ProtectionRecord) -> tuple[float, str]:
        """What is left to protect: the strategy's holding, at most the account's position; with the
        reason when nothing is."""
        ledger = await self.account.broker.ledger()
        position = ledger.positions.get(row.symbol)
        account = position.amount if position is not None and position.opened_ts is not None else 0.0
        own = (
            await self.account.strategy_holding(row.strategy_id, row.symbol)
            if row.strategy_id is not None
            else account
        )
        sale = None
        if own <= self._dust(row) or account <= self._dust(row):
            sale = await self._last_sale(row)
            if sale is not None and sale.role == "order":
                manual = f"the position was closed by a manual sell (order {sale.id})"
                return 0.0, manual + await self._dust_left(row)
        if own <= self._dust(row):
            why = _sold_by(sale) if sale is not None else EXIT_SIGNAL
            return 0.0, why + await self._dust_left(row)
        if account <= self._dust(row):
            return 0.0, "the position was closed outside its protection (a manual sell?)"
        return min(own, account), ""

    async def _dust_left(self, row: ProtectionRecord) -> str:
        """What a closing protection says of the dust its strategy's sold position left (``dust``: under
        the least the exchange takes in one sell, kept in the balance), or nothing."""
        if row.strategy_id is None:
            return ""
        left = await self.account.strategy_dust(row.strategy_id, row.symbol)
        return f"; {dust.said(left, row.symbol)}" if left > 0 else ""

    async def _promised(self, row: ProtectionRecord) -> float:
        """What the sells by hand on their way will still take of the protected strategy's position
        (``Account.selling_by_hand``): theirs, not its protection's to sell or to rest a stop for."""
        return (await self.account.selling_by_hand(row.symbol)).get(row.strategy_id, 0.0)

    async def _last_sale(self, row: ProtectionRecord) -> OrderRecord | None:
        """The sell that sold last of the protected position: a sell by hand (the strategy holds no more
        of the account than the account holds: ``Account.strategy_holding``), or the strategy's own (its
        exit signal's, its protection's, its exits resting at the exchange); None when neither is among
        the symbol's newest orders."""
        for order in await self.account.journal.orders(book=self.book, symbol=row.symbol, limit=50):
            if order.side != Side.SELL.value or not order.filled > 0:
                continue
            if order.role == "order" or order.strategy_id == row.strategy_id:
                return order
        return None

    async def _audit(
        self,
        row: ProtectionRecord,
        reason: str,
        *,
        client_order_id: str | None = None,
        amount: float | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        await self.account.risk.store.audit(
            "protection",
            reason,
            book=self.book,
            client_order_id=client_order_id,
            strategy_id=row.strategy_id,
            symbol=row.symbol,
            side="sell",
            amount=amount,
            data={"protection_id": row.id, "state": row.state, **(data or {})},
        )

    # --- health and status ----------------------------------------------------------------------

    async def check_health(
        self, last_seen: dict[str, datetime], since: datetime, stale_after_s: float
    ) -> None:
        """Degraded while a protected symbol has no fresh price: published once as a critical
        ``RiskBreached`` when it starts, logged when it ends."""
        now = self.account.clock()
        ages = {
            row.symbol: (now - last_seen.get(row.symbol, since)).total_seconds() for row in self.watched()
        }
        stale = {symbol: age for symbol, age in ages.items() if age > stale_after_s}
        if stale and self.degraded is None:
            count = sum(1 for row in self.watched() if row.symbol in stale)
            names = ", ".join(sorted(stale))
            self.degraded = (
                f"protection degraded: no price for {names} for {max(stale.values()):.0f}s; "
                f"{count} live position(s) the daemon protects are not watched"
            )
            log.error(self.degraded)
            await self.account.risk.store.audit("protection", self.degraded, book=self.book)
            self._publish(
                events.RiskBreached(
                    limit="protection",
                    value=max(stale.values()),
                    threshold=stale_after_s,
                    message=self.degraded,
                    severity="critical",
                    symbol=min(stale) if len(stale) == 1 else None,
                )
            )
        elif not stale and self.degraded is not None:
            self.degraded = None
            log.info("protection restored: prices are fresh again")
            await self.account.risk.store.audit(
                "protection", "protection restored: fresh prices", book=self.book
            )

    def _publish(self, event: events.Event) -> None:
        self.account.emit(event)

    def status(self) -> dict[str, Any]:
        """What ``mt risk status`` shows of the protections."""
        rows = sorted(self.rows.values(), key=lambda row: row.id or 0)
        return {
            "by": "exchange" if self.native.enabled else "daemon",
            "note": (OCO_NOTE if self.native.oco else NATIVE_NOTE) if self.native.enabled else NOTE,
            "take_profit_by": "exchange" if self.native.oco else "daemon",
            "protected_positions": len(self.watched()),
            "pending": sum(1 for row in rows if row.state == Guard.PENDING),
            "degraded": self.degraded is not None,
            "degraded_reason": self.degraded,
            "protections": [protection_info(row) for row in rows],
        }


def _names(rows: Sequence[OrderRecord]) -> str:
    """ "strategy s1's exits order 7 (stop-loss), order 8 (take-profit)"."""
    owners = ", ".join(sorted({row.strategy_id or "?" for row in rows}))
    orders = ", ".join(f"order {row.id} ({(row.role or 'exit').replace('_', '-')})" for row in rows)
    return f"strategy {owners}'s exits {orders}"


def _sold_by(sale: OrderRecord) -> str:
    """Why a protection closed whose strategy's own ``sale`` sold the position: one of its exits resting at
    the exchange (its stop, its take-profit: ``native_stops``), which the close reason read as its exit
    signal; its exit signal; or its protection's own sell."""
    sold = f"{sale.filled:.8g} at {sale.cost / sale.filled:.8g}"
    if exit_cancels.is_exit(sale):
        return f"the position was sold at the exchange by its {exit_cancels.describe(sale)}: {sold}"
    if sale.role == "exit":
        return f"{EXIT_SIGNAL}: order {sale.id} sold {sold}"
    return f"the position was sold by its protection's {exit_cancels.describe(sale)}: {sold}"


def _not_taken_back(rows: Sequence[OrderRecord]) -> str:
    """Why a sell by hand was not sent: exits it took back that sold meanwhile, or that the exchange has
    not confirmed cancelled."""
    sold = [row for row in rows if row.filled > 0]
    if sold:
        return (
            f"not sent: {_names(sold)} sold meanwhile (the position is not what you saw): look at "
            "`mt positions` and sell again"
        )
    return (
        f"not sent: the exchange has not confirmed {_names(rows)} cancelled; the daemon follows them up at "
        "its next poll (`mt orders --open`): sell again then"
    )


def _levels(levels: Levels) -> str:
    parts = []
    if levels.stop is not None:
        parts.append(f"{levels.stop_role} {levels.stop:.8g}")
    if levels.take is not None:
        parts.append(f"take_profit {levels.take:.8g}")
    return ", ".join(parts) or "no levels"
