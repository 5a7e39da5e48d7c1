"""Binance numbers each symbol's trades on its own: a BTC/USDT trade and an ETH/USDT trade of the same
account can carry the same trade id. A fill is one trade of one symbol, so both are booked, each once."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from mastertrade.db.migrate import alembic_config
from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.orders import OrderRequest, OrderState, Side
from tests.trading.live_rig import BTC, Rig, buy

ETH = "ETH/USDT"


@pytest.mark.parametrize("desk_options", [{"trade_ids_per_symbol": True}], indirect=True)
async def test_trades_of_two_symbols_sharing_an_id_are_both_booked(rig: Rig) -> None:
    broker = await rig.started()
    btc = await broker.submit(buy(0.1), placed_ts=now_ms())
    eth = await broker.submit(OrderRequest(ETH, Side.BUY, amount=1.0), placed_ts=now_ms())
    [btc_trade] = rig.desk.orders_for(btc.client_order_id)[0].trades
    [eth_trade] = rig.desk.orders_for(eth.client_order_id)[0].trades
    assert btc_trade["id"] == eth_trade["id"]  # the venue's habit this test is about
    await broker.poll()
    for row, amount in ((btc, 0.1), (eth, 1.0)):
        done = await rig.journal.get(row.id)
        assert done.state == OrderState.FILLED and done.filled == pytest.approx(amount)
        assert len(await rig.journal.fills(order_id=row.id)) == 1
    ledger = await broker.ledger()
    assert ledger.held(BTC) == pytest.approx(0.1) and ledger.held(ETH) == pytest.approx(1.0)
    await rig.assert_reconciled()
    fresh = await rig.started()
    assert (await fresh.ledger()).held(ETH) == pytest.approx(1.0)
    assert rig.desk.balance("ETH") == pytest.approx(1.0)


def test_the_upgrade_keeps_every_stored_fill_and_keys_them_by_symbol(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0006")
        connection.execute(
            text(
                "INSERT INTO trading_books (id, mode, quote, created_at) VALUES"
                " ('live', 'live', 'USDT', '2026-01-01 00:00:00')"
            )
        )
        connection.execute(text(_ORDER.format(id=1, cid="a", symbol=BTC)))
        connection.execute(text(_FILL.format(order=1, symbol=BTC)))
        command.upgrade(alembic_config(connection), "heads")
        connection.execute(text(_ORDER.format(id=2, cid="b", symbol=ETH)))
        connection.execute(text(_FILL.format(order=2, symbol=ETH)))  # the same trade id, another market
        with pytest.raises(IntegrityError):  # the same trade of the same market is still stored once
            with connection.begin_nested():
                connection.execute(text(_FILL.format(order=1, symbol=BTC)))
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT symbol, trade_id FROM fills ORDER BY id")).all()
    assert [tuple(row) for row in rows] == [(BTC, "50001"), (ETH, "50001")]


_ORDER = (
    "INSERT INTO orders (id, client_order_id, book, mode, symbol, side, type, role, state, filled, cost,"
    " fee, placed_ts, created_at, updated_at) VALUES ({id}, '{cid}', 'live', 'live', '{symbol}', 'buy',"
    " 'market', 'order', 'filled', 1, 1, 0, 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
)
_FILL = (
    "INSERT INTO fills (order_id, book, symbol, side, amount, price, fee, fee_asset, trade_id, ts,"
    " created_at) VALUES ({order}, 'live', '{symbol}', 'buy', 1, 1, 0, 'USDT', '50001', 0,"
    " '2026-01-01 00:00:00')"
)
