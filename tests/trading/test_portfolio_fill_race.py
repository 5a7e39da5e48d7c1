"""The risk check's view of the account while a fill lands: the working orders are read from the
journal and the positions from the broker's ledger, at different moments. A resting buy that filled
between the two reads was counted twice, as the open order it was and as the position it became, so
an order placed at that moment from another terminal was refused with "room 0.00" though a tenth of
the position limit was free. An order's fills booked in the ledger are no longer also counted as
its remaining amount."""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.engine.api.schemas_trading import OrderCreate
from tests.trading.conftest import HOUR, T0, TradingEngine

BTC = "BTC/USDT"


async def test_a_buy_that_fills_while_the_book_is_read_is_counted_once(
    trading: TradingEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    account = trading.trader.account
    async with trading.client() as client:
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=100, type="limit", price=95.0))
    journal = account.journal
    read_marks = journal.equity_marks

    async def marks_after_the_fill(*args: Any, **kwargs: Any) -> Any:
        # the working orders are read; the price reaches the limit and the order fills before the
        # equity marks (and so the snapshot) are taken
        await account.broker.on_bar(BTC, _closed_bar(96.0, 94.0))
        return await read_marks(*args, **kwargs)

    monkeypatch.setattr(journal, "equity_marks", marks_after_the_fill)
    portfolio = await account.portfolio()
    monkeypatch.setattr(journal, "equity_marks", read_marks)
    held = portfolio.holdings[BTC]
    assert held.amount == pytest.approx(100)
    assert portfolio.symbol_exposure(BTC) == pytest.approx(100 * held.price)
    assert portfolio.open_buys_value == pytest.approx(0.0)


def _closed_bar(high: float, low: float) -> Any:
    from mastertrade.engine.candle import Bar, Candle

    return Bar(Candle(T0 + HOUR, high, high, low, low, 1.0), closed=True)


async def test_a_buy_whose_fill_is_journaled_but_not_yet_booked_is_still_counted(
    trading: TradingEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The other order of events: the match's transaction is committed (the journal no longer lists the
    # buy as open) and the broker has not yet booked the fill in its ledger. The account read in that
    # moment held neither the order nor the position, and a buy checked then had the limit's room again.
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    account = trading.trader.account
    async with trading.client() as client:
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=100, type="limit", price=95.0))
    journal = account.journal
    apply_match = journal.apply_match
    seen: list[float] = []

    async def read_between(*args: Any, **kwargs: Any) -> Any:
        result = await apply_match(*args, **kwargs)
        seen.append((await account.portfolio()).symbol_exposure(BTC))
        return result

    monkeypatch.setattr(journal, "apply_match", read_between)
    await account.broker.on_bar(BTC, _closed_bar(96.0, 94.0))
    monkeypatch.setattr(journal, "apply_match", apply_match)
    assert seen == [pytest.approx(100 * 95.0, rel=0.02)]
