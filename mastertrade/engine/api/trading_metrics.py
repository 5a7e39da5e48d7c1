"""The trading figures on ``/metrics``, for Prometheus and Grafana: equity, realised and unrealised P&L,
drawdown, exposure, VaR/CVaR, breaker states, the goal factor and each strategy's P&L.

They come from the ``Account``'s and the ``GoalsDesk``'s own reports (the same numbers ``/v1/balance``,
``/v1/risk`` and ``/v1/goals`` answer with), read once per scrape: the ``/metrics`` route awaits
``refresh`` (the reads are async database queries) and the collector then yields what was read,
because prometheus_client collects synchronously. A daemon that does not trade (``TradingOff``)
exports none of them, and says so with ``mt_trading_up 0``.

``METRICS`` names every family exported here; the Grafana dashboard in ``examples/grafana`` queries only
these and the engine's own (a test checks it).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from mastertrade.engine.execution.account import Account
    from mastertrade.engine.execution.goals_desk import GoalsDesk

METRICS = {
    "mt_trading_up": "1 when the daemon trades (paper or live), 0 when trading is off",
    "mt_equity": "Account equity in the quote currency",
    "mt_cash": "Account cash in the quote currency",
    "mt_realised_pnl": "Realised P&L of the account's positions, quote currency",
    "mt_unrealised_pnl": "Unrealised P&L of the account's open positions at the last prices (absent while "
    "one has no price yet)",
    "mt_drawdown_ratio": "Drawdown of equity below its peak, a fraction",
    "mt_peak_equity": "Highest account equity seen",
    "mt_daily_loss": "Loss of the current trading day, quote currency",
    "mt_exposure": "Value of open positions, quote currency",
    "mt_exposure_ratio": "Open positions' value over equity, a fraction",
    "mt_open_positions": "Number of open positions",
    "mt_halted": "1 when the kill switch is on",
    "mt_reduce_only": "1 when the drawdown limit allows only exits",
    "mt_breaker_tripped": "1 when the circuit breaker is tripped",
    "mt_var": "Value at risk of the account over the VaR horizon, quote currency",
    "mt_cvar": "Conditional value at risk (expected shortfall), quote currency",
    "mt_goal_factor": "The goal-oriented risk factor applied to position sizes",
    "mt_goal_progress_ratio": "Progress of each goal toward its target, a fraction",
    "mt_strategy_realised_pnl": "Realised P&L of each strategy's trades, quote currency",
    "mt_strategy_unrealised_pnl": "Unrealised P&L of each strategy's open positions",
}


@dataclass
class TradingFigures:
    """One scrape's worth of trading numbers."""

    mode: str
    gauges: dict[str, float] = field(default_factory=dict)
    breakers: dict[str, bool] = field(default_factory=dict)
    # (level "95"/"99", method "historical"/"parametric") -> (VaR, CVaR)
    var: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    goals: dict[str, float] = field(default_factory=dict)
    # (strategy id, book) -> (realised, unrealised; None while a position has no price yet)
    strategies: dict[tuple[str, str], tuple[float, float | None]] = field(default_factory=dict)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


