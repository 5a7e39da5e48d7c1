"""An order ticket left open while the daemon was stopped and started again: the "✖ not sent: the daemon
is not running" of a send tried meanwhile stayed under the fresh "✔ approve" preview once the daemon was
back. It goes with the first preview the daemon answers; the amount typed stays. What may still be true
(an order that went without an answer may have been placed) stays whatever the preview says."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widgets import Input, Static

from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import FakeBackend
from tests.tui.test_app import plain, ticket


def checks(backend: FakeBackend) -> int:
    return sum(1 for name, _ in backend.calls if name == "check_order")


def asked_again(backend: FakeBackend) -> Callable[[], bool]:
    """A preview asked the daemon after now, and was answered."""
    before = checks(backend)
    return lambda: checks(backend) > before


@pytest.fixture(autouse=True)
def quick_previews(monkeypatch: pytest.MonkeyPatch) -> None:
    import mastertrade.tui.screens.order_ticket as order_ticket

    monkeypatch.setattr(order_ticket, "PREVIEW_REFRESH_S", 0.05)
    monkeypatch.setattr(order_ticket, "PREVIEW_DELAY_S", 0.0)


async def test_the_daemon_back_clears_the_stale_not_sent_and_keeps_the_amount() -> None:
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        screen = await ticket(pilot, app, "0.01")
        result = screen.query_one("#ticket-result", Static)
        preview = screen.query_one("#ticket-preview", Static)
        backend.go_down()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "not sent" in plain(result))
        assert "the daemon is not running" in plain(result)
        assert not [call for call in backend.calls if call[0] == "place_order"]
        await wait_for(pilot, lambda: "no risk preview" in plain(preview))
        backend.come_back()
        answered = asked_again(backend)
        await wait_for(pilot, lambda: answered() and "approve" in plain(preview))
        assert "not sent" not in plain(result), plain(result)
        assert screen.query_one("#amount", Input).value == "0.01"
        await pilot.press("ctrl+s")  # and the order goes as typed
        await wait_for(pilot, lambda: any(call[0] == "place_order" for call in backend.calls))
        sent = [call[1] for call in backend.calls if call[0] == "place_order"]
        assert len(sent) == 1 and sent[0].amount == 0.01


async def test_an_order_that_may_have_been_placed_stays_said_under_a_fresh_preview() -> None:
    backend = FakeBackend()
    backend.answers_lost = 1
    app = make_app(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        screen = await ticket(pilot, app, "0.01")
        result = screen.query_one("#ticket-result", Static)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "may have been placed" in plain(result))
        answered = asked_again(backend)
        await wait_for(pilot, lambda: answered() and screen.decision is not None)
        assert "may have been placed" in plain(result)
