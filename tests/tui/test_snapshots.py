"""SVG snapshots of every screen at 80x24 and 160x48 on the fake daemon (frozen clock, fixed data).

Regenerate after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update`` and
look at the SVGs in ``__snapshots__`` before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from mastertrade.tui.app import MasterTradeApp
from mastertrade.tui.screens.order_ticket import OrderTicket
from mastertrade.tui.screens.strategy_detail import StrategyDetailScreen
from mastertrade.tui.widgets.candle_chart import CandleChart
from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import FakeBackend, UnsafeBookBackend

SIZES = {"80x24": (80, 24), "160x48": (160, 48)}
MODES = ["overview", "market", "strategies", "orders", "risk", "alerts", "help"]

Snap = Callable[..., bool]


def overlays_drawn(app: MasterTradeApp) -> Callable[[], bool]:
    """The Market screen's chart shows the daemon's indicator lines (fetched after the candles)."""

    def drawn() -> bool:
        charts = app.screen.query(CandleChart)
        return bool(charts) and any(any(v is not None for v in line) for _, line in charts.first().overlays)

    return drawn


def on_mode(app: MasterTradeApp, mode: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, loaded(app))
        await app.switch_mode(mode)
        await pilot.pause()
        if mode == "market":
            await wait_for(pilot, overlays_drawn(app))
        await pilot.pause(0.05)

    return run_before


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("mode", MODES)
def test_screen(snap_compare: Snap, mode: str, size: str) -> None:
    app = make_app()
    assert snap_compare(app, terminal_size=SIZES[size], run_before=on_mode(app, mode))


@pytest.mark.parametrize("size", SIZES)
def test_strategy_detail(snap_compare: Snap, size: str) -> None:
    app = make_app()

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, loaded(app))
        await app.switch_mode("strategies")
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, StrategyDetailScreen)
                and app.screen.detail() is not None
                and app.screen.book_orders is not None
            ),
        )

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


def test_order_ticket_over_a_limit(snap_compare: Snap) -> None:
    app = make_app()

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, loaded(app))
        await app.switch_mode("market")
        await pilot.pause()
        await wait_for(pilot, overlays_drawn(app))
        await pilot.press("b")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, OrderTicket)
        for field in screen.query(Input):  # a blinking cursor would be drawn or not by the clock
            field.cursor_blink = False
        await pilot.press(*"0.05")
        await wait_for(pilot, lambda: screen.decision is not None and screen.decision.requested == 0.05)
        # the decision re-lays the ticket out: let that refresh and its animations finish before the shot
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_daemon_lost(snap_compare: Snap) -> None:
    backend = FakeBackend()
    app = make_app(backend)

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, loaded(app))
        await app.switch_mode("market")
        await pilot.pause()
        await wait_for(pilot, overlays_drawn(app))
        backend.go_down()
        await wait_for(pilot, lambda: app.state.connection.state == "reconnecting")

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_orders_unsafe_rows(snap_compare: Snap) -> None:
    """A position with no exits and an order in a delisted market are marked in the warning colour; the
    selected position's full reason shows under its table."""
    app = make_app(UnsafeBookBackend())
    assert snap_compare(app, terminal_size=SIZES["160x48"], run_before=on_mode(app, "orders"))


def test_overview_unsafe_book(snap_compare: Snap) -> None:
    """Above the panels, the count of those rows in the warning colour and the key that shows them."""
    app = make_app(UnsafeBookBackend())
    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=on_mode(app, "overview"))
