"""A question's safe answer says what it keeps. Asked "Cancel order 170: buy 0.01 BTC/USDT limit?", the
dialog offered "Cancel" and "Cancel order (y)": a trader meaning to cancel the order could take the
first, which keeps it. The safe button now reads "Keep order (esc)" (and "Keep the stop (esc)" when the
order is the stop protecting a position)."""

from __future__ import annotations

from textual.widgets import Button

from mastertrade.tui.screens.confirm import ConfirmScreen
from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import FakeBackend


def labels(screen: ConfirmScreen) -> list[str]:
    return [str(button.label) for button in screen.query(Button)]


async def test_the_cancel_order_question_names_both_answers() -> None:
    backend = FakeBackend()
    backend.protecting.add(12)
    app = make_app(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("4")
        await pilot.pause()
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert isinstance(app.screen, ConfirmScreen)
        assert labels(app.screen) == ["Keep order (esc)", "Cancel order (y)"]
        await pilot.press("enter")  # the focus starts on the safe answer: the order stays
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert not [call for call in backend.calls if call[0] == "cancel_order"]

        await pilot.press("c")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(
            pilot, lambda: isinstance(app.screen, ConfirmScreen) and "protecting" in app.screen.message
        )
        assert isinstance(app.screen, ConfirmScreen)
        assert labels(app.screen) == ["Keep the stop (esc)", "Leave unprotected (y)"]


async def test_other_questions_keep_their_cancel_and_say_its_key() -> None:
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("5")
        await pilot.pause()
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert isinstance(app.screen, ConfirmScreen)
        assert labels(app.screen) == ["Cancel (esc)", "Halt (y)"]
