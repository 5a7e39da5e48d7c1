"""A human's orders through `mt trade`: refused over a limit unless --allow-resize, placed once per client
order id however often the command runs, followed with `mt orders show`; bad numbers and usage errors are
one line `mt: error: ...` with exit 2 and nothing placed."""

from __future__ import annotations

import json

import httpx
import pytest

from mastertrade.locations import locations
from tests.conftest import MT
from tests.trading.conftest import ThreadedTrading
from tests.trading.test_cli import BTC, push, wait_for


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["trade", "buy", BTC, "inf"], "invalid amount inf"),
        (["trade", "buy", BTC, "nan"], "invalid amount nan"),
        (["trade", "buy", BTC, "1e308"], "invalid amount 1e+308"),
        (["trade", "buy", BTC, "-1"], "invalid amount -1.0"),
        (["trade", "sell", BTC, "-0.5"], "invalid amount -0.5"),
        (["trade", "buy", BTC, "1", "--type", "limit", "--price", "inf"], "invalid --price inf"),
        (["trade", "buy", BTC, "1", "--client-order-id", "no spaces"], "invalid --client-order-id"),
        (
            ["trade", "buy", BTC, "1", "--client-order-id", "36"],
            "invalid --client-order-id '36': digits alone",
        ),
        (["trade", "buy", BTC], "Missing argument"),
        (["trade", "buy", BTC, "abc"], "Invalid value for 'amount'"),
        (["trade", "buy", BTC, "1", "--wait", "-3"], "--wait"),
        (["goal", "add", "g", "--kind", "profit", "--target", "1e308"], "invalid --target '1e308'"),
        (["goal", "add", "g", "--kind", "return", "--target", "nan"], "invalid --target 'nan'"),
        (["goal", "add", "", "--kind", "profit", "--target", "5"], "invalid goal name ''"),
        (["goal", "add", "  ", "--kind", "profit", "--target", "5"], "invalid goal name '  '"),
        (["goal", "add", "g" * 81, "--kind", "profit", "--target", "5"], "invalid goal name 'ggg"),
        (["--no-such-option"], "No such option"),
        (["trade", "nosuch"], "No such command"),
    ],
)
def test_bad_input_is_one_line_and_exits_2(mt: MT, args: list[str], message: str) -> None:
    result = mt(*args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("mt: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr


def test_a_human_order_over_a_limit_is_refused_not_resized(mt: MT, daemon: ThreadedTrading) -> None:
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    refused = mt("trade", "buy", BTC, "1000")  # 100,000 of 100,000 equity: over the 20% position limit
    assert refused.exit_code == 1
    assert refused.stderr.startswith("mt: error: risk check rejected the order")
    assert "--allow-resize" in refused.stderr and refused.stderr.count("\n") == 1
    assert mt.json("orders") == []
    resized = mt.json("trade", "buy", BTC, "1000", "--allow-resize", "--wait", "0")
    assert resized["risk"]["verdict"] == "resize"
    assert 0 < resized["order"]["amount"] < 1000
    audit = mt.json("risk", "audit")
    assert any("not resized" in row["reason"] for row in audit)


def test_a_retried_command_places_once(mt: MT, daemon: ThreadedTrading) -> None:
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    first = mt.json("trade", "buy", BTC, "2", "--client-order-id", "my-order-1", "--wait", "0")
    again = mt.json("trade", "buy", BTC, "2", "--client-order-id", "my-order-1", "--wait", "0")
    assert first["order"]["id"] == again["order"]["id"]
    assert "not placed again" in again["risk"]["reason"]
    plain_again = mt("trade", "buy", BTC, "2", "--client-order-id", "my-order-1", "--wait", "0")
    assert plain_again.exit_code == 0
    assert f"already placed as order {first['order']['id']}" in plain_again.stdout, plain_again.output
    assert [row["client_order_id"] for row in mt.json("orders")] == ["my-order-1"]
    shown = mt.json("orders", "show", "my-order-1")
    assert shown["id"] == first["order"]["id"]
    assert (
        json.loads(mt("orders", "show", str(shown["id"]), "--json").stdout)["client_order_id"] == "my-order-1"
    )
    plain = mt("trade", "buy", BTC, "1", "--wait", "0")  # a fresh command makes its own client id
    assert plain.exit_code == 0 and "open" in plain.stdout
    assert len(mt.json("orders")) == 2
    assert mt("orders", "show", "9999").exit_code == 2


@pytest.mark.parametrize(
    "other",
    [
        ["buy", BTC, "2", "--type", "limit", "--price", "60"],
        ["buy", BTC, "3", "--type", "limit", "--price", "50"],
        ["buy", BTC, "2", "--type", "stop", "--price", "50"],
        ["buy", BTC, "2"],
        ["buy", BTC, "2", "--type", "limit", "--price", "50", "--stop-loss", "0.05"],
        ["buy", BTC, "2", "--type", "limit", "--price", "50", "--take-profit", "0.1"],
    ],
    ids=["price", "amount", "type", "market", "stop-loss", "take-profit"],
)
def test_a_client_order_id_reused_for_another_order_is_refused(
    mt: MT, daemon: ThreadedTrading, other: list[str]
) -> None:
    # The id names one order: asked again for a different one, the answer must not be the old order
    # dressed as if the new one had been placed.
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    first = mt.json(
        "trade", "buy", BTC, "2", "--type", "limit", "--price", "50", "--client-order-id", "mine-1"
    )
    again = mt("trade", *other, "--client-order-id", "mine-1")
    assert again.exit_code == 2, again.output
    order = first["order"]["id"]
    assert again.stderr.startswith(
        f"mt: error: client order id 'mine-1' is already order {order} (buy 2 BTC/USDT limit at 50)"
    )
    assert again.stderr.count("\n") == 1
    assert [row["id"] for row in mt.json("orders")] == [first["order"]["id"]]
    same = mt.json(
        "trade", "buy", BTC, "2", "--type", "limit", "--price", "50", "--client-order-id", "mine-1"
    )
    assert same["order"]["id"] == first["order"]["id"]


def test_a_bracketed_order_asked_again_is_found_only_with_its_bracket(
    mt: MT, daemon: ThreadedTrading
) -> None:
    # Asked again with the same client id, a buy with a stop-loss is the order placed; without it (or
    # with another one) it is another order, refused instead of answered as if it were protected.
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    bracket = ["--stop-loss", "0.05", "--take-profit", "0.1", "--client-order-id", "safe-1"]
    first = mt.json("trade", "buy", BTC, "2", "--type", "limit", "--price", "50", *bracket)
    same = mt.json("trade", "buy", BTC, "2", "--type", "limit", "--price", "50", *bracket)
    assert same["order"]["id"] == first["order"]["id"] and "not placed again" in same["risk"]["reason"]
    bare = mt("trade", "buy", BTC, "2", "--type", "limit", "--price", "50", "--client-order-id", "safe-1")
    assert bare.exit_code == 2, bare.output
    assert (
        f"is already order {first['order']['id']} (buy 2 BTC/USDT limit at 50 with stop-loss 0.05 and "
        "take-profit 0.1), not this order" in bare.stderr
    )
    assert [row["id"] for row in mt.json("orders") if row["parent_id"] is None] == [first["order"]["id"]]


def test_a_client_order_id_of_digits_alone_is_refused_so_cancel_cannot_take_it_for_an_order_id(
    mt: MT, daemon: ThreadedTrading
) -> None:
    # `--client-order-id 1` was placed as order 2; `mt orders cancel 1` then cancelled order 1, another
    # order, and left the one placed working. The API refuses such an id too (422, naming it).
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    first = mt.json("trade", "buy", BTC, "2", "--type", "limit", "--price", "50")
    refused = mt("trade", "buy", BTC, "1", "--type", "limit", "--price", "40", "--client-order-id", "1")
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1
    assert "read as an order id" in refused.stderr
    assert [row["id"] for row in mt.json("orders")] == [first["order"]["id"]]

    transport = httpx.HTTPTransport(uds=str(locations().socket_file))
    with httpx.Client(transport=transport, base_url="http://mt") as http:
        body = {"symbol": BTC, "side": "buy", "amount": 1, "type": "limit", "price": 40}
        answer = http.post("/v1/orders", json={**body, "client_order_id": "1"})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_request" and "client_order_id" in error["message"]
    assert "read as an order id" in error["message"]
    assert [row["id"] for row in mt.json("orders")] == [first["order"]["id"]]


@pytest.mark.parametrize(
    "kind",
    [[], ["--type", "limit", "--price", "1"], ["--type", "stop", "--price", "100"]],
    ids=["market", "limit", "stop"],
)
def test_a_symbol_the_daemon_does_not_trade_is_bad_input(
    mt: MT, daemon: ThreadedTrading, kind: list[str]
) -> None:
    # A limit or stop order brings its own price; it must not rest forever on a market nobody streams.
    push(daemon, 0, 100.0)
    result = mt("trade", "buy", "DOGE/USDT", "50", *kind)
    assert result.exit_code == 2 and "unknown symbol 'DOGE/USDT'" in result.stderr
    assert result.stderr.count("\n") == 1
    assert mt.json("orders") == []


def test_dust_is_bad_input(mt: MT, daemon: ThreadedTrading) -> None:
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    result = mt("trade", "buy", BTC, "0.00001")  # worth 0.001 USDT
    assert result.exit_code == 2 and "is dust" in result.stderr and result.stderr.count("\n") == 1
    assert "[risk] min_notional" in result.stderr  # our floor, not to be taken for the exchange's
    assert mt.json("orders") == []


def test_a_bracketed_buy_journals_its_protective_exits(mt: MT, daemon: ThreadedTrading) -> None:
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    placed = mt.json("trade", "buy", BTC, "10", "--stop-loss", "0.05", "--take-profit", "0.1", "--wait", "0")
    orders = mt.json("orders")
    exits = {row["type"]: row for row in orders if row["parent_id"] == placed["order"]["id"]}
    assert exits["stop"]["stop_price"] == pytest.approx(95.0)
    assert exits["limit"]["price"] == pytest.approx(110.0)
    bad = mt("trade", "sell", BTC, "1", "--stop-loss", "0.05")
    assert bad.exit_code == 2 and "--stop-loss" in bad.stderr  # a sell has no such option
    bad = mt("trade", "buy", BTC, "1", "--stop-loss", "1.5")
    assert bad.exit_code == 2 and "invalid --stop-loss 1.5" in bad.stderr
