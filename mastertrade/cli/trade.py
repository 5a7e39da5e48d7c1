"""``mt trade buy|sell SYMBOL AMOUNT``: a manual order, risk-checked and sent by the daemon.

Live orders need both switches: ``mode = "live"`` in the config and ``--live`` here (and the daemon
started with ``--live``). Without both, nothing reaches a real exchange. A refusal by the risk manager
prints its reason and exits 1; bad input exits 2.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mastertrade.cli.daemon import with_client
from mastertrade.cli.output import JsonOption, info, print_json

app = typer.Typer(
    help="Place manual orders (risk-checked, paper unless live is confirmed).", no_args_is_help=True
)

OrderType = Annotated[str, typer.Option("--type", help="market (default), limit or stop.")]
Price = Annotated[float | None, typer.Option("--price", help="Limit price, or the stop's trigger price.")]
Live = Annotated[
    bool, typer.Option("--live", help='Confirm a live order (the config must say mode = "live").')
]


def _place(
    side: str, symbol: str, amount: float, kind: str, price: float | None, live: bool, json_out: bool
) -> None:
    from mastertrade.cli.runtime import settings
    from mastertrade.engine.api.schemas_trading import OrderCreate
    from mastertrade.engine.execution.broker import trading_mode
    from mastertrade.errors import UserInputError

    if "/" not in symbol:
        raise UserInputError(f"invalid symbol {symbol!r}: expected BASE/QUOTE, like BTC/USDT")
    if not amount > 0:
        raise UserInputError(f"invalid amount {amount!r}: must be a positive number")
    if kind not in ("market", "limit", "stop"):
        raise UserInputError(f"invalid --type {kind!r}: expected market, limit or stop")
    if kind == "market" and price is not None:
        raise UserInputError("a market order takes no --price; use --type limit or --type stop")
    if kind != "market" and (price is None or not price > 0):
        raise UserInputError(f"a {kind} order needs a positive --price (got {price!r})")
    mode = trading_mode(settings().mode, live)  # both switches, or neither
    order = OrderCreate(symbol=symbol, side=side, amount=amount, type=kind, price=price, live=mode == "live")
    result = with_client(lambda client: client.place_order(order))
    if json_out:
        print_json(result.model_dump(mode="json"))
        return
    placed = result.order
    risk = result.risk
    note = "" if risk.verdict == "approve" else f" (risk {risk.verdict}: {risk.reason})"
    shown: Any = placed.amount if placed.amount is not None else amount
    info(
        f"order {placed.id} {placed.side} {shown:g} {placed.symbol} {placed.type} ({placed.mode}): "
        f"{placed.state}{note}"
    )


@app.command("buy")
def buy(
    symbol: Annotated[str, typer.Argument(help="e.g. BTC/USDT")],
    amount: Annotated[float, typer.Argument(help="Units of the base asset, e.g. 0.01.")],
    price: Price = None,
    kind: OrderType = "market",
    live: Live = False,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Buy AMOUNT of SYMBOL (market by default; --type limit|stop with --price)."""
    _place("buy", symbol, amount, kind, price, live, json_out)


@app.command("sell")
def sell(
    symbol: Annotated[str, typer.Argument(help="e.g. BTC/USDT")],
    amount: Annotated[float, typer.Argument(help="Units of the base asset, e.g. 0.01.")],
    price: Price = None,
    kind: OrderType = "market",
    live: Live = False,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Sell AMOUNT of SYMBOL (market by default; --type limit|stop with --price)."""
    _place("sell", symbol, amount, kind, price, live, json_out)
