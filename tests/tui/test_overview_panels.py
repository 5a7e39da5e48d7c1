"""The Overview's panels never cut a figure short: a line that does not fit says so with an ellipsis,
and VaR and CVaR go on two lines rather than lose digits."""

from __future__ import annotations

import pytest

from mastertrade.tui import format as fmt
from mastertrade.tui.state import LiveState
from mastertrade.tui.widgets.overview import GoalsList, LatestAlerts, RiskGauges, todays_pnl, var_line
from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import FakeBackend, frozen_clock


async def test_var_and_cvar_take_two_lines_rather_than_lose_digits() -> None:
    state = LiveState(frozen_clock)
    state.set_risk(await FakeBackend().risk_status())
    assert var_line(state, 60).plain == "VaR 95%    61.20 (0.61%)  CVaR 88.70"
    assert var_line(state, 30).plain == "VaR 95%    61.20 (0.61%)\nCVaR 95%   88.70"


async def test_latest_alerts_cut_to_the_panel_say_so() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, loaded(app))
        panel = app.screen.query_one(LatestAlerts)
        lines = panel.render().plain.split("\n")
        assert lines and all(len(line) <= panel.size.width for line in lines)
        full = {item.text for item in app.state.alerts}
        for line in lines:
            shown = line[17:]
            assert shown in full or (shown.endswith("…") and any(t.startswith(shown[:-1]) for t in full))
        assert any(line.endswith("…") for line in lines)


async def test_a_narrow_goals_panel_shortens_a_status_without_changing_its_meaning() -> None:
    # At 120 columns "no schedule" read "no · 02-05" and "on schedule" "on · 12-09"
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, loaded(app))
        panel = app.screen.query_one(GoalsList)
        statuses = [line.strip() for line in panel.render().plain.split("\n")[1::2]]
        # a shorter word or an ellipsis, never half of the status ("behind sch", "no schedul" before)
        assert statuses == ["behind", "on time", "no schedu…"], statuses


async def test_todays_pnl_runs_to_the_equity_shown_beside_it() -> None:
    # The equity history is polled less often than the balance: "Today" measured to the last history
    # mark read -2.14 beside an equity of 10,003.20 that was +3.20 on the day's opening 10,000.
    state = LiveState(frozen_clock)
    backend = FakeBackend()
    points = await backend.equity_history()
    state.set_equity(points)
    balance = await backend.balance()
    state.set_balance(balance)
    label, change, fraction = todays_pnl(state)
    day_start = points[-1].ts - points[-1].ts % 86_400_000
    opening = [point for point in points if point.ts < day_start][-1].equity
    assert label == "Today"
    assert change == pytest.approx(balance.equity - opening)
    assert fraction == pytest.approx((balance.equity - opening) / opening)


def test_a_tiny_negative_share_reads_zero_not_minus_zero() -> None:
    # a goal 0.02% behind read "-0%"
    assert fmt.pct(-0.0002, 0) == "0%"
    assert fmt.pct(-0.0002, 1) == "0.0%"
    assert fmt.pct(-0.006, 0) == "-1%"
    assert fmt.pct(0.125) == "12.5%"


async def test_a_narrow_risk_panel_gives_its_bars_way_not_its_figures() -> None:
    # At 120 columns the gauges read "exposure   █░░░   20.4% …": the limit was cut for a 4-cell bar.
    # Now the bars shrink, all alike.
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, loaded(app))
        panel = app.screen.query_one(RiskGauges)
        lines = panel.render().plain.split("\n")[:4]
        risk = app.state.risk.value
        assert risk is not None
        expected = [
            f"{fmt.pct(risk.exposure_pct)} / {fmt.pct(risk.limits['max_exposure'], 0)}",
            f"{fmt.pct(risk.drawdown)} / {fmt.pct(risk.limits['max_drawdown'], 0)}",
            f"{fmt.pct(risk.daily_loss)} / {fmt.pct(risk.limits['daily_loss_limit'], 0)}",
            f"{risk.open_positions} / {risk.limits['max_open_positions']:.0f}",
        ]
        for line, figures in zip(lines, expected, strict=True):
            assert line.endswith(figures) and "…" not in line, (line, figures)
            assert len(line) <= panel.size.width
        assert len({len(line) for line in lines}) == 1, lines  # the bars still line up
