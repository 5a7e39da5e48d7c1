"""Both engines on tiny hand-made series whose right answer is worked out by hand in each test.

Units are whole satoshis (1e-8), so a position is ``cash / price`` to within 1e-8 of the asset: hand
figures are compared with a relative tolerance of 1e-9, far below any cent.
"""

from __future__ import annotations

import numpy as np
import pytest

from mastertrade.engine.backtest.fast import run_fast
from mastertrade.engine.backtest.params import OrderParams
from mastertrade.engine.backtest.reference import run_reference
from mastertrade.engine.backtest.result import BacktestResult
from mastertrade.errors import DataValidationError, UserInputError
from tests.backtest.helpers import candles, flat, marks

CASH = 10_000.0


@pytest.fixture(params=["fast", "reference"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run(
    engine: str,
    bars: list[tuple[float, float, float, float]],
    entries: np.ndarray,
    exits: np.ndarray,
    params: OrderParams | None = None,
    fee: float = 0.0,
) -> BacktestResult:
    runner = run_fast if engine == "fast" else run_reference
    return runner(candles(bars), entries, exits, params, cash=CASH, fee=fee)


def close(a: float | None, b: float) -> bool:
    return a is not None and abs(a - b) <= 1e-9 * abs(b)


SIGNAL_BAR = (100.0, 100.0, 100.0, 100.0)  # bar 1: the signal is read at its close of 100


def test_entry_at_next_open_and_exit_at_the_open_after_the_exit_signal(engine: str) -> None:
    bars = [
        *flat(1),
        SIGNAL_BAR,
        (102, 103, 101, 102),
        (104, 104, 104, 104),
        (106, 107, 105, 106),
        (108,) * 4,
    ]
    result = run(engine, bars, marks(6, 1), marks(6, 3))
    [trade] = result.trade_list()
    assert (trade.entry_bar, trade.exit_bar) == (2, 4)
    assert close(trade.entry_price, 102.0) and close(trade.exit_price, 106.0)
    assert trade.reason == "signal"
    assert close(trade.size, CASH / 102)
    assert result.equity[:2].tolist() == [CASH, CASH]
    assert close(result.equity[2], CASH)  # bought at 102, marked at the close of 102
    assert close(result.equity[3], CASH * 104 / 102)
    assert close(result.final_equity, CASH * 106 / 102)  # flat after bar 4: bar 5's move does not count
    assert close(result.equity[5], result.equity[4])


def test_fee_is_paid_on_both_sides_and_sizing_leaves_room_for_it(engine: str) -> None:
    bars = [
        *flat(1),
        SIGNAL_BAR,
        (102, 103, 101, 102),
        (104, 104, 104, 104),
        (106, 107, 105, 106),
        (108,) * 4,
    ]
    result = run(engine, bars, marks(6, 1), marks(6, 3), fee=0.01)
    units = CASH / (102 * 1.01)  # all equity, fee included
    [trade] = result.trade_list()
    assert close(trade.size, units)
    assert close(result.equity[2], CASH - units * 102 * 0.01)
    assert close(trade.pnl, units * (106 - 102) - units * (102 + 106) * 0.01)
    assert close(result.final_equity, CASH + trade.pnl)


@pytest.mark.parametrize(
    ("bar3", "exit_price", "reason"),
    [
        ((100, 101, 94, 96), 95.0, "stop_loss"),  # low reaches the stop at 95: filled at the stop
        ((105, 111, 104, 109), 110.0, "take_profit"),  # high reaches the take-profit at 110
        ((100, 111, 94, 100), 95.0, "stop_loss"),  # both inside one bar: the stop-loss counts
        ((90, 92, 88, 91), 90.0, "stop_loss"),  # gap below the stop: filled at the open
        ((115, 116, 114, 115), 115.0, "take_profit"),  # gap above the take-profit: filled at the open
    ],
)
def test_stop_loss_and_take_profit_inside_the_bar(
    engine: str, bar3: tuple[float, float, float, float], exit_price: float, reason: str
) -> None:
    # Filled at 100: stop at 95, take-profit at 110, from the fill price.
    bars = [*flat(1), SIGNAL_BAR, (100, 102, 99, 100), bar3, (100,) * 4]
    result = run(engine, bars, marks(5, 1), marks(5), OrderParams(stop_loss=0.05, take_profit=0.10))
    [trade] = result.trade_list()
    assert (trade.entry_bar, trade.exit_bar) == (2, 3)
    assert close(trade.entry_price, 100.0)
    assert close(trade.exit_price, exit_price)
    assert trade.reason == reason
    assert close(result.final_equity, CASH / 100 * exit_price)


def test_the_bracket_is_set_from_the_fill_price_not_the_signal_close(engine: str) -> None:
    # Signal close 100, but the buy fills at 110 (a gap up): the stop is 104.5, hit by bar 3's low of 104.
    bars = [*flat(1), SIGNAL_BAR, (110, 112, 108, 111), (111, 111, 104, 105), (105,) * 4]
    result = run(engine, bars, marks(5, 1), marks(5), OrderParams(stop_loss=0.05))
    [trade] = result.trade_list()
    assert (trade.entry_bar, trade.exit_bar, trade.reason) == (2, 3, "stop_loss")
    assert close(trade.exit_price, 104.5)


def test_a_stop_is_live_in_the_entry_bar(engine: str) -> None:
    bars = [*flat(1), SIGNAL_BAR, (100, 101, 94, 96), (100,) * 4]
    result = run(engine, bars, marks(4, 1), marks(4), OrderParams(stop_loss=0.05))
    [trade] = result.trade_list()
    assert (trade.entry_bar, trade.exit_bar) == (2, 2)
    assert close(trade.entry_price, 100.0) and close(trade.exit_price, 95.0)
    assert close(result.equity[2], CASH * 0.95)


def test_an_exit_signal_fills_at_the_open_before_the_stop_of_that_bar(engine: str) -> None:
    bars = [*flat(1), SIGNAL_BAR, (101, 102, 99, 100), (100, 101, 90, 95), (95,) * 4]
    result = run(engine, bars, marks(5, 1), marks(5, 2), OrderParams(stop_loss=0.05))
    [trade] = result.trade_list()
    assert (trade.exit_bar, trade.reason) == (3, "signal")
    assert close(trade.exit_price, 100.0)


TRAIL_BARS = [
    *flat(1),
    SIGNAL_BAR,
    (100, 105, 99, 104),  # entry at 100: trailing level 90; at the close the peak is 105: level 94.5
    (104, 120, 95, 118),  # low 95 is above 94.5; at the close the peak is 120: level 108 from the next bar
    (118, 119, 107, 110),  # low 107 reaches 108: out at 108
    (110,) * 4,
]


def test_trailing_stop_follows_the_highest_high_from_the_next_bar(engine: str) -> None:
    result = run(engine, TRAIL_BARS, marks(6, 1), marks(6), OrderParams(trailing_stop=0.10))
    [trade] = result.trade_list()
    assert (trade.entry_bar, trade.exit_bar, trade.reason) == (2, 4, "trailing_stop")
    assert close(trade.exit_price, 108.0)


def test_the_higher_of_fixed_and_trailing_stop_is_in_force(engine: str) -> None:
    # Fixed stop 95 is above the trailing level (90, then 94.5) in bar 3: a low of 94.9 hits it.
    bars = [*TRAIL_BARS[:3], (104, 120, 94.9, 118), *TRAIL_BARS[4:]]
    result = run(engine, bars, marks(6, 1), marks(6), OrderParams(stop_loss=0.05, trailing_stop=0.10))
    [trade] = result.trade_list()
    assert (trade.exit_bar, trade.reason) == (3, "stop_loss")
    assert close(trade.exit_price, 95.0)


def test_size_below_one_spends_that_fraction_of_equity(engine: str) -> None:
    bars = [*flat(1), SIGNAL_BAR, (100, 111, 99, 110), (110,) * 4]
    result = run(engine, bars, marks(4, 1), marks(4), OrderParams(size=0.5), fee=0.001)
    units = CASH * 0.5 / (100 * 1.001)
    [trade] = result.trade_list()
    assert close(trade.size, units)
    assert close(result.equity[2], CASH - units * 100 * 0.001 + units * 10)


def test_a_position_open_at_the_end_is_marked_at_the_last_close_without_exit_fee(engine: str) -> None:
    bars = [*flat(1), SIGNAL_BAR, (100, 101, 99, 100), (120,) * 4]
    result = run(engine, bars, marks(4, 1), marks(4), fee=0.01)
    units = CASH / (100 * 1.01)
    [trade] = result.trade_list()
    assert (trade.exit_bar, trade.exit_price, trade.reason) == (None, None, "open")
    assert close(result.final_equity, CASH - units * 100 * 0.01 + units * 20)
    assert close(trade.pnl, units * 20 - units * 100 * 0.01)
    metrics = result.metrics()
    assert metrics["trades"] == 0 and metrics["win_rate_pct"] is None
    assert metrics["exposure_pct"] == 50.0  # bars 2 and 3 of 4
    assert result.open_trade


def test_signals_on_the_first_and_last_bar_are_not_acted_on(engine: str) -> None:
    assert len(run(engine, flat(5), marks(5, 0, 4), marks(5)).trades) == 0


def test_exit_wins_over_entry_on_the_same_bar(engine: str) -> None:
    # Bar 1: entry and exit while flat -> nothing. Bar 2: entry -> in at bar 3.
    # Bar 4: entry and exit while long -> out at bar 5, no re-entry. Bar 5: entry -> in at bar 6.
    result = run(engine, flat(8), marks(8, 1, 2, 4, 5), marks(8, 1, 4))
    trades = [(t.entry_bar, t.exit_bar) for t in result.trade_list()]
    assert trades == [(3, 5), (6, None)]


def test_entries_while_long_are_ignored_and_a_stopped_trade_can_reenter_next_bar(engine: str) -> None:
    bars = [*flat(2), (100, 100, 90, 95), (95,) * 4, (95,) * 4]
    # Long from bar 2 (signal at 1); the stop at 95 is hit in bar 2; the entry signal at bar 2's close
    # re-enters at bar 3's open. The signal at bar 3 (already long) does nothing.
    result = run(engine, bars, marks(5, 1, 2, 3), marks(5), OrderParams(stop_loss=0.05))
    trades = [(t.entry_bar, t.exit_bar, t.reason) for t in result.trade_list()]
    assert trades == [(2, 2, "stop_loss"), (3, None, "open")]


def test_bad_parameters_are_rejected_naming_the_value() -> None:
    frame = candles(flat(3))
    with pytest.raises(UserInputError, match="stop_loss 1.5"):
        OrderParams(stop_loss=1.5)
    with pytest.raises(UserInputError, match="size 0"):
        OrderParams(size=0)
    with pytest.raises(UserInputError, match="fee 0.2"):
        run_fast(frame, marks(3), marks(3), fee=0.2)
    with pytest.raises(UserInputError, match="cash -1"):
        run_fast(frame, marks(3), marks(3), cash=-1)
    with pytest.raises(UserInputError, match="entries has 2 values for 3 bars"):
        run_fast(frame, marks(2), marks(3))
    broken = candles([(100, 100, 100, 100), (100, float("nan"), 100, 100), (100, 100, 0, 100)])
    for runner in (run_fast, run_reference):
        with pytest.raises(DataValidationError, match="has high nan: prices must be positive"):
            runner(broken, marks(3), marks(3))
    with pytest.raises(DataValidationError, match="has low 0.0"):
        run_fast(broken.drop(columns="high").assign(high=100.0), marks(3), marks(3))
