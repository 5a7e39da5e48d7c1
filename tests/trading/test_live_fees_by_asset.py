"""One live order's fills can pay their fees in different assets: part in USDT, part in BNB (until the BNB
runs out) or in the coin bought. The order keeps each fee in its asset; its fee in the quote currency
counts a base-coin fee at its fill's price and a BNB fee at a price the daemon has, and is unknown (null,
said so in `mt orders show`) when it has none, never a sum of USDT and BNB."""

from __future__ import annotations

import json
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection

from mastertrade.db.database import create_engine
from mastertrade.db.migrate import alembic_config, upgrade
from mastertrade.engine.api.schemas_trading import OrderInfo
from mastertrade.engine.candle import Bar, Candle
from mastertrade.engine.execution.journal import order_info
from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.orders import OrderRequest, OrderState, Side
from tests.trading.live_rig import BTC, LIMIT, Rig, resting_buy

TWO_ASSETS = pytest.mark.parametrize(
    "desk_options", [{"balances": {"USDT": 100_000.0, "BNB": 10.0}}], indirect=True
)

PRICE = LIMIT
USDT_FEE = 0.04 * PRICE * 0.001  # the first part's fee, in USDT
BNB_FEE = 0.03 * PRICE * 0.001 / 500.0  # the second part's, in BNB at the desk's 500 USDT
BTC_FEE = 0.03 * 0.001  # the second part's, taken from the coins bought


async def _filled_in_two_assets(rig: Rig, second_asset: str, *, bnb_mark: float | None = None) -> Any:
    """A limit buy of 0.1 BTC resting at 39,000: 0.04 fills with its fee in USDT, then 0.03 with its fee
    in ``second_asset``; the broker polls it. Returns the journal's order."""
    broker = await rig.started()
    if bnb_mark is not None:  # the daemon follows BNB/USDT: its last price
        await broker.on_bar("BNB/USDT", Bar(Candle(now_ms(), bnb_mark, bnb_mark, bnb_mark, bnb_mark, 1.0)))
    row = await resting_buy(broker, bracketed=False)
    assert row.state == OrderState.OPEN
    rig.desk.fill_part(row.client_order_id, 0.04)
    rig.desk.fee_asset = second_asset
    rig.desk.fill_part(row.client_order_id, 0.03)
    await broker.poll()
    done = await rig.journal.get(row.id)
    assert done.state == OrderState.PARTIALLY_FILLED and done.filled == pytest.approx(0.07)
    return done


@TWO_ASSETS
async def test_fees_in_usdt_and_bnb_without_a_bnb_price_are_kept_apart_and_not_added(rig: Rig) -> None:
    done = await _filled_in_two_assets(rig, "BNB")
    assert done.fees == pytest.approx({"USDT": USDT_FEE, "BNB": BNB_FEE})
    assert done.fee is None  # was USDT_FEE + BNB_FEE: 1.56 USDT and 0.00234 BNB read as 1.56234
    shown = OrderInfo.model_validate(order_info(done))
    assert shown.fee is None and shown.fees == pytest.approx({"USDT": USDT_FEE, "BNB": BNB_FEE})
    fills = await rig.journal.fills(order_id=done.id)
    assert [(fill.fee_asset, fill.fee_quote) for fill in fills] == [
        ("USDT", pytest.approx(USDT_FEE)),
        ("BNB", None),
    ]


@TWO_ASSETS
async def test_a_bnb_fee_is_valued_at_the_price_the_daemon_follows(rig: Rig) -> None:
    done = await _filled_in_two_assets(rig, "BNB", bnb_mark=600.0)
    assert done.fees == pytest.approx({"USDT": USDT_FEE, "BNB": BNB_FEE})
    assert done.fee == pytest.approx(USDT_FEE + BNB_FEE * 600.0)


@TWO_ASSETS
async def test_a_fee_in_the_coin_bought_is_valued_at_its_fill_s_price(rig: Rig) -> None:
    done = await _filled_in_two_assets(rig, "BTC")
    assert done.fees == pytest.approx({"USDT": USDT_FEE, "BTC": BTC_FEE})
    assert done.fee == pytest.approx(USDT_FEE + BTC_FEE * PRICE)
    assert (await (await rig.started()).ledger()).held(BTC) == pytest.approx(0.07 - BTC_FEE)


