"""The dry run behind ``POST /v1/orders/check``: what the risk check would decide for a manual order now.

It takes the path ``Account.place`` takes and stops before anything is written: the same validation
(``Account.manual_request``, so the same messages), the same reference price (the limit or stop price,
else the last price the account's broker saw), the same fee, the same portfolio snapshot, the same
limits and the pure ``check_order``. The one thing ``RiskManager.check`` does first, letting elapsed
breaker cool-downs expire, is applied to a copy of the breakers, so the dry run sees the controls placing
would see without resetting, auditing or journaling anything.

The live confirmation (``live``) is not asked for: nothing is sent, so there is nothing to confirm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mastertrade.engine.execution.manual_orders import check_not_dust, refused_resize
from mastertrade.engine.risk.breakers import Breakers
from mastertrade.engine.risk.check import Controls, ProposedOrder, check_order

if TYPE_CHECKING:
    from mastertrade.engine.api.schemas_trading import OrderCreate
    from mastertrade.engine.execution.account import Account


def current_controls(account: Account) -> Controls:
    """The kill switch and tripped breakers as the next ``RiskManager.check`` will see them (cool-downs
    that are over count as reset), computed on a copy."""
    risk = account.risk
    breakers = Breakers(risk.settings, risk.breakers.states.values())
    breakers.expire(risk.clock())
    return Controls(breakers.halted, breakers.halt_reason, tuple(breakers.tripped()))


async def dry_run(account: Account, order: OrderCreate) -> dict[str, Any]:
    """The risk decision for ``order`` (``OrderCheck``'s fields); raises the errors placing would raise
    before its risk check (a bad symbol or price, no price known yet)."""
    request, reference = account.manual_request(
        order.symbol,
        order.side,
        order.amount,
        type_=order.type,
        price=order.price,
        holdings=await account.holdings(),
    )
    # a live order between two lot steps or price ticks is refused as placing refuses it
    request = await account.broker.fit_to_market(request, allow_resize=order.allow_resize)
    assert request.amount is not None
    proposed = ProposedOrder(request.symbol, request.side.value, request.amount, reference, account.fee)
    check_not_dust(order.symbol, order.amount, reference, account.risk.settings.min_notional, account.quote)
    # a sell by hand of a position its exits hold replaces them: checked on the book as it will be
    plan = await account.plan_sell(request) if request.side.value == "sell" else None
    decision = check_order(
        proposed, await account.portfolio(releasing=plan), account.risk.settings, current_controls(account)
    )
    if not order.allow_resize and decision.verdict == "resize":
        decision = refused_resize(decision)  # as placing it would: a human's order is not cut silently
    value = decision.amount * reference
    return {
        **decision.as_dict(),
        "value": value,
        "fee": value * account.fee,
        "fee_rate": account.fee,
        "quote": account.quote,
        "mode": account.mode,
    }
