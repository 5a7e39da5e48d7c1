"""Walk-forward windows: anchored and rolling boundaries, OOS parts that tile the end without overlap,
and metrics per window equal to a backtest of that slice alone."""

from __future__ import annotations

import numpy as np
import pytest

from mastertrade.engine.backtest.batch import run_batch
from mastertrade.engine.backtest.fast import run_fast
from mastertrade.engine.backtest.params import OrderParams, order_params
from mastertrade.engine.backtest.walkforward import evaluate, split
from mastertrade.engine.market.sim import simulate
from mastertrade.engine.signals.builtins import builtin
from mastertrade.engine.signals.evaluate import signals
from mastertrade.engine.signals.indicators import IndicatorCache
from mastertrade.errors import UserInputError

END = 1_735_689_600_000


def bounds(windows: list) -> list[tuple[int, int, int, int]]:
    return [
        (w.in_sample.start, w.in_sample.stop, w.out_of_sample.start, w.out_of_sample.stop) for w in windows
    ]


def test_rolling_windows_by_ratio() -> None:
    # 1000 bars, 5 folds, IS three times OOS: OOS = 1000 // 8 = 125, IS = 375.
    assert bounds(split(1000, folds=5, ratio=0.75)) == [
        (0, 375, 375, 500),
        (125, 500, 500, 625),
        (250, 625, 625, 750),
        (375, 750, 750, 875),
        (500, 875, 875, 1000),
    ]


def test_anchored_windows_start_at_the_first_used_bar() -> None:
    windows = split(1003, folds=3, in_sample=400, out_of_sample=200, anchored=True)
    # 1003 - 400 - 3 * 200 = 3 leading bars are left out; the last OOS part ends at the last bar.
    assert bounds(windows) == [(3, 403, 403, 603), (3, 603, 603, 803), (3, 803, 803, 1003)]


def test_given_one_length_the_other_fills_the_series() -> None:
    assert bounds(split(100, folds=2, in_sample=40)) == [(0, 40, 40, 70), (30, 70, 70, 100)]
    assert bounds(split(100, folds=2, out_of_sample=20)) == [(0, 60, 60, 80), (20, 80, 80, 100)]


@pytest.mark.parametrize("anchored", [False, True])
@pytest.mark.parametrize("bars", [50, 777, 8760])
@pytest.mark.parametrize("folds", [1, 3, 7])
def test_oos_parts_tile_the_end_without_overlap(anchored: bool, bars: int, folds: int) -> None:
    windows = split(bars, folds=folds, anchored=anchored)
    assert len(windows) == folds
    assert windows[-1].out_of_sample.stop == bars
    for before, after in zip(windows, windows[1:], strict=False):
        assert before.out_of_sample.stop == after.out_of_sample.start
    lengths = {w.out_of_sample.stop - w.out_of_sample.start for w in windows}
    assert len(lengths) == 1 and lengths.pop() >= 1
    for w in windows:
        assert w.in_sample.stop == w.out_of_sample.start > w.in_sample.start >= 0
    starts = {w.in_sample.start for w in windows}
    if anchored:
        assert len(starts) == 1
    else:
        assert len({w.in_sample.stop - w.in_sample.start for w in windows}) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bars": 100, "folds": 0}, "invalid folds 0"),
        ({"bars": 5, "folds": 10}, "too few for 10 folds"),
        ({"bars": 100, "folds": 2, "in_sample": 60, "out_of_sample": 30}, "exceed the 100 bars"),
        ({"bars": 100, "ratio": 1.5}, "invalid in-sample ratio 1.5"),
    ],
)
def test_impossible_splits_are_rejected(kwargs: dict, message: str) -> None:
    bars = kwargs.pop("bars")
    with pytest.raises(UserInputError, match=message):
        split(bars, **kwargs)


def test_metrics_per_window_are_those_of_the_slice() -> None:
    frame = simulate("BTC/USDT", "1h", 3000, 9, end=END)
    genome = builtin("rsi_reversion")
    cache = IndicatorCache(frame)
    entries, exits = signals(genome, cache)
    params = order_params(genome)
    windows = split(len(frame), folds=4, anchored=False)
    reports = evaluate(frame, entries, exits, windows, params)
    assert [r.window for r in reports] == windows
    for report in reports:
        oos = report.window.out_of_sample
        alone = run_fast(frame.iloc[oos], entries[oos], exits[oos], params)
        assert report.out_of_sample.metrics() == alone.metrics()
        assert report.out_of_sample.metrics()["bars"] == oos.stop - oos.start
        assert report.in_sample.metrics()["start"] == frame.index[report.window.in_sample.start].strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        document = report.as_dict()
        assert document["out_of_sample_start"] == oos.start and "in_sample" in document
    # The batch runner restricted to a window gives the same figures.
    [batched] = run_batch([genome], frame, window=windows[2].out_of_sample, cache=cache)
    assert batched.metrics == reports[2].out_of_sample.metrics()


def test_each_window_starts_flat_with_full_cash() -> None:
    frame = simulate("ETH/USDT", "1h", 400, 2, end=END)
    always = np.ones(len(frame), dtype=bool)
    reports = evaluate(frame, always, ~always, split(len(frame), folds=2), OrderParams())
    for report in reports:
        for part in (report.in_sample, report.out_of_sample):
            assert part.equity[0] == part.cash
            assert part.trade_list()[0].entry_bar == 2  # signal at the part's bar 1, filled at bar 2
