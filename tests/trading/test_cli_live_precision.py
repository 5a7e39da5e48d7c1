"""A human's live order at the venue's precision: an amount between two of the market's lot steps, or a
price between two of its ticks, is never moved to the nearest step on the trader's behalf. It is bad
input naming the value and the amounts or prices the market takes (exit 2, nothing journaled, nothing
sent); ``--allow-resize`` lets the amount be cut down to the step, as it lets the risk limits cut it."""

from __future__ import annotations

import pytest

from tests.conftest import MT
from tests.fakes.exchange_trading import TradingExchange
from tests.trading.conftest import ThreadedTrading
from tests.trading.test_cli_live import BTC, live_daemon, wait_for_account

__all__ = ["live_daemon"]  # the fixture, shared with the other live CLI tests


def _orders(mt: MT) -> list[dict[str, object]]:
    return list(mt.json("orders"))


def test_an_amount_between_two_lot_steps_is_refused_not_cut(
    mt: MT, live_daemon: ThreadedTrading, desk: TradingExchange
) -> None:
    wait_for_account(mt)
    result = mt("trade", "buy", BTC, "0.123456789", "--live")
    assert result.exit_code == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("mt: error: ") and "0.123456789" in line
    assert "0.00001" in line and "0.12345" in line and "--allow-resize" in line
    assert desk.placed == [] and _orders(mt) == []


def test_allow_resize_cuts_the_amount_to_the_lot_step(
    mt: MT, live_daemon: ThreadedTrading, desk: TradingExchange
) -> None:
    wait_for_account(mt)
    result = mt("trade", "buy", BTC, "0.123456789", "--live", "--allow-resize", "--json")
    assert result.exit_code == 0, result.stderr
    [order] = desk.placed
    assert order.quantity == pytest.approx(0.12345)


@pytest.mark.parametrize("price", ["39999.995", "40000.004"])
def test_a_limit_price_between_two_ticks_is_refused_not_moved(
    mt: MT, live_daemon: ThreadedTrading, desk: TradingExchange, price: str
) -> None:
    wait_for_account(mt)
    result = mt("trade", "buy", BTC, "0.1", "--type", "limit", "--price", price, "--live")
    assert result.exit_code == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("mt: error: ") and price in line and "0.01" in line
    assert desk.placed == [] and _orders(mt) == []


def test_amounts_and_prices_on_the_steps_go_as_given(
    mt: MT, live_daemon: ThreadedTrading, desk: TradingExchange
) -> None:
    wait_for_account(mt)
    result = mt("trade", "buy", BTC, "0.12345", "--type", "limit", "--price", "39000.01", "--live")
    assert result.exit_code == 0, result.stderr
    [order] = desk.placed
    assert order.quantity == pytest.approx(0.12345) and order.price == pytest.approx(39000.01)


def test_a_position_held_with_float_noise_is_named_as_shown() -> None:
    """A whole position's amount is a float sum (0.12345 bought, a base-asset fee of 0.00012345 taken):
    the refusal names it as ``mt positions`` shows it, not with the sum's noise."""
    import ccxt.async_support as ccxt

    from mastertrade import errors
    from mastertrade.engine.execution import venue_steps

    class Exchange:
        precisionMode = ccxt.TICK_SIZE

    market = {"symbol": BTC, "precision": {"amount": 1e-05, "price": 0.01}}
    held = 0.12345 - 0.00012345
    with pytest.raises(errors.UserInputError) as refused:
        venue_steps.fit_amount(Exchange(), market, "binance", held, allow_resize=False)
    assert "amount 0.12332655 BTC/USDT" in str(refused.value) and "0.12332 or 0.12333" in str(refused.value)
    assert venue_steps.fit_amount(Exchange(), market, "binance", 0.1 + 0.2, allow_resize=False) == 0.3


def test_the_order_check_refuses_it_as_placing_does(
    mt: MT, live_daemon: ThreadedTrading, desk: TradingExchange
) -> None:
    """``POST /v1/orders/check`` (the dashboard's order ticket preview) takes the path placing takes."""
    import httpx

    from mastertrade.locations import locations

    wait_for_account(mt)
    transport = httpx.HTTPTransport(uds=str(locations().socket_file))
    with httpx.Client(transport=transport, base_url="http://mt") as http:
        off_step = http.post("/v1/orders/check", json={"symbol": BTC, "side": "buy", "amount": 0.123456789})
        assert off_step.status_code == 400 and "lot step" in off_step.json()["error"]["message"]
        resized = {"symbol": BTC, "side": "buy", "amount": 0.123456789, "allow_resize": True}
        cut = http.post("/v1/orders/check", json=resized)
        assert cut.status_code == 200 and cut.json()["amount"] == pytest.approx(0.12345)
    assert desk.placed == [] and _orders(mt) == []
