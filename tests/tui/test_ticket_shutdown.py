"""The dashboard closed (q, ctrl+c, a lost terminal) while an order ticket waits to preview its order: the
preview wakes after the ticket's widgets went and used to fail the app's shutdown with NoMatches. Seen
once in the suite's run; here the preview's delay is set so it wakes at different moments of the
shutdown."""

from __future__ import annotations

import asyncio

import pytest
from textual import events
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


@pytest.mark.parametrize("keys", ["qn", "q1n", "q3n", "q\r", "q?", "q4c", "q5h", "q3a"])
async def test_n_typed_right_after_q_does_not_fail_the_exit(keys: str) -> None:
    # "q1n" typed in one go on the Strategies screen: the ticket mounted while the app was closing,
    # found none of its widgets, and the dashboard ended on a NoMatches traceback with exit status 1.
    app = make_app(FakeBackend())
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("3")
        await pilot.pause()
        for key in keys:  # all at once, as a terminal delivers them
            app.post_message(events.Key(key, key))
        await pilot.pause(0.2)
    assert app.return_code == 0


async def test_the_preview_is_asked_again_once_the_daemon_is_back(monkeypatch: pytest.MonkeyPatch) -> None:
    # With the daemon stopped the ticket said "no risk preview: the daemon is not running", and kept
    # saying it after the daemon came back: only a preview that had succeeded was refreshed.
    import mastertrade.tui.screens.order_ticket as order_ticket

    monkeypatch.setattr(order_ticket, "PREVIEW_REFRESH_S", 0.05)
    monkeypatch.setattr(order_ticket, "PREVIEW_DELAY_S", 0.0)
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        backend.go_down()
        await pilot.press("n")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, order_ticket.OrderTicket)
        screen.query_one("#amount", Input).value = "0.01"
        preview = screen.query_one("#ticket-preview")
        await wait_for(pilot, lambda: "no risk preview" in str(preview.render()))
        backend.come_back()
        await wait_for(pilot, lambda: screen.decision is not None)
        assert "approve" in str(preview.render())
