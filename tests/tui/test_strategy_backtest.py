"""A strategy's backtest curve on the dashboard. One that made no trade says so, and why: its detail and
the wide Strategies screen's preview, not only a flat line (the reason used to reach only the stderr
of ``mt backtest``). A curve over years dates its axis with the year."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable

from mastertrade.engine.api.schemas_strategies import BacktestInfo
from mastertrade.engine.api.schemas_trading import EquityPointInfo
from mastertrade.tui.screens.strategies import StrategiesScreen
from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import HOUR_MS, LAST_BAR, FakeBackend
from tests.tui.test_app import open_detail, plain

FLAT = [EquityPointInfo(ts=LAST_BAR - (299 - i) * HOUR_MS, equity=10_000.0) for i in range(300)]
REASON = "no trades: breakout-5d11's entry rule never fired in the 285 bars after its 14-bar warm-up"


def no_trades(note: str | None = None) -> dict[str, object]:
    return {
        "backtest": BacktestInfo(bars=300, cash=10_000.0, fee=0.001, return_pct=0.0, trades=0, note=note),
        "backtest_equity": FLAT,
    }


async def preview_of(pilot: Any, app: Any, strategy_id: str) -> tuple[StrategiesScreen, Any]:
    """The wide Strategies screen, its row ``strategy_id`` selected, and the preview beside it."""
    await pilot.press("3")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, StrategiesScreen)
    table = screen.query_one("#strategies", DataTable)
    keys = [str(row.key.value) for row in table.ordered_rows]
    table.move_cursor(row=keys.index(strategy_id), animate=False)
    return screen, screen.query_one("#preview-text")


async def test_the_detail_says_the_backtest_made_no_trade_and_how_to_learn_why() -> None:
    backend = FakeBackend()
    backend.detail_changes["g-5d11"] = no_trades()
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, loaded(app))
        screen = await open_detail(pilot, app, "g-5d11")
        await pilot.pause()
        metrics = plain(screen.query_one("#detail-metrics"))
        assert "no trades in the 300 bars backtested: `mt backtest g-5d11` says why" in metrics
        assert screen.query_one("#backtest-curve").note == "no trades"  # type: ignore[attr-defined]


async def test_the_daemons_reason_is_shown_in_the_detail_and_the_preview() -> None:
    backend = FakeBackend()
    backend.detail_changes["g-5d11"] = no_trades(REASON)
    app = make_app(backend)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, loaded(app))
        screen, preview = await preview_of(pilot, app, "g-5d11")
        await wait_for(pilot, lambda: "breakout-5d11 " in plain(preview))
        assert REASON in plain(preview)
        assert screen.query_one("#preview-curve").note == "no trades"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(pilot, lambda: REASON in plain(app.screen.query_one("#detail-metrics")))


async def test_a_backtest_that_traded_or_sent_no_curve_says_nothing_of_the_kind() -> None:
    backend = FakeBackend()
    backend.detail_changes["g-5d11"] = {
        "backtest": BacktestInfo(cash=10_000.0, fee=0.001, note="no candles stored for sim:BTC/USDT:1h"),
        "backtest_equity": [],
    }
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, loaded(app))
        screen = await open_detail(pilot, app, "g-5d11")
        await pilot.pause()
        assert "no trades" not in plain(screen.query_one("#detail-metrics"))
        # the daemon's reason for sending no curve, not a bare "none sent"
        assert screen.query_one("#backtest-curve").note == "no candles stored for sim:BTC/USDT:1h"  # type: ignore[attr-defined]
        await pilot.press("escape")
        screen = await open_detail(pilot, app, "g-7f3a")  # traded: its usual curve, no note
        await pilot.pause()
        assert "no trades" not in plain(screen.query_one("#detail-metrics"))
        assert screen.query_one("#backtest-curve").note == ""  # type: ignore[attr-defined]


async def test_a_backtest_over_years_dates_its_axis_with_the_year() -> None:
    # 4,000 daily bars from 2015-12-22: the axis read "12-22 00:00 … 01-19 00:00", a month
    first = 1_450_742_400_000  # 2015-12-22
    day = 86_400_000
    curve = [EquityPointInfo(ts=first + i * 10 * day, equity=10_000.0 + i) for i in range(400)]
    backend = FakeBackend()
    backend.detail_changes["g-5d11"] = {"backtest_equity": curve}
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, loaded(app))
        screen = await open_detail(pilot, app, "g-5d11")
        await pilot.pause()
        axis = plain(screen.query_one("#backtest-curve")).split("\n")[-1]
        assert axis.startswith("2015-12-22") and axis.endswith("2026-11-24"), axis
        await pilot.press("escape")
        screen = await open_detail(pilot, app, "g-7f3a")  # 300 hourly points: to the minute, as before
        await pilot.pause()
        axis = plain(screen.query_one("#backtest-curve")).split("\n")[-1]
        assert axis.startswith("11-12 00:00") and axis.endswith("11-24 11:00"), axis


async def test_the_preview_follows_a_change_of_stage() -> None:
    # Paused from its detail, a strategy's row read "paused" while the preview beside it still said
    # "· paper": the preview was fetched only when the cursor moved.
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, loaded(app))
        screen, preview = await preview_of(pilot, app, "g-5d11")
        before = backend.stages["g-5d11"]
        await wait_for(pilot, lambda: f"g-5d11 · {before}" in plain(preview))
        await backend.change_strategy("g-5d11", "retire")
        await app.feed.refresh("strategies")
        await wait_for(pilot, lambda: "g-5d11 · retired" in plain(preview))
