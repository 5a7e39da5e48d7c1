"""The dashboard closed (q, ctrl+c, a lost terminal) while an order ticket waits to preview its order: the
preview wakes after the ticket's widgets went and used to fail the app's shutdown with NoMatches. Seen
once in the suite's run; here the preview's delay is set so it wakes at different moments of the
shutdown."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import Input

from tests.tui.fakes import FakeBackend
from tests.tui.test_app import loaded, make_app, ticket, wait_for


@pytest.mark.parametrize("delay_s", [0.002, 0.005, 0.01, 0.02])
async def test_closing_the_app_while_a_preview_waits_ends_cleanly(
    monkeypatch: pytest.MonkeyPatch, delay_s: float
) -> None:
    import mastertrade.tui.screens.order_ticket as order_ticket

    app = make_app(FakeBackend())
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        screen = await ticket(pilot, app, "0.01")
        monkeypatch.setattr(order_ticket, "PREVIEW_DELAY_S", delay_s)
        screen.query_one("#amount", Input).value = "0.02"  # a preview, due in delay_s
        await asyncio.sleep(0)
    # leaving run_test shut the app down; a failed worker would have been raised there
