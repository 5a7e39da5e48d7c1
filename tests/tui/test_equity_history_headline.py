"""The Overview's equity chart names its headline as the history's last mark and its time: it read
"10,861.41 +8.61%" with no word right under the live "Equity 10,872.31", two equities for one account."""

from __future__ import annotations

from mastertrade.tui.widgets.line_chart import LineChart
from mastertrade.tui.widgets.overview import PnLSummary
from mastertrade.utc import from_ms
from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import FakeBackend


async def test_the_chart_headline_says_it_is_the_history_to_its_last_mark() -> None:
    backend = FakeBackend()
    points = await backend.equity_history()
    app = make_app(backend)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, loaded(app))
        await wait_for(pilot, lambda: bool(app.state.equity))
        headline = app.screen.query_one("#equity-chart", LineChart).render().plain.split("\n")[0]
        last = points[-1]
        stamp = from_ms(last.ts).strftime("%m-%d %H:%M")
        assert headline.startswith(f"history to {stamp}: {last.equity:,.2f} "), headline
        live = app.screen.query_one(PnLSummary).render().plain
        assert "Equity " in live and "history to" not in live


async def test_a_narrow_panel_drops_the_date_before_the_figures() -> None:
    backend = FakeBackend()
    points = await backend.equity_history()
    app = make_app(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, loaded(app))
        await wait_for(pilot, lambda: bool(app.state.equity))
        chart = app.screen.query_one("#equity-chart", LineChart)
        headline = chart.render().plain.split("\n")[0]
        stamp = from_ms(points[-1].ts).strftime("%H:%M")
        assert headline.startswith(f"history to {stamp}: {points[-1].equity:,.2f} "), headline
        assert len(headline) <= chart.size.width and headline.endswith("%"), headline
