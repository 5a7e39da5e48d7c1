"""A bracket's `--stop-loss` and `--take-profit` are at least 1e-6 of the price: `mt trade buy BTC/USDT
0.001 --stop-loss 1e-320` placed a buy whose stop sat at the entry price itself (the fraction rounds
away) and fired at the first tick. Refused naming the value by the CLI, and by `POST /v1/orders`
(`OrderCreate`), before anything is sent."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.conftest import MT


@pytest.mark.parametrize("option", ["--stop-loss", "--take-profit"])
@pytest.mark.parametrize("fraction", ["1e-320", "5e-324", "1e-7"])
def test_a_fraction_that_puts_the_exit_at_the_entry_is_refused(mt: MT, option: str, fraction: str) -> None:
    result = mt("trade", "buy", "BTC/USDT", "0.001", option, fraction)
    assert result.exit_code == 2
    assert result.stderr == (
        f"mt: error: invalid {option} {float(fraction)!r}: at least 1e-06 (0.0001%); a smaller one puts"
        " the exit at the entry price\n"
    )


@pytest.mark.parametrize("field", ["stop_loss", "take_profit"])
def test_the_api_refuses_it_too(field: str) -> None:
    from mastertrade.engine.api.schemas_trading import OrderCreate

    base = {"symbol": "BTC/USDT", "side": "buy", "amount": 0.001}
    with pytest.raises(ValidationError, match="greater than or equal to 0.000001"):
        OrderCreate.model_validate({**base, field: 1e-320})
    assert getattr(OrderCreate.model_validate({**base, field: 1e-6}), field) == 1e-6
