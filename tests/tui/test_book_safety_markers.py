"""The Orders & positions screen shows the daemon's two safety facts about live rows: a position with no
working exits at the exchange (``unprotected``) and a position or order whose market the exchange delisted
(``market_gone``). `mt positions` and `mt orders` said them; the dashboard showed such rows like any other."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from mastertrade.tui.screens.orders import OrdersScreen
from mastertrade.tui.widgets.book_rows import ORDER_COLUMNS, POSITION_COLUMNS
from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import GONE, NO_EXITS, UnsafeBookBackend


def cells(table: DataTable[object], columns: tuple[str, ...], row: int) -> dict[str, str]:
    return dict(zip(columns, (str(getattr(c, "plain", c)) for c in table.get_row_at(row)), strict=True))


async def test_unprotected_and_delisted_rows_are_marked_with_their_reason() -> None:
    app = make_app(UnsafeBookBackend())
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("4")
        await wait_for(pilot, lambda: isinstance(app.screen, OrdersScreen))
        screen = app.screen
        positions = screen.query_one("#positions", DataTable)
        orders = screen.query_one("#orders", DataTable)
        await wait_for(pilot, lambda: positions.row_count == 2 and orders.row_count == 2)

        assert cells(positions, POSITION_COLUMNS, 0)["Symbol"] == "BTC/USDT ⚠ no exits"
        assert cells(positions, POSITION_COLUMNS, 1)["Symbol"] == "SOL/USDT"  # no fact: as before
        assert cells(orders, ORDER_COLUMNS, 0)["Symbol"] == "ETH/USDT"
        assert cells(orders, ORDER_COLUMNS, 1)["Symbol"] == "ADA/USDT ⚠ market gone"

        # the selected position (the first) has its full reason under the table and as its tooltip
        position_line = screen.query_one("#positions-warning", Static)
        assert position_line.display
        assert str(position_line.render()) == f"⚠ no exits: {NO_EXITS}"
        assert positions.tooltip == f"no exits: {NO_EXITS}"

        # the selected order (ETH) has none: no line; selecting the delisted one shows its reason
        order_line = screen.query_one("#orders-warning", Static)
        assert not order_line.display
        assert orders.tooltip is None
        await pilot.press("down")
        await wait_for(pilot, lambda: order_line.display)
        assert str(order_line.render()) == f"⚠ market gone: {GONE}"
        assert orders.tooltip == f"market gone: {GONE}"

        # a position without the facts hides the line again
        positions.focus()
        await pilot.press("down")
        await wait_for(pilot, lambda: not position_line.display)
        assert positions.tooltip is None
