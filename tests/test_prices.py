"""Prices as the market quotes them (`mastertrade.prices`): on the tick's grid when the exchange gives
one, else six significant digits with at least two decimals; never a float's noise."""

from __future__ import annotations

import pytest

from mastertrade.engine.market.price_tick import price_tick
from mastertrade.prices import amount, price, signed_money


@pytest.mark.parametrize(
    ("value", "tick", "shown"),
    [
        (31247.199999999997, None, "31,247.20"),
        (31247.199999999997, 0.01, "31,247.20"),
        (31247.26, 0.5, "31,247.5"),
        (31247.2, 1.0, "31,247"),
        (171.00742, None, "171.007"),
        (0.0000123456789, None, "0.0000123457"),
        (0.00012345, 1e-8, "0.00012345"),
        (None, 0.01, "n/a"),
    ],
)
def test_a_price_reads_as_the_market_quotes_it(value: float | None, tick: float | None, shown: str) -> None:
    assert price(value, tick) == shown


def test_amounts_and_changes_carry_no_float_noise() -> None:
    assert amount(0.1 + 0.2) == "0.3"
    assert amount(1250.0) == "1,250"
    assert signed_money(-0.001) == "0.00" and signed_money(12.345) == "+12.35"


class Exchange:
    def __init__(self, mode: int, precision: object) -> None:
        self.precisionMode = mode
        self.markets = {"BTC/USDT": {"precision": {"price": precision}}}


def test_the_tick_comes_from_the_loaded_markets_in_either_precision_mode() -> None:
    assert price_tick(Exchange(4, 0.01), "BTC/USDT") == 0.01  # TICK_SIZE (Binance)
    assert price_tick(Exchange(2, 2), "BTC/USDT") == 0.01  # DECIMAL_PLACES
    assert price_tick(Exchange(3, 5), "BTC/USDT") is None  # significant digits: no fixed tick
    assert price_tick(Exchange(4, 0.01), "ETH/USDT") is None  # not a market there
    assert price_tick(object(), "BTC/USDT") is None  # the simulated market: no markets at all
