"""Leaving the demo's dashboard with its daemon still running says so, and how to stop it: after "Quit,
keep it running (k)" the terminal showed nothing, while the daemon went on paper-trading (and using a
core) in the background."""

from __future__ import annotations

import pytest

from mastertrade.tui.screens.confirm import QuitDemoScreen
from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import FakeBackend


async def test_leaving_the_demo_running_says_where_it_runs_and_how_to_stop_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MT_HOME", "/tmp/demo-home")
    backend = FakeBackend()
    app = make_app(backend, demo=True)
    said: list[str] = []
    exit_app = app.exit

    def exit(result: None = None, return_code: int = 0, message: object = None) -> None:
        said.append(str(message or ""))  # what the terminal shows once the dashboard is gone
        exit_app(result, return_code, message)  # type: ignore[arg-type]

    app.exit = exit  # type: ignore[method-assign]
    async with app.run_test() as pilot:
        await wait_for(pilot, loaded(app))
        pid = app.state.status.value.pid if app.state.status.value else None
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitDemoScreen))
        await pilot.press("k")
        await wait_for(pilot, lambda: not app.is_running)
    assert ("stop_daemon", None) not in backend.calls
    assert app.return_code == 0
    assert f"the demo daemon (pid {pid}) keeps running" in " ".join(said)
    assert "`MT_HOME=/tmp/demo-home mt daemon stop`" in " ".join(said)
