"""``mt orders [--open] [--book B]``, ``mt orders cancel ID``, ``mt positions [--book B]``, ``mt balance``:
the account's orders, positions and money, from the daemon; ``--book strategy:<id>`` lists a strategy's
own paper book instead. Every row says which book it is in (the ``book`` column, and ``book`` in --json),
so a strategy book's trade never reads as the account's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from mastertrade.cli.daemon import with_client
from mastertrade.cli.output import JsonOption, info, print_json, print_table
from mastertrade.utc import from_ms, iso, iso_ms

if TYPE_CHECKING:
    from mastertrade.client import DaemonClient
    from mastertrade.engine.api.schemas_trading import OrderInfo

app = typer.Typer(
    help="The account's orders; `mt orders show ID` shows one, `mt orders cancel ID` cancels one.",
    invoke_without_command=True,
)


def _num(value: float | None, digits: str = ".8g") -> str:
    return "" if value is None else format(value, digits)


def _price(row: Any) -> str:
    """The order's price; a stop-limit's (live) is its trigger, with its limit beside it: its limit
    alone read as the stop (37620 for a stop at 38000)."""
    if row.stop_price is not None and row.price is not None:
        return f"{row.stop_price:.8g} (limit {row.price:.8g})"
    return _num(row.price or row.stop_price)


def _ordered(row: Any) -> str:
    """The amount ordered; a strategy's entry sized as a share of equity at its fill says so until then."""
    if row.amount is None and row.equity_fraction is not None:
        return f"{row.equity_fraction * 100:.4g}% of equity"
    return _num(row.amount)


BookOption = typer.Option(
    "--book",
    help='Which book: "account" (the default) or a strategy\'s own paper book, `strategy:<id>` (or the id).',
)


def _book(book: str, mode: str) -> str:
    from mastertrade.engine.events import book_label

    return book_label(book, mode)


def _asked(book: str | None) -> str:
    """The book the user asked for, as the tables name it: ``--book 1a2b...`` (a bare id) is the
    strategy's paper book, like ``strategy:1a2b...``."""
    if book in (None, "account"):
        return "account"
    assert book is not None
    return _book(book if book.startswith("strategy:") else f"strategy:{book}", "")


