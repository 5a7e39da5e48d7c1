"""The forecast verdict: a loss to a naive baseline is said plainly, and a win on a handful of hold-out bars
is not called a win."""

from __future__ import annotations

import numpy as np

from mastertrade.engine.ml.evaluation import MIN_JUDGED_BARS, evaluate


def series(bars: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, bars)))
    labels = np.full(bars, np.nan)
    labels[:-1] = np.diff(np.log(close))  # the next bar's log return, unknown at the last bar
    return close, labels


def test_a_close_forecast_beats_the_baselines_only_on_enough_hold_out_bars() -> None:
    for bars, judged in ((4 * MIN_JUDGED_BARS + 2, True), (9, False)):
        close, labels = series(bars)
        almost = labels * 0.9  # near the outcome: lower squared error than both baselines
        report = evaluate(almost, labels, close, 1, 0.25)
        assert report["error_ratio_zero"] < 1 and report["error_ratio_last"] < 1
        assert report["judged"] is judged
        if judged:
            assert report["verdict"].startswith("beats the zero-return and last-return baselines")
        else:
            assert "beats" not in report["verdict"]
            assert report["verdict"].startswith(
                f"cannot be judged: {report['bars']} hold-out bars are too few"
            )


def test_a_loss_is_said_plainly_however_few_the_bars() -> None:
    close, labels = series(9)
    report = evaluate(-3 * labels, labels, close, 1, 0.25)
    assert report["verdict"].startswith("loses to the zero-return and the last-return baselines")
    assert f"on only {report['bars']} hold-out bars" in report["verdict"]


def test_a_baseline_without_error_is_not_beaten() -> None:
    close = np.full(200, 100.0)  # a flat market: the zero-return baseline is exact
    labels = np.zeros(200)
    labels[-1] = np.nan
    report = evaluate(np.full(200, 0.001), labels, close, 1, 0.25)
    assert report["error_ratio_zero"] is None
    assert report["verdict"].startswith("loses to the zero-return and the last-return baselines")


def test_overlapping_returns_count_as_bars_over_horizon_outcomes() -> None:
    # 48-bar returns: 200 hold-out bars are 4 independent outcomes, not 200. A forecast close to them
    # is not said to beat the baselines on that (before: "beats ... (lower squared error)").
    horizon, bars = 48, 850
    rng = np.random.default_rng(5)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, bars)))
    logc = np.log(close)
    labels = np.full(bars, np.nan)
    labels[:-horizon] = logc[horizon:] - logc[:-horizon]
    report = evaluate(labels * 0.9, labels, close, horizon, 0.25)
    assert report["error_ratio_zero"] < 1 and report["error_ratio_last"] < 1
    assert report["judged"] is False
    assert report["bars"] == 200 and report["independent_outcomes"] == 4
    assert report["verdict"].startswith(
        "cannot be judged: 200 hold-out bars of overlapping 48-bar returns hold only 4 independent outcomes"
    )
    losing = evaluate(-labels, labels, close, horizon, 0.25)
    assert (
        "on only 4 independent outcomes: 200 hold-out bars of overlapping 48-bar returns" in losing["verdict"]
    )
    # enough of them: judged
    long_close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 6000)))
    long_labels = np.full(6000, np.nan)
    long_labels[:-horizon] = np.log(long_close[horizon:]) - np.log(long_close[:-horizon])
    assert evaluate(long_labels * 0.9, long_labels, long_close, horizon, 0.25)["judged"] is True


def test_a_tie_with_an_exact_baseline_is_not_called_a_higher_error() -> None:
    close = np.full(200, 100.0)  # a flat market: a zero forecast is as exact as both baselines
    labels = np.zeros(200)
    labels[-1] = np.nan
    report = evaluate(np.zeros(200), labels, close, 1, 0.25)
    assert report["verdict"] == (
        "loses to the zero-return and the last-return baselines (no lower squared error)"
    )  # before: "(higher squared error)", with every error 0
