"""Orders & positions (key 4): the account's cash, its positions and its orders, live. The panels name
the book they show (the account; a strategy's own paper book is never listed as if it were the account's).

Keys: ``n`` (anywhere) opens the order ticket, ``b``/``s`` open it to buy or sell the selected
position's symbol, ``c`` cancels the selected order (after a confirmation), ``o`` shows only open
orders or all of them.

A live position without working exits at the exchange, or a position or order whose market the exchange
delisted, carries "⚠ no exits" / "⚠ market gone" after its symbol; the full reason shows under its table
(and as the table's tooltip) while that row is selected.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from mastertrade.engine import events as ev
from mastertrade.engine.api.schemas_trading import OrderInfo
from mastertrade.tui import format as fmt
from mastertrade.tui.messages import CancelConfirmed, TicketRequested
from mastertrade.tui.screens.base import DashboardScreen
from mastertrade.tui.screens.confirm import ConfirmScreen
from mastertrade.tui.state import LiveState, Topic
from mastertrade.tui.widgets.book_rows import (
    OPEN_STATES,
    ORDER_COLUMNS,
    POSITION_COLUMNS,
    order_row,
    position_row,
    warning,
)
from mastertrade.tui.widgets.tables import selected_key, sync_rows
from mastertrade.tui.widgets.theme import tone


class OrdersScreen(DashboardScreen):
    MODE = "orders"
    TITLE = "Orders & positions"
    AUTO_FOCUS = "#orders"
    BINDINGS = [
        Binding("b", "ticket('buy')", "Buy"),
        Binding("s", "ticket('sell')", "Sell"),
        Binding("c", "cancel_order", "Cancel order"),
        Binding("o", "open_only", "Open/all"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.open_only = True
        self._positions: dict[str, tuple[str, ...]] = {}
        self._orders: dict[str, tuple[str, ...]] = {}

    def compose_body(self) -> ComposeResult:
        with Vertical(id="orders-body"):
            yield Static(id="cash-line")
            with Vertical(id="positions-panel", classes="panel") as panel:
                panel.border_title = "Positions · account"
                yield DataTable[Text](id="positions", cursor_type="row")
                yield Static(id="positions-warning", classes="book-warning")
            with Vertical(id="orders-panel", classes="panel") as panel:
                panel.border_title = "Orders · account"
                yield DataTable[Text](id="orders", cursor_type="row")
                yield Static(id="orders-warning", classes="book-warning")

    def on_mount(self) -> None:
        self.query_one("#positions", DataTable).add_columns(*POSITION_COLUMNS)
        self.query_one("#orders", DataTable).add_columns(*ORDER_COLUMNS)
        for name in ("positions", "orders"):
            self.query_one(f"#{name}-warning", Static).display = False

    def redraw(self, topics: set[Topic]) -> None:
        if not topics & {"account", "connection"}:
            return
        state = self.state
        self.query_one("#cash-line", Static).update(self.cash_line(state))
        positions = state.positions.value or []
        sync_rows(
            self.query_one("#positions", DataTable),
            [position_row(self.app, p) for p in positions],
            self._positions,
        )
        orders = [o for o in state.orders.value or [] if not self.open_only or o.state in OPEN_STATES]
        sync_rows(
            self.query_one("#orders", DataTable), [order_row(self.app, o) for o in orders], self._orders
        )
        balance = state.balance.value
        book = ev.book_label(balance.book, balance.mode) if balance is not None else "account"
        panel = self.query_one("#orders-panel")
        panel.border_title = f"{'Open orders' if self.open_only else 'Orders (newest first)'} · {book}"
        panel.border_subtitle = "o: show all" if self.open_only else "o: open only"
        positions_panel = self.query_one("#positions-panel")
        positions_panel.border_title = f"Positions · {book}"
        empty = "no open positions" if state.positions.value is not None else "not read yet"
        positions_panel.border_subtitle = "" if positions else empty
        self.show_warnings()

    @on(DataTable.RowHighlighted)
    def show_warnings(self) -> None:
        """Under each table, the full reason of the selected row's marker; hidden when it has none."""
        state = self.state
        positions = self.query_one("#positions", DataTable)
        key = selected_key(positions)
        position = next((p for p in state.positions.value or [] if p.symbol == key), None)
        self._show_warning(positions, "#positions-warning", warning(position) if position else "")
        order = self.selected_order()
        self._show_warning(
            self.query_one("#orders", DataTable), "#orders-warning", warning(order) if order else ""
        )

    def _show_warning(self, table: DataTable[Text], line_id: str, reason: str) -> None:
        line = self.query_one(line_id, Static)
        line.update(Text(f"⚠ {reason}" if reason else ""))  # a reason is never read as markup
        line.display = bool(reason)
        table.tooltip = reason or None

    def cash_line(self, state: LiveState) -> Text:
        app = self.app
        balance = state.balance.value
        text = Text(no_wrap=True, overflow="ellipsis")
        if balance is None:
            text.append(state.balance.error or "no account figures yet", tone(app, "text-muted"))
            return text
        figures = (
            ("cash", balance.cash),
            ("free", balance.free_cash),
            ("reserved", balance.reserved),
            ("in positions", balance.positions_value),
        )
        for index, (label, value) in enumerate(figures):
            text.append(("  " if index else "") + f"{label} ", tone(app, "text-muted"))
            text.append(fmt.money(value))
        text.append(f" {balance.quote}", tone(app, "text-muted"))
        if state.balance.error:
            text.append(f"  ({state.balance.error})", tone(app, "text-warning"))
        return text

    # --- actions ---------------------------------------------------------------------------------------

    def action_open_only(self) -> None:
        self.open_only = not self.open_only
        self.redraw({"account"})

    def action_ticket(self, side: str) -> None:
        symbol = selected_key(self.query_one("#positions", DataTable))
        self.post_message(TicketRequested(symbol, side))

    def selected_order(self) -> OrderInfo | None:
        key = selected_key(self.query_one("#orders", DataTable))
        return next((o for o in self.state.orders.value or [] if str(o.id) == key), None)

    def action_cancel_order(self) -> None:
        order = self.selected_order()
        if order is None:
            self.notify("no order selected", severity="warning")
            return
        if order.state not in OPEN_STATES:
            self.notify(f"order {order.id} is {order.state}: nothing to cancel", severity="warning")
            return
        live = " LIVE" if order.mode == "live" else ""
        message = (
            f"Cancel{live} order {order.id}: {order.side} {fmt.amount(order.amount)} {order.symbol} "
            f"{order.type}?"
        )

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.post_message(CancelConfirmed(order.id))

        self.app.push_screen(
            ConfirmScreen(
                "Cancel order", message, confirm="Cancel order", keep="Keep order", danger=bool(live)
            ),
            answered,
        )
