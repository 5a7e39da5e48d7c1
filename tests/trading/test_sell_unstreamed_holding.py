"""A position in a symbol the daemon no longer streams (taken out of `[market] symbols`, daemon
restarted) could not be sold, and `mt trade sell` said only "unknown symbol 'SOL/USDT': the daemon
trades BTC/USDT, ETH/USDT", as if the account had never held it. The refusal now says what is held
and how to sell it."""

from __future__ import annotations

import pytest

from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.errors import NotFound
from tests.trading.conftest import TradingEngine

BTC = "BTC/USDT"


async def test_selling_a_holding_the_daemon_no_longer_streams_says_how(
    trading: TradingEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    account = trading.trader.account
    async with trading.client() as client:
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=3))
        await trading.bar(BTC, 1, 100, 101, 99, 100)
        # restarted with BTC/USDT taken out of [market] symbols: no price of it comes any more
        monkeypatch.setattr(account.settings.market, "symbols", ["ETH/USDT"])
        account.broker._marks.pop(BTC)
        with pytest.raises(NotFound) as refused:
            await client.place_order(OrderCreate(symbol="btc/usdt", side="sell", amount=3))
    message = str(refused.value)
    assert "the account holds 3 BTC/USDT" in message
    assert "add it to [market] symbols" in message and "\n" not in message
