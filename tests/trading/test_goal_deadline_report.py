"""A value goal's deadline is in its progress report before the account has an equity history too:
`mt goal progress --json` said `"deadline": null` for "account value 20,000.00 by 2027-01-01" until
the first equity point, while `mt goal list` showed the date."""

from __future__ import annotations

from datetime import UTC, datetime

from mastertrade.engine.api.schemas_trading import GoalCreate
from tests.trading.conftest import TradingEngine


async def test_a_goal_without_history_yet_reports_its_deadline(trading: TradingEngine) -> None:
    async with trading.client() as client:
        added = await client.add_goal(
            GoalCreate(name="by new year", kind="value", target=200_000, deadline="2099-01-01")
        )
        report = await client.goals()
    goal = next(item for item in report.goals if item.id == added.id)
    assert goal.status == "no equity history yet"
    assert goal.deadline == datetime(2099, 1, 1, tzinfo=UTC)
