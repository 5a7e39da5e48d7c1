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


def test_observed_trial_variance_by_hand() -> None:
    # Five trials with per-day Sharpe ratios 0.02, -0.01, 0.05, 0.00 and 0.03 (mean 0.018): squared
    # deviations 0.000004 + 0.000784 + 0.001024 + 0.000324 + 0.000144 = 0.00228, so V = 0.00228 / 4 =
    # 0.00057 (ddof 1). The best is deflated on 366 days of hold-out returns (T - 1 = 365), per-day
    # Sharpe 0.1, skew 0, kurtosis 3. Bailey & Lopez de Prado's expected maximum of N = 5 trials:
    # SR0 = sqrt(V) * ((1 - g) * Z(0.8) + g * Z(1 - 1/(5e))) with Z(0.8) = 0.841621 and
    # Z(0.926424) = 1.449666 (normal tables): 0.0238747 * (0.422784 * 0.841621 + 0.577216 * 1.449666)
    # = 0.0238747 * 1.192594 = 0.028473. Then z = (0.1 - 0.028473) * sqrt(365) / sqrt(1 + 2/4 * 0.01)
    # = 0.071527 * 19.104973 / 1.002497 = 1.363122, and DSR = Phi(1.363122) = 0.91358.
    from mastertrade.engine.generator.trials import OBSERVED, Tally

    tally = Tally.of(5, [0.02, -0.01, 0.05, 0.00, 0.03])
    assert tally.variance == pytest.approx(0.00057, rel=1e-12)
    used = tally.deflation(366)
    assert (used.trials, used.variance_source) == (5, OBSERVED)
    assert used.variance == pytest.approx(0.00057, rel=1e-12)
    assert expected_max_sharpe(used.trials, used.variance) == pytest.approx(0.028473, abs=2e-6)
    dsr = deflated_sharpe(0.1, 366, 0.0, 3.0, trials=used.trials, variance=used.variance)
    assert dsr == pytest.approx(0.91358, abs=5e-5)


def test_the_registry_pools_batches_exactly_and_falls_back_below_two_trials() -> None:
    from mastertrade.engine.generator.trials import FALLBACK, OBSERVED, Tally

    first = Tally.of(3, [0.02, -0.01, 0.05])
    second = Tally.of(4, [0.00, 0.03, None, math.nan])  # undefined Sharpe ratios count as trials only
    pooled = first + second
    assert pooled.trials == 7 and pooled.count == 5
    assert pooled.variance == pytest.approx(0.00057, rel=1e-12)  # the five values above, in two nights
    assert pooled.deflation(366).variance_source == OBSERVED
    lonely = Tally.of(1, [0.04])
    used = lonely.deflation(251)
    assert (used.trials, used.variance, used.variance_source) == (1, pytest.approx(1 / 250), FALLBACK)
    assert Tally().deflation(251).trials == 1  # nothing recorded: one trial, the strategy itself


def test_fewer_than_thirty_returns_give_no_deflated_sharpe_and_the_filter_says_so() -> None:
    from mastertrade.config import GeneratorSettings
    from mastertrade.engine.generator.deflated import MIN_OBSERVATIONS
    from mastertrade.engine.generator.validation import threshold_failures

    assert MIN_OBSERVATIONS == 30
    assert deflated_sharpe(0.5, 3, 0.0, 3.0, trials=1, variance=0.5) is None  # was 0.75 from three days
    assert deflated_sharpe(0.5, 29, 0.0, 3.0, trials=1, variance=0.5) is None
    assert deflated_sharpe(0.5, 30, 0.0, 3.0, trials=1, variance=0.5) == pytest.approx(0.99444, abs=1e-5)
    held = {"trades": 9, "exposure_pct": 10.0, "sharpe": 3.0, "max_drawdown_pct": 1.0, "days": 3}
    reasons = threshold_failures(held, None, GeneratorSettings())
    assert "deflated Sharpe undefined: 3 daily returns, fewer than 30" in reasons
