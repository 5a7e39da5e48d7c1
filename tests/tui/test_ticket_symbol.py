"""The order ticket names its symbol in full, however long (a dated futures contract's name): cut to
the width of one of its columns, two contracts of different expiries read the same."""

from __future__ import annotations

from textual.widgets import Select, Static

from mastertrade.tui.screens.order_ticket import OrderTicket
from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import FakeBackend

CONTRACT = "1000PEPE/USDT:USDT-251226"


async def test_the_ticket_shows_a_long_symbol_whole_at_80x24() -> None:
    backend = FakeBackend(symbols=(CONTRACT, "1000PEPE/USDT:USDT-250926", "BTC/USDT"))
    app = make_app(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, OrderTicket))
        await pilot.pause()
        select = app.screen.query_one("#symbol", Select)
        assert select.value == CONTRACT
        label = select.query_one("SelectCurrent #label", Static)
        assert label.content_region.width >= len(CONTRACT), label.content_region
        # and the whole ticket, its buttons included, still fits the smallest terminal
        send = app.screen.query_one("#send")
        assert send.region.bottom <= 24 and send.region.right <= 80


async def test_an_empty_amount_asks_for_one_rather_than_calling_it_invalid() -> None:
    # The ticket opened with "invalid amount '': enter a number" (its selects announce their first
    # values, which ran a preview); so did clearing the amount.
    app = make_app(FakeBackend())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, OrderTicket))
        preview = app.screen.query_one("#ticket-preview", Static)
        await pilot.press("0")  # an amount typed that cannot be ordered is named
        await wait_for(pilot, lambda: "invalid amount '0'" in str(preview.render()))
        await pilot.press("backspace")
        await wait_for(pilot, lambda: str(preview.render()) == "enter an amount to see the risk check")
