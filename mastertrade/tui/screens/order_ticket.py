"""The order ticket (``n``, or ``b``/``s`` with a symbol picked): a modal that shows, before anything
is sent, what the order is worth and what the risk check will decide (approve, resize to a smaller
amount, or reject, with the reasons). It dismisses with the ``PlaceResult`` once the daemon accepted
the order; a refusal stays on the ticket in red (a send that found no daemon only until the daemon
answers a preview again: the amount typed stays, ready to send). On a live account a second dialog
names the order and asks for confirmation, focused on Cancel.

One order per ticket: while it is on its way, a second ctrl+s (or click) is refused instead of
cancelling the first request and sending again (the first may well have reached the daemon), and so is
esc (its answer would be lost). Each order carries a client order id, kept while the fields stay the
same: when the daemon does not answer in time, sending again asks for the same order, which the daemon
returns if it placed it instead of placing it twice (as ``mt trade`` does).

A preview still waiting when the ticket closes is cancelled, and none starts after: it would look for
the ticket's widgets once they are gone, and take the dashboard down with it.
"""

from __future__ import annotations

import asyncio
import math

from pydantic import ValidationError
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from mastertrade import errors
from mastertrade.client import DaemonConnectionLost, DaemonTimeout
from mastertrade.engine.api.schemas_trading import OrderCreate, PlaceResult, RiskDecision
from mastertrade.engine.orders import new_client_order_id
from mastertrade.tui import format as fmt
from mastertrade.tui.backend import backend_of
from mastertrade.tui.screens.confirm import ConfirmScreen
from mastertrade.tui.state import live_state
from mastertrade.tui.widgets.theme import tone

PREVIEW_DELAY_S = 0.25  # wait for typing to pause before asking for a preview
PREVIEW_REFRESH_S = 3.0
ENTER_AMOUNT = "enter an amount to see the risk check"
NOT_FINITE = "too large (not a finite number)"  # "1e400" reads as infinity
VERDICTS = {
    "approve": ("✔ approve", "text-success"),
    "resize": ("▲ resize", "text-warning"),
    "reject": ("✖ reject", "text-error"),
}


