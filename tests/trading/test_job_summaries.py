"""The trading jobs say what a run did where a trader reads it (``mt status``, ``mt report``, ``mt daemon
run``, the dashboard: the run's ``summary``). Both read a bare "ok" when they had done nothing: a
risk_metrics run with too few returns for a VaR, a goal_snapshots run with no goal to record."""

from __future__ import annotations

from typing import Any

from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.engine.scheduler.service import SchedulerService
from tests.trading.conftest import HOUR, T0, TradingEngine

BTC = "BTC/USDT"


async def run(trading: TradingEngine, client: Any, job: str) -> Any:
    """A run of ``job`` started as ``mt daemon run`` starts one, as the API gives it back."""
    await client.run_job(job)
    await trading.ctx.get(SchedulerService).wait_idle()
    finished = (await client.job_runs(job, limit=1))[0]
    assert finished.outcome == "ok", finished.error
    return finished


async def test_a_risk_metrics_run_without_figures_says_why(trading: TradingEngine) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    async with trading.client() as client:
        done = await run(trading, client, "risk_metrics")
    assert done.result["figures"] is None
    assert done.summary == f"ok: no VaR: {done.result['note']}"
    assert "too few for VaR" in done.summary


async def test_a_risk_metrics_run_with_figures_gives_the_95_percent_var(trading: TradingEngine) -> None:
    from mastertrade.engine.market.store import SeriesKey

    # 40 days of hourly closes whose daily returns cycle through -3%, +1%, +2% (test_service's market)
    rows, price = [], 100.0
    for d in range(-40, 0):
        for h in range(24):
            rows.append((T0 + (d * 24 + h) * HOUR, price, price, price, price, 1.0))
        price *= (0.97, 1.01, 1.02)[(d + 40) % 3]
    await trading.ctx.candles.upsert(SeriesKey("fake", BTC, "1h"), rows)
    await trading.bar(BTC, 0, price, price, price, price)
    async with trading.client() as client:
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=100))
        await trading.bar(BTC, 1, price, price, price, price)
        done = await run(trading, client, "risk_metrics")
    figure = done.result["figures"][0]
    assert figure["level"] == 0.95 and figure["historical_var"] > 0
    assert done.summary == (
        f"ok: 95% VaR {figure['historical_var']:,.2f} USDT over 1d, from {done.result['returns']} returns"
        " of positions"
    )


async def test_a_goal_snapshot_says_how_many_goals_it_recorded_or_that_there_were_none(
    trading: TradingEngine,
) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    async with trading.client() as client:
        report = await client.goals()
        done = await run(trading, client, "goal_snapshots")
        assert done.summary == f"ok: 3 goals recorded, risk factor {done.result['risk_factor']:.2f}"
        for goal in report.goals:
            await client.remove_goal(goal.id)
        none = await run(trading, client, "goal_snapshots")
    assert none.result["goals"] == 0
    assert none.summary == "ok: no goals to record (`mt goal add`)"
