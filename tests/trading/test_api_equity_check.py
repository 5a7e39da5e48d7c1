"""``GET /v1/equity`` (the account's equity history after some bars) and ``POST /v1/orders/check`` (the
dry run: the same decision placing then gets, and nothing journaled, audited, published or reset), on
SQLite and Postgres through httpx's ASGI transport."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from mastertrade import errors
from mastertrade.engine import events
from mastertrade.engine.api.app import create_app
from mastertrade.engine.api.schemas_trading import OrderCheck, OrderCreate, PlaceResult
from mastertrade.engine.risk.breakers import Breaker, BreakerState
from tests.trading.conftest import HOUR, T0, TradingEngine

BTC = "BTC/USDT"


async def test_the_equity_history_follows_the_bars(trading: TradingEngine) -> None:
    async with trading.client() as client:
        assert await client.equity_history() == []
        await trading.bar(BTC, 0, 100, 101, 99, 100)
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=100))
        for i, close in enumerate((110, 90, 120), start=1):
            await trading.bar(BTC, i, close, close + 1, close - 1, close)
        points = await client.equity_history()
        stored = await trading.trader.account.journal.equity_history("paper")
        assert [p.ts for p in points] == [T0 + i * HOUR for i in range(4)]
        assert [p.equity for p in points] == [s.equity for s in stored]
        assert points[0].equity == 100_000.0
        # bought 100 at the open of bar 1 (110, with the fee), marked at each close
        cost = 100 * 110 * 1.001
        assert points[2].equity == pytest.approx(100_000 - cost + 100 * 90)
        assert points[3].equity == pytest.approx(100_000 - cost + 100 * 120)
        assert [p.ts for p in await client.equity_history(limit=2)] == [T0 + 2 * HOUR, T0 + 3 * HOUR]
        assert await client.equity_history(book="paper", limit=2) == points[-2:]
        with pytest.raises(errors.NotFound, match=r"no trading book 'strategy:ffff' \(books: paper\)"):
            await client.equity_history(book="strategy:ffff")


async def journaled(trading: TradingEngine, client: Any) -> tuple[int, int, int]:
    """How many orders, audit rows and order events there are so far."""
    orders = await trading.trader.account.orders(limit=1000)
    audit = await client.risk_audit(limit=1000)
    published = [e for e in trading.events if isinstance(e, events.OrderPlaced | events.OrderRejected)]
    return len(orders), len(audit), len(published)


def same_decision(checked: OrderCheck, placed: PlaceResult) -> None:
    decision = placed.risk
    assert (checked.verdict, checked.amount, checked.price, checked.reason) == (
        decision.verdict,
        decision.amount,
        decision.price,
        decision.reason,
    )
    assert checked.findings == decision.findings and checked.requested == decision.requested


async def test_the_check_is_the_decision_placing_gets_and_writes_nothing(trading: TradingEngine) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    async with trading.client() as client:
        order = OrderCreate(symbol=BTC, side="buy", amount=10)
        before = await journaled(trading, client)
        checked = await client.check_order(order)
        assert await journaled(trading, client) == before
        assert checked.verdict == "approve" and checked.amount == 10 and checked.price == 100
        assert checked.value == pytest.approx(1_000.0) and checked.fee == pytest.approx(1.0)
        assert (checked.fee_rate, checked.quote, checked.mode) == (0.001, "USDT", "paper")
        same_decision(checked, await client.place_order(order))

        big = OrderCreate(symbol=BTC, side="buy", amount=500)
        checked = await client.check_order(big)  # a human's order over a limit is refused, not cut
        assert checked.verdict == "reject" and checked.findings[0].code == "max_position"
        assert "--allow-resize" in checked.reason and checked.value == 0
        with pytest.raises(errors.RiskRejected) as refused:
            await client.place_order(big)
        assert str(refused.value) == f"risk check rejected the order: {checked.reason}"
        big = OrderCreate(symbol=BTC, side="buy", amount=500, allow_resize=True)
        checked = await client.check_order(big)
        assert checked.verdict == "resize" and checked.findings[0].code == "max_position"
        assert checked.value == pytest.approx(checked.amount * 100)
        same_decision(checked, await client.place_order(big))

        limit = OrderCreate(symbol=BTC, side="buy", amount=1, type="limit", price=50)
        checked = await client.check_order(limit)
        assert checked.verdict == "reject" and checked.amount == 0 and checked.value == 0
        with pytest.raises(errors.RiskRejected) as rejected:
            await client.place_order(limit)
        assert str(rejected.value) == f"risk check rejected the order: {checked.reason}"

        await client.risk_halt("test")
        checked = await client.check_order(order)
        assert checked.verdict == "reject" and checked.findings[0].code == "kill_switch"
        before = await journaled(trading, client)
        assert (await client.check_order(order)).verdict == "reject"
        assert await journaled(trading, client) == before  # a refusal is not audited either
        with pytest.raises(errors.RiskRejected, match="kill switch"):
            await client.place_order(order)


async def test_an_elapsed_cool_down_counts_as_reset_without_being_reset(trading: TradingEngine) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    risk = trading.trader.account.risk
    now = risk.clock()
    risk.breakers.states[Breaker.PRICE_MOVE] = BreakerState(
        Breaker.PRICE_MOVE, True, "BTC/USDT moved 12%", now - timedelta(hours=1), now - timedelta(minutes=1)
    )
    order = OrderCreate(symbol=BTC, side="buy", amount=1)
    async with trading.client() as client:
        checked = await client.check_order(order)
        assert checked.verdict == "approve"
        assert risk.breakers.states[Breaker.PRICE_MOVE].tripped  # the dry run reset nothing
        same_decision(checked, await client.place_order(order))
        assert not risk.breakers.states[Breaker.PRICE_MOVE].tripped  # placing did

        risk.breakers.states[Breaker.PRICE_MOVE] = BreakerState(
            Breaker.PRICE_MOVE, True, "BTC/USDT moved 12%", now, now + timedelta(hours=1)
        )
        checked = await client.check_order(order)
        assert checked.verdict == "reject" and checked.findings[0].code == "circuit_breaker"


async def test_the_check_refuses_what_placing_refuses(trading: TradingEngine) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(trading.ctx)), base_url="http://mt"
    ) as http:
        bad = {"symbol": BTC, "side": "buy", "amount": 1, "price": 100}
        for path in ("/v1/orders/check", "/v1/orders"):
            response = await http.post(path, json=bad)
            assert response.status_code == 400
            assert "market order takes no --price" in response.json()["error"]["message"]
        unpriced = await http.post(
            "/v1/orders/check", json={"symbol": "ETH/USDT", "side": "buy", "amount": 1}
        )
        assert (
            unpriced.status_code == 409 and "no price for ETH/USDT yet" in unpriced.json()["error"]["message"]
        )
        quote = await http.post("/v1/orders/check", json={"symbol": "BTC/EUR", "side": "buy", "amount": 1})
        assert quote.status_code == 400 and "trades against USDT" in quote.json()["error"]["message"]
        negative = await http.post("/v1/orders/check", json={"symbol": BTC, "side": "buy", "amount": -1})
        assert negative.status_code == 422
        # the live confirmation is for sending: a dry run on paper answers it like any other
        live = await http.post(
            "/v1/orders/check", json={"symbol": BTC, "side": "buy", "amount": 1, "live": True}
        )
        assert live.status_code == 200 and live.json()["verdict"] == "approve"
    assert await trading.trader.account.orders(limit=10) == []


async def test_a_symbol_typed_in_lower_case_is_the_market_the_daemon_streams(trading: TradingEngine) -> None:
    """`btc/usdt` was refused with "the account trades against USDT", which it does."""
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(trading.ctx)), base_url="http://mt"
    ) as http:
        checked = await http.post(
            "/v1/orders/check", json={"symbol": "btc/usdt", "side": "buy", "amount": 0.1}
        )
        assert checked.status_code == 200, checked.text
        placed = await http.post("/v1/orders", json={"symbol": " Btc/Usdt", "side": "buy", "amount": 0.1})
        assert placed.status_code == 201, placed.text
        assert placed.json()["order"]["symbol"] == BTC