async def test_the_upgrade_keeps_every_order_and_fill_and_stops_adding_unlike_fees(db_url: str) -> None:
    def store_old(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), "s31_fills")
        connection.execute(
            text(
                "INSERT INTO trading_books (id, mode, quote, created_at) VALUES"
                " ('live', 'live', 'USDT', '2026-01-01 00:00:00+00')"
            )
        )
        for order, fee in ((1, USDT_FEE + BNB_FEE), (2, USDT_FEE + BTC_FEE), (3, 0.0)):
            connection.execute(text(_ORDER.format(id=order, fee=fee)))
        for order, trade, fee, asset in (
            (1, 1, USDT_FEE, "USDT"),
            (1, 2, BNB_FEE, "BNB"),
            (2, 3, USDT_FEE, "USDT"),
            (2, 4, BTC_FEE, "BTC"),
        ):
            connection.execute(text(_FILL.format(order=order, trade=trade, fee=fee, asset=asset)))

    engine = create_engine(db_url)  # on SQLite and on Postgres, upgraded as opening it does
    try:
        async with engine.begin() as connection:
            await connection.run_sync(store_old)
        await upgrade(engine)
        async with engine.connect() as connection:
            orders = (await connection.execute(text("SELECT id, fee, fees FROM orders ORDER BY id"))).all()
            fills = (
                await connection.execute(
                    text("SELECT trade_id, fee, fee_asset, fee_quote FROM fills ORDER BY id")
                )
            ).all()
    finally:
        await engine.dispose()
    assert [(row[0], row[1]) for row in orders] == [
        (1, None),  # 1.56 USDT and 0.00234 BNB: no BNB price was stored, so no sum
        (2, pytest.approx(USDT_FEE + BTC_FEE * PRICE)),
        (3, 0.0),
    ]
    assert [json.loads(row[2]) if isinstance(row[2], str) else row[2] for row in orders] == [
        pytest.approx({"USDT": USDT_FEE, "BNB": BNB_FEE}),
        pytest.approx({"USDT": USDT_FEE, "BTC": BTC_FEE}),
        None,  # no fills
    ]
    assert [tuple(row[:3]) for row in fills] == [
        ("1", pytest.approx(USDT_FEE), "USDT"),
        ("2", pytest.approx(BNB_FEE), "BNB"),
        ("3", pytest.approx(USDT_FEE), "USDT"),
        ("4", pytest.approx(BTC_FEE), "BTC"),
    ]
    assert [row[3] for row in fills] == [
        pytest.approx(USDT_FEE),
        None,
        pytest.approx(USDT_FEE),
        pytest.approx(BTC_FEE * PRICE),
    ]


_ORDER = (
    "INSERT INTO orders (id, client_order_id, book, mode, symbol, side, type, role, state, filled, cost,"
    " fee, placed_ts, created_at, updated_at) VALUES ({id}, 'c{id}', 'live', 'live', 'BTC/USDT', 'buy',"
    " 'limit', 'order', 'filled', 0.07, 2730, {fee}, 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00+00')"
)
_FILL = (
    "INSERT INTO fills (order_id, book, symbol, side, amount, price, fee, fee_asset, trade_id, ts,"
    f" created_at) VALUES ({{order}}, 'live', 'BTC/USDT', 'buy', 0.035, {PRICE}, {{fee}}, '{{asset}}',"
    " '{trade}', 0, '2026-01-01 00:00:00+00')"
)


BNB = "BNB/USDT"
BNB_DESK = pytest.mark.parametrize(
    "desk_options",
    [{"symbols": {BTC: 40_000.0, BNB: 500.0}, "balances": {"USDT": 100_000.0}, "fee_asset": "BNB"}],
    indirect=True,
)


@BNB_DESK
@pytest.mark.parametrize("bnb_mark", [None, 600.0])
async def test_bnb_bought_and_spent_on_fees_is_what_the_exchange_holds(
    rig: Rig, bnb_mark: float | None
) -> None:
    """The book bought BNB (its own fee taken from it), then paid a BTC buy's fee in BNB: the BNB position
    holds what the exchange holds (it held 0.999 where the exchange had 0.991), the fee is valued at the
    BNB price the daemon follows or else at what that BNB cost, and the BTC position's cost carries it."""
    broker = await rig.started()
    if bnb_mark is not None:
        await broker.on_bar(BNB, Bar(Candle(now_ms(), bnb_mark, bnb_mark, bnb_mark, bnb_mark, 1.0)))
    await broker.submit(OrderRequest(BNB, Side.BUY, amount=1.0), placed_ts=now_ms())
    btc = await broker.submit(OrderRequest(BTC, Side.BUY, amount=0.1), placed_ts=now_ms())
    bnb_fee = 4_000 * 0.001 / 500  # 0.008 BNB at the desk's 500
    paid = 500.0 / 0.999  # what a BNB of the position cost (its own fee came out of the coins)
    price = bnb_mark if bnb_mark is not None else paid
    done = await rig.journal.get(btc.id)
    assert done.fees == pytest.approx({"BNB": bnb_fee}) and done.fee == pytest.approx(bnb_fee * price)
    for ledger in (await broker.ledger(), await (await rig.started()).ledger()):  # booked, and replayed
        assert ledger.held(BNB) == pytest.approx(rig.desk.balance("BNB"), abs=1e-12) == pytest.approx(0.991)
        assert ledger.positions[BTC].cost == pytest.approx(4_000.0 + bnb_fee * price)
        assert ledger.positions[BNB].realised == pytest.approx(bnb_fee * (price - paid))
        assert ledger.unpriced_fees() == {}
    await rig.assert_reconciled()
