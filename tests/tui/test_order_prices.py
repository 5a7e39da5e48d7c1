"""The orders tables keep an order's own price (limit or stop) and the average price of its fills in
columns of their own, as `mt orders` does: one "Price" column showed the fill average once there was one,
so a filled market order read as if priced and a partly filled limit order lost its limit."""

from __future__ import annotations

from textual.widgets import DataTable

from mastertrade.engine.api.schemas_trading import OrderInfo
from mastertrade.tui.screens.orders import OrdersScreen
from mastertrade.tui.widgets.book_rows import ORDER_COLUMNS
from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import FakeBackend


class PartlyFilledBackend(FakeBackend):
    async def orders(
        self, *, open_only: bool = False, limit: int = 50, book: str | None = None
    ) -> list[OrderInfo]:
        rows = await super().orders(open_only=open_only, limit=limit, book=book)
        return [
            row.model_copy(update={"state": "partially_filled", "filled": 0.2, "average_price": 3_295.5})
            if row.id == 12
            else row
            for row in rows
        ]


async def test_an_orders_own_price_and_its_fills_average_are_apart() -> None:
    app = make_app(PartlyFilledBackend())
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("4")
        await wait_for(pilot, lambda: isinstance(app.screen, OrdersScreen))
        await pilot.press("o")  # every order, not only the open ones
        table = app.screen.query_one("#orders", DataTable)
        await wait_for(pilot, lambda: table.row_count == 3)
        rows = {
            str(table.get_row_at(i)[0].plain): dict(
                zip(ORDER_COLUMNS, (cell.plain for cell in table.get_row_at(i)), strict=True)
            )
            for i in range(table.row_count)
        }
        limit = rows["12"]  # a limit buy at 3,300, 0.2 of 0.5 filled at 3,295.50
        assert (limit["Price"], limit["Avg fill"], limit["Filled"]) == ("3,300.00", "3,295.50", "0.2")
        market = rows["11"]  # a market buy filled at 63,200: it had no price of its own
        assert (market["Price"], market["Avg fill"]) == ("–", "63,200.00")
