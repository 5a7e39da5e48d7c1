"""``mt orders cancel`` of a take-profit that rests at the exchange in one OCO list with its stop.

The exchange cancels an OCO list as one: cancelling the take-profit leg cancels the stop leg too. A
trader who cancels only the take-profit means to let the position run, not to leave it without a stop,
so the stop is kept: once the exchange has confirmed by its client order id that the stop leg is
cancelled (never on a guess), it is placed again alone at its level for what is held, and the command's
answer (the take-profit's reason) names the new stop. ``--unprotect`` cancels the list as one, as before.

Crash-safe by the journal: the take-profit's cancel is written on it before it is asked
(``exit_cancels.TAKE_PROFIT_ONLY``), so the stop leg's "canceled", whenever it is read (now, at the next
poll, at the next start), is journaled as ``exit_cancels.STOP_KEPT``; ``exit_cancels.restore`` places it
again under a client order id derived from the old stop's, looked up in the journal before anything is
sent, so a crash at any point never makes two stops. Should the exchange refuse the stop (the price is
already below it), that is a critical alert naming the unprotected position.

A take-profit that filled in part has made the exchange expire its stop already (``live_oco``): its
rest cancelled by hand, that stop is placed again alone for what is left, the same way.

A take-profit of a still-filling entry's part is refused instead (its exits are resized as the entry
fills), naming ``--unprotect``. A strategy's take-profit is its protection's: cancelled by hand, the
protection forgets it and places the stop again alone (``Protector.cancel_take_profit``).
"""

from __future__ import annotations

from typing import Any, Protocol

from mastertrade import errors
from mastertrade.db.models.trading import OrderRecord
from mastertrade.engine.execution import broker as brokers
from mastertrade.engine.execution import exit_cancels
from mastertrade.engine.execution.stop_guard import protected_position
from mastertrade.engine.orders import OrderState


class LiveBroker(exit_cancels.Broker, brokers.Broker, Protocol):
    """What these functions use of ``live.LiveBroker`` (a port: this module does not import it)."""

    async def resolve(self, row: OrderRecord, *, cancel_reason: str | None = None) -> list[Any]: ...


async def stop_leg(broker: LiveBroker, take: OrderRecord) -> OrderRecord | None:
    """The working stop in one OCO list with the account's take-profit ``take`` that protects a position
    (the one the exchange cancels with it), or None."""
    if take.role != "take_profit" or take.oco is None or take.strategy_id is not None:
        return None
    if OrderState(take.state) not in (OrderState.OPEN, OrderState.PARTIALLY_FILLED):
        return None
    for row in await broker.journal.orders(book=broker.book, symbol=take.symbol):
        if row.oco == take.oco and row.id != take.id and row.role in ("stop_loss", "trailing_stop"):
            if OrderState(row.state).working and await protected_position(broker, broker.journal, row):
                return row
            if exit_cancels.expired_with(row, take) and (await broker.ledger()).held(take.symbol) > 0:
                return row  # expired at the take-profit's first fill: its rest is all that sells
    return None


async def cancel(broker: LiveBroker, take: OrderRecord, stop: OrderRecord) -> OrderRecord:
    """Cancel the take-profit ``take``, keeping its stop ``stop`` (see the module docstring); returns
    the take-profit, its reason saying what became of the stop."""
    assert take.id is not None and stop.id is not None
    if stop.parent_id is not None and not OrderState((await broker.journal.get(stop.parent_id)).state).final:
        raise errors.StopProtectsPosition(
            f"order {take.id} is the take-profit of the filled part of order {stop.parent_id}, in one OCO "
            f"list with its stop-loss order {stop.id}: the exchange cancels the list as one, and the part's "
            f"exits are placed again for all it fills; let the buy end first (or cancel it), or cancel "
            f"both with unprotect (mt orders cancel {take.id} --unprotect)"
        )
    cancelled = await broker.cancel(take.id, exit_cancels.TAKE_PROFIT_ONLY)
    if cancelled.state != OrderState.CANCELLED:
        return cancelled  # filled before the cancel: the exchange expired the stop, nothing to keep
    if OrderState(stop.state).working:
        await broker.resolve(stop)  # the exchange's "canceled" for it: journaled STOP_KEPT
    else:  # expired at the take-profit's first fill: ``restore`` marks it kept (also after a crash)
        await exit_cancels.keep_expired(broker)
    stop = await broker.journal.get(stop.id)
    if stop.reason != exit_cancels.STOP_KEPT:
        return cancelled  # still working (a venue that cancels a leg alone), or it sold first
    await exit_cancels.restore(broker)
    stop = await broker.journal.get(stop.id)
    what = (stop.reason or "").removeprefix(f"{exit_cancels.KEPT}: ")
    said = (
        f"{exit_cancels.TAKE_PROFIT_ONLY}: the exchange cancelled its OCO list as one; "
        f"{exit_cancels.describe(stop)} {what}"
    )
    if stop.reason == exit_cancels.STOP_KEPT:  # not confirmed cancelled yet: the next poll places it
        said = (
            f"{exit_cancels.TAKE_PROFIT_ONLY}: {exit_cancels.describe(stop)} is placed again alone once the "
            "exchange confirms it cancelled (the daemon's next poll)"
        )
    row, _ = await broker.journal.add_fills(take.id, [], OrderState.CANCELLED, reason=said)
    return row
