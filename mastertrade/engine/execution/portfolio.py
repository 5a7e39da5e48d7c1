"""A book as the risk check and the CLI see it: the ``PortfolioSnapshot`` and the position and balance
views, built from the ledger (the fold of the fills), the latest prices, the working orders and the
equity history."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from mastertrade.db.models.trading import OrderRecord
from mastertrade.engine.execution.ledger import Ledger, split_symbol
from mastertrade.engine.orders import OrderState
from mastertrade.engine.risk.check import Holding, PortfolioSnapshot


def order_price(row: OrderRecord, marks: Mapping[str, float]) -> float | None:
    """The price a working order is valued at: its limit; a stop's trigger, or the market when that is
    past it (a buy stop below the market fills at the market, not at its trigger); else its reference
    or the latest price."""
    if row.stop_price and row.price is None:
        market = row.reference_price or marks.get(row.symbol)
        return max(row.stop_price, market) if row.side == "buy" and market else row.stop_price
    return row.price or row.reference_price or marks.get(row.symbol)


def snapshot(
    ledger: Ledger,
    marks: Mapping[str, float],
    working: Iterable[OrderRecord],
    quote: str,
    *,
    peak_equity: float | None = None,
    day_start_equity: float | None = None,
    buy_fee: float = 0.0,
) -> PortfolioSnapshot:
    """The book now: holdings at their marks (what open sells promise reserved), open buy orders by
    value (with ``buy_fee``, the fee rate the broker holds back beside them: ``Broker.buy_fee_reserve``),
    and the equity marks the drawdown and the daily loss are measured from (the peak is at least the
    equity now). The order rows are read from the journal at another moment than the ledger: what of
    an order the ledger has booked already is held, not still to come (a buy that filled in between
    counted twice, as position and as open order, and refused the next buy for a limit it kept)."""
    open_buys: dict[str, float] = {}
    sells: dict[str, float] = {}
    groups: dict[str, float] = {}
    for row in working:
        state = row.state
        if state is OrderState.INTENT or state.final:
            continue
        booked = ledger.booked.get(row.id, 0.0) if row.id is not None else 0.0
        remaining = (row.amount or 0.0) - max(row.filled, booked)
        if row.side == "buy":
            price = order_price(row, marks)
            if price is not None and remaining > 0:
                open_buys[row.symbol] = open_buys.get(row.symbol, 0.0) + remaining * price
        elif row.oco:
            key = f"{row.symbol}|{row.oco}"
            groups[key] = max(groups.get(key, 0.0), remaining)
        else:
            sells[row.symbol] = sells.get(row.symbol, 0.0) + remaining
    for key, amount in groups.items():
        symbol = key.split("|")[0]
        sells[symbol] = sells.get(symbol, 0.0) + amount
    holdings = {}
    for position in ledger.open_positions():
        if split_symbol(position.symbol)[1] != quote:
            continue
        mark = marks.get(position.symbol, position.average_price or 0.0)
        reserved = min(position.amount, sells.get(position.symbol, 0.0))
        holdings[position.symbol] = Holding(position.amount, mark, reserved)
    portfolio = PortfolioSnapshot(
        cash=ledger.balance(quote), holdings=holdings, open_buys=open_buys, buy_fee=buy_fee
    )
    if peak_equity is None and day_start_equity is None:
        return portfolio
    equity = portfolio.equity
    return PortfolioSnapshot(
        cash=portfolio.cash,
        holdings=holdings,
        open_buys=open_buys,
        buy_fee=buy_fee,
        peak_equity=max(peak_equity, equity) if peak_equity is not None else equity,
        day_start_equity=day_start_equity if day_start_equity is not None else equity,
    )


def positions_view(ledger: Ledger, marks: Mapping[str, float]) -> list[dict[str, Any]]:
    return [position.as_dict(marks.get(position.symbol)) for position in ledger.open_positions()]


def balance_view(
    ledger: Ledger,
    marks: Mapping[str, float],
    quote: str,
    working: Iterable[OrderRecord],
    *,
    buy_fee: float = 0.0,
) -> dict[str, Any]:
    """Balances, equity and P&L; ``reserved`` is the cash the broker holds back for resting buys (their
    fees too where it keeps them aside: ``buy_fee``), so ``reserved + free_cash == cash``.

    A position with no price yet (just after a daemon restart) counts at cost in the equity, as
    ``positions_view`` values it, and is named in ``at_cost``; while one is, the unrealised P&L is
    unknown (None), not the 0.00 its cost would make it: the open positions' P&L is not known until
    each has a price."""
    portfolio = snapshot(ledger, marks, working, quote, buy_fee=buy_fee)
    held = ledger.open_positions()
    at_cost = [p.symbol for p in held if p.symbol not in marks]
    unrealised = None if at_cost else math.fsum(p.unrealised(marks[p.symbol]) for p in held)
    realised = math.fsum(p.realised for p in ledger.positions.values())
    return {
        "quote": quote,
        "balances": {
            asset: amount for asset, amount in sorted(ledger.balances.items()) if abs(amount) > 1e-12
        },
        "cash": portfolio.cash,
        "reserved": portfolio.reserved_cash,
        "free_cash": portfolio.free_cash,
        "positions_value": portfolio.positions_value,
        "equity": portfolio.equity,
        "realised_pnl": realised,
        "unrealised_pnl": unrealised,
        "at_cost": at_cost,
        "unpriced_fees": ledger.unpriced_fees(),
    }