async def read_figures(account: Account, goals_desk: GoalsDesk) -> TradingFigures:
    """The account's balance and risk reports, the goals report, and each strategy's P&L, as numbers."""
    from mastertrade.engine.execution.portfolio import balance_view

    balance = await account.balance()
    risk = await account.risk_status()
    goals = await goals_desk.report()
    figures = TradingFigures(mode=str(risk["mode"]))
    candidates = {
        "mt_equity": balance["equity"],
        "mt_cash": balance["cash"],
        "mt_realised_pnl": balance["realised_pnl"],
        "mt_unrealised_pnl": balance["unrealised_pnl"],
        "mt_drawdown_ratio": risk["drawdown"],
        "mt_peak_equity": risk.get("peak_equity"),
        "mt_daily_loss": risk["daily_loss"],
        "mt_exposure": risk["exposure"],
        "mt_exposure_ratio": risk.get("exposure_pct"),
        "mt_open_positions": risk["open_positions"],
        "mt_halted": 1.0 if risk["halted"] else 0.0,
        "mt_reduce_only": 1.0 if risk["reduce_only"] else 0.0,
        "mt_goal_factor": goals["risk_factor"]["value"],
    }
    figures.gauges = {
        name: number for name, value in candidates.items() if (number := _number(value)) is not None
    }
    figures.breakers = {item["name"]: bool(item["tripped"]) for item in risk["breakers"]}
    for item in ((risk.get("var") or {}).get("figures")) or []:
        level = f"{round(float(item['level']) * 100):d}"
        for method in ("historical", "parametric"):
            var, cvar = _number(item.get(f"{method}_var")), _number(item.get(f"{method}_cvar"))
            if var is not None and cvar is not None:
                figures.var[(level, method)] = (var, cvar)
    for goal in goals["goals"]:
        progress = _number(goal.get("progress"))
        if progress is not None:
            figures.goals[str(goal["name"])] = progress
    for strategy_id, broker in sorted(account.books.items()):
        view = balance_view(await broker.ledger(), broker.marks(), account.quote, [])
        figures.strategies[(strategy_id, broker.book)] = (view["realised_pnl"], view["unrealised_pnl"])
    book = account.book
    traded = {row.strategy_id for row in await account.journal.orders(book=book) if row.strategy_id}
    for strategy_id in sorted(traded):
        view = balance_view(
            await account.journal.strategy_ledger(book, strategy_id),
            account.broker.marks(),
            account.quote,
            [],
        )
        figures.strategies[(strategy_id, book)] = (view["realised_pnl"], view["unrealised_pnl"])
    return figures


class TradingCollector(Collector):
    """Yields the figures of the last ``refresh`` (nothing before the first)."""

    def __init__(self) -> None:
        self.figures: TradingFigures | None = None
        self.trading = False

    async def refresh(self, account: Account | None, goals_desk: GoalsDesk | None) -> None:
        self.trading = account is not None and goals_desk is not None
        self.figures = (
            await read_figures(account, goals_desk)
            if account is not None and goals_desk is not None
            else None
        )

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("mt_trading_up", METRICS["mt_trading_up"], labels=["mode"])
        figures = self.figures
        up.add_metric([figures.mode if figures else "off"], 1.0 if self.trading else 0.0)
        yield up
        if figures is None:
            return
        for name, value in figures.gauges.items():
            yield GaugeMetricFamily(name, METRICS[name], value=value)
        breakers = GaugeMetricFamily("mt_breaker_tripped", METRICS["mt_breaker_tripped"], labels=["breaker"])
        for breaker, tripped in sorted(figures.breakers.items()):
            breakers.add_metric([breaker], 1.0 if tripped else 0.0)
        yield breakers
        var = GaugeMetricFamily("mt_var", METRICS["mt_var"], labels=["level", "method"])
        cvar = GaugeMetricFamily("mt_cvar", METRICS["mt_cvar"], labels=["level", "method"])
        for (level, method), (v, c) in sorted(figures.var.items()):
            var.add_metric([level, method], v)
            cvar.add_metric([level, method], c)
        yield var
        yield cvar
        goals = GaugeMetricFamily(
            "mt_goal_progress_ratio", METRICS["mt_goal_progress_ratio"], labels=["goal"]
        )
        for goal, progress in sorted(figures.goals.items()):
            goals.add_metric([goal], progress)
        yield goals
        realised = GaugeMetricFamily(
            "mt_strategy_realised_pnl", METRICS["mt_strategy_realised_pnl"], labels=["strategy", "book"]
        )
        unrealised = GaugeMetricFamily(
            "mt_strategy_unrealised_pnl", METRICS["mt_strategy_unrealised_pnl"], labels=["strategy", "book"]
        )
        for (strategy, book), (r, u) in sorted(figures.strategies.items()):
            realised.add_metric([strategy, book], r)
            if u is not None:  # unknown (a position with no price yet): no sample rather than a made-up 0
                unrealised.add_metric([strategy, book], u)
        yield realised
        yield unrealised
