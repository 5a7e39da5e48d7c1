"""A backtest without trades says why: the warm-up left no bar to trade on, or the rules never let it buy."""

from __future__ import annotations

import numpy as np

from mastertrade.engine.backtest.no_trades import no_trade_reason, warmup_reason


def test_the_warm_up_leaves_a_bar_to_trade_on_only_with_two_bars_to_spare() -> None:
    # signals of bars 1 .. n-2 are acted on: a 30-bar warm-up first signals at bar 30, filled at bar 31
    assert warmup_reason("s", 30, 32) is None
    eaten = warmup_reason("s", 30, 31)
    assert (
        eaten is not None and "needs 30 bars" in eaten and "at least 32 bars" in eaten and "has 31" in eaten
    )
    assert warmup_reason("s", 0, 3) is None
    assert warmup_reason("s", 0, 2) is not None  # bar 0 only opens the account, the last has no next open


def test_a_rule_that_never_fired_or_lost_to_the_exit_is_named() -> None:
    bars = 10
    none = np.zeros(bars, dtype=np.bool_)
    early = none.copy()
    early[2] = True  # inside the warm-up: not a signal the engine sees
    assert "never fired in the 5 bars after its 4-bar warm-up" in no_trade_reason("s", 4, early, none)
    late = none.copy()
    late[bars - 1] = True  # the last bar's signal has no next open
    assert "never fired" in no_trade_reason("s", 4, late, none)
    assert no_trade_reason("s", 0, late, none).endswith("never fired in the 8 bars whose signals could fill")
    # one bar left to act on: said in the singular
    short = np.zeros(4, dtype=np.bool_)
    assert no_trade_reason("s", 2, short, short).endswith("never fired in the 1 bar after its 2-bar warm-up")
    assert no_trade_reason("s", 0, short[:3], short[:3]).endswith("in the 1 bar whose signal could fill")
    both = none.copy()
    both[6] = True
    assert "exit rule fired too" in no_trade_reason("s", 4, both, both)
    assert "affords no unit" in no_trade_reason("s", 4, both, none)