@app.callback()
def orders(
    ctx: typer.Context,
    open_only: Annotated[bool, typer.Option("--open", help="Only orders that can still fill.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="How many, newest first.")] = 50,
    book: Annotated[str | None, BookOption] = None,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """List the account's orders (or a strategy paper book's), newest first."""
    if ctx.invoked_subcommand is not None:
        return
    rows = with_client(lambda client: client.orders(open_only=open_only, limit=limit, book=book))
    if json_out:
        print_json([row.model_dump(mode="json") for row in rows])
        return
    if not rows:
        info(f"no {'open ' if open_only else ''}orders in the {_asked(book)}")
        return
    print_table(
        [
            "id",
            "book",
            "placed",
            "symbol",
            "side",
            "type",
            "amount",
            "price",
            "filled",
            "avg price",
            "state",
            "reason",
        ],
        [
            (
                row.id,
                _book(row.book, row.mode),
                iso(from_ms(row.placed_ts), "seconds"),  # market time, as a position's "opened" is
                row.symbol,
                row.side,
                row.type if row.role in ("order", "entry", "exit") else f"{row.type} ({row.role})",
                _ordered(row),
                _price(row),
                _num(row.filled),
                _num(row.average_price),
                row.state,
                row.reason or "",
            )
            for row in rows
        ],
        right=["id", "amount", "price", "filled", "avg price"],
    )
    for said in dict.fromkeys(row.market_gone for row in rows if row.market_gone):
        info(f"mt: warning: {said}", style="yellow")


# "-1" is an order id to refuse by name, not an unknown option (the README's rule for every command).
@app.command("show", context_settings={"ignore_unknown_options": True})
def show(
    order: Annotated[str, typer.Argument(help="The order's id, or its client order id.")],
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """One order and its state (by id, or by the client order id `mt trade` printed)."""
    row = with_client(lambda client: _find(client, order))
    if json_out:
        print_json(row.model_dump(mode="json"))
        return
    filled = f", filled {row.filled:.8g} at {row.average_price:.8g}" if row.average_price else ""
    print_table(
        ["id", "client order id", "symbol", "side", "type", "amount", "state", "filled", "fees", "reason"],
        [
            (
                row.id,
                row.client_order_id,
                row.symbol,
                row.side,
                row.type,
                _ordered(row),
                row.state + filled,
                _num(row.filled),
                _fees(row),
                row.reason or "",
            )
        ],
    )


def _fees(row: Any) -> str:
    """The order's fees each in its asset, and their value in the quote currency where it differs:
    "0.6 USDT + 0.0012 BNB (= 1.2 USDT)"; with no price for the third asset, it says so instead of
    adding unlike amounts."""
    if not row.fees:
        return ""
    base, _, quote = row.symbol.partition("/")
    quote = quote.split(":")[0]
    shown = _assets(row.fees)
    if list(row.fees) == [quote]:
        return shown
    if row.fee is None:
        unpriced = ", ".join(asset for asset in row.fees if asset not in (base, quote))
        return f"{shown} (no {quote} price for {unpriced}: not added up)"
    return f"{shown} (= {row.fee:.8g} {quote})"


async def _find(client: DaemonClient, order: str) -> OrderInfo:
    """The order ``order`` names: its id, or its client order id (bad input when it is neither)."""
    import re

    from mastertrade.errors import UserInputError

    if re.fullmatch(r"-?[0-9]+", order):
        order_id = int(order)
        if order_id < 1:
            raise UserInputError(f"invalid order id {order}: order ids start at 1 (see `mt orders`)")
        return await client.order(order_id)
    from mastertrade.engine.orders import CLIENT_ORDER_ID

    if not CLIENT_ORDER_ID.fullmatch(order):
        raise UserInputError(f"invalid order {order!r}: an order id or a client order id")
    return await client.order_by_client_id(order)


# "-1" is an order id to refuse by name, as for `show`
@app.command("cancel", context_settings={"ignore_unknown_options": True})
def cancel(
    order: Annotated[str, typer.Argument(help="The order's id or client order id (see `mt orders --open`).")],
    unprotect: Annotated[
        bool,
        typer.Option(
            "--unprotect",
            help="Cancel the stop-loss or trailing stop protecting an open position anyway, leaving the "
            "position without a stop.",
        ),
    ] = False,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Cancel an open order (by id, or by the client order id `mt trade` printed).

    An order that is no longer open (filled, cancelled or rejected, perhaps a moment ago) has nothing
    to cancel: the command says how it ended and exits 0 when it will not trade (already cancelled or
    rejected: what a cancel is for holds, as `mt risk halt` of a halted account or `mt daemon stop` of a
    stopped daemon exit 0), 1 when it filled (the cancel came too late: the trade happened).

    The stop-loss or trailing stop protecting an open position (a bracketed buy's, a strategy's) is not
    cancelled: the command names the position it protects and exits 1. To close the position, sell it
    (`mt trade sell`, paper or live, takes its stop and take-profit back: a whole sell ends them, a part
    leaves them for the rest); to leave it open without a stop, add --unprotect. A live strategy's stop
    resting at the exchange is placed again by the daemon's protection while the position stays open.

    A live take-profit resting in one OCO list with the stop (a bracketed buy's) is cancelled and the
    stop kept: the exchange cancels the list as one, so the stop is placed again alone at its level, and
    the command names the new stop order. With --unprotect the list goes as one, stop included.
    """
    from mastertrade.errors import OperationFailed

    async def find_and_cancel(client: DaemonClient) -> tuple[OrderInfo, str | None]:
        """The order and, when it had ended already, the daemon's statement of how."""
        found = await _find(client, order)
        try:
            return await client.cancel_order(found.id, unprotect=unprotect), None
        except OperationFailed as exc:
            if type(exc) is not OperationFailed:
                raise  # a stop protecting a position, a timeout: not an order that has ended
            ended = await client.order(found.id)
            if ended.state not in FINAL:
                raise
            return ended, str(exc)

    row, ended = with_client(find_and_cancel)
    if json_out:
        print_json(row.model_dump(mode="json"))
    if ended is None:
        if not json_out:
            reason = f" ({row.reason})" if row.reason else ""
            # the result on stdout, for a script to read; errors and warnings on stderr
            typer.echo(f"order {row.id} {row.side} {row.symbol}: {row.state}{reason}")
        return
    if row.state == "filled":
        raise OperationFailed(ended)
    info(ended)


FINAL = ("filled", "cancelled", "rejected")
"""The states an order ends in (``OrderState.final``): nothing is left to cancel."""


def positions(
    book: Annotated[str | None, BookOption] = None, json_out: Annotated[bool, JsonOption] = False
) -> None:
    """The account's open positions (or a strategy paper book's) with their marks and P&L.

    "avg price" is what a unit cost, the buy fees included (so above the orders' fill prices by the
    fee), the price at which the position breaks even before the sell's own fee.

    A position's realised P&L is its own: what its partial sells realised since it opened (the
    "opened" column), not earlier round trips in the symbol; those are in `--json`
    (`symbol_realised_pnl`), and the book's total realised P&L in `mt balance`."""
    rows = with_client(lambda client: client.positions(book=book))
    if json_out:
        print_json([row.model_dump(mode="json") for row in rows])
        return
    if not rows:
        info(f"no open positions in the {_asked(book)}")
        return
    print_table(
        ["book", "symbol", "amount", "avg price", "mark", "value", "unrealised", "realised", "opened"],
        [
            (
                _book(row.book, ""),
                row.symbol,
                _num(row.amount),
                _num(row.average_price),
                _num(row.mark),
                _value(row),
                _unrealised(row),
                _num(row.realised_pnl, ",.2f"),
                iso_ms(row.opened_ts) if row.opened_ts is not None else "",
            )
            for row in rows
        ],
        right=["amount", "avg price", "mark", "value", "unrealised", "realised"],
    )
    total = "; the account's over all its trades is in `mt balance`" if _asked(book) == "account" else ""
    info(f"realised: by each position's own sells since it opened (market time){total}")
    if any(row.value_at_cost for row in rows):
        info(
            "at cost: no price yet (the daemon just started), so its unrealised P&L is unknown until one "
            "arrives; `mt balance` counts it at cost too"
        )
    for row in rows:
        if row.unprotected:
            info(
                f"mt: warning: {row.symbol} is unprotected at the exchange: {row.unprotected}", style="yellow"
            )
        if row.market_gone:
            info(f"mt: warning: {row.market_gone}", style="yellow")
        if row.unpriced_fees:
            unpriced = _assets(row.unpriced_fees)
            info(f"{row.symbol}: realised leaves out fees of {unpriced} (no price for them)")


def _value(row: Any) -> str:
    """A position's value; at cost, said so, where it has no price yet (as `mt balance` counts it)."""
    shown = _num(row.value, ",.2f")
    return f"{shown} at cost, no price yet" if row.value_at_cost else shown


def _unrealised(row: Any) -> str:
    """A position's unrealised P&L: "unknown" where it has no price yet (its value is at cost)."""
    return UNKNOWN if row.unrealised_pnl is None else _num(row.unrealised_pnl, ",.2f")


UNKNOWN = "unknown"
"""An unrealised P&L with no price to measure it by: never 0.00 (what the position's cost makes it),
never a blank cell."""


def unrealised_total(view: Any) -> str:
    """The account's unrealised P&L, or why it is unknown: the positions with no price yet, at cost."""
    if view.unrealised_pnl is not None:
        return f"{view.unrealised_pnl:,.2f}"
    return f"{UNKNOWN} (no price yet for {', '.join(view.at_cost)}: counted at cost)"


def balance(json_out: Annotated[bool, JsonOption] = False) -> None:
    """The account's balances, equity and P&L.

    The cash reserved for resting buys is what the broker holds back for them (the paper broker keeps
    their fees aside too); the rest is free."""
    view = with_client(lambda client: client.balance())
    if json_out:
        print_json(view.model_dump(mode="json"))
        return
    rows: list[tuple[Any, ...]] = [(asset, _num(amount)) for asset, amount in view.balances.items()]
    print_table(
        ["asset", "balance"], rows, title=f"{_book(view.book, view.mode)} ({view.mode})", right=["balance"]
    )
    info(
        f"equity {view.equity:,.2f} {view.quote} = cash {view.cash:,.2f} "
        f"+ positions {view.positions_value:,.2f}; cash = reserved {view.reserved:,.2f} for open buys "
        f"+ free {view.free_cash:,.2f}; "
        f"P&L realised {view.realised_pnl:,.2f}, unrealised {unrealised_total(view)}"
    )
    if view.unpriced_fees:
        info(
            f"realised P&L leaves out fees of {_assets(view.unpriced_fees)}: the daemon had no "
            f"{view.quote} price for them (follow their {view.quote} market in [market] symbols)"
        )


def _assets(amounts: dict[str, float]) -> str:
    """Amounts of several assets, each with its name ("0.00234 BNB + 0.1 KCS")."""
    return " + ".join(f"{amount:.8g} {asset}" for asset, amount in amounts.items())
