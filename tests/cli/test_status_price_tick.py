"""`mt status` shows a symbol's last price on the market's tick when the exchange gives one (`tick` in
/v1/status), as the morning report does: 31247.199999999997 on a market quoted in cents is 31,247.20, not
31,247.2 (eight significant digits, which also dropped the cents' second digit). Without a tick (the
simulated market) it keeps eight significant digits."""

from __future__ import annotations

from mastertrade.cli.status import _price


def test_a_price_is_shown_on_the_markets_tick() -> None:
    assert _price(31247.199999999997, 0.01) == "31,247.20"
    assert _price(0.123456789, 0.0001) == "0.1235"
    assert _price(42_000.0, 0.1) == "42,000.0"


def test_without_a_tick_eight_significant_digits_and_no_price_is_blank() -> None:
    assert _price(7075.76190123, None) == "7,075.7619"
    assert _price(None, 0.01) == ""
