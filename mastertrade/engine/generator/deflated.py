"""The deflated Sharpe ratio (Bailey and López de Prado, "The Deflated Sharpe Ratio: Correcting for
Selection Bias, Backtest Overfitting and Non-Normality", Journal of Portfolio Management, 2014).

Try enough random strategies and the best of them shows a handsome Sharpe ratio by luck alone. The
deflated Sharpe ratio (DSR) is the probability that a strategy's true Sharpe ratio is above zero once
that luck is priced in. It is the probabilistic Sharpe ratio (PSR) measured against the Sharpe ratio
the best of N skill-less trials would be expected to reach:

    SR0 = sqrt(V) * ((1 - g) * Z(1 - 1/N) + g * Z(1 - 1/(N e)))        expected maximum of N trials
    DSR = Phi( (SR - SR0) * sqrt(T - 1) / sqrt(1 - skew * SR + (kurt - 1) / 4 * SR^2) )

where ``SR`` is the strategy's Sharpe ratio per period (here: per day, not annualised), ``T`` the number
of returns it was measured on, ``skew`` and ``kurt`` their skewness and kurtosis (3 for a normal
distribution, not the excess), ``N`` the number of independent trials, ``V`` the variance of the trials'
Sharpe ratios (per period), ``g`` the Euler-Mascheroni constant, ``Z`` the standard normal quantile and
``Phi`` its distribution function. Fat tails (kurtosis) and negative skew widen the denominator and so
lower the DSR; more trials or more dispersed trial results raise ``SR0`` and lower it too.

The generator counts as trials every distinct strategy ever scored on overlapping bars of the series
(behavioural duplicates count once; :mod:`.trials`, the registry) and takes ``V`` from the observed
variance of their per-day search Sharpe ratios, falling back to ``1 / (T - 1)`` only while fewer than
two of them have one (:meth:`.trials.Tally.deflation`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from statistics import NormalDist

EULER_GAMMA = 0.5772156649015329
_NORMAL = NormalDist()

MIN_OBSERVATIONS = 30
"""Fewest returns a DSR is computed from. Its test statistic leans on the Sharpe ratio's asymptotic
normality and on sample skewness and kurtosis, which a handful of daily returns cannot estimate (two or
three days gave DSRs near 0 or 1 by chance): below this the DSR is undefined, and says so."""

MAX_TRIALS = 10**12
"""Most trials a deflated Sharpe ratio is taken for (``mt validate --trials``, a tuning's record): no search
tries a trillion strategies, and past about 10**16 its ``1 - 1/trials`` rounds to 1 (a StatisticsError
traceback)."""


def expected_max_sharpe(trials: int, variance: float) -> float:
    """``SR0``: the Sharpe ratio the best of ``trials`` skill-less strategies is expected to reach, when
    their Sharpe ratios have variance ``variance`` (same period as the ratio). 0 for a single trial."""
    if trials < 1:
        raise ValueError(f"trials must be >= 1 (got {trials})")
    if trials == 1 or variance <= 0:
        return 0.0
    first = _NORMAL.inv_cdf(1.0 - 1.0 / trials)
    second = _NORMAL.inv_cdf(1.0 - 1.0 / (trials * math.e))
    return math.sqrt(variance) * ((1.0 - EULER_GAMMA) * first + EULER_GAMMA * second)


def probabilistic_sharpe(
    sharpe: float, benchmark: float, observations: int, skew: float, kurtosis: float
) -> float:
    """PSR: the probability that the true Sharpe ratio exceeds ``benchmark``, given the ratio
    ``sharpe`` measured on ``observations`` returns with this ``skew`` and ``kurtosis`` (not excess).
    Per-period ratios (not annualised)."""
    if observations < 2:
        return 0.0
    spread = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe * sharpe
    if spread <= 0 or not math.isfinite(spread):
        return 0.0
    z = (sharpe - benchmark) * math.sqrt(observations - 1) / math.sqrt(spread)
    return _NORMAL.cdf(z)


def deflated_sharpe(
    sharpe: float, observations: int, skew: float, kurtosis: float, *, trials: int, variance: float
) -> float | None:
    """The DSR of a strategy chosen among ``trials`` whose Sharpe ratios have variance ``variance``;
    ``None`` when measured on fewer than :data:`MIN_OBSERVATIONS` returns."""
    if observations < MIN_OBSERVATIONS:
        return None
    return probabilistic_sharpe(sharpe, expected_max_sharpe(trials, variance), observations, skew, kurtosis)


def sample_variance(values: Iterable[float]) -> float:
    """Variance (ddof 1) of the finite values; 0 with fewer than two."""
    finite = [value for value in values if math.isfinite(value)]
    if len(finite) < 2:
        return 0.0
    mean = math.fsum(finite) / len(finite)
    return math.fsum((value - mean) ** 2 for value in finite) / (len(finite) - 1)
