"""A goal's milestones are what it crosses after it is set: a value goal of 200,000 added to an account
of 100,000 is at 50% the moment it exists, and announced "25% reached" and "50% reached" at the next
goal snapshot. Now adding a goal records where it starts; what it crosses from there is announced."""

from __future__ import annotations

from mastertrade.engine import events
from mastertrade.engine.api.schemas_trading import GoalCreate, OrderCreate
from mastertrade.engine.execution.goals_desk import GoalsDesk
from tests.trading.conftest import TradingEngine

BTC = "BTC/USDT"


def milestones(trading: TradingEngine, name: str) -> list[str]:
    return [e.milestone for e in trading.events if isinstance(e, events.GoalMilestone) and e.name == name]


async def test_a_new_goal_announces_only_what_it_crosses_after_it_is_set(trading: TradingEngine) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    desk = trading.ctx.get(GoalsDesk)
    await desk.snapshot()  # the scheduled snapshot before the goal exists
    async with trading.client() as client:
        await client.add_goal(GoalCreate(name="double", kind="value", target=200_000))
        await client.add_goal(GoalCreate(name="near", kind="value", target=110_000))
        await desk.snapshot()
        await trading.wait(lambda: not trading.ctx.state.inflight)
        assert milestones(trading, "double") == [] and milestones(trading, "near") == []
        # 200 BTC bought at 100, then the price rises to 160: equity 112,000 crosses the near goal
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=200, type="market"))
        await trading.bar(BTC, 1, 100, 101, 99, 100)
        await trading.bar(BTC, 2, 160, 161, 159, 160)
        await desk.snapshot()
    await trading.wait(lambda: milestones(trading, "near") == ["100%"], "the near goal's milestone")
    assert milestones(trading, "double") == []  # 50% to 56%: nothing crossed


async def test_a_value_goal_made_without_a_period_is_added(trading: TradingEngine) -> None:
    # The client sent the model's default period "month" as if chosen, and the daemon refused it.
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    async with trading.client() as client:
        added = await client.add_goal(GoalCreate(name="v", kind="value", target=150_000))
    assert added.period == "none" and added.target == 150_000


async def test_a_period_goal_counts_its_milestones_again_each_period(trading: TradingEngine) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    desk = trading.ctx.get(GoalsDesk)
    async with trading.client() as client:
        await client.add_goal(GoalCreate(name="daily", kind="profit", target=1_000, period="day"))
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=100, type="market"))
    await trading.bar(BTC, 1, 100, 101, 99, 100)
    await trading.bar(BTC, 2, 106, 106, 106, 106)  # about 590 today: 25% and 50%
    await desk.snapshot()
    await trading.wait(lambda: milestones(trading, "daily") == ["25%", "50%"], "the first day's milestones")
    for i in range(3, 25):  # flat into the next day (bar 24 opens 2026-01-02)
        await trading.bar(BTC, i, 106, 106, 106, 106, ticks=False)
    await trading.bar(BTC, 25, 109, 109, 109, 109)  # about 300 on the new day: 25% again
    await desk.snapshot()
    await trading.wait(
        lambda: milestones(trading, "daily") == ["25%", "50%", "25%"], "the second day's 25% milestone"
    )


async def test_a_goal_set_before_any_equity_history_starts_from_its_first_progress(
    trading: TradingEngine,
) -> None:
    # A fresh workspace: the goal is added (and a snapshot taken) before the account has an equity
    # point. The next snapshot saw it with no progress before and announced 25% .. 75% at once.
    desk = trading.ctx.get(GoalsDesk)
    async with trading.client() as client:
        await client.add_goal(GoalCreate(name="near", kind="value", target=110_000))
        await desk.snapshot()
        await trading.bar(BTC, 0, 100, 101, 99, 100)
        await desk.snapshot()
        await trading.wait(lambda: not trading.ctx.state.inflight)
        assert milestones(trading, "near") == []
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=200, type="market"))
        await trading.bar(BTC, 1, 100, 101, 99, 100)
        await trading.bar(BTC, 2, 160, 161, 159, 160)
        await desk.snapshot()
    await trading.wait(lambda: milestones(trading, "near") == ["100%"], "the near goal's milestone")


async def test_a_milestone_is_announced_once_though_the_account_dips_below_it_and_back(
    trading: TradingEngine,
) -> None:
    # An account hovering at a milestone announced it at every snapshot after a dip ("Goal near: 100%
    # reached" each hour, held back only inside the alerts' repeat window).
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    desk = trading.ctx.get(GoalsDesk)
    async with trading.client() as client:
        await client.add_goal(GoalCreate(name="near", kind="value", target=110_000))
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=200, type="market"))
    await trading.bar(BTC, 1, 100, 101, 99, 100)
    for i, price in enumerate((160, 100, 160, 100, 160), start=2):
        await trading.bar(BTC, i, price, price + 1, price - 1, price)
        await desk.snapshot()
    await trading.wait(lambda: not trading.ctx.state.inflight)
    assert milestones(trading, "near") == ["100%"]
