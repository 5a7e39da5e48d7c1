"""``mt trade buy|sell SYMBOL AMOUNT``: a manual order, risk-checked and sent by the daemon.

Live orders need both switches: ``mode = "live"`` in the config and ``--live`` here (and the daemon
started with ``--live``). Without both, nothing reaches a real exchange. A refusal by the risk manager
prints its reason and exits 1; bad input exits 2. An order over a risk limit is refused with the reason,
not cut down, unless ``--allow-resize``.

**Placed once, followed to the end.** The command makes the order's client order id itself and sends it
with the order, so running it again after a lost answer (or the daemon answering late) finds the order
already placed instead of placing a second one. It then waits (``--wait`` seconds) until the exchange has
settled the order (filled, resting, cancelled or refused), with a status line on stderr. While the
exchange's rate limit holds it (a 429's or 418's ``Retry-After``: the daemon sends the order once that
wait is over), the status line says until when, and the wait runs from then (up to ``HELD_MOST_S`` more).
When the wait runs out the order is still being resolved by the daemon, or queued there behind the rate
limit: the command says so (and until when) and how to follow it, and exits 1; placing it again is never
the answer (the daemon never sends an order twice, and asks the
exchange by client order id until it knows). An answer lost to a broken connection (the daemon stopped
or crashed while placing it) is looked up by the client order id like a late one; when the daemon is
gone by then, or goes while the order is followed, the command names the order (its id, or the client
order id it may have been placed under) and how to find it, exit 1, never just "the daemon is not
running".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from mastertrade.cli.daemon import with_client
from mastertrade.cli.output import JsonOption, print_json

if TYPE_CHECKING:
    from mastertrade.client import DaemonClient
    from mastertrade.engine.api.schemas_trading import OrderCreate, OrderInfo, PlaceResult, Side

app = typer.Typer(
    help="Place manual orders (risk-checked, paper unless live is confirmed).", no_args_is_help=True
)

OrderType = Annotated[str, typer.Option("--type", help="market (default), limit or stop.")]
Price = Annotated[float | None, typer.Option("--price", help="Limit price, or the stop's trigger price.")]
Live = Annotated[
    bool, typer.Option("--live", help='Confirm a live order (the config must say mode = "live").')
]
Wait = Annotated[
    float,
    typer.Option(
        "--wait", min=0, max=86_400, help="Seconds to wait for the exchange to settle the order (0: don't)."
    ),
]
AllowResize = Annotated[
    bool,
    typer.Option("--allow-resize", help="Let the amount be cut to a limit or the lot step (else refused)."),
]
ClientId = Annotated[
    str | None,
    typer.Option(
        "--client-order-id",
        help="Your own id for the order (1-36 of A-Z a-z 0-9 . _ : / -, not digits alone); made up when "
        "not given.",
    ),
]

StopLoss = Annotated[
    float | None,
    typer.Option(
        "--stop-loss",
        help="Protect a buy with a stop this fraction below its price (0.05 = 5%); live, it rests at "
        "the exchange as a native stop order once the buy fills.",
    ),
]
TakeProfit = Annotated[
    float | None,
    typer.Option("--take-profit", help="Sell a buy again this fraction above its price (0.1 = 10%)."),
]

UNSETTLED = ("intent", "sent", "unknown")
WORKING = ("open", "partially_filled")
"""A resting limit or stop order is settled there; a market order is followed on to its fill (a paper
one fills at the next price, a live one as the venue matches it)."""
POLL_S = 0.25
HELD_MOST_S = 300.0
"""The longest the command follows an order past ``--wait`` while the exchange's rate limit holds it
(the daemon sits out a wait of up to two minutes per request and refuses the order for a longer one)."""


def _place(
    side: Side,
    symbol: str,
    amount: float,
    kind: str,
    price: float | None,
    live: bool,
    json_out: bool,
    wait_s: float,
    allow_resize: bool,
    client_order_id: str | None,
    stop_loss: float | None = None,
    take_profit: float | None = None,
) -> None:
    import math

    from mastertrade.cli.runtime import settings
    from mastertrade.cli.validation import check_amount, check_price
    from mastertrade.engine.api.schemas_trading import MIN_EXIT_FRACTION, OrderCreate
    from mastertrade.engine.execution.broker import trading_mode
    from mastertrade.engine.orders import client_order_id_problem, new_client_order_id
    from mastertrade.errors import OperationFailed, OrderRejected, UserInputError

    if "/" not in symbol:
        raise UserInputError(f"invalid symbol {symbol!r}: expected BASE/QUOTE, like BTC/USDT")
    check_amount(amount)
    if kind not in ("market", "limit", "stop"):
        raise UserInputError(f"invalid --type {kind!r}: expected market, limit or stop")
    if kind == "market" and price is not None:
        raise UserInputError("a market order takes no --price; use --type limit or --type stop")
    if kind != "market":
        if price is None:
            raise UserInputError(f"a {kind} order needs a positive --price (got None)")
        check_price(price)
    if client_order_id is not None and (problem := client_order_id_problem(client_order_id)):
        raise UserInputError(f"invalid --client-order-id {client_order_id!r}: {problem}")
    if stop_loss is not None and not (math.isfinite(stop_loss) and 0 < stop_loss < 1):
        raise UserInputError(f"invalid --stop-loss {stop_loss!r}: a fraction between 0 and 1, like 0.05")
    if take_profit is not None and not (math.isfinite(take_profit) and 0 < take_profit <= 100):
        raise UserInputError(f"invalid --take-profit {take_profit!r}: a positive fraction, like 0.1")
    for option, fraction in (("--stop-loss", stop_loss), ("--take-profit", take_profit)):
        if fraction is not None and fraction < MIN_EXIT_FRACTION:
            raise UserInputError(
                f"invalid {option} {fraction!r}: at least {MIN_EXIT_FRACTION:g} (0.0001%); a smaller"
                " one puts the exit at the entry price"
            )
    if (stop_loss is not None or take_profit is not None) and side != "buy":
        raise UserInputError("--stop-loss and --take-profit protect a buy; they do not apply to a sell")
    mode = trading_mode(settings().mode, live)  # both switches, or neither
    order = OrderCreate(
        symbol=symbol,
        side=side,
        amount=amount,
        type="limit" if kind == "limit" else "stop" if kind == "stop" else "market",  # checked above
        price=price,
        live=mode == "live",
        client_order_id=client_order_id or new_client_order_id(),
        allow_resize=allow_resize,
        stop_loss=stop_loss,
        take_profit=take_profit,
    )
    result, placed = with_client(lambda client: _place_and_wait(client, order, wait_s))
    if placed.state == "rejected":
        raise OrderRejected(f"order {placed.id} rejected: {placed.reason}")
    if json_out:
        document: dict[str, Any] = result.model_dump(mode="json") if result is not None else {}
        document["order"] = placed.model_dump(mode="json")
        print_json(document)
    else:
        risk = result.risk if result is not None else None
        if risk is not None and risk.reason.startswith("already placed"):
            note = f" ({risk.reason})"  # the same client order id again: say nothing new was sent
        elif risk is None or risk.verdict == "approve":
            note = ""
        else:
            note = f" (risk {risk.verdict}: {risk.reason})"
        shown: Any = placed.amount if placed.amount is not None else amount
        filled = (
            f", {placed.filled:.8g} filled at {placed.average_price:,.8g}"
            if placed.filled > 0 and placed.average_price is not None
            else ""
        )
        if kind == "market" and placed.state in WORKING:
            note += f"; it fills at the next price: follow it with `mt orders show {placed.id}`"
        # the result on stdout, for a script to read (`id=$(mt trade buy ... | cut -d' ' -f2)`); the
        # status line while it was followed, and errors, on stderr
        typer.echo(
            f"order {placed.id} {placed.side} {shown:.8g} {placed.symbol} {placed.type} ({placed.mode}): "
            f"{placed.state}{filled}{note}"
        )
        if result is not None and result.exits:
            typer.echo(result.exits)  # what a sell by hand did to its position's exits
    if placed.state in UNSETTLED:
        raise OperationFailed(_unsettled(placed))


def _unsettled(placed: OrderInfo) -> str:
    """What the command says of an order it stops following before the exchange settled it."""
    from mastertrade.utc import iso

    follow = f"follow it with `mt orders show {placed.id}` (do not place it again)"
    order = f"order {placed.id} ({placed.client_order_id})"
    if placed.held_until is None:
        return (
            f"{order} is still being resolved ({placed.state}): the daemon keeps asking the exchange; "
            + follow
        )
    until = iso(placed.held_until, "seconds")
    if placed.state == "sent":
        return (
            f"{order} is queued: the exchange asked to wait until {until} (rate limit), and the daemon "
            f"sends it then, once; {follow}"
        )
    return (
        f"{order} is still being resolved ({placed.state}): the exchange asked to wait until {until} "
        f"(rate limit), and the daemon asks it for the order then; {follow}"
    )


async def _place_and_wait(
    client: DaemonClient, order: OrderCreate, wait_s: float
) -> tuple[PlaceResult | None, OrderInfo]:
    """Place the order (or find it placed, when the daemon's answer was lost) and follow its state for
    up to ``wait_s`` seconds, with a status line on stderr."""
    import asyncio
    import time

    from mastertrade.client import DaemonConnectionLost, DaemonTimeout
    from mastertrade.errors import DaemonNotRunning, NotFound, OperationFailed

    cid = order.client_order_id
    assert cid is not None
    started = time.monotonic()
    result: PlaceResult | None = None
    try:
        result = await client.place_order(order)
        placed = result.order
    except (DaemonTimeout, DaemonConnectionLost) as lost:
        # The daemon may have journaled (and sent) it: ask by our client id, never place it again.
        try:
            placed = await client.order_by_client_id(cid)
        except NotFound:
            raise DaemonTimeout(
                f"the daemon did not answer and has no order {cid} yet: check `mt orders show {cid}` in a "
                f"moment before placing it again (with --client-order-id {cid} it is never placed twice)"
            ) from None
        except (DaemonNotRunning, DaemonTimeout, DaemonConnectionLost):
            raise OperationFailed(
                f"{lost}; order {cid} may have been placed: once the daemon runs, `mt orders show {cid}` "
                f"says; place it again only with --client-order-id {cid} (it finds the order instead of "
                "placing it twice)"
            ) from None
    status = _StatusLine()
    deadline = started + wait_s
    try:
        while _following(order, placed):
            now = time.monotonic()
            held = _held_for(placed)
            if held is not None and wait_s > 0:
                # Held by the exchange's rate limit, not yet sent: --wait counts from the wait's end.
                deadline = max(deadline, min(now + held + wait_s, started + wait_s + HELD_MOST_S))
            if now >= deadline:
                break
            status.show(_waiting(placed, now - started, max(wait_s, round(deadline - started))))
            await asyncio.sleep(POLL_S)
            try:
                placed = await client.order(placed.id)
            except (DaemonNotRunning, DaemonTimeout, DaemonConnectionLost):
                # Placed, then the daemon went: the order is in its journal, so say which it is.
                raise OperationFailed(
                    f"order {placed.id} ({cid}) was placed ({placed.state} when last seen), then the daemon "
                    f"stopped answering: once it runs, follow it with `mt orders show {placed.id}` (do not "
                    "place it again)"
                ) from None
    finally:
        status.close()
    return result, placed


def _held_for(placed: OrderInfo) -> float | None:
    """Seconds left of the exchange's rate-limit wait that holds the order (None: none holds it)."""
    from datetime import UTC, datetime

    if placed.held_until is None:
        return None
    return max(0.0, (placed.held_until - datetime.now(UTC)).total_seconds())


def _waiting(placed: OrderInfo, elapsed: float, bound: float) -> str:
    """The status line of an order being followed, ``elapsed`` seconds in, of ``bound`` at most."""
    from mastertrade.utc import iso

    took = f"({elapsed:.0f}/{bound:g} s)"
    if placed.held_until is not None:
        then = "sends it" if placed.state == "sent" else "asks the exchange for it"
        return (
            f"order {placed.id} {placed.state}, held by the exchange's rate limit: until "
            f"{iso(placed.held_until, 'seconds')}, then the daemon {then} {took}"
        )
    waited = "fill" if placed.state in WORKING else "exchange"
    return f"order {placed.id} {placed.state}: waiting for the {waited} {took}"


def _following(order: OrderCreate, placed: OrderInfo) -> bool:
    """Whether the order is still on its way: not yet settled by the exchange, or a market order not
    yet (wholly) filled."""
    return placed.state in UNSETTLED or (order.type == "market" and placed.state in WORKING)


class _StatusLine:
    """One status line on stderr, rewritten in place on a terminal (a line per change elsewhere)."""

    def __init__(self) -> None:
        import sys

        self.stream = sys.stderr
        self.tty = self.stream.isatty()
        self.last = ""
        self.shown = False

    def show(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[2K" + text)
            self.stream.flush()
            self.shown = True
        elif text.split(":")[0] != self.last.split(":")[0]:
            self.stream.write(text + "\n")
            self.stream.flush()
        self.last = text

    def close(self) -> None:
        if self.tty and self.shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()


@app.command("buy", context_settings={"ignore_unknown_options": True})
def buy(
    symbol: Annotated[str, typer.Argument(help="e.g. BTC/USDT")],
    amount: Annotated[float, typer.Argument(help="Units of the base asset, e.g. 0.01.")],
    price: Price = None,
    kind: OrderType = "market",
    live: Live = False,
    wait: Wait = 30.0,
    allow_resize: AllowResize = False,
    client_order_id: ClientId = None,
    stop_loss: StopLoss = None,
    take_profit: TakeProfit = None,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Buy AMOUNT of SYMBOL (market by default; --type limit|stop with --price), optionally protected by
    --stop-loss / --take-profit."""
    _place(
        "buy",
        symbol,
        amount,
        kind,
        price,
        live,
        json_out,
        wait,
        allow_resize,
        client_order_id,
        stop_loss,
        take_profit,
    )


@app.command("sell", context_settings={"ignore_unknown_options": True})
def sell(
    symbol: Annotated[str, typer.Argument(help="e.g. BTC/USDT")],
    amount: Annotated[float, typer.Argument(help="Units of the base asset, e.g. 0.01.")],
    price: Price = None,
    kind: OrderType = "market",
    live: Live = False,
    wait: Wait = 30.0,
    allow_resize: AllowResize = False,
    client_order_id: ClientId = None,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Sell AMOUNT of SYMBOL (market by default; --type limit|stop with --price)."""
    _place("sell", symbol, amount, kind, price, live, json_out, wait, allow_resize, client_order_id)