class OrderTicket(ModalScreen[PlaceResult | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "send", "Send order")]

    def __init__(self, *, symbol: str | None = None, side: str = "buy") -> None:
        super().__init__(classes="dialog")
        self.initial_symbol = symbol
        self.initial_side = side if side in ("buy", "sell") else "buy"
        self.decision: RiskDecision | None = None
        self.sending = False
        """An order is on its way to the daemon: the ticket sends nothing else, and stays, until it
        answers."""
        self.unanswered: OrderCreate | None = None
        """The last order sent without an answer (its client order id is reused to send it again)."""
        self.daemon_away_shown = False
        """The result line says a send found no daemon: stale once the daemon answers a preview (the
        order was never sent, so nothing else the line said is lost)."""
        self.closed = False

    # --- layout ----------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        state = live_state(self.app)
        symbols = list(state.tickers) or ([self.initial_symbol] if self.initial_symbol else [])
        symbol = self.initial_symbol if self.initial_symbol in symbols else (symbols[0] if symbols else None)
        with Vertical(classes="dialog-box", id="ticket") as box:
            box.border_title = "New order"
            box.border_subtitle = self._account_label()
            with Horizontal(classes="ticket-row"):  # a row of its own: a contract's name can be long
                yield Label("Symbol", classes="ticket-label")
                yield Select(
                    [(name, name) for name in symbols],
                    value=symbol or Select.NULL,
                    id="symbol",
                    allow_blank=symbol is None,
                    compact=True,
                )
            with Horizontal(classes="ticket-row"):
                yield Label("Side", classes="ticket-label")
                yield Select(
                    [("buy", "buy"), ("sell", "sell")],
                    value=self.initial_side,
                    id="side",
                    allow_blank=False,
                    compact=True,
                )
                yield Label("Type", classes="ticket-label")
                yield Select(
                    [("market", "market"), ("limit", "limit"), ("stop", "stop")],
                    value="market",
                    id="type",
                    allow_blank=False,
                    compact=True,
                )
            with Horizontal(classes="ticket-row"):
                yield Label("Amount", classes="ticket-label")
                yield Input(placeholder="units of the base asset", id="amount", type="number", compact=True)
                yield Label("Price", classes="ticket-label")
                yield Input(
                    placeholder="limit or stop price",
                    id="price",
                    type="number",
                    compact=True,
                    disabled=True,
                )
            yield Static(id="ticket-preview")
            yield Static(id="ticket-result")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel (esc)", id="cancel")
                yield Button("Send order (ctrl+s)", id="send", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#amount", Input).focus()
        self._show_preview(Text(ENTER_AMOUNT, tone(self.app, "text-muted")))
        # Prices and the account move while the ticket is open: keep the preview current.
        self.set_interval(PREVIEW_REFRESH_S, self._refresh_preview)

    def _refresh_preview(self) -> None:
        # Once an amount is typed, whatever the last answer was: a preview that failed (the daemon
        # away) is asked again, so the ticket does not keep saying "not running" once it is back.
        if self.closed:
            return
        try:
            typed = self.query_one("#amount", Input).value.strip()
        except NoMatches:  # the app is shutting down with the ticket open
            return
        if typed:
            self.preview()

    def _account_label(self) -> str:
        state = live_state(self.app)
        if state.mode is None:
            return "account ?"
        return ("SIMULATED " if state.simulated else "") + ("LIVE" if state.mode == "live" else "PAPER")

    # --- the order -------------------------------------------------------------------------------------

    def order(self, *, live: bool = False) -> OrderCreate:
        """The order the fields describe; raises ``UserInputError`` naming the bad field."""
        symbol = self.query_one("#symbol", Select).value
        if not isinstance(symbol, str):
            raise errors.UserInputError("pick a symbol")
        amount_text = self.query_one("#amount", Input).value.strip()
        try:
            amount = float(amount_text)
        except ValueError:
            raise errors.UserInputError(f"invalid amount {amount_text!r}: enter a number") from None
        if not math.isfinite(amount):
            raise errors.UserInputError(f"invalid amount {amount_text!r}: {NOT_FINITE}")
        if not amount > 0:
            raise errors.UserInputError(f"invalid amount {amount_text!r}: must be more than 0")
        kind = str(self.query_one("#type", Select).value)
        price: float | None = None
        if kind != "market":
            price_text = self.query_one("#price", Input).value.strip()
            try:
                price = float(price_text)
            except ValueError:
                raise errors.UserInputError(
                    f"invalid price {price_text!r}: a {kind} order needs one"
                ) from None
            if not math.isfinite(price):
                raise errors.UserInputError(f"invalid price {price_text!r}: {NOT_FINITE}")
            if not price > 0:
                raise errors.UserInputError(f"invalid price {price_text!r}: must be more than 0")
        try:
            return OrderCreate(
                symbol=symbol,
                side="sell" if self.query_one("#side", Select).value == "sell" else "buy",
                amount=amount,
                type="limit" if kind == "limit" else "stop" if kind == "stop" else "market",
                price=price,
                live=live,
            )
        except ValidationError as exc:
            raise errors.UserInputError(str(exc.errors()[0]["msg"])) from None

    def last_price(self, symbol: str) -> float | None:
        ticker = live_state(self.app).tickers.get(symbol)
        return ticker.price if ticker else None

    # --- preview ---------------------------------------------------------------------------------------

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self, event: Input.Changed | Select.Changed) -> None:
        if isinstance(event, Select.Changed) and event.select.id == "type":
            self.query_one("#price", Input).disabled = event.value == "market"
        if self.closed:
            return
        self.query_one("#ticket-result", Static).update("")
        self.daemon_away_shown = False
        self.preview()

    @work(exclusive=True, group="preview")
    async def preview(self) -> None:
        await asyncio.sleep(PREVIEW_DELAY_S)
        try:
            await self._preview()
        except NoMatches:
            # The app shut down with the ticket open: its widgets went before this preview woke.
            if self.closed or not self.app.is_running:
                return
            raise

    async def _preview(self) -> None:
        if self.closed:
            return
        if not self.query_one("#amount", Input).value.strip():
            # Nothing typed yet (the selects announce their first values as the ticket opens): a hint,
            # not an error about an amount the user has not entered.
            self.decision = None
            self._show_preview(Text(ENTER_AMOUNT, tone(self.app, "text-muted")))
            return
        try:
            order = self.order()
        except errors.UserInputError as exc:
            self.decision = None
            self._show_preview(Text(str(exc), tone(self.app, "text-muted")))
            return
        last = self.last_price(order.symbol)
        try:
            decision = await backend_of(self.app).check_order(order)
        except errors.MasterTradeError as exc:
            self.decision = None
            self._show_preview(Text(f"no risk preview: {exc}", tone(self.app, "text-warning")))
            return
        self.decision = decision
        self._show_preview(self.describe(order, decision, last))
        if self.daemon_away_shown and not self.sending:
            # the daemon is back: "not sent: the daemon is not running" under this answer would be stale
            self.daemon_away_shown = False
            self.query_one("#ticket-result", Static).update("")

    def describe(self, order: OrderCreate, decision: RiskDecision, last: float | None) -> Text:
        app = self.app
        state = live_state(app)
        text = Text()
        price = order.price if order.type == "limit" and order.price else last
        text.append("last price ", tone(app, "text-muted"))
        text.append(fmt.price(last))
        if price:
            equity = state.balance.value.equity if state.balance.value else None
            share = f" ({fmt.pct(order.amount * price / equity, 2)} of equity)" if equity else ""
            text.append("   value ", tone(app, "text-muted"))
            text.append(f"≈ {fmt.money(order.amount * price)}{share}")
        text.append("\n")
        label, color = VERDICTS.get(decision.verdict, (decision.verdict, "text"))
        text.append(label, tone(app, color, bold=True))
        if decision.verdict == "resize":
            text.append(f" to {fmt.amount(decision.amount)} {order.symbol}", tone(app, color, bold=True))
        elif decision.verdict == "approve":
            text.append(f" {fmt.amount(decision.amount)} {order.symbol}", tone(app, color, bold=True))
        text.append(f": {decision.reason}")
        text.append(
            "\npreview before fees; the daemon checks again when the order is sent", tone(app, "text-muted")
        )
        return text

    def _show_preview(self, text: Text) -> None:
        self.query_one("#ticket-preview", Static).update(text)

    # --- sending ---------------------------------------------------------------------------------------

    def close(self, result: PlaceResult | None) -> None:
        """Dismiss the ticket, with no preview left running or starting after."""
        self.closed = True
        self.workers.cancel_group(self, "preview")
        self.dismiss(result)

    def action_cancel(self) -> None:
        if self.sending:
            self.notify("the order is on its way: wait for the daemon's answer", severity="warning")
            return
        self.close(None)

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#send")
    def _send_pressed(self) -> None:
        self.action_send()

    def action_send(self) -> None:
        if self.sending:
            self.notify("the order is on its way: wait for the daemon's answer", severity="warning")
            return
        try:
            order = self.order()
        except errors.UserInputError as exc:
            self._show_result(str(exc), "text-error")
            return
        if live_state(self.app).mode == "live":
            value = self.last_price(order.symbol)
            worth = f" (≈ {fmt.money(order.amount * value)})" if value else ""
            message = (
                f"Send a LIVE {order.type} order with real money?\n\n"
                f"{order.side.upper()} {fmt.amount(order.amount)} {order.symbol}{worth}"
            )

            def answered(confirmed: bool | None) -> None:
                if confirmed and not self.sending:
                    self.place(order.model_copy(update={"live": True}))

            self.app.push_screen(
                ConfirmScreen("Live order", message, confirm="Send live", danger=True), answered
            )
            return
        self.place(order)

    def place(self, order: OrderCreate) -> None:
        unanswered = self.unanswered
        if unanswered is not None and unanswered.model_copy(update={"client_order_id": None}) == order:
            order = unanswered  # the same order again: the daemon returns it if it placed it
        else:
            order = order.model_copy(update={"client_order_id": new_client_order_id()})
        self.unanswered = order
        self.sending = True  # set at once: a key pressed before the worker starts is refused too
        self.query_one("#send", Button).disabled = True
        self._show_result("sending…", "text-muted")
        self._place(order)

    @work(group="place")
    async def _place(self, order: OrderCreate) -> None:
        try:
            result = await backend_of(self.app).place_order(order)
        except errors.RiskRejected as exc:
            self.unanswered = None
            self._ready_again(f"✖ rejected by the risk check: {exc}")
            return
        except (DaemonTimeout, DaemonConnectionLost) as lost:
            # A broken connection lost the answer as surely as a timeout: it is not "not sent".
            what = "no answer in time" if isinstance(lost, DaemonTimeout) else "the connection broke"
            self._ready_again(
                f"✖ {what}: the order may have been placed. Check the Orders screen, or send "
                "again: the daemon returns this order if it has it (same client order id), never a second"
            )
            return
        except errors.MasterTradeError as exc:
            self._ready_again(f"✖ not sent: {exc}")
            self.daemon_away_shown = isinstance(exc, errors.DaemonNotRunning)
            return
        self.close(result)

    def _ready_again(self, message: str) -> None:
        self.sending = False
        self.query_one("#send", Button).disabled = False
        self._show_result(message, "text-error")

    def _show_result(self, message: str, color: str) -> None:
        self.daemon_away_shown = False
        self.query_one("#ticket-result", Static).update(Text(message, tone(self.app, color, bold=True)))
