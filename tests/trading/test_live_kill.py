"""kill -9 for real: the live trading daemon, as its own process (``live_daemon_process.py``), takes N
orders through its socket API and is killed with SIGKILL at the worst moments:

- **between journal and send**: N intents committed, none sent (a fault in the daemon's send path
  kills the process when the N-th intent is committed);
- **after send**: the exchange accepted all N orders, and no answer has reached the daemon.

Then a new daemon process starts on the same database (taking over the dead one's lock) and reconciles.
Each time: exactly N orders at the exchange, one per intent; every order journaled with the exchange's
final state and exactly its trades; and the book's balances and position equal to the exchange's.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mastertrade.engine.api.schemas_trading import OrderCreate
from tests.fakes.exchange import venue_env
from tests.fakes.exchange_trading import API_KEY, SECRET, TradingExchange
from tests.trading.live_rig import BTC, Rig

ROOT = Path(__file__).parents[2]
N = 3


@pytest.fixture
def desk_options() -> dict[str, Any]:
    return {"hang_s": 4}


def _env(desk: TradingExchange) -> dict[str, str]:
    return {
        **os.environ,
        **venue_env(desk, api_key=API_KEY, secret=SECRET, timeout_s=1.0),
        "PYTHONPATH": str(ROOT),
        "MT_MODE": "live",
        "MT_MARKET__VENUE": "ccxt",
        "MT_MARKET__SYMBOLS": json.dumps([BTC]),
        "MT_MARKET__TIMEFRAME": "1h",
        "MT_EXECUTION__ANSWER_WITHIN_S": "0.3",
        "MT_EXECUTION__POLL_INTERVAL_S": "0.2",
        "MT_COLLECTORS__ENABLED": "false",
        "MT_SCHEDULER__ENABLED": "false",
    }


def _daemon(mode: str, desk: TradingExchange) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.trading.live_daemon_process", mode, str(N)],
        env=_env(desk),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # blocks until the daemon trades (or dies)
    if line.strip() != "ready":
        stderr = _killed(process)
        raise AssertionError(f"the daemon did not start: {stderr[-2000:]}")
    return process


async def _place(n: int) -> None:
    """N live market buys through the daemon's socket API (a caller that dies with the daemon is fine)."""
    from mastertrade.client import DaemonClient

    async with DaemonClient(timeout=10) as client:
        for i in range(n):
            order = OrderCreate(symbol=BTC, side="buy", amount=0.05, live=True, client_order_id=f"kill-{i}")
            try:
                await client.place_order(order)
            except Exception:  # noqa: BLE001 - the daemon was killed under this call
                return


def _killed(process: subprocess.Popen[str]) -> str:
    """SIGKILL, reaped (its pid is dead, so the next daemon takes its lock over); its stderr."""
    process.kill()
    return _ended(process)


def _ended(process: subprocess.Popen[str]) -> str:
    _, stderr = process.communicate(timeout=20)  # also closes its pipes
    return stderr


async def _wait(condition: Any, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def _restart_and_check(rig: Rig) -> None:
    """A new daemon process reconciles; then the journal, the book and the exchange agree."""
    restarted = _daemon("run", rig.desk)
    try:

        async def settled() -> bool:
            rows = await rig.journal.orders(book="live")
            return len(rows) == N and all(row.state == "filled" for row in rows)

        await _wait(settled, "the restarted daemon to settle every order")
    finally:
        restarted.send_signal(signal.SIGTERM)
        _ended(restarted)
    rows = await rig.journal.orders(book="live")
    assert sorted(row.client_order_id for row in rows) == [f"kill-{i}" for i in range(N)]
    for row in rows:
        [at_exchange] = rig.desk.orders_for(row.client_order_id)  # exactly one per intent
        assert row.state == "filled" and row.filled == pytest.approx(at_exchange.executed)
        fills = await rig.journal.fills(order_id=row.id)
        assert sorted(f.trade_id for f in fills) == sorted(str(t["id"]) for t in at_exchange.trades)
    assert len(rig.desk.placed) == N
    ledger = await rig.journal.ledger("live")
    assert ledger.held(BTC) == pytest.approx(rig.desk.balance("BTC"), abs=1e-9)
    assert ledger.held(BTC) == pytest.approx(N * 0.05)
    assert ledger.balance("USDT") == pytest.approx(rig.desk.balance("USDT"), abs=1e-6)
    await rig.assert_reconciled()


async def test_kill_9_between_journal_and_send(rig: Rig, db_url: str) -> None:
    daemon = _daemon("journal", rig.desk)  # kills itself once the N-th intent is committed
    try:
        await _place(N)
        stderr = _ended(daemon)
        assert daemon.returncode == -signal.SIGKILL, stderr
    finally:
        if daemon.poll() is None:
            _killed(daemon)
    rows = await rig.journal.orders(book="live")
    assert [row.state for row in rows] == ["intent"] * N and rig.desk.placed == []
    await _restart_and_check(rig)


async def test_kill_9_after_the_exchange_accepted(rig: Rig, db_url: str) -> None:
    rig.desk.after_accept("hang", times=N)  # each order is accepted; its answer never reaches the daemon
    daemon = _daemon("run", rig.desk)
    try:
        await _place(N)
        await _wait(lambda: _true(len(rig.desk.placed) == N), "the exchange to accept every order")
    finally:
        _killed(daemon)
    rows = await rig.journal.orders(book="live")
    assert len(rows) == N and {row.state for row in rows} <= {"sent", "unknown"}  # answers never came
    await _restart_and_check(rig)


async def _true(value: bool) -> bool:
    return value
