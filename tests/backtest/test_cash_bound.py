"""Starting cash beyond 1e12 is refused, as an order's amount or a goal's target is. `mt backtest --cash
1e308` ran: the position's notional overflowed to infinity, nothing was bought, and the backtest said
"its position size affords no unit of the asset" (return 0%, exit 0)."""

from __future__ import annotations

import re

import pytest

from mastertrade.engine.backtest.result import MAX_CASH, check_costs
from mastertrade.errors import UserInputError
from tests.conftest import MT


@pytest.mark.parametrize("cash", [1e13, 1e300, 1e308])
def test_absurd_cash_is_refused(cash: float) -> None:
    with pytest.raises(UserInputError, match=rf"^invalid cash {re.escape(f'{cash:g}')}: larger than 1e\+12$"):
        check_costs(cash, 0.001)


def test_the_largest_cash_allowed_backtests(mt: MT) -> None:
    check_costs(MAX_CASH, 0.001)
    result = mt("data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", "400", "--seed", "3")
    assert result.exit_code == 0, result.stderr
    args = ("backtest", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h")
    small = mt.json(*args)
    large = mt.json(*args, "--cash", "1e12")
    assert large["trades"] == small["trades"] > 0
    assert large["return_pct"] == pytest.approx(small["return_pct"], rel=1e-6)
    refused = mt(*args, "--cash", "1e308")
    assert refused.exit_code == 2 and refused.stdout == ""
    assert refused.stderr == "mt: error: invalid cash 1e+308: larger than 1e+12\n"
