"""``/metrics`` carries the trading figures Grafana needs (equity, P&L, drawdown, exposure, VaR/CVaR,
breakers, the goal factor, per-strategy P&L), equal to what the API's own reports say, and the example
Grafana dashboard queries only metrics that are exported."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from mastertrade.config import Settings
from mastertrade.engine.api.app import create_app
from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.engine.execution.strategies import StaticStrategies
from tests.trading.conftest import TradingEngine, trading_settings
from tests.trading.test_service import BARS, BTC, strategy

DASHBOARD = Path(__file__).parents[2] / "examples" / "grafana" / "mastertrade-dashboard.json"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return trading_settings(risk={"var_horizon": "1h", "var_lookback": 20})


@pytest.fixture
def trading_strategies() -> StaticStrategies:
    return StaticStrategies([strategy("paper", "paper-one"), strategy("active", "active-one")])


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(trading: TradingEngine) -> Samples:
    app = create_app(trading.ctx)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mt") as http:
        response = await http.get("/metrics")
    assert response.status_code == 200
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


async def test_metrics_carry_the_trading_figures(trading: TradingEngine) -> None:
    bars = BARS * 2
    for i, (o, h, low, c) in enumerate(bars):
        await trading.bar(BTC, i, o, h, low, c)
    async with trading.client() as client:
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=10))
    await trading.bar(BTC, len(bars), 101, 102, 100, 101.5)
    await trading.risk_metrics()
    samples = await scrape(trading)
    async with trading.client() as client:
        balance = await client.balance()
        risk = await client.risk_status()
        goals = await client.goals()

    assert samples[("mt_trading_up", (("mode", "paper"),))] == 1.0
    assert samples[("mt_equity", ())] == pytest.approx(balance.equity)
    assert samples[("mt_realised_pnl", ())] == pytest.approx(balance.realised_pnl)
    assert samples[("mt_unrealised_pnl", ())] == pytest.approx(balance.unrealised_pnl)
    assert balance.unrealised_pnl != 0.0 and balance.realised_pnl != 0.0
    assert samples[("mt_drawdown_ratio", ())] == pytest.approx(risk.drawdown)
    assert samples[("mt_exposure", ())] == pytest.approx(risk.exposure) and risk.exposure > 0
    assert samples[("mt_open_positions", ())] == risk.open_positions
    assert samples[("mt_goal_factor", ())] == pytest.approx(goals.risk_factor.value)
    for breaker in risk.breakers:
        assert samples[("mt_breaker_tripped", (("breaker", breaker.name),))] == float(breaker.tripped)
    assert risk.var is not None and risk.var["figures"], risk.var
    for item in risk.var["figures"]:
        labels = (("level", f"{round(item['level'] * 100)}"), ("method", "historical"))
        assert samples[("mt_var", labels)] == pytest.approx(item["historical_var"])
        assert samples[("mt_cvar", labels)] == pytest.approx(item["historical_cvar"])
    # each strategy's P&L: the paper-stage one in its own book, the active one in the account
    # (an active strategy also keeps its own paper book, which the parity monitor compares with the
    # backtest: it is exported beside the strategy's share of the account)
    books = {
        (dict(labels)["strategy"], dict(labels)["book"])
        for name, labels in samples
        if name == "mt_strategy_realised_pnl"
    }
    assert books == {
        ("paper-one", "strategy:paper-one"),
        ("active-one", "paper"),
        ("active-one", "strategy:active-one"),
    }
    paper = await trading.trader.account.books["paper-one"].ledger()
    realised = sum(position.realised for position in paper.positions.values())
    key = ("mt_strategy_realised_pnl", (("book", "strategy:paper-one"), ("strategy", "paper-one")))
    assert samples[key] == pytest.approx(realised) and realised != 0.0


async def test_halting_shows_on_the_kill_switch_breaker(trading: TradingEngine) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    async with trading.client() as client:
        await client.risk_halt("maintenance")
    samples = await scrape(trading)
    assert samples[("mt_halted", ())] == 1.0
    assert samples[("mt_breaker_tripped", (("breaker", "kill_switch"),))] == 1.0


def dashboard_metrics() -> set[str]:
    document = json.loads(DASHBOARD.read_text())
    expressions = [
        target["expr"]
        for panel in document["panels"]
        for target in panel.get("targets", [])
        if "expr" in target
    ]
    assert len(expressions) >= 10
    names: set[str] = set()
    for expr in expressions:
        without_labels = re.sub(r"\{[^}]*\}", "", expr)
        without_ranges = re.sub(r"\[[^\]]*\]", "", without_labels)
        names |= {
            word for word in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", without_ranges) if word.startswith("mt_")
        }
    return names


async def test_every_metric_the_dashboard_queries_is_exported(trading: TradingEngine) -> None:
    for i, (o, h, low, c) in enumerate(BARS * 2):
        await trading.bar(BTC, i, o, h, low, c)
    await trading.risk_metrics()
    async with trading.client() as client:
        await client.status()  # an API request, so the latency histogram has samples
    exported = {name for name, _ in await scrape(trading)}
    queried = dashboard_metrics()
    assert {"mt_equity", "mt_var", "mt_goal_factor", "mt_strategy_realised_pnl"} <= queried
    assert queried - exported == set()
