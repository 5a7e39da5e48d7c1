"""VaR and CVaR against hand computations."""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest

from mastertrade.engine.risk.var import historical, parametric, portfolio_returns, simple_returns, var_cvar

# 100 returns: -10%, -9%, ..., -1% and ninety of +1%.
RETURNS = [-(k / 100) for k in range(10, 0, -1)] + [0.01] * 90


def test_historical_is_the_order_statistic() -> None:
    var95, cvar95 = historical(RETURNS, 0.95)
    # k = ceil(100 x 0.05) = 5 worst: -10 -9 -8 -7 -6 (%)
    assert var95 == pytest.approx(0.06)
    assert cvar95 == pytest.approx((0.10 + 0.09 + 0.08 + 0.07 + 0.06) / 5)
    var99, cvar99 = historical(RETURNS, 0.99)  # k = 1
    assert var99 == pytest.approx(0.10) and cvar99 == pytest.approx(0.10)


def test_parametric_uses_the_normal_quantile_and_density() -> None:
    n = len(RETURNS)
    mean = sum(RETURNS) / n
    sd = math.sqrt(sum((r - mean) ** 2 for r in RETURNS) / (n - 1))
    z = NormalDist().inv_cdf(0.05)  # -1.6449
    var, cvar = parametric(RETURNS, 0.95)
    assert var == pytest.approx(-(mean + z * sd))
    assert cvar == pytest.approx(-(mean - sd * NormalDist().pdf(z) / 0.05))
    assert cvar > var > 0


def test_in_quote_currency_for_both_levels() -> None:
    figures = var_cvar(RETURNS, 50_000.0)
    assert figures is not None
    by_level = {f.level: f for f in figures}
    assert by_level[0.95].historical_var == pytest.approx(3_000.0)
    assert by_level[0.99].historical_cvar == pytest.approx(5_000.0)
    assert by_level[0.99].parametric_var > by_level[0.95].parametric_var


def test_too_few_returns_give_no_figures() -> None:
    assert var_cvar([0.01, -0.02] * 9, 1_000.0) is None


def test_portfolio_returns_weight_each_symbol() -> None:
    closes = {"A": [100, 110, 99], "B": [10, 10, 11]}
    assert simple_returns(closes["A"]) == pytest.approx([0.10, -0.10])
    returns = portfolio_returns({"A": 0.5, "B": 0.25}, closes)  # 25% cash earns nothing
    assert returns == pytest.approx([0.05, -0.05 + 0.025])
