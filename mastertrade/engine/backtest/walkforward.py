"""Walk-forward validation: split a series into in-sample / out-of-sample windows and report the metrics
of each window.

``split(bars, folds=...)`` returns ``folds`` windows. The out-of-sample (OOS) parts are consecutive,
equally long and never overlap; they tile the end of the series, so the last one ends at the last bar
(bars left over by rounding are dropped at the start of the series, where they matter least). Each
in-sample (IS) part ends where its OOS part starts:

- **rolling**: every IS part has the same length ``in_sample`` and slides forward with its OOS part;
- **anchored**: every IS part starts at the first used bar and grows by one OOS length per fold.

Sizes come from ``in_sample`` / ``out_of_sample`` (bar counts) or, when neither is given, from
``ratio``: the share of IS bars in one rolling IS + OOS pair (0.75 gives IS three times as long as OOS).

``evaluate`` backtests one strategy's signals on every IS and OOS part with the fast engine. Signals are
computed once on the full series and sliced (the signals module proves a signal at bar t uses no data
after t, so slicing equals recomputing on truncated data, with indicator warm-up intact); each part is a
fresh account starting flat with the full cash, and its first bar only opens the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from mastertrade.engine.backtest.params import OrderParams
from mastertrade.engine.backtest.result import DEFAULT_CASH, DEFAULT_FEE, BacktestResult
from mastertrade.errors import UserInputError


@dataclass(frozen=True)
class Window:
    """One fold: bar index ranges ``[start, stop)`` of its in-sample and out-of-sample parts."""

    fold: int
    in_sample: slice
    out_of_sample: slice

    def as_dict(self) -> dict[str, int]:
        return {
            "fold": self.fold,
            "in_sample_start": self.in_sample.start,
            "in_sample_stop": self.in_sample.stop,
            "out_of_sample_start": self.out_of_sample.start,
            "out_of_sample_stop": self.out_of_sample.stop,
        }


def split(
    bars: int,
    *,
    folds: int = 5,
    in_sample: int | None = None,
    out_of_sample: int | None = None,
    ratio: float = 0.75,
    anchored: bool = False,
) -> list[Window]:
    """The walk-forward windows over a series of ``bars`` bars (see the module docstring)."""
    if folds < 1:
        raise UserInputError(f"invalid folds {folds}: must be >= 1")
    if not 0.0 < ratio < 1.0:
        raise UserInputError(f"invalid in-sample ratio {ratio}: must be between 0 and 1")
    derived = in_sample is None and out_of_sample is None
    if derived:
        out_of_sample = int(bars / (folds + ratio / (1.0 - ratio)))
        in_sample = bars - folds * out_of_sample
    elif out_of_sample is None:
        assert in_sample is not None
        out_of_sample = (bars - in_sample) // folds
    elif in_sample is None:
        in_sample = bars - folds * out_of_sample
    assert in_sample is not None and out_of_sample is not None
    if derived and (out_of_sample < 1 or in_sample < 1):
        # no length was asked for: the series' length is the bad value, not a length it was never given
        raise UserInputError(f"{bars} bars are too few for {folds} folds")
    if out_of_sample < 1:
        raise UserInputError(
            f"invalid out-of-sample length {out_of_sample} bars: {bars} bars are too few for {folds} folds"
        )
    if in_sample < 1:
        raise UserInputError(
            f"invalid in-sample length {in_sample} bars: {bars} bars are too few for {folds} folds"
            f" of {out_of_sample} out-of-sample bars"
        )
    first = bars - in_sample - folds * out_of_sample
    if first < 0:
        raise UserInputError(
            f"{in_sample} in-sample + {folds} x {out_of_sample} out-of-sample bars exceed the {bars} bars"
        )
    windows = []
    for fold in range(folds):
        start = first + in_sample + fold * out_of_sample
        is_start = first if anchored else start - in_sample
        windows.append(Window(fold, slice(is_start, start), slice(start, start + out_of_sample)))
    return windows


@dataclass(frozen=True)
class WindowReport:
    """The metrics of one fold's in-sample and out-of-sample backtests."""

    window: Window
    in_sample: BacktestResult
    out_of_sample: BacktestResult

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.window.as_dict(),
            # `trades` counts closed trades: a part that ends in a position says so, or its return
            # stands beside "0 trades" unexplained
            "in_sample": {**self.in_sample.metrics(), "open_trade": self.in_sample.open_trade},
            "out_of_sample": {**self.out_of_sample.metrics(), "open_trade": self.out_of_sample.open_trade},
        }


def evaluate(
    frame: pd.DataFrame,
    entries: Any,
    exits: Any,
    windows: list[Window],
    params: OrderParams | None = None,
    *,
    cash: float = DEFAULT_CASH,
    fee: float = DEFAULT_FEE,
) -> list[WindowReport]:
    """Backtest full-series signals on each window's IS and OOS parts (fast engine)."""
    from mastertrade.engine.backtest.fast import check_signals, run_fast

    entries, exits = check_signals(entries, exits, len(frame))

    def run(part: slice) -> BacktestResult:
        return run_fast(frame.iloc[part], entries[part], exits[part], params, cash=cash, fee=fee)

    return [WindowReport(window, run(window.in_sample), run(window.out_of_sample)) for window in windows]
