"""The order ticket names what is wrong with an amount or a price: "1e400" (too large for a number: it
reads as infinity) was called "must be more than 0"."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from mastertrade.tui.screens.order_ticket import OrderTicket
from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import FakeBackend


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("0", "invalid amount '0': must be more than 0"),
        ("-1", "invalid amount '-1': must be more than 0"),
        ("1e400", "invalid amount '1e400': too large (not a finite number)"),
    ],
)
async def test_a_bad_amount_is_named_with_what_is_wrong(typed: str, said: str) -> None:
    app = make_app(FakeBackend())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, OrderTicket))
        preview = app.screen.query_one("#ticket-preview", Static)
        app.screen.query_one("#amount", Input).value = typed
        await wait_for(pilot, lambda: str(preview.render()) == said)


async def test_a_limit_price_too_large_for_a_number_is_named() -> None:
    app = make_app(FakeBackend())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, OrderTicket))
        ticket = app.screen
        assert isinstance(ticket, OrderTicket)
        ticket.query_one("#type").value = "limit"  # type: ignore[attr-defined]
        ticket.query_one("#price", Input).value = "1e999"
        ticket.query_one("#amount", Input).value = "0.1"
        preview = ticket.query_one("#ticket-preview", Static)
        said = "invalid price '1e999': too large (not a finite number)"
        await wait_for(pilot, lambda: str(preview.render()) == said)
