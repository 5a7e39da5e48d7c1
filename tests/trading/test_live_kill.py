"""kill -9 for real: the live trading daemon, as its own process (``live_daemon_process.py``), takes N
orders through its socket API and is killed with SIGKILL at the worst moments:

- **between journal and send**: N intents committed, none sent (a fault in the daemon's send path
  kills the process when the N-th intent is committed);
- **after send**: the exchange accepted all N orders, and no answer has reached the daemon.

Then a new daemon process starts on the same database (taking over the dead one's lock) and reconciles.
Each time: exactly N orders at the exchange, one per intent; every order journaled with the exchange's
final state and exactly its trades; and the book's balances and position equal to the exchange's.

The daemons are forked from one warm process (``live_daemon_process.py``), so a start costs a fraction
of a second instead of the daemon's imports.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
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
    return {"hang_s": 15}


def _env(desk: TradingExchange, timeout_s: float) -> dict[str, str]:
    """The daemon's settings: the test's home and database (already in ``os.environ``), live mode, the
    desk as its exchange."""
    return {
        **{name: value for name, value in os.environ.items() if name.startswith("MT_")},
        **venue_env(desk, api_key=API_KEY, secret=SECRET, timeout_s=timeout_s),
        "MT_MODE": "live",
        "MT_MARKET__VENUE": "ccxt",
        "MT_MARKET__SYMBOLS": json.dumps([BTC]),
        "MT_MARKET__TIMEFRAME": "1h",
        "MT_EXECUTION__ANSWER_WITHIN_S": "0.3",
        "MT_EXECUTION__POLL_INTERVAL_S": "0.2",
        "MT_COLLECTORS__ENABLED": "false",
        "MT_SCHEDULER__ENABLED": "false",
    }


class Zygote:
    """The process that forks the daemons (``live_daemon_process.py``); one per test module, so the
    daemon's imports are paid once."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.trading.live_daemon_process"],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.errors: list[str] = []
        threading.Thread(target=self._read, args=(self.process.stdout, self.lines.put), daemon=True).start()
        threading.Thread(
            target=self._read, args=(self.process.stderr, self.errors.append), daemon=True
        ).start()
        self.expect("warm", timeout=120)

    @staticmethod
    def _read(stream: Any, put: Any) -> None:
        for line in stream:
            put(line.strip())

    def expect(self, prefix: str, timeout: float = 60) -> str:
        """The next line starting with ``prefix`` (a child's "failed" fails the test with its error)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {prefix!r} from the zygote: {self.errors[-20:]}") from None
            if line.startswith("failed"):
                raise AssertionError(f"a daemon failed to start: {self.errors[-40:]}")
            if line.startswith(prefix):
                return line

    def _send(self, command: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def daemon(self, mode: str, desk: TradingExchange, timeout_s: float = 1.0) -> int:
        """A daemon process trading live on ``desk`` (HTTP timeout ``timeout_s``), ready; its pid."""
        self._send({"spawn": mode, "n": N, "env": _env(desk, timeout_s)})
        pid = int(self.expect("child").split()[1])
        self.expect(f"ready {pid}")
        return pid

    def reap(self, pid: int) -> int:
        """Wait for the daemon ``pid`` to end; its exit code (-9 when SIGKILL ended it)."""
        self._send({"reap": pid})
        return int(self.expect(f"reaped {pid}").split()[2])

    def kill(self, pid: int) -> None:
        """kill -9, reaped (its pid is dead, so the next daemon takes its lock over)."""
        os.kill(pid, signal.SIGKILL)
        assert self.reap(pid) == -signal.SIGKILL

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=20)
        assert self.process.stdout is not None and self.process.stderr is not None
        self.process.stdout.close()
        self.process.stderr.close()


@pytest.fixture(scope="module")
def zygote() -> Iterator[Zygote]:
    started = Zygote()
    try:
        yield started
    finally:
        started.close()


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


async def _wait(condition: Any, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def _restart_and_check(rig: Rig, zygote: Zygote) -> None:
    """A new daemon process reconciles; then the journal, the book and the exchange agree."""
    restarted = zygote.daemon("run", rig.desk)
    try:

        async def settled() -> bool:
            rows = await rig.journal.orders(book="live")
            return len(rows) == N and all(row.state == "filled" for row in rows)

        await _wait(settled, "the restarted daemon to settle every order")
    finally:
        zygote.kill(restarted)
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


async def test_kill_9_between_journal_and_send(rig: Rig, zygote: Zygote, db_url: str) -> None:
    daemon = zygote.daemon("journal", rig.desk)  # kills itself once the N-th intent is committed
    await _place(N)
    assert zygote.reap(daemon) == -signal.SIGKILL
    rows = await rig.journal.orders(book="live")
    assert [row.state for row in rows] == ["intent"] * N and rig.desk.placed == []
    await _restart_and_check(rig, zygote)


async def test_kill_9_after_the_exchange_accepted(rig: Rig, zygote: Zygote, db_url: str) -> None:
    rig.desk.after_accept("hang", times=N)  # each order is accepted; its answer never reaches the daemon
    daemon = zygote.daemon("run", rig.desk, timeout_s=10.0)  # no answer times out before the kill
    try:
        await _place(N)
        await _wait(lambda: _true(len(rig.desk.placed) == N), "the exchange to accept every order")
    finally:
        zygote.kill(daemon)
    rows = await rig.journal.orders(book="live")
    assert len(rows) == N and {row.state for row in rows} <= {"sent", "unknown"}  # answers never came
    await _restart_and_check(rig, zygote)


async def _true(value: bool) -> bool:
    return value
