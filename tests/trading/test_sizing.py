"""Kelly sizing, the backtest/real blend, goal progress and the risk factor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mastertrade.config import RiskSettings, SizingSettings
from mastertrade.engine.sizing.factor import RiskFactor, risk_factor
from mastertrade.engine.sizing.goals import EquityPoint, Goal, GoalKind, Period, goal_progress, period_bounds
from mastertrade.engine.sizing.kelly import TradeStats, blend, kelly, kelly_sizing
from mastertrade.engine.sizing.sizer import size_entry
from mastertrade.errors import UserInputError

# --- Kelly ---------------------------------------------------------------------------------------


def test_kelly_from_win_rate_and_payoff() -> None:
    # 60% winners of +2%, 40% losers of -1%: p = 0.6, b = 2, f* = 0.6 - 0.4 / 2 = 0.4
    stats = TradeStats.from_returns([0.02] * 6 + [-0.01] * 4)
    assert stats.win_rate == pytest.approx(0.6) and stats.payoff == pytest.approx(2.0)
    assert kelly(stats) == pytest.approx(0.4)
    sizing = kelly_sizing(stats, TradeStats(), SizingSettings(kelly_fraction=0.5, min_trades=10))
    assert sizing.fraction == pytest.approx(0.2)
    assert "Kelly 0.400 x 0.5" in sizing.reason


def test_no_edge_means_no_trade() -> None:
    stats = TradeStats.from_returns([0.01] * 4 + [-0.02] * 6)  # p 0.4, b 0.5: f* = 0.4 - 0.6 / 0.5 < 0
    sizing = kelly_sizing(stats, TradeStats(), SizingSettings(min_trades=5))
    assert sizing.fraction == 0.0 and sizing.kelly is not None and sizing.kelly < 0
    assert kelly_sizing(TradeStats.from_returns([-0.01] * 12), TradeStats(), SizingSettings()).fraction == 0.0


def test_too_short_a_record_uses_the_default_fraction() -> None:
    sizing = kelly_sizing(
        TradeStats.from_returns([0.02, -0.01]),
        TradeStats(),
        SizingSettings(min_trades=10, default_fraction=0.03),
    )
    assert sizing.fraction == 0.03 and sizing.kelly is None


def test_blend_caps_the_backtest_and_lets_the_real_record_take_over() -> None:
    backtest = TradeStats.from_returns([0.02] * 60 + [-0.01] * 40)  # 100 trades, f* 0.4
    real = TradeStats.from_returns([0.01] * 3 + [-0.01] * 7)  # 10 real trades, losing
    stats, weight = blend(backtest, real, prior_trades=30)
    assert weight == pytest.approx(0.3)
    assert stats.trades == pytest.approx(40)
    assert stats.wins == pytest.approx(18 + 3) and stats.losses == pytest.approx(12 + 7)
    assert stats.win_sum == pytest.approx(0.02 * 18 + 0.03)
    full_bt = kelly(backtest)
    blended = kelly(stats)
    assert full_bt is not None and blended is not None and blended < full_bt
    # with many more real trades the backtest hardly counts
    many = TradeStats.from_returns(([0.01] * 3 + [-0.01] * 7) * 30)
    stats2, _ = blend(backtest, many, prior_trades=30)
    assert stats2.win_rate == pytest.approx((18 + 90) / 330)


def test_size_entry_caps_at_the_position_limit() -> None:
    sizing = kelly_sizing(
        TradeStats.from_returns([0.03] * 8 + [-0.01] * 2), TradeStats(), SizingSettings(kelly_fraction=1.0)
    )
    factor = risk_factor([], 0.0, SizingSettings(), RiskSettings().max_drawdown)
    entry = size_entry(10_000, 50.0, sizing, factor, max_position=0.2)
    assert entry.fraction == 0.2 and entry.amount == pytest.approx(40.0)
    assert "capped at the 20% position limit" in entry.explanation


# --- goals ---------------------------------------------------------------------------------------

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def history(*points: tuple[float, float]) -> list[EquityPoint]:
    """(days after March 1st, equity) pairs."""
    return [EquityPoint(T0 + timedelta(days=days), equity) for days, equity in points]


MONTHLY_RETURN = Goal("monthly return", GoalKind.RETURN, 0.10, Period.MONTH, id=1)
MONTHLY_PROFIT = Goal("monthly profit", GoalKind.PROFIT, 10_000, Period.MONTH, id=2)


def test_period_bounds() -> None:
    at = datetime(2026, 12, 17, 5, tzinfo=UTC)  # a Thursday
    assert period_bounds(Period.MONTH, at) == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert period_bounds(Period.WEEK, at)[0] == datetime(2026, 12, 14, tzinfo=UTC)
    assert period_bounds(Period.YEAR, at)[1] == datetime(2027, 1, 1, tzinfo=UTC)


def test_monthly_return_progress_and_projection() -> None:
    # March has 31 days; at day 15.5 half of it has passed. 100k -> 103k: 3% of a 10% goal.
    progress = goal_progress(MONTHLY_RETURN, history((0, 100_000), (15.5, 103_000)))
    assert progress is not None
    assert progress.achieved == pytest.approx(0.03)
    assert progress.progress == pytest.approx(0.3)
    assert progress.expected == pytest.approx(0.5)
    assert progress.gap == pytest.approx(-0.2) and progress.status == "behind"
    # at this pace (30% in 15.5 days) 10% takes 51.67 days: not in March, and April starts over from
    # zero, so there is no date (it was shown as "reached April 21st")
    assert progress.projected is None
    # 80% in 15.5 days: reached on day 19.4, inside the month
    faster = goal_progress(MONTHLY_RETURN, history((0, 100_000), (15.5, 108_000)))
    assert faster is not None and faster.projected == T0 + timedelta(days=15.5 / 0.8)


def test_a_big_return_target_reads_with_thousands_separators() -> None:
    assert Goal("x", GoalKind.RETURN, 150.0, Period.MONTH).describe() == "15,000.00% return per month"


def test_a_pace_too_slow_for_any_date_projects_none() -> None:
    # 0.0001 USDT of a 10,000 profit in a day: reached after the year 9999. It raised OverflowError,
    # failing the goal_snapshots job and `mt goal progress` (a 500) until the next fill moved equity.
    progress = goal_progress(MONTHLY_PROFIT, history((0, 100_000), (1, 100_000.0001)))
    assert progress is not None and progress.projected is None and 0 < progress.progress < 1e-7


def test_profit_goal_ahead_and_reached() -> None:
    ahead = goal_progress(MONTHLY_PROFIT, history((0, 100_000), (3.1, 104_000)))
    assert ahead is not None and ahead.status == "ahead" and ahead.gap == pytest.approx(0.4 - 0.1)
    reached = goal_progress(MONTHLY_PROFIT, history((0, 100_000), (10, 111_000)))
    assert reached is not None and reached.status == "reached" and reached.projected is None


def test_period_start_is_the_last_value_before_it() -> None:
    points = [EquityPoint(T0 - timedelta(days=2), 90_000), *history((0.5, 95_000), (1, 99_000))]
    progress = goal_progress(MONTHLY_PROFIT, points)
    assert progress is not None and progress.start_value == 90_000 and progress.achieved == 9_000


def test_value_goal_projection_from_growth() -> None:
    goal = Goal("a million", GoalKind.VALUE, 1_000_000, Period.NONE)
    # doubled in 30 days: 8x more needs three more doublings, 90 days
    progress = goal_progress(goal, history((0, 62_500), (30, 125_000)))
    assert progress is not None
    assert progress.progress == pytest.approx(0.125) and progress.gap is None
    assert progress.projected is not None
    assert abs(progress.projected - (T0 + timedelta(days=120))) < timedelta(seconds=1)


def test_value_goal_with_a_deadline_has_a_schedule() -> None:
    goal = Goal(
        "double", GoalKind.VALUE, 200_000, Period.NONE, deadline=T0 + timedelta(days=100), created_at=T0
    )
    # halfway through, on a geometric schedule the account should be at 100k x 2^0.5 = 141.4k
    on = goal_progress(goal, history((0, 100_000), (50, 141_421.36)))
    assert on is not None and on.gap == pytest.approx(0.0, abs=1e-6) and on.status == "on schedule"
    behind = goal_progress(goal, history((0, 100_000), (50, 110_000)))
    assert behind is not None and behind.status == "behind"


def test_bad_goals_are_refused() -> None:
    with pytest.raises(UserInputError):
        Goal("x", GoalKind.RETURN, -0.1, Period.MONTH)
    with pytest.raises(UserInputError):
        Goal("x", GoalKind.VALUE, 1e6, Period.MONTH)
    with pytest.raises(UserInputError):
        Goal("x", GoalKind.PROFIT, 1e4, Period.NONE)


# --- the risk factor -----------------------------------------------------------------------------

POLICY = SizingSettings(min_factor=0.5, max_factor=1.5, goal_gain=1.0, schedule_tolerance=0.05)
MAX_DRAWDOWN = 0.15


def factor_at(progress: list, drawdown: float) -> RiskFactor:
    return risk_factor(progress, drawdown, POLICY, MAX_DRAWDOWN)


def progress_with_gap(days: float, equity: float) -> list:
    found = goal_progress(MONTHLY_RETURN, history((0, 100_000), (days, equity)))
    assert found is not None
    return [found]


def test_behind_schedule_raises_the_factor_within_bounds() -> None:
    factor = factor_at(progress_with_gap(15.5, 103_000), 0.0)  # gap -0.2
    assert factor.value == pytest.approx(1.2)
    assert any("behind schedule" in reason for reason in factor.reasons)
    far_behind = factor_at(progress_with_gap(30, 92_000), 0.0)  # gap < -1
    assert far_behind.value == 1.5 and any("kept within" in r for r in far_behind.reasons)


def test_ahead_of_schedule_lowers_it_to_protect_gains() -> None:
    factor = factor_at(progress_with_gap(3.1, 106_000), 0.0)  # 60% vs 10% due
    assert factor.value == pytest.approx(0.5)
    assert any("protect gains" in reason for reason in factor.reasons)
    mild = factor_at(progress_with_gap(15.5, 107_000), 0.0)  # gap +0.2
    assert mild.value == pytest.approx(0.8)


def test_a_tiny_loss_reads_as_0_percent_of_target() -> None:
    factor = factor_at(progress_with_gap(0.5, 99_980), 0.0)  # -0.4% of the 10% target
    assert any("(0% of target" in reason for reason in factor.reasons)
    assert not any("-0%" in reason for reason in factor.reasons)


def test_on_schedule_is_neutral() -> None:
    factor = factor_at(progress_with_gap(15.5, 105_100), 0.0)  # gap +0.01
    assert factor.value == 1.0


def test_near_the_drawdown_limit_lowers_it_whatever_the_goals_say() -> None:
    behind = progress_with_gap(15.5, 103_000)  # goals alone say 1.2
    # caution starts at 7.5%; at 11.25% (halfway to 15%) the cap is 1 - 0.75 x 0.5 = 0.625
    factor = factor_at(behind, 0.1125)
    assert factor.value == pytest.approx(0.625)
    assert any("near the 15% limit" in reason for reason in factor.reasons)
    assert factor_at(behind, 0.15).value == pytest.approx(0.25)
    assert factor_at(behind, 0.05).value == pytest.approx(1.2)  # not near yet


def test_backtest_stats_from_a_backtest() -> None:
    import numpy as np

    from mastertrade.engine.backtest.fast import run_fast
    from mastertrade.engine.backtest.params import OrderParams
    from mastertrade.engine.execution.strategies import backtest_stats
    from mastertrade.engine.market.sim import simulate

    frame = simulate("BTC/USDT", "1h", 300, seed=4)
    rng = np.random.default_rng(2)
    result = run_fast(frame, rng.random(300) < 0.1, rng.random(300) < 0.1, OrderParams(), fee=0.001)
    stats = backtest_stats(result)
    closed = [t for t in result.trade_list() if t.exit_bar is not None]
    assert stats.trades == len(closed)
    assert stats.wins == sum(1 for t in closed if t.pnl > 0)
    assert stats.win_sum == pytest.approx(sum(t.pnl / (t.entry_price * t.size) for t in closed if t.pnl > 0))


def test_a_value_goal_is_due_in_the_units_of_its_progress() -> None:
    # `mt goal progress` showed "progress 55.0%, due by now 50.0%, behind": the progress was the value
    # over the target, the due share the time elapsed. Due by now is the scheduled value over the target.
    goal = Goal(
        "double", GoalKind.VALUE, 200_000, Period.NONE, deadline=T0 + timedelta(days=100), created_at=T0
    )
    behind = goal_progress(goal, history((0, 100_000), (50, 110_000)))
    assert behind is not None and behind.status == "behind"
    assert behind.progress == pytest.approx(0.55)
    assert behind.expected == pytest.approx(141_421.356 / 200_000) and behind.progress < behind.expected
    ahead = goal_progress(goal, history((0, 100_000), (50, 160_000)))
    assert ahead is not None and ahead.status == "ahead" and ahead.progress > ahead.expected


def test_a_value_goal_past_its_deadline_is_missed_and_no_longer_raises_the_factor() -> None:
    # A goal's deadline passed unreached: the schedule asked for the whole target "by now", so the goal
    # read "behind" for ever and kept sizing at the top of the factor's range, chasing a date that had
    # gone. It now reads "missed" and has no say in the factor; a projection still says when the pace
    # would reach it.
    goal = Goal(
        "double", GoalKind.VALUE, 200_000, Period.NONE, deadline=T0 + timedelta(days=100), created_at=T0
    )
    missed = goal_progress(goal, history((0, 100_000), (90, 120_000), (120, 130_000)))
    assert missed is not None and missed.status == "missed"
    assert missed.gap is None and missed.expected is None
    assert missed.projected is not None and missed.projected > T0 + timedelta(days=120)
    factor = factor_at([missed], 0.0)
    assert factor.value == 1.0
    assert any("missed its deadline" in reason for reason in factor.reasons)
    reached = goal_progress(goal, history((0, 100_000), (120, 210_000)))
    assert reached is not None and reached.status == "reached"
