"""kill -9 for real: a separate process journals and sends live orders to the fake exchange and is killed
with SIGKILL at the worst moments (right after the intent is committed; after the exchange accepted the
order, its answer still on the way). The next start, in this process, ends with exactly one order per
intent at the exchange, the journal's states and fills equal to the exchange's, and the balances too."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.exchange import serve, venue_settings
from tests.fakes.exchange_trading import API_KEY, SECRET, TradingExchange
from tests.trading.test_live import BTC, Rig

ROOT = Path(__file__).parents[2]

# The "daemon": journal + live broker on the test's database and the fake desk. Mode "intent" commits an
# order intent and kills itself at once; mode "send" sends an order and waits (the test kills it).
DAEMON = """
import asyncio, json, os, signal, sys
from mastertrade.config import ExchangeSettings, load_settings
from mastertrade.db.database import Database
from mastertrade.engine.execution.broker import require_live
from mastertrade.engine.execution.journal import Journal
from mastertrade.engine.execution.live import LiveBroker
from mastertrade.engine.orders import OrderRequest, Side
from mastertrade.engine.market.ccxt_venue import CcxtVenue
from mastertrade.engine.market.timeframes import now_ms
from tests.fakes.exchange import FAST_CCXT

async def main(mode, exchange):
    db = await Database.open(load_settings())
    journal = Journal(db)
    venue = CcxtVenue(ExchangeSettings(**exchange), options=FAST_CCXT)
    broker = LiveBroker(journal, venue, require_live("live", True), answer_within_s=60)
    await broker.start()
    request = OrderRequest("BTC/USDT", Side.BUY, amount=0.05)
    if mode == "intent":
        await journal.create_order("live", "live", request, placed_ts=now_ms())
        os.kill(os.getpid(), signal.SIGKILL)
    print("ready", flush=True)
    await broker.submit(request, placed_ts=now_ms())
    await asyncio.sleep(60)

asyncio.run(main(sys.argv[1], json.loads(sys.argv[2])))
"""


@pytest.fixture
def desk() -> Iterator[TradingExchange]:
    yield from serve(TradingExchange({BTC: 40_000.0}, balances={"USDT": 100_000.0}, hang_s=5))


@pytest.fixture
async def rig(database: Any, desk: TradingExchange) -> Any:
    rig = Rig(database, desk)
    try:
        yield rig
    finally:
        await rig.close()


def _daemon(mode: str, desk: TradingExchange) -> subprocess.Popen[str]:
    exchange = venue_settings(desk, api_key=API_KEY, secret=SECRET, timeout_s=3.0)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", DAEMON, mode, json.dumps(exchange)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


async def _check(rig: Rig, intents: int) -> None:
    restarted = await rig.started()
    rows = await rig.journal.orders(book="live")
    assert len(rows) == intents
    for row in rows:
        [at_exchange] = rig.desk.orders_for(row.client_order_id)  # exactly one per intent
        assert row.state == "filled" and row.filled == pytest.approx(at_exchange.executed)
        fills = await rig.journal.fills(order_id=row.id)
        assert sorted(f.trade_id for f in fills) == sorted(str(t["id"]) for t in at_exchange.trades)
    assert len(rig.desk.placed) == intents
    ledger = await restarted.ledger()
    assert ledger.held(BTC) == pytest.approx(rig.desk.balance("BTC"), abs=1e-9)
    assert ledger.balance("USDT") == pytest.approx(rig.desk.balance("USDT"), abs=1e-6)
    await rig.assert_reconciled()


async def test_kill_9_between_journal_and_send(rig: Rig) -> None:
    await rig.started()  # the book exists
    process = _daemon("intent", rig.desk)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL, stderr
    assert rig.desk.placed == []
    [row] = await rig.journal.orders(book="live")
    assert row.state == "intent"
    await _check(rig, 1)


async def test_kill_9_after_the_exchange_accepted(rig: Rig) -> None:
    await rig.started()
    rig.desk.after_accept("hang")  # accepted; the answer never reaches the process
    process = _daemon("send", rig.desk)
    try:
        deadline = time.monotonic() + 60
        while not rig.desk.placed and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
    finally:
        process.kill()
        _, stderr = process.communicate(timeout=10)
    assert rig.desk.placed, stderr
    [row] = await rig.journal.orders(book="live")
    assert row.state == "sent"  # journaled as sent before the request left; never answered
    await _check(rig, 1)
