"""From a strategy's signals at a bar's close to the order it places: the backtest's decision rule, in
one place for paper trading, live trading and the parity check.

At the close of bar t (``engine/backtest/__init__.py``, rule 2): while flat, ``entries[t] and not
exits[t]`` places a buy; while long, ``exits[t]`` places a sell of the whole position; entry signals
while long are ignored. Orders are placed for the open of bar t + 1 (``placed_ts`` = the next bar's
open time). An entry carries the strategy's bracket (its ``OrderParams``, the backtest's own value type:
stop-loss, take-profit, trailing stop, size) measured from the close of bar t.
"""

from __future__ import annotations

from enum import StrEnum

from mastertrade.engine.backtest.params import OrderParams
from mastertrade.engine.orders import OrderRequest, OrderType, Side


class Action(StrEnum):
    ENTER = "enter"
    EXIT = "exit"


def decide(*, long: bool, entry: bool, exit_: bool) -> Action | None:
    """What a strategy does at a close, given whether it is long and its two signals there."""
    if long:
        return Action.EXIT if exit_ else None
    return Action.ENTER if entry and not exit_ else None


def entry_request(
    symbol: str,
    bracket: OrderParams,
    close: float,
    *,
    strategy_id: str | None,
    amount: float | None = None,
) -> OrderRequest:
    """A market buy at the next open: ``amount`` when sized by Kelly and goals, else the strategy's own
    fraction of equity, sized at the fill as in its backtest."""
    return OrderRequest(
        symbol=symbol,
        side=Side.BUY,
        type=OrderType.MARKET,
        amount=amount,
        equity_fraction=None if amount is not None else bracket.size,
        stop_loss=bracket.stop_loss,
        take_profit=bracket.take_profit,
        trailing_stop=bracket.trailing_stop,
        reference_price=close,
        strategy_id=strategy_id,
        role="entry",
    )


def exit_request(symbol: str, amount: float, close: float, *, strategy_id: str | None) -> OrderRequest:
    """A market sell of the whole position at the next open."""
    return OrderRequest(
        symbol=symbol,
        side=Side.SELL,
        type=OrderType.MARKET,
        amount=amount,
        reference_price=close,
        strategy_id=strategy_id,
        role="exit",
    )
