"""The deflated Sharpe ratio against the paper's worked example and its basic properties."""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest

from mastertrade.engine.generator.deflated import (
    EULER_GAMMA,
    deflated_sharpe,
    expected_max_sharpe,
    probabilistic_sharpe,
    sample_variance,
)

DAYS = 250  # the paper annualises daily Sharpe ratios with 250 trading days


def test_the_papers_numerical_example() -> None:
    # Bailey & Lopez de Prado (2014), section "A numerical example": an annualised Sharpe ratio of 2.5
    # measured on five years of daily returns (T = 1250) with skewness -3 and kurtosis 10, the best of
    # N = 100 trials whose annualised Sharpe ratios have variance 1/2: SR0 = 0.1132 and DSR = 0.9004.
    sharpe = 2.5 / math.sqrt(DAYS)
    variance = 0.5 / DAYS
    assert expected_max_sharpe(100, variance) == pytest.approx(0.1132, abs=5e-5)
    assert deflated_sharpe(sharpe, 1250, -3.0, 10.0, trials=100, variance=variance) == pytest.approx(
        0.9004, abs=5e-4
    )


def test_the_example_computed_by_hand() -> None:
    # the same numbers, the formula spelt out step by step
    normal = NormalDist()
    sharpe, variance, trials, observations, skew, kurtosis = 0.158, 0.002, 100, 1250, -3.0, 10.0
    sr0 = math.sqrt(variance) * (
        (1 - EULER_GAMMA) * normal.inv_cdf(1 - 1 / trials)
        + EULER_GAMMA * normal.inv_cdf(1 - 1 / (trials * math.e))
    )
    z = (
        (sharpe - sr0)
        * math.sqrt(observations - 1)
        / math.sqrt(1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe**2)
    )
    assert deflated_sharpe(
        sharpe, observations, skew, kurtosis, trials=trials, variance=variance
    ) == pytest.approx(normal.cdf(z), rel=1e-12)


def test_more_trials_deflate_more() -> None:
    values = [
        deflated_sharpe(0.15, 400, 0.0, 3.0, trials=n, variance=0.003) for n in (1, 2, 10, 100, 1000, 10_000)
    ]
    assert values == sorted(values, reverse=True)
    assert len(set(values)) == len(values)
    assert values[0] == pytest.approx(
        NormalDist().cdf(0.15 * math.sqrt(399) / math.sqrt(1 + 2 / 4 * 0.15**2))
    )


def test_fat_tails_negative_skew_and_short_samples_lower_it() -> None:
    base = deflated_sharpe(0.1, 500, 0.0, 3.0, trials=50, variance=0.001)
    assert deflated_sharpe(0.1, 500, 0.0, 20.0, trials=50, variance=0.001) < base
    assert deflated_sharpe(0.1, 500, -2.0, 3.0, trials=50, variance=0.001) < base
    assert deflated_sharpe(0.1, 100, 0.0, 3.0, trials=50, variance=0.001) < base
    assert deflated_sharpe(0.1, 500, 0.0, 3.0, trials=50, variance=0.01) < base


def test_edges() -> None:
    assert probabilistic_sharpe(0.2, 0.2, 100, 0.0, 3.0) == pytest.approx(0.5)
    assert probabilistic_sharpe(0.2, 0.0, 1, 0.0, 3.0) == 0.0
    assert expected_max_sharpe(1, 0.5) == 0.0
    assert expected_max_sharpe(10, 0.0) == 0.0
    with pytest.raises(ValueError):
        expected_max_sharpe(0, 1.0)
    assert sample_variance([1.0, 2.0, 3.0, math.nan]) == pytest.approx(1.0)
    assert sample_variance([1.0]) == 0.0
