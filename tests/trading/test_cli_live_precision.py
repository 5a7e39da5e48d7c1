"""A human's live order at the venue's precision: an amount between two of the market's lot steps, or a
price between two of its ticks, is never moved to the nearest step on the trader's behalf. It is bad
input naming the value and the amounts or prices the market takes (exit 2, nothing journaled, nothing
sent); ``--allow-resize`` lets the amount be cut down to the step, as it lets the risk limits cut it."""

from __future__ import annotations

import time

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


def _sell_refusal(amount: float, held: float) -> str:
    import ccxt.async_support as ccxt

    from mastertrade import errors
    from mastertrade.engine.execution import venue_steps

    class Exchange:
        precisionMode = ccxt.TICK_SIZE

    market = {"symbol": BTC, "base": "BTC", "precision": {"amount": 1e-05, "price": 0.01}}
    with pytest.raises(errors.UserInputError) as refused:
        venue_steps.fit_amount(Exchange(), market, "binance", amount, allow_resize=False, held=held)
    return str(refused.value)


def test_a_sell_is_never_offered_more_than_is_held() -> None:
    """Selling a whole position off the step (a fee taken in the coin left 0.12332655 BTC) was told "ask
    for 0.12332 or 0.12333", and 0.12333 is more than is held: now only the lower amount is offered,
    with the dust it leaves behind."""
    held = 0.12345 - 0.00012345
    whole = _sell_refusal(held, held)
    assert whole == (
        "amount 0.12332655 BTC/USDT is not a whole number of binance's lot step 0.00001: ask for 0.12332,"
        " which leaves 0.00000655 BTC behind (0.12333 is more than the 0.12332655 held)"
        " (or let it be cut to the step: --allow-resize)"
    )
    part = _sell_refusal(0.123321, held)  # part of it, but the step above is past what is held
    assert "ask for 0.12332, which leaves 0.00000655 BTC behind" in part and "0.12333 is more" in part
    assert "ask for 0.05 or 0.05001" in _sell_refusal(0.050005, held)  # both under what is held
    over = _sell_refusal(0.500005, held)
    assert "the most it can sell is 0.12332 (of the 0.12332655 BTC held)" in over
    assert "--allow-resize" not in over and "0.50001" not in over
    dust = _sell_refusal(0.000015, 0.000007)
    assert dust.endswith(": the 0.000007 BTC held is less than one step")


@pytest.mark.parametrize("desk_options", [{"fee_asset": "BTC"}], indirect=True)
def test_selling_a_whole_position_off_the_step_offers_no_more_than_is_held(
    mt: MT, live_daemon: ThreadedTrading, desk: TradingExchange
) -> None:
    wait_for_account(mt)
    bought = mt("trade", "buy", BTC, "0.12345", "--live", "--json")
    assert bought.exit_code == 0, bought.stderr
    for _ in range(200):
        positions = mt.json("positions")
        if positions and positions[0]["amount"] == pytest.approx(0.12332655):
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"the position never showed the fee taken in BTC: {positions}")
    placed = len(desk.placed)
    result = mt("trade", "sell", BTC, "0.12332655", "--live")
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("mt: error: amount 0.12332655 BTC/USDT is not a whole number of ")
    assert "ask for 0.12332, which leaves 0.00000655 BTC behind" in line, line
    assert "0.12333 is more than the 0.12332655 held" in line
    assert len(desk.placed) == placed
    cut = mt("trade", "sell", BTC, "0.12332655", "--live", "--allow-resize", "--json")
    assert cut.exit_code == 0, cut.stderr
    assert desk.placed[-1].quantity == pytest.approx(0.12332)


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
